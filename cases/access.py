"""Who may read what of another application (standard.md §5), for the rules that reach
across applications: the same-child match and linking.

A member's unshared data (drafts, anything not routed to the member, anything after the
guardian withdrew consent) is never visible to another member, by any path. An
application's personal data is shared with a member's staff when the application is
their own member's, or when it was routed to their member and consent still stands.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from cases.models import Application, MemberReview


def shared_with(user, queryset: QuerySet | None = None) -> QuerySet:
    """The applications whose personal data `user`'s member may read: its own member's
    (every state), and those routed to it while the guardian's consent stands."""
    queryset = Application.objects.all() if queryset is None else queryset
    if not getattr(user, "is_member_staff", False):
        return queryset.none()
    routed = MemberReview.objects.filter(application=OuterRef("pk"), member_id=user.organization_id)
    return queryset.filter(
        Q(member_id=user.organization_id) | Q(Exists(routed), consent_withdrawn_at__isnull=True)
    )


def annotate_routed(user, queryset: QuerySet) -> QuerySet:
    """`routed_here`: whether each application went to `user`'s member, for `is_shared`
    over a list that holds shared and unshared applications alike."""
    routed = MemberReview.objects.filter(
        application=OuterRef("pk"), member_id=getattr(user, "organization_id", None)
    )
    return queryset.annotate(routed_here=Exists(routed))


def is_shared(user, application: Application, *, routed_here: bool) -> bool:
    """`shared_with` for one application whose routing to the user's member is known."""
    if not getattr(user, "is_member_staff", False):
        return False
    if application.member_id == user.organization_id:
        return True
    return routed_here and application.consent_withdrawn_at is None


def may_link_child(user, application: Application, other: Application) -> bool:
    """Whether `user` may say that `application` (its member's draft) is about the same
    child as `other`: only when `other` is shared with the user's member, so that linking
    never opens another member's unshared record (issue 14)."""
    return (
        getattr(user, "is_member_staff", False)
        and application.member_id == user.organization_id
        and other.pk != application.pk
        and shared_with(user).filter(pk=other.pk).exists()
    )
