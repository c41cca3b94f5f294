"""The API's bodies: the unified application's sections (standard.md §2), reviews (§3),
receipts, allocations and payments (§4), and the one shape of every error.

No rule lives here. Request bodies are checked by the browser's own forms (cases.intake.forms,
cases.bills.forms) and by the services; these serializers describe the bodies in the OpenAPI
schema and render responses.
"""

from decimal import Decimal

from rest_framework import serializers

from aid_alliance import money
from cases import access
from cases.identity import mask_id_number
from cases.models import (
    Application,
    Child,
    Document,
    Guardian,
    MemberReview,
    OtherAid,
    Sex,
)
from cases.standard import ETHNIC_GROUPS
from organizations.eligibility import ECONOMIC_FLAGS, STAGES
from organizations.serializers import ReasonSerializer


def _coded_text(code: str, help_text: str, max_length: int | None = None):
    return serializers.CharField(
        max_length=max_length,
        required=False,
        allow_blank=True,
        help_text=f"{code} {help_text}".strip(),
    )


def _choice(code: str, help_text: str, choices):
    return serializers.ChoiceField(
        choices=choices, required=False, allow_blank=True, help_text=f"{code} {help_text}".strip()
    )


def _money(code: str, help_text: str):
    return serializers.DecimalField(
        required=False,
        allow_null=True,
        min_value=Decimal("0"),
        help_text=f"{code} {help_text} (yuan)".strip(),
        **money.MONEY,
    )


def _date(code: str, help_text: str):
    return serializers.DateField(
        required=False, allow_null=True, help_text=f"{code} {help_text}".strip()
    )


def _flag(code: str, help_text: str):
    return serializers.BooleanField(required=False, help_text=f"{code} {help_text}".strip())


# --- the sections of the unified application (standard.md §2) ---------------------------
# Field names are the section forms' own (cases.intake.forms), except where the form splits one
# field of the standard into widgets: A07 and D06's region are one GB/T 2260 code here, and
# D07 is one object instead of a select per treatment.


class ChildSectionSerializer(serializers.Serializer):
    """A. Child (患儿)."""

    name = _coded_text("A01", "child's name", 50)
    id_type = _choice("A02", "ID document type", Child.IdType.choices)
    id_number = _coded_text(
        "A03",
        "ID number; for a resident identity card 18 characters valid under GB 11643, "
        "whose birth date and sex must agree with A05 and A04",
        30,
    )
    sex = _choice("A04", "sex", Sex.choices)
    dob = _date("A05", "date of birth")
    ethnicity = _choice("A06", "ethnic group", [(e, e) for e in ETHNIC_GROUPS])
    household_region = _coded_text("A07", "household registration region, a GB/T 2260 code", 6)
    registration = _choice("A08", "registration type", Child.Registration.choices)
    address = _coded_text("A09", "current address", 200)


class GuardiansSectionSerializer(serializers.Serializer):
    """B. Guardians (监护人): one or two, exactly one primary contact. Leave every g2_ field
    empty for a single guardian."""

    g1_name = _coded_text("B01", "first guardian's name", 50)
    g1_relationship = _choice("B02", "relationship to the child", Guardian.Relationship.choices)
    g1_id_number = _coded_text("B03", "resident ID number (GB 11643)", 30)
    g1_phone = _coded_text("B04", "11-digit mainland mobile number", 20)
    g1_occupation = _coded_text("B05", "occupation or employer (optional)", 100)
    g2_name = _coded_text("B01", "second guardian's name", 50)
    g2_relationship = _choice("B02", "relationship to the child", Guardian.Relationship.choices)
    g2_id_number = _coded_text("B03", "resident ID number (GB 11643)", 30)
    g2_phone = _coded_text("B04", "11-digit mainland mobile number", 20)
    g2_occupation = _coded_text("B05", "occupation or employer (optional)", 100)
    primary = _choice("B06", "which guardian is the primary contact", [("1", "1"), ("2", "2")])


class EconomicsSectionSerializer(serializers.Serializer):
    """C. Household economics (家庭经济状况); per-capita income is derived, never typed."""

    household_size = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=30,
        help_text="C01 people in the household",
    )
    annual_income = _money("C02", "annual household income")
    income_source = _coded_text("C03", "main income source", 100)
    assets_debts = _coded_text("C04", "assets and debts, free text", 1000)
    debt_amount = _money("C04", "debts")
    economic_flags = serializers.ListField(
        child=serializers.ChoiceField(choices=list(ECONOMIC_FLAGS)),
        required=False,
        help_text="C05 status flags",
    )


class TreatmentPlanSerializer(serializers.Serializer):
    """D07: each treatment in the plan with its stage; a treatment left out is not planned."""

    chemotherapy = serializers.ChoiceField(choices=list(STAGES), required=False)
    radiotherapy = serializers.ChoiceField(choices=list(STAGES), required=False)
    surgery = serializers.ChoiceField(choices=list(STAGES), required=False)
    transplant = serializers.ChoiceField(choices=list(STAGES), required=False)
    dialysis = serializers.ChoiceField(choices=list(STAGES), required=False)
    long_term_medication = serializers.ChoiceField(choices=list(STAGES), required=False)
    rehabilitation = serializers.ChoiceField(choices=list(STAGES), required=False)
    other = serializers.ChoiceField(choices=list(STAGES), required=False)


class MedicalSectionSerializer(serializers.Serializer):
    """D. Medical information (医疗信息)."""

    category = _coded_text("D01", "disease category code, e.g. LEUK", 20)
    icd = _coded_text("D02", "diagnosis code (ICD-10), e.g. C91.0", 16)
    diagnosis_text = _coded_text("D03", "diagnosis as written on the certificate", 200)
    diagnosis_date = _date("D04", "diagnosis date")
    diagnosing_hospital = _coded_text("D05", "diagnosing hospital", 100)
    treating_hospital = _coded_text("D06", "treating hospital", 100)
    hospital_region = _coded_text("D06", "treating hospital's region, a GB/T 2260 code", 6)
    department = _coded_text("D06", "department", 50)
    treatment_plan = TreatmentPlanSerializer(required=False, help_text="D07 treatment plan")
    estimated_cost = _money("D08", "estimated total cost from the hospital's estimate")
    costs_incurred = _money("D09", "costs already incurred")


class CoverageSectionSerializer(serializers.Serializer):
    """E. Medical coverage (医疗保障), with up to three rows of other aid (E03): give the
    kind, the name and the amount of a row, or none of them."""

    insurance_type = _choice("E01", "basic medical insurance", Application.InsuranceType.choices)
    basic_insurance = _money("E02", "paid by basic medical insurance")
    critical_illness_insurance = _money("E02", "paid by critical illness insurance")
    medical_assistance = _money("E02", "paid by government medical assistance")
    commercial_insurance = _money("E02", "paid by commercial insurance")
    aid1_kind = _choice("E03", "other aid 1: from whom", OtherAid.Kind.choices)
    aid1_source = _coded_text("E03", "other aid 1: charity or platform", 100)
    aid1_amount = _money("E03", "other aid 1: amount")
    aid1_received = _flag("E03", "other aid 1: already received")
    aid2_kind = _choice("E03", "other aid 2: from whom", OtherAid.Kind.choices)
    aid2_source = _coded_text("E03", "other aid 2: charity or platform", 100)
    aid2_amount = _money("E03", "other aid 2: amount")
    aid2_received = _flag("E03", "other aid 2: already received")
    aid3_kind = _choice("E03", "other aid 3: from whom", OtherAid.Kind.choices)
    aid3_source = _coded_text("E03", "other aid 3: charity or platform", 100)
    aid3_amount = _money("E03", "other aid 3: amount")
    aid3_received = _flag("E03", "other aid 3: already received")


class PaymentSectionSerializer(serializers.Serializer):
    """G. Payment details (收款信息)."""

    payee_kind = _choice("G01", "paid to", Application.PayeeKind.choices)
    bank_name = _coded_text("G02", "bank", 100)
    account_name = _coded_text("G03", "account name", 100)
    account_number = _coded_text("G04", "account number, 8 to 30 digits", 40)


class ConsentSectionSerializer(serializers.Serializer):
    """H. Consent (授权同意): without H01 the application cannot be routed."""

    consent_sharing = _flag("H01", "the guardian consents to sharing with every member")
    consent_date = _date("H02", "date of consent")
    consent_method = _choice("H02", "how consent was obtained", Application.ConsentMethod.choices)
    consent_publicity = _flag("H03", "the guardian also consents to publicity (optional)")
    consent_hospital = _flag(
        "H04", "the guardian consents to sharing the medical sections with the treating hospital"
    )


SECTION_SERIALIZERS = {
    "A": ChildSectionSerializer,
    "B": GuardiansSectionSerializer,
    "C": EconomicsSectionSerializer,
    "D": MedicalSectionSerializer,
    "E": CoverageSectionSerializer,
    "G": PaymentSectionSerializer,
    "H": ConsentSectionSerializer,
}


class SectionsSerializer(serializers.Serializer):
    A = ChildSectionSerializer()
    B = GuardiansSectionSerializer()
    C = EconomicsSectionSerializer()
    D = MedicalSectionSerializer()
    E = CoverageSectionSerializer()
    G = PaymentSectionSerializer()
    H = ConsentSectionSerializer()


class SectionStatusSerializer(serializers.Serializer):
    """Whether each section, F (documents) included, is complete and valid."""

    A = serializers.BooleanField()
    B = serializers.BooleanField()
    C = serializers.BooleanField()
    D = serializers.BooleanField()
    E = serializers.BooleanField()
    F = serializers.BooleanField()
    G = serializers.BooleanField()
    H = serializers.BooleanField()


# --- errors ----------------------------------------------------------------------------------


class FieldErrorSerializer(serializers.Serializer):
    section = serializers.CharField(
        allow_null=True, help_text="Section A–H of the application, when the field is in one."
    )
    field = serializers.CharField(
        allow_null=True, help_text="The body's field name; null for the body as a whole."
    )
    code = serializers.CharField(
        allow_null=True, help_text="The field's code in the unified standard, e.g. A03."
    )
    message = serializers.CharField(help_text="The browser's message, in the request's language.")


class MatchMemberSerializer(serializers.Serializer):
    short_name = serializers.CharField()
    name = serializers.CharField(source="name_zh")
    contact_name = serializers.CharField()
    contact_phone = serializers.CharField()
    contact_email = serializers.CharField()


class PossibleMatchSerializer(serializers.Serializer):
    """A possible record of the same child (cases.intake.selectors.PossibleMatch): the member and
    how to reach it always; the application only when it is shared with the caller."""

    member = MatchMemberSerializer()
    basis = serializers.ListField(
        child=serializers.ChoiceField(choices=["id_number", "name_dob", "name_phone"]),
        help_text="What matched: the same ID number, name and birth date, or name and a "
        "guardian's phone.",
    )
    reference = serializers.CharField(
        source="application.reference",
        allow_null=True,
        default=None,
        help_text="Only for an application shared with your member; link it with "
        "POST …/link-child/.",
    )


class LinkChildSerializer(serializers.Serializer):
    reference = serializers.CharField(
        help_text="The shared application about the same child, from …/possible-duplicates/."
    )


class ErrorSerializer(serializers.Serializer):
    """Every refusal: 400, 401, 403, 404, 409 and 429 alike."""

    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True)
    code = serializers.CharField(
        required=False,
        help_text="Set on refusals a system may act on: duplicate_application.",
    )
    match = PossibleMatchSerializer(
        required=False,
        help_text="With duplicate_application: the child's other open application, as much "
        "of it as is shared with you.",
    )


# --- applications ------------------------------------------------------------------------------


class ApplicationListSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Application.Status.choices)
    member = serializers.CharField(source="member.short_name")
    child_name = serializers.SerializerMethodField(
        help_text="A01; empty for another member once the guardian withdrew consent."
    )
    child_id_number = serializers.SerializerMethodField(help_text="A03, masked")
    category = serializers.CharField(source="category.code", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    consent_withdrawn_at = serializers.DateTimeField(
        allow_null=True, help_text="When the guardian withdrew consent to sharing (H01)."
    )
    discarded_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When a caseworker discarded the draft (kept on record, no longer "
        "listed for the member; the secretariat still lists it).",
    )

    def _withheld(self, application) -> bool:
        user = self.context.get("user")
        return user is not None and access.shared_data_withheld(user, application)

    def get_child_name(self, application) -> str:
        return "" if self._withheld(application) else application.child.name

    def get_child_id_number(self, application) -> str:
        if self._withheld(application):
            return ""
        return mask_id_number(application.child.id_number)


class RevealedNumbersSerializer(serializers.Serializer):
    """The numbers in full that the user may see (cases.reveal); null where not."""

    reference = serializers.CharField()
    id_number = serializers.CharField(allow_null=True, help_text="A03 the child's ID number")
    g1_id_number = serializers.CharField(allow_null=True, help_text="B03 guardian 1")
    g2_id_number = serializers.CharField(allow_null=True, help_text="B03 guardian 2")
    account_number = serializers.CharField(allow_null=True, help_text="G04 the bank account")


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = [
            "id",
            "doc_type",
            "flag",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "status",
            "reject_reason",
            "uploaded_at",
            "reviewed_at",
        ]


class DocumentUploadSerializer(serializers.Serializer):
    """F. One document: the type is read from the file's bytes (PDF, JPEG or PNG)."""

    doc_type = serializers.ChoiceField(choices=Document.Type.choices)
    flag = serializers.ChoiceField(
        choices=list(ECONOMIC_FLAGS),
        required=False,
        allow_blank=True,
        help_text="For a hardship certificate: the C05 status it proves.",
    )
    file = serializers.FileField()


class DocumentReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accepted", "rejected"])
    reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Needed to reject."
    )


class MissingDocumentSerializer(serializers.Serializer):
    doc_type = serializers.ChoiceField(choices=Document.Type.choices)
    flag = serializers.CharField(help_text="For a hardship certificate: the C05 status.")


class ReviewSummarySerializer(serializers.ModelSerializer):
    """What everyone on the application sees of each member's review (§3): state and
    pledge, never the member's internal notes."""

    member = serializers.CharField(source="member.short_name")
    member_name = serializers.CharField(source="member.name_zh")
    project = serializers.CharField(source="project.code", allow_null=True, default=None)

    class Meta:
        model = MemberReview
        fields = [
            "id",
            "member",
            "member_name",
            "state",
            "requested_items",
            "project",
            "amount",
            "description",
            "allocated_total",
            "paid_total",
            "routed_at",
            "due_at",
            "decided_at",
        ]


class ApplicationDetailSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Application.Status.choices)
    member = serializers.CharField(help_text="The member that entered the application.")
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    closing_reason = serializers.ChoiceField(
        choices=Application.ClosingReason.choices, allow_blank=True
    )
    closed_at = serializers.DateTimeField(allow_null=True)
    consent_withdrawn_at = serializers.DateTimeField(
        allow_null=True, help_text="When the guardian withdrew consent to sharing (H01)."
    )
    discarded_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When a caseworker discarded the draft (kept on record, no longer "
        "listed for the member; the secretariat still lists it).",
    )
    personal_data_withheld = serializers.BooleanField(
        help_text="True for another member's staff once the guardian withdrew consent: the "
        "sections, documents and the other members' reviews are left empty, and the figures 0."
    )
    editable = serializers.BooleanField(
        help_text="A draft, or an application with an open information request."
    )
    sections = SectionsSerializer()
    complete = SectionStatusSerializer()
    section_errors = FieldErrorSerializer(
        many=True, help_text="What is not valid yet, e.g. input typed in the browser."
    )
    missing_documents = MissingDocumentSerializer(many=True)
    documents = DocumentSerializer(many=True)
    per_capita_income = serializers.DecimalField(allow_null=True, **money.MONEY)
    need = serializers.DecimalField(
        help_text="Estimated cost − coverage − other aid (§3).", max_digits=14, decimal_places=2
    )
    pledged = serializers.DecimalField(max_digits=14, decimal_places=2)
    funding_gap = serializers.DecimalField(max_digits=14, decimal_places=2)
    reviews = ReviewSummarySerializer(many=True)


# --- reviews -----------------------------------------------------------------------------------


class InboxItemSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="application.reference")
    child_name = serializers.SerializerMethodField(
        help_text="Empty for another member's review once the guardian withdrew consent."
    )
    consent_withdrawn_at = serializers.DateTimeField(
        source="application.consent_withdrawn_at",
        allow_null=True,
        help_text="When the guardian withdrew consent to sharing (H01).",
    )
    category = serializers.CharField(source="category.code", allow_null=True, default=None)
    project = serializers.CharField(source="project.code", allow_null=True, default=None)
    funding_gap = serializers.DecimalField(
        source="gap", max_digits=14, decimal_places=2, read_only=True
    )
    hospital_confirmed_at = serializers.DateTimeField(
        source="application.hospital_confirmation.at",
        allow_null=True,
        default=None,
        help_text="When the treating hospital last confirmed or corrected D01-D03, D07, D08.",
    )
    hospital_confirmed_by = serializers.CharField(
        source="application.hospital_confirmation.hospital.name",
        allow_null=True,
        default=None,
        help_text="The hospital that confirmed.",
    )

    class Meta:
        model = MemberReview
        fields = [
            "id",
            "reference",
            "child_name",
            "consent_withdrawn_at",
            "hospital_confirmed_at",
            "hospital_confirmed_by",
            "state",
            "category",
            "province",
            "any_eligible",
            "routed_at",
            "due_at",
            "project",
            "amount",
            "allocated_total",
            "paid_total",
            "funding_gap",
        ]

    def get_child_name(self, review) -> str:
        # The reviewer is the review's member: another member's once it is not the entering one.
        application = review.application
        if application.consent_withdrawn_at and review.member_id != application.member_id:
            return ""
        return application.child.name


class EligibilityItemSerializer(serializers.Serializer):
    """One project of the member, as judged when the application was routed."""

    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    kind = serializers.CharField()
    eligible = serializers.BooleanField()
    suggested = serializers.IntegerField(allow_null=True)
    fails = serializers.ListField(child=serializers.CharField())
    reasons = ReasonSerializer(many=True)
    rules_version = serializers.IntegerField()


class ReviewEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    note = serializers.CharField()
    internal_note = serializers.CharField(help_text="Seen only by the reviewing member.")


class ReviewDetailSerializer(InboxItemSerializer):
    eligibility = serializers.DictField(
        child=EligibilityItemSerializer(), help_text="By project code."
    )
    events = ReviewEventSerializer(many=True)

    class Meta(InboxItemSerializer.Meta):
        fields = [
            *InboxItemSerializer.Meta.fields,
            "requested_items",
            "description",
            "override_reason",
            "decline_reason",
            "decided_at",
            "eligibility",
            "events",
        ]
