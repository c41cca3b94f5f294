"""The API's bodies of receipts, allocations and payments (standard.md §4). Request bodies
are checked by the browser's forms (cases.bills.forms); their schema is generated from
those forms, so the two cannot drift apart."""

from rest_framework import serializers

from cases.api_base import form_serializer
from cases.bills.forms import AllocationForm, PaymentForm, ReceiptForm, ReversalForm
from cases.identity import mask_id_number
from cases.models import Allocation, Payment, Receipt
from cases.serializers import ErrorSerializer

ReceiptUploadSerializer = form_serializer(ReceiptForm, "ReceiptUploadSerializer")
ReceiptCreateSerializer = form_serializer(ReceiptForm, "ReceiptCreateSerializer", exclude=("scan",))
AllocationCreateSerializer = form_serializer(AllocationForm, "AllocationCreateSerializer")
PaymentCreateSerializer = form_serializer(PaymentForm, "PaymentCreateSerializer")
ReversalSerializer = form_serializer(ReversalForm, "ReversalSerializer")


class HeldSerializer(serializers.Serializer):
    member = serializers.CharField()
    member_name = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class ReceiptSerializer(serializers.ModelSerializer):
    application = serializers.CharField(source="application.reference")
    recorded_member = serializers.CharField(source="recorded_member.short_name")
    recorded_by = serializers.CharField(source="recorded_by.username")
    reimbursable_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    room = serializers.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        model = Receipt
        fields = [
            "id",
            "code",
            "number",
            "check_code",
            "application",
            "hospital",
            "issued_on",
            "kind",
            "patient_number",
            "total",
            "insurance_fund",
            "co_payment",
            "self_paid",
            "reimbursable_amount",
            "allocated_total",
            "room",
            "scan",
            "recorded_member",
            "recorded_by",
            "recorded_at",
        ]


class ReceiptDetailSerializer(ReceiptSerializer):
    held = HeldSerializer(many=True, help_text="What each member holds of it, net of reversals.")

    class Meta(ReceiptSerializer.Meta):
        fields = [*ReceiptSerializer.Meta.fields, "held"]


class ExistingReceiptSerializer(serializers.Serializer):
    """The receipt already in the register. For another child's receipt only who recorded it
    and when, as in the browser: the rest is that child's data."""

    same_child = serializers.BooleanField()
    id = serializers.IntegerField(allow_null=True, help_text="Null for another child's receipt.")
    recorded_by = serializers.CharField()
    recorded_member = serializers.CharField()
    recorded_member_name = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    reimbursable_amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    allocated_total = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    room = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    held = HeldSerializer(many=True, help_text="What each member holds of it (same child only).")


class DuplicateReceiptSerializer(ErrorSerializer):
    """409: the receipt is in the register already (standard.md §4: recorded once)."""

    existing = ExistingReceiptSerializer()


class AllocationSerializer(serializers.ModelSerializer):
    review = serializers.IntegerField(source="review_id")
    member = serializers.CharField(source="review.member.short_name")
    receipt_key = serializers.CharField(source="receipt", help_text="code-number")
    reverses = serializers.IntegerField(source="reverses_id", allow_null=True)
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = Allocation
        fields = [
            "id",
            "review",
            "member",
            "receipt",
            "receipt_key",
            "amount",
            "reverses",
            "note",
            "created_by",
            "created_at",
        ]


class PaymentSerializer(serializers.ModelSerializer):
    review = serializers.IntegerField(source="review_id")
    reference = serializers.CharField(source="review.application.reference")
    account_number = serializers.SerializerMethodField(help_text="Masked.")
    reverses = serializers.IntegerField(source="reverses_id", allow_null=True)
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = Payment
        fields = [
            "id",
            "review",
            "reference",
            "paid_on",
            "amount",
            "payee_kind",
            "payee_name",
            "bank_name",
            "account_number",
            "method",
            "bank_reference",
            "reverses",
            "note",
            "created_by",
            "created_at",
        ]

    def get_account_number(self, payment) -> str:
        return mask_id_number(payment.account_number)
