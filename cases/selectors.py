"""Named reads of applications."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Func, Prefetch, Q, TextField

from cases import crypto, identity, references
from cases.models import Application, ApplicationEvent, Child, Guardian


def application_list(user, *, q="", status="", category=None, member=None):
    """The staff list: what the user may see, filtered; select_related keeps it one query
    per page whatever the number of rows (pinned by a test)."""
    # Member staff list their own member's applications; those routed to them from other
    # members are in the inbox. The secretariat lists all.
    if user.is_superuser or user.is_secretariat:
        base = Application.objects.all()
    else:
        base = Application.objects.filter(member_id=user.organization_id)
    queryset = (
        base.select_related("child", "category", "member")
        # Only what the list shows: narrower rows make sorting and deep pages cheaper.
        .only(
            "reference",
            "status",
            "created_at",
            "consent_withdrawn_at",
            "child__name",
            "child__id_number",
            "category__name_zh",
            "member__name_zh",
        )
        .order_by("-created_at", "-pk")
    )
    if status:
        queryset = queryset.filter(status=status)
    if category is not None:
        queryset = queryset.filter(category=category)
    if member is not None:
        queryset = queryset.filter(member=member)
    q = (q or "").strip()
    if q:
        reference = references.normalize_reference(q)
        id_number = identity.normalize_resident_id(q)
        if reference:
            queryset = queryset.filter(reference=reference)
        elif id_number[:17].isdigit() and len(id_number) >= 15:
            queryset = queryset.filter(child__id_number_hash=crypto.keyed_hash(id_number))
        else:
            queryset = name_contains(queryset, q)
    return queryset


class NameGrams(Func):
    """aid_name_grams(name): a name's single characters and pairs (migration 0010)."""

    function = "aid_name_grams"
    output_field = ArrayField(TextField())


def name_contains(queryset, text: str):
    """Applications whose child's name contains `text`. On PostgreSQL the GIN index of the
    names' characters and pairs finds the candidates (a pair typed is one index key, not
    a scan of every child), then LIKE checks them."""
    queryset = queryset.filter(child__name__contains=text)
    if connection.vendor != "postgresql":
        return queryset
    grams = sorted({text[i : i + 2] for i in range(len(text) - 1)} or {text})
    return queryset.alias(child_name_grams=NameGrams("child__name")).filter(
        child_name_grams__contains=grams
    )


def application_detail(queryset):
    return queryset.select_related("child", "category", "member", "created_by").prefetch_related(
        "guardians",
        "other_aid",
        "documents",
        Prefetch("events", queryset=ApplicationEvent.objects.select_related("actor")),
    )


def possible_duplicates(application: Application):
    """Other child records that may be this child (§2): the same ID number, or the same
    name and birth date, or the same name and a guardian's phone."""
    child = application.child
    if not child.name and not child.id_number:
        return Child.objects.none()
    match = Q()
    if child.id_number:
        match |= Q(id_number_hash=crypto.keyed_hash(child.id_number))
    if child.name and child.dob:
        match |= Q(name=child.name, dob=child.dob)
    phones = [g.phone for g in application.guardians.all() if g.phone]
    if child.name and phones:
        guardian_children = Guardian.objects.filter(phone__in=phones).values(
            "application__child_id"
        )
        match |= Q(name=child.name, pk__in=guardian_children)
    if not match:
        return Child.objects.none()
    return (
        Child.objects.filter(match)
        .exclude(pk=child.pk)
        .prefetch_related(
            Prefetch(
                "applications", queryset=Application.objects.select_related("member", "category")
            )
        )
        .distinct()[:10]
    )
