"""Who may read and change what (standard.md §5), in one place: every `get_X_for(user, …)`
that returns an object or raises 404/403, and every `may_*(user, obj)` rule. One argument
order everywhere: the user first, then the object. The browser's views and the API call
these; no view module imports another for its access rules.

A member's unshared data (drafts, anything not routed to the member, anything after the
guardian withdrew consent) is never visible to another member, by any path. An
application's personal data is shared with a member's staff when the application is
their own member's, or when it was routed to their member and consent still stands. A
mistyped or foreign reference is a 404: nobody learns that another member's application
exists.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from cases import references
from cases.errors import NotAllowed
from cases.identity import ACCOUNT_FIELDS, MASKED_FIELDS
from cases.models import (
    Application,
    Document,
    HospitalConfirmation,
    Lead,
    MemberReview,
    Receipt,
)

# --- who is who --------------------------------------------------------------------------


def is_staff(user) -> bool:
    """Member staff, the secretariat and administrators: the staff pages and the API."""
    return bool(
        user.is_superuser
        or getattr(user, "is_secretariat", False)
        or getattr(user, "is_member_staff", False)
    )


def require_staff(user) -> None:
    if not is_staff(user):
        raise PermissionDenied


def reads_all(user) -> bool:
    """The secretariat (and administrators) read every member's records (§5)."""
    return bool(user.is_superuser or getattr(user, "is_secretariat", False))


def is_own_staff(user, application: Application) -> bool:
    """Staff of the member that entered the application: they enter and change it."""
    return bool(
        getattr(user, "is_member_staff", False) and user.organization_id == application.member_id
    )


def is_member_reviewer(user, member_id) -> bool:
    """A reviewer of the member: only they decide on, allocate and pay its reviews (§3, §4)."""
    return user.role == user.Role.REVIEWER and user.organization_id == member_id


# --- sharing across members -----------------------------------------------------------------


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


def shared_data_withheld(user, application: Application) -> bool:
    """Whether `user` no longer sees the child's personal data of this application: the
    guardian withdrew consent to sharing (PIPL art. 15) and the user is staff of another
    member. The entering member's staff and the secretariat still see it."""
    return bool(
        application.consent_withdrawn_at is not None
        and getattr(user, "is_member_staff", False)
        and user.organization_id != application.member_id
    )


def withheld_q(user) -> Q:
    """`shared_data_withheld` over the rows of a related table (`application__…`)."""
    return Q(application__consent_withdrawn_at__isnull=False) & ~Q(
        application__member_id=getattr(user, "organization_id", None)
    )


def may_link_child(user, application: Application, other: Application) -> bool:
    """Whether `user` may say that `application` (its member's draft) is about the same
    child as `other`: only when `other` is shared with the user's member, so that linking
    never opens another member's unshared record (issue 14)."""
    return (
        is_own_staff(user, application)
        and other.pk != application.pk
        and shared_with(user).filter(pk=other.pk).exists()
    )


# --- applications and documents -----------------------------------------------------------------


def _detail(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("child", "category", "member", "created_by").prefetch_related(
        # Read only when there is one (no query for the many applications without): joined,
        # its hospital and user made the query eight tables, and PostgreSQL spent about
        # 2 ms choosing their order on every application and edit page (issue 18).
        Prefetch(
            "hospital_confirmation",
            queryset=HospitalConfirmation.objects.select_related("hospital", "by"),
        ),
        "guardians",
        "other_aid",
        # With the paper a member asked for, when the family sent it (no query more).
        Prefetch("documents", queryset=Document.objects.select_related("family_request")),
        # Not the history: only the application page shows it, and reads it as values
        # (cases.intake.read_model.history), not as events and users for every caller.
    )


def get_application_for(
    user, reference: str, *, edit: bool = False, personal: bool = True
) -> Application:
    """The application if `user` may see it (edit: change it), else 404 / 403.

    Once the guardian has withdrawn consent to sharing, another member's staff get a 403
    wherever the child's personal data would be shown (personal); the pages that show only
    the reference and the member's own accounts pass personal=False.
    """
    require_staff(user)
    normalized = references.normalize_reference(reference)
    if not normalized:
        raise Http404
    queryset = _detail(Application.objects.visible_to(user))
    application = get_object_or_404(queryset, reference=normalized)
    if edit and not is_own_staff(user, application):
        raise PermissionDenied  # the secretariat reads, it does not enter applications
    if personal and shared_data_withheld(user, application):
        raise PermissionDenied(_("The guardian has withdrawn consent to sharing."))
    return application


def may_discard_draft(user, application: Application) -> bool:
    """Only the caseworkers of the member that entered a draft discard it (issue 16): the
    person who enters applications tidies what they began. A reviewer decides on reviews
    and does not discard; another member never sees the draft (a 404 before this)."""
    return (
        is_own_staff(user, application)
        and user.role == user.Role.CASEWORKER
        and application.status == Application.Status.DRAFT
        and application.discarded_at is None
    )


def get_draft_to_discard_for(user, reference: str) -> Application:
    """The draft `user` may discard: another member's staff get a 404 (they never learn
    it exists), the secretariat and the member's reviewers a 403, and anything that is
    not an open draft a 404."""
    application = get_application_for(user, reference, edit=True)
    if application.status != Application.Status.DRAFT or application.discarded_at is not None:
        raise Http404
    if not may_discard_draft(user, application):
        raise PermissionDenied(_("Only the member's caseworkers discard its drafts."))
    return application


def get_document_for(user, pk, *, edit: bool = False) -> Document:
    document = get_object_or_404(Document.objects.select_related("application"), pk=pk)
    # The same rule as the application's: another member's staff get a 404.
    get_application_for(user, document.application.reference, edit=edit)
    return document


def visible_documents(user, documents: QuerySet) -> QuerySet:
    """The documents of applications `user` may see; once the guardian withdrew consent,
    only the entering member (and the secretariat) still see them."""
    if reads_all(user):
        return documents
    return documents.filter(application__in=Application.objects.visible_to(user)).exclude(
        withheld_q(user)
    )


# --- the review workflow (§3) ---------------------------------------------------------------------


def get_review_for(user, pk) -> MemberReview:
    """A review of the user's own member; another member's staff get a 404."""
    review = get_object_or_404(MemberReview.objects.select_related("application", "member"), pk=pk)
    if not (user.is_member_staff and user.organization_id == review.member_id):
        raise Http404
    return review


def may_decide(user, review: MemberReview) -> bool:
    """Only the member's own reviewers move, allocate and pay its review (§3, §4, §5)."""
    return is_member_reviewer(user, review.member_id)


def require_decider(user, review: MemberReview) -> None:
    """The services' guard of `may_decide`: every move of a review, and every allocation,
    payment and reversal of its pledge."""
    if not may_decide(user, review):
        raise NotAllowed(_("Only this member's reviewers can decide on its review."))


# --- receipts and pledges (§4) ------------------------------------------------------------------


def _member_review(user, application: Application, reviews, *, pledging: bool) -> bool:
    """Whether the application went to the user's member (`pledging`: and it pledged):
    read from `reviews` when the caller loaded every review of the application already
    (the application page), else one query."""
    if reviews is not None:
        return any(
            review.member_id == user.organization_id
            and (not pledging or review.state in MemberReview.PLEDGING_STATES)
            for review in reviews
        )
    found = application.reviews.filter(member_id=user.organization_id)
    return (found.pledging() if pledging else found).exists()


def may_record_receipts(user, application: Application, *, reviews=None) -> bool:
    """A reviewer of the member that entered the application or of a member it was routed
    to (§5: reviewers record receipts and payments); the treating hospital's staff while
    the application is theirs to see (issue 17). `reviews`: all of the application's, if
    loaded."""
    if is_hospital_staff(user):
        return hospital_applications(user).filter(pk=application.pk).exists()
    if not (user.is_member_staff and user.role == user.Role.REVIEWER):
        return False
    if user.organization_id == application.member_id:
        return True
    return _member_review(user, application, reviews, pledging=False)


def get_application_for_receipts(user, reference: str) -> Application:
    """The application a receipt is recorded on: submitted, and `user` one who records."""
    application = get_application_for(user, reference)
    if application.status == Application.Status.DRAFT:
        raise Http404  # receipts come with a submitted application
    if not may_record_receipts(user, application):
        raise PermissionDenied(
            _("Only the reviewers of a member this application went to record receipts.")
        )
    return application


def receipts_kept_after_withdrawal(user) -> Q:
    """Which receipts a member's staff still see (standard §5, PIPL art. 15): those of
    applications whose guardian did not withdraw consent, their own member's, and those
    where their member pledged (it pays against them). A Q over receipts."""
    member_id = getattr(user, "organization_id", None)  # None: the API schema's fake view
    pledging = MemberReview.objects.pledging().filter(
        application=OuterRef("application"), member_id=member_id
    )
    return ~withheld_q(user) | Exists(pledging)


def visible_receipts(user, receipts: QuerySet) -> QuerySet:
    if reads_all(user):
        return receipts
    return receipts.filter(application__in=Application.objects.visible_to(user)).filter(
        receipts_kept_after_withdrawal(user)
    )


def get_receipt_for(user, pk) -> Receipt:
    receipt = get_object_or_404(
        Receipt.objects.select_related("application", "recorded_member", "recorded_by", "scan"),
        pk=pk,
    )
    # The same rule as the application's: another member's staff get a 404. After the
    # guardian withdrew consent a receipt stays visible only to members with a pledge on
    # the application (they pay against it); the others get a 404 too.
    application = get_application_for(user, receipt.application.reference, personal=False)
    if (
        shared_data_withheld(user, application)
        and not Receipt.objects.filter(pk=receipt.pk)
        .filter(receipts_kept_after_withdrawal(user))
        .exists()
    ):
        raise Http404
    return receipt


def get_pledge_for(user, pk, *, write: bool = False) -> MemberReview:
    """A pledge of the user's own member, or any for the secretariat (read only); else 404.
    write: the member's reviewers only, who allocate and pay it."""
    review = get_object_or_404(
        MemberReview.objects.select_related(
            "application__child", "application__member", "member", "project"
        ),
        pk=pk,
    )
    own = user.is_member_staff and user.organization_id == review.member_id
    if not (own or reads_all(user)):
        raise Http404
    if review.state not in MemberReview.PLEDGING_STATES or review.amount is None:
        raise Http404
    if write:
        if user.organization_id != review.member_id:
            raise Http404  # the secretariat reads; it does not pay
        require_pledge_writer(user)
    return review


def require_pledge_writer(user) -> None:
    """Reviewers allocate, pay and reverse; the member's caseworkers read (§5)."""
    if user.role != user.Role.REVIEWER:
        raise PermissionDenied(_("Only this member's reviewers can allocate and pay its pledge."))


def own_member_rows(user, queryset: QuerySet) -> QuerySet:
    """Allocations or payments: a member's staff see their own member's rows; the
    secretariat sees every row."""
    if reads_all(user):
        return queryset
    return queryset.filter(review__member_id=getattr(user, "organization_id", None))


# --- the treating hospital's staff (issue 17) -------------------------------------------------

# The documents hospital staff upload and read: the medical papers, never the family's
# identity, household or economic papers.
HOSPITAL_DOCUMENT_TYPES = (
    Document.Type.DIAGNOSIS_CERTIFICATE,
    Document.Type.INPATIENT_RECORD,
    Document.Type.COST_ESTIMATE,
    Document.Type.DISCHARGE_SUMMARY,
    Document.Type.MEDICAL_RECEIPT,
)
# The ones they upload themselves (the receipts' scans come with a receipt).
HOSPITAL_UPLOAD_TYPES = (
    Document.Type.DIAGNOSIS_CERTIFICATE,
    Document.Type.COST_ESTIMATE,
    Document.Type.DISCHARGE_SUMMARY,
)


def is_hospital_staff(user) -> bool:
    return bool(getattr(user, "is_hospital_staff", False))


def require_hospital_staff(user) -> None:
    if not is_hospital_staff(user):
        raise PermissionDenied


def hospital_applications(user, queryset: QuerySet | None = None) -> QuerySet:
    """The applications a hospital user may see (§5 hospital staff): submitted and open,
    naming the user's hospital as the treating hospital (D06, from the directory), whose
    guardian consented to sharing with the treating hospital (H04) and has not withdrawn
    consent. Nothing for anyone else."""
    queryset = Application.objects.all() if queryset is None else queryset
    if not is_hospital_staff(user):
        return queryset.none()
    return queryset.filter(
        treating_hospital_ref_id=user.hospital_id,
        status=Application.Status.SUBMITTED,
        consent_hospital=True,
        consent_withdrawn_at__isnull=True,
        anonymised_at__isnull=True,
    )


def hospital_can_confirm(application: Application) -> bool:
    """Whether any hospital user could ever confirm the application: it names a hospital of
    the directory (D06) and the guardian agreed to share it with that hospital (H04)."""
    return application.treating_hospital_ref_id is not None and application.consent_hospital


def get_application_for_hospital(user, reference: str) -> Application:
    """The application if it is the hospital user's to see, else 404 (any other user a 403:
    the hospital pages are not member pages). Another hospital, a draft, a consent that
    does not cover the hospital or was withdrawn: 404, nobody learns it exists."""
    require_hospital_staff(user)
    normalized = references.normalize_reference(reference)
    if not normalized:
        raise Http404
    return get_object_or_404(
        hospital_applications(user).select_related(
            "child", "category", "treating_hospital_ref", "hospital_confirmation__hospital"
        ),
        reference=normalized,
    )


def get_document_for_hospital(user, pk) -> Document:
    """A medical document of an application the hospital user sees; else 404."""
    require_hospital_staff(user)
    return get_object_or_404(
        Document.objects.select_related("application").filter(
            application__in=hospital_applications(user), doc_type__in=HOSPITAL_DOCUMENT_TYPES
        ),
        pk=pk,
    )


def may_revise_estimate(user, application: Application) -> bool:
    """D08 is revised by the entering member's staff, or corrected by the treating
    hospital's staff while the application is theirs to see (issue 17)."""
    if is_own_staff(user, application):
        return True
    return (
        is_hospital_staff(user) and hospital_applications(user).filter(pk=application.pk).exists()
    )


def may_match_hospital(user) -> bool:
    """The secretariat edits the directory (§5), so it matches a typed treating hospital
    to a directory entry."""
    return reads_all(user)


# --- ID and bank account numbers in full (PIPL art. 51; cases.reveal) ---------------------


def revealable(user, application: Application, *, reviews=None) -> frozenset[str]:
    """The numbers (section form field names) `user` may ask to see in full: the entering
    member's staff and the secretariat every one; a member that pledged the bank account
    only, to pay; nobody else (the rule in full: cases.reveal). `reviews`: all of the
    application's, if loaded."""
    if user.is_superuser or getattr(user, "is_secretariat", False):
        return MASKED_FIELDS
    if not getattr(user, "is_member_staff", False):
        return frozenset()
    if user.organization_id == application.member_id:
        return MASKED_FIELDS
    if shared_data_withheld(user, application) and (
        application.payee_kind != Application.PayeeKind.HOSPITAL
    ):
        return frozenset()  # consent withdrawn: the guardian's account is no longer shared
    pledged = _member_review(user, application, reviews, pledging=True)
    return ACCOUNT_FIELDS if pledged else frozenset()


# --- the guardian's rights (PIPL) -----------------------------------------------------------------


def may_print_application(user, application: Application) -> bool:
    """The application's PDF (reports.views.application_pdf) is for whoever may read its
    personal data: get_application_for with personal=True."""
    return is_staff(user) and not shared_data_withheld(user, application)


def may_withdraw_consent(user, application: Application) -> bool:
    """The entering member's caseworkers and reviewers, and the secretariat."""
    return reads_all(user) or is_own_staff(user, application)


def may_export_data(user, application: Application) -> bool:
    """Who answers a guardian's data-access request (PIPL art. 45): the secretariat and
    the staff of the member that entered the application. (Not reports.services
    .may_export, which is about the alliance's reports.)"""
    return reads_all(user) or is_own_staff(user, application)


# --- call-back requests from the pre-check (leads) ---------------------------------------------


def leads_of(user) -> QuerySet:
    """The call-back requests `user` may work: their own member's, and only those (§3: "the
    request is that member's lead ... another member never sees it"). Nobody else reads
    them, the secretariat included: a lead is a family's phone number given to one member."""
    if not getattr(user, "is_member_staff", False):
        raise PermissionDenied
    return Lead.objects.filter(member_id=user.organization_id)


def get_lead_for(user, pk) -> Lead:
    """The lead if it is `user`'s member's; another member's staff get a 404."""
    return get_object_or_404(
        leads_of(user).select_related("member", "category", "application"), pk=pk
    )
