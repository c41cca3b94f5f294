"""Applications under the unified information-collection standard (standard.md §2)."""

from decimal import Decimal

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aid_alliance import money
from aid_alliance.money import ZERO
from cases.crypto import EncryptedCharField, KeyedHashField
from organizations.models import DiseaseCategory, Hospital, MemberOrganization


def money_field(verbose_name, **kwargs):
    return models.DecimalField(
        verbose_name,
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        **kwargs,
    )


# Uploaded documents live outside STATIC_ROOT and MEDIA_ROOT and have no URL: they are
# served only through cases.intake.views.document_download, after a permission check. The
# storage is settings.STORAGES["private"]: PRIVATE_MEDIA_ROOT, shared by every app server
# and the worker, unless PRIVATE_STORAGE_BACKEND names another.
def private_storage() -> Storage:
    # A callable, so migrations name this function instead of one machine's folder.
    return storages["private"]


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class ChildIdentity(models.Model):
    """One child, across every application and member (§2 "one child, one record").

    It holds no personal data: each application keeps its own copy of section A (Child),
    so that one member's edit never changes what another member's application shows and
    a member never reads another's unshared details through a match (§5). The copies of
    one child point here; the rules that count per child (one open application per
    disease category, once-per-child grants, cumulative caps, receipts, the reports'
    children aided) count by this identity.
    """

    # The keyed hash of the ID number that first keyed this identity at a submission:
    # unique, so that two members submitting the same child at once meet on one row
    # and the second waits for the first (services.application_submit).
    id_number_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("child identity")
        verbose_name_plural = _("child identities")

    def __str__(self):
        return f"#{self.pk}"


class Child(models.Model):
    """患儿 as entered on one application (§2 A): every application has its own record,
    written only through that application; records of the same child share an identity."""

    class IdType(models.TextChoices):
        RESIDENT_ID = "resident_id", _("Resident identity card")
        BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
        HOUSEHOLD_REGISTER = "household_register", _("Household register")
        RESIDENCE_PERMIT = "residence_permit", _("Residence permit for Hong Kong, Macao, Taiwan")
        PASSPORT = "passport", _("Passport")

    class Registration(models.TextChoices):
        URBAN = "urban", _("Urban")
        RURAL = "rural", _("Rural")

    identity = models.ForeignKey(
        ChildIdentity, on_delete=models.PROTECT, related_name="records", verbose_name=_("child")
    )
    name = models.CharField(_("name"), max_length=50, blank=True)  # A01
    id_type = models.CharField(_("ID document"), max_length=20, choices=IdType, blank=True)  # A02
    # Encrypted at rest; searched through its keyed hash (cases.crypto).
    id_number = EncryptedCharField(
        _("ID number"), max_length=30, blank=True, hash_field="id_number_hash"
    )  # A03
    id_number_hash = KeyedHashField(source="id_number")
    sex = models.CharField(_("sex"), max_length=6, choices=Sex, blank=True)  # A04
    dob = models.DateField(_("date of birth"), null=True, blank=True)  # A05
    ethnicity = models.CharField(_("ethnic group"), max_length=20, blank=True)  # A06
    household_region = models.CharField(
        _("household registration region"), max_length=6, blank=True
    )  # A07
    registration = models.CharField(
        _("registration type"), max_length=5, choices=Registration, blank=True
    )  # A08
    address = models.CharField(_("current address"), max_length=200, blank=True)  # A09
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        indexes = [
            # Duplicate matching (§2 "one child, one record") and search by ID number.
            models.Index(fields=["id_number_hash"], name="cases_child_id_hash"),
            models.Index(fields=["name", "dob"], name="cases_child_name_dob"),
        ]

    def __str__(self):
        return self.name or str(_("(no name yet)"))


class ApplicationQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status__in=[Application.Status.WITHDRAWN, Application.Status.CLOSED])

    def not_discarded(self):
        """Without the drafts their caseworkers discarded (kept for the record, not listed)."""
        return self.filter(discarded_at__isnull=True)

    def visible_to(self, user):
        """What a staff user may read: the secretariat everything; member staff their own
        member's applications and every application routed to their member (§3, §5)."""
        if user.is_superuser or getattr(user, "is_secretariat", False):
            return self
        if getattr(user, "is_member_staff", False):
            # The reviews' model through the relation: cases.models.review builds on this module.
            MemberReview = self.model._meta.get_field("reviews").related_model  # noqa: N806

            routed = MemberReview.objects.filter(
                application=models.OuterRef("pk"), member_id=user.organization_id
            )
            return self.filter(Q(member_id=user.organization_id) | Q(models.Exists(routed)))
        return self.none()


class Application(models.Model):
    """申请: one child, one illness episode, under field groups A–H (§2)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CLOSED = "closed", pgettext_lazy("application status", "Closed")

    class InsuranceType(models.TextChoices):
        RESIDENT = "resident", _("Urban and rural residents' basic medical insurance")
        EMPLOYEE = "employee", _("Urban employees' basic medical insurance")
        NONE = "none", _("None")

    class PayeeKind(models.TextChoices):
        HOSPITAL = "hospital", _("Hospital account")
        GUARDIAN = "guardian", _("Guardian's bank account")

    class ConsentMethod(models.TextChoices):
        SIGNED_FORM = "signed_form", _("Signed form uploaded")
        IN_PERSON = "in_person", _("In person")

    reference = models.CharField(_("reference number"), max_length=16, unique=True)
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, related_name="applications", verbose_name=_("child")
    )
    member = models.ForeignKey(
        MemberOrganization,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("member organisation"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.DRAFT)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    # C. Household economics
    household_size = models.PositiveSmallIntegerField(_("household size"), null=True, blank=True)
    annual_income = money_field(_("annual household income (yuan)"))
    income_source = models.CharField(_("main income source"), max_length=100, blank=True)
    assets_debts = models.TextField(_("assets and debts"), blank=True)
    debt_amount = money_field(_("debts (yuan)"))
    economic_flags = models.JSONField(_("economic status"), default=list, blank=True)

    # D. Medical
    category = models.ForeignKey(
        DiseaseCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("disease category"),
    )
    icd = models.CharField(_("diagnosis code (ICD-10)"), max_length=16, blank=True)
    diagnosis_text = models.CharField(_("diagnosis as written"), max_length=200, blank=True)
    diagnosis_date = models.DateField(_("diagnosis date"), null=True, blank=True)
    diagnosing_hospital = models.CharField(_("diagnosing hospital"), max_length=100, blank=True)
    treating_hospital = models.CharField(_("treating hospital"), max_length=100, blank=True)
    # D06 picked from the hospital directory (issue 17), beside the name as typed: empty
    # when the caseworker typed a hospital that is not listed (the secretariat may match it
    # later, cases.hospital.services.treating_hospital_match). Its staff confirm section D.
    treating_hospital_ref = models.ForeignKey(
        Hospital,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("treating hospital in the directory"),
    )
    hospital_region = models.CharField(_("treating hospital's region"), max_length=6, blank=True)
    department = models.CharField(_("department"), max_length=50, blank=True)
    treatment_plan = models.JSONField(_("treatment plan"), default=dict, blank=True)
    estimated_cost = money_field(_("estimated total cost (yuan)"))
    costs_incurred = money_field(_("costs already incurred (yuan)"))

    # E. Coverage
    insurance_type = models.CharField(
        _("basic medical insurance"), max_length=10, choices=InsuranceType, blank=True
    )
    basic_insurance = money_field(_("basic medical insurance (yuan)"))
    critical_illness_insurance = money_field(_("critical illness insurance (yuan)"))
    medical_assistance = money_field(_("government medical assistance (yuan)"))
    commercial_insurance = money_field(_("commercial insurance (yuan)"))

    # G. Payment
    payee_kind = models.CharField(_("payee"), max_length=10, choices=PayeeKind, blank=True)
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    account_name = models.CharField(_("account name"), max_length=100, blank=True)
    account_number = EncryptedCharField(
        _("account number"), max_length=40, blank=True, hash_field="account_number_hash"
    )
    account_number_hash = KeyedHashField(source="account_number")

    # H. Consent
    consent_sharing = models.BooleanField(_("consent to share with all members"), default=False)
    consent_date = models.DateField(_("consent date"), null=True, blank=True)
    consent_method = models.CharField(
        _("how consent was obtained"), max_length=12, choices=ConsentMethod, blank=True
    )
    consent_publicity = models.BooleanField(_("consent to publicity"), default=False)
    # H04 (issue 17): a separate clause, added to the consent text in its second version;
    # consents recorded before it do not cover the hospital (False) until the guardian
    # gives it and the caseworker ticks it.
    consent_hospital = models.BooleanField(
        _("consent to share the medical sections with the treating hospital"), default=False
    )
    # A guardian may withdraw consent to sharing (PIPL art. 15): no further sharing with
    # the other members from then on; shown to every member.
    consent_withdrawn_at = models.DateTimeField(_("consent withdrawn at"), null=True, blank=True)
    consent_withdrawal_note = models.CharField(
        _("consent withdrawal note"), max_length=300, blank=True
    )
    # A draft the caseworker gave up (issue 16): it leaves the member's lists and can no
    # longer be edited or submitted, but is never deleted, so that the secretariat still
    # sees who discarded it and when (cases.intake.services.application_discard_draft).
    discarded_at = models.DateTimeField(_("discarded at"), null=True, blank=True)
    discarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("discarded by"),
    )
    discard_reason = models.CharField(_("why the draft was discarded"), max_length=300, blank=True)
    # The treating hospital's latest confirmation or correction of section D (issue 17).
    hospital_confirmation = models.ForeignKey(
        "cases.HospitalConfirmation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hospital confirmation"),
    )
    # Set when the retention command replaced the personal data of a closed application.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class ClosingReason(models.TextChoices):
        FUNDED_IN_FULL = "funded_in_full", _("Funded in full")
        TREATMENT_ENDED = "treatment_ended", _("Treatment ended")
        WITHDRAWN = "withdrawn", _("Withdrawn by the family")
        DECEASED = "deceased", _("The child died")
        NOT_FUNDED = "not_funded", _("Not funded anywhere")
        MERGED = "merged", _("Merged duplicate")

    closing_reason = models.CharField(
        _("closing reason"), max_length=20, choices=ClosingReason, blank=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    # What the caseworker typed that is not valid yet, by section and field, so that a
    # draft never loses an entry (§2 rules; shown back with its message).
    pending_input = models.JSONField(default=dict, blank=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at"]
        indexes = [
            # The staff list's default order, for the secretariat and for a member's own
            # list (measured in scripts/bench_application_list.py: 190 ms -> 0.2 ms at 100k).
            models.Index(fields=["-created_at", "-id"], name="cases_app_created"),
            models.Index(fields=["member", "-created_at", "-id"], name="cases_app_member_created"),
            # A member's own list leaves out its discarded drafts (issue 16): its page and its
            # COUNT read this one, the count from the index alone (22 ms -> 2 ms at 100k).
            models.Index(
                fields=["member", "-created_at", "-id"],
                condition=Q(discarded_at__isnull=True),
                name="cases_app_member_listed",
            ),
            # The staff list: a member's applications by status, newest first.
            models.Index(
                fields=["member", "status", "-created_at"], name="cases_app_member_status"
            ),
            models.Index(fields=["status", "-created_at"], name="cases_app_status_created"),
            models.Index(fields=["category", "-created_at"], name="cases_app_category_created"),
            # One bank account named by several applications (exact match on its hash).
            models.Index(fields=["account_number_hash"], name="cases_app_account_hash"),
        ]
        constraints = [
            # Section A is the application's own (ChildIdentity): never shared by two.
            models.UniqueConstraint(fields=["child"], name="cases_application_own_child_record"),
            # Only a draft is discarded, and always by someone, at a time.
            models.CheckConstraint(
                condition=Q(discarded_at__isnull=True, discarded_by__isnull=True)
                | Q(status="draft", discarded_at__isnull=False, discarded_by__isnull=False),
                name="cases_application_discarded_draft",
            ),
        ]

    def __str__(self):
        return self.reference

    # What insurance and assistance cover (§2 E): their sum lowers the need.
    COVERAGE_FIELDS = (
        "basic_insurance",
        "critical_illness_insurance",
        "medical_assistance",
        "commercial_insurance",
    )

    @property
    def coverage_total(self) -> Decimal:
        return sum((getattr(self, name) or ZERO for name in self.COVERAGE_FIELDS), ZERO)

    @property
    def other_aid_total(self) -> Decimal:
        return sum((a.amount or ZERO for a in self.other_aid.all()), ZERO)

    @property
    def need(self) -> Decimal:
        """What the members together may pledge: estimated cost − coverage − other aid (§3)."""
        return money.need(
            estimated_cost=self.estimated_cost,
            coverage=self.coverage_total,
            other_aid=self.other_aid_total,
        )

    @property
    def per_capita_income(self) -> Decimal | None:
        """Derived, never typed (§2 C)."""
        if not self.household_size or self.annual_income is None:
            return None
        return (self.annual_income / self.household_size).quantize(Decimal("0.01"))


class Guardian(models.Model):
    """监护人 (§2 B): one or two per application, exactly one primary contact."""

    class Relationship(models.TextChoices):
        FATHER = "father", _("Father")
        MOTHER = "mother", _("Mother")
        GRANDPARENT = "grandparent", _("Grandparent")
        RELATIVE = "relative", _("Other relative")
        LEGAL = "legal", _("Legal guardian")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="guardians")
    position = models.PositiveSmallIntegerField()  # 1 or 2
    name = models.CharField(_("name"), max_length=50, blank=True)  # B01
    relationship = models.CharField(
        _("relationship"), max_length=12, choices=Relationship, blank=True
    )  # B02
    id_number = EncryptedCharField(
        _("ID number"), max_length=30, blank=True, hash_field="id_number_hash"
    )  # B03
    id_number_hash = KeyedHashField(source="id_number")
    phone = models.CharField(_("mobile phone"), max_length=11, blank=True, db_index=True)  # B04
    occupation = models.CharField(_("occupation or employer"), max_length=100, blank=True)  # B05
    is_primary = models.BooleanField(_("primary contact"), default=False)  # B06

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        ordering = ["position"]
        indexes = [
            # A guardian met on another application (exact match on the ID number's hash).
            models.Index(fields=["id_number_hash"], name="cases_guardian_id_hash"),
            # The possible-duplicate check: the same child's name and a guardian's phone.
            models.Index(fields=["phone"], name="cases_guardian_phone"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "position"], name="cases_guardian_one_per_position"
            ),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(is_primary=True),
                name="cases_guardian_one_primary",
            ),
            models.CheckConstraint(
                condition=Q(position__in=[1, 2]), name="cases_guardian_at_most_two"
            ),
        ]

    def __str__(self):
        return self.name


class OtherAid(models.Model):
    """E03: aid received or applied for elsewhere, declared with its amount."""

    class Kind(models.TextChoices):
        CHARITY = "charity", _("Another charity")
        CROWDFUNDING = "crowdfunding", _("Crowdfunding platform")
        OTHER = "other", _("Other")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="other_aid")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    source = models.CharField(_("from whom"), max_length=100)
    amount = money_field(_("amount (yuan)"))
    received = models.BooleanField(_("already received"), default=False)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "position"], name="cases_other_aid_one_per_position"
            ),
        ]

    def __str__(self):
        return f"{self.source} {self.amount}"


class Document(models.Model):
    """申请材料 (§2 F): a checked upload and its review."""

    class Type(models.TextChoices):
        HOUSEHOLD_REGISTER = "household_register", _("Household register pages")
        GUARDIAN_ID = "guardian_id", _("Guardian's ID")
        DIAGNOSIS_CERTIFICATE = "diagnosis_certificate", _("Diagnosis certificate with seal")
        INPATIENT_RECORD = "inpatient_record", _("Inpatient record front page")
        COST_ESTIMATE = "cost_estimate", _("Hospital cost estimate")
        HARDSHIP_CERTIFICATE = "hardship_certificate", _("Economic hardship certificate")
        CONSENT_FORM = "consent_form", _("Guardian consent form")
        CHILD_PHOTO = "child_photo", _("Photo of the child")
        MEDICAL_RECEIPT = "medical_receipt", _("Medical receipt")
        DISCHARGE_SUMMARY = "discharge_summary", _("Discharge summary")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    doc_type = models.CharField(_("document"), max_length=24, choices=Type)
    # For a hardship certificate: which C05 status it proves.
    flag = models.CharField(_("status proved"), max_length=12, blank=True)
    file = models.FileField(storage=private_storage, upload_to="documents/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(_("review"), max_length=10, choices=Status, default=Status.RECEIVED)
    reject_reason = models.CharField(_("reason for rejecting"), max_length=200, blank=True)
    # None when the family sent it from its status page (it has no account).
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The paper a member asked for that the family sent this as (§3): "sent by the family,
    # not yet checked" until the caseworker accepts or rejects it.
    family_request = models.ForeignKey(
        "cases.RequestedDocument",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="documents",
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["doc_type", "uploaded_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""),
                name="cases_document_rejection_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.get_doc_type_display()} {self.original_name}"

    @property
    def awaits_check_from_family(self) -> bool:
        return self.family_request_id is not None and self.status == self.Status.RECEIVED


class ApplicationEvent(models.Model):
    """The history of an application: who changed what, when (one row per change)."""

    class Action(models.TextChoices):
        # Not the field's choices: the history keeps kinds no longer written, and the
        # column stays as it was (no migration). Written by cases.events.record_event.
        CREATED = "created", _("Draft created")
        SECTION_SAVED = "section_saved", _("Section saved")
        CHILD_LINKED = "child_linked", _("Linked to an existing child record")
        DOCUMENT_UPLOADED = "document_uploaded", _("Document uploaded")
        DOCUMENT_REVIEWED = "document_reviewed", _("Document reviewed")
        SUBMITTED = "submitted", _("Submitted")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CLOSED = "closed", _("Closed")
        ESTIMATE_REVISED = "estimate_revised", _("Estimate revised")
        RECEIPT_RECORDED = "receipt_recorded", _("Receipt recorded")
        ALLOCATED = "allocated", _("Receipt allocated to a pledge")
        ALLOCATION_REVERSED = "allocation_reversed", _("Allocation reversed")
        PAID = "paid", _("Payment recorded")
        PAYMENT_REVERSED = "payment_reversed", _("Payment reversed")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("The guardian withdrew consent to sharing")
        ANONYMISED = "anonymised", _("Anonymised at the end of the retention period")
        FAMILY_UPLOADED = "family_uploaded", _("Document sent by the family, not yet checked")
        OPENED_FROM_LEAD = "opened_from_lead", _("Opened from a call-back request")
        DISCARDED = "discarded", _("Draft discarded")
        HOSPITAL_CONFIRMED = "hospital_confirmed", _("Confirmed by the treating hospital")
        HOSPITAL_CORRECTED = "hospital_corrected", _("Corrected by the treating hospital")
        HOSPITAL_MATCHED = "hospital_matched", _("Treating hospital matched to the directory")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # None only for the family's own uploads from the status page (it has no account).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(max_length=30)
    section = models.CharField(max_length=1, blank=True)
    changes = models.JSONField(default=dict, blank=True)  # field -> [old, new]
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.application_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


SEALED = Q(chain_seq__isnull=False)  # an access record given its place in the chain
UNSEALED = Q(chain_seq__isnull=True)  # one the sealer has yet to chain


class AccessRecord(models.Model):
    """Who saw which application's personal data, when, and through which view (§5).

    Tamper-evident once sealed (cases.audit): each sealed record carries its place in one
    alliance-wide chain and a hash over its own fields and the previous record's hash, so
    a record edited, deleted or slipped in later breaks the chain where it happened.
    """

    # No index of their own: every index is one more write for each row of every staff page
    # (issue 18), and the look-ups by them are the sealed records' indexes below (Meta).
    # No constraint in the database either (db_constraint=False): PostgreSQL checked each
    # row's application and user at commit, locking both rows, which was half the
    # database's work for a list page's 25 records (0.6 of 1.2 ms, issue 18), and readers
    # of the same list locked the same rows. The ids come from the rows the page just read;
    # Django still deletes an application's records with it and refuses to delete a user
    # who has records (on_delete, run by the ORM). Applications are never deleted, and
    # users are deactivated, not deleted; a user deleted while a page of theirs records a
    # view could leave that record without its user (the ORM's check and the insert race).
    # Those look-ups by application or user read the whole table: the indexes by them hold
    # sealed records only (Meta, below), which a look-up of every record cannot use.
    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="access_records",
        db_index=False,
        db_constraint=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    at = models.DateTimeField(auto_now_add=True)
    view = models.CharField(max_length=40)
    detail = models.CharField(max_length=200, blank=True)
    chain_seq = models.BigIntegerField(null=True, blank=True)
    chain_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at"]
        # The look-ups' indexes hold sealed records only (issue 18). A page view writes its
        # records unsealed, into the table and two indexes (its id, and the unsealed ones'
        # for the sealer), where it was seven: a list page's 25 records cost PostgreSQL
        # 283 µs, over a seventh of the inbox. The sealer's update enters each record into
        # the others; it rewrote every index of every record before, too (chain_seq changes).
        # A search finds the few unsealed records through the sealer's index
        # (cases.audit.records_matching), and the sealed ones through these.
        indexes = [
            # The unsealed records, newest first: what the sealer seals (oldest first) and
            # the searches' unsealed part (cases.audit.Matching).
            models.Index(
                fields=["-at", "-id"], condition=UNSEALED, name="cases_access_unsealed_at"
            ),
            models.Index(
                fields=["application", "-at"], condition=SEALED, name="cases_access_sealed_app"
            ),
            # The secretariat's search by person.
            models.Index(fields=["user", "-at"], condition=SEALED, name="cases_access_sealed_user"),
            models.Index(fields=["view", "-at"], condition=SEALED, name="cases_access_sealed_view"),
            # Every record, newest first (the search without a filter, or by day).
            models.Index(fields=["-at", "-id"], condition=SEALED, name="cases_access_sealed_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["chain_seq"], condition=SEALED, name="cases_access_sealed_seq"
            ),
        ]

    def __str__(self):
        return f"{self.user_id} {self.view} {self.application_id}"


class AccessChainHead(models.Model):
    """The end of the access record's chain: one row, locked while records are sealed."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    sealed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"#{self.last_seq} {self.last_hash[:12]}"
