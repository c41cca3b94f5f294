"""Medical receipts, allocations and payments under the unified bill rules (standard.md §4).

Rows here are never edited to correct a mistake: a correction is a new row that reverses an
earlier one, so the history of every yuan stays readable. The running totals on a receipt
and on a pledge (``allocated_total``, ``paid_total``) are kept by cases.bills.services under row
locks, and check constraints hold them inside their limits even if that code had a bug.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.crypto import EncryptedCharField
from cases.models.application import ZERO, Application, Child, Document
from cases.models.review import MemberReview
from organizations.models import Hospital, MemberOrganization


def amount_field(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **kwargs)


class Receipt(models.Model):
    """医疗收费票据: one medical receipt, recorded once for the whole alliance (§4)."""

    class Kind(models.TextChoices):
        INPATIENT = "inpatient", _("Inpatient")
        OUTPATIENT = "outpatient", _("Outpatient")

    # The key, normalised by cases.bills.services.normalize_key: full-width digits, spaces and
    # dashes never make a second key for the same paper.
    code = models.CharField(_("receipt code"), max_length=20)
    number = models.CharField(_("receipt number"), max_length=20)
    check_code = models.CharField(_("check code"), max_length=20, blank=True)
    # A receipt belongs to one child; it was recorded on one of the child's applications.
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="receipts")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="receipts")
    hospital = models.CharField(_("hospital"), max_length=100)
    issued_on = models.DateField(_("receipt date"))
    kind = models.CharField(_("inpatient or outpatient"), max_length=10, choices=Kind)
    patient_number = models.CharField(_("inpatient/outpatient number"), max_length=30, blank=True)
    total = amount_field(_("total (yuan)"))
    insurance_fund = amount_field(_("paid by the insurance fund (yuan)"))
    co_payment = amount_field(_("co-payment (yuan)"))
    self_paid = amount_field(_("fully self-paid (yuan)"))
    allocated_total = amount_field(_("allocated (yuan)"), default=ZERO)
    scan = models.ForeignKey(
        Document,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("scan"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_member = models.ForeignKey(
        MemberOrganization, on_delete=models.PROTECT, related_name="+"
    )
    # A receipt put in the register by the treating hospital's staff (issue 17): the
    # hospital; recorded_member is then the member that entered the application.
    recorded_hospital = models.ForeignKey(
        Hospital, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("medical receipt")
        verbose_name_plural = _("medical receipts")
        ordering = ["issued_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["code", "number"], name="cases_receipt_key"),
            # §4: the parts add up to the total.
            models.CheckConstraint(
                condition=Q(total=F("insurance_fund") + F("co_payment") + F("self_paid")),
                name="cases_receipt_parts_add_up",
            ),
            models.CheckConstraint(
                condition=Q(total__gt=0)
                & Q(insurance_fund__gte=0)
                & Q(co_payment__gte=0)
                & Q(self_paid__gte=0),
                name="cases_receipt_amounts_positive",
            ),
            # §4: allocations on a receipt ≤ its co-payment + self-paid parts.
            models.CheckConstraint(
                condition=Q(allocated_total__gte=0)
                & Q(allocated_total__lte=F("co_payment") + F("self_paid")),
                name="cases_receipt_allocated_within_family_share",
            ),
        ]
        indexes = [models.Index(fields=["child", "issued_on"], name="cases_receipt_child")]

    def __str__(self):
        return f"{self.code}-{self.number}"

    @property
    def reimbursable_amount(self):
        """What the family paid itself: co-payment + self-paid (§4)."""
        return self.co_payment + self.self_paid

    @property
    def room(self):
        return self.reimbursable_amount - self.allocated_total


class Allocation(models.Model):
    """An amount of one receipt tied to one approved pledge (§4); or, with ``reverses``,
    the correction that takes an earlier allocation back."""

    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="allocations")
    review = models.ForeignKey(MemberReview, on_delete=models.PROTECT, related_name="allocations")
    amount = amount_field(_("amount (yuan)"))
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversal"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["created_at", "pk"]
        constraints = [
            # An allocation is positive; its reversal is the same amount, negative.
            models.CheckConstraint(
                condition=Q(reverses__isnull=True, amount__gt=0)
                | Q(reverses__isnull=False, amount__lt=0),
                name="cases_allocation_sign",
            ),
        ]

    def __str__(self):
        return f"{self.receipt_id} -> {self.review_id}: {self.amount}"


class Payment(models.Model):
    """拨付: money paid out against a pledge (§4); or, with ``reverses``, its correction."""

    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        HOSPITAL_SETTLEMENT = "hospital_settlement", _("Settled directly with the hospital")
        OTHER = "other", _("Other")

    review = models.ForeignKey(MemberReview, on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField(_("payment date"))
    payee_kind = models.CharField(_("payee"), max_length=10, choices=Application.PayeeKind)
    payee_name = models.CharField(_("payee name"), max_length=100)
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    account_number = EncryptedCharField(_("account number"), max_length=40, blank=True)
    amount = amount_field(_("amount (yuan)"))
    method = models.CharField(_("method"), max_length=20, choices=Method)
    bank_reference = models.CharField(_("bank reference"), max_length=60, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversal"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["paid_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reverses__isnull=True, amount__gt=0)
                | Q(reverses__isnull=False, amount__lt=0),
                name="cases_payment_sign",
            ),
        ]
        indexes = [models.Index(fields=["paid_on"], name="cases_payment_paid_on")]

    def __str__(self):
        return f"{self.review_id} {self.paid_on} {self.amount}"
