"""The API's query filters of receipts, allocations and payments (see cases.filters)."""

import django_filters

from cases import references
from cases.bills.services import normalize_key
from cases.filters import IdFilter
from cases.models import Allocation, Payment, Receipt


class ReceiptFilter(django_filters.FilterSet):
    application = django_filters.CharFilter(
        method="filter_application", max_length=20, help_text="A reference number."
    )
    code = django_filters.CharFilter(method="filter_key", max_length=40, help_text="票据代码")
    number = django_filters.CharFilter(method="filter_key", max_length=40, help_text="票据号码")
    issued_on = django_filters.DateFromToRangeFilter()
    kind = django_filters.ChoiceFilter(choices=Receipt.Kind.choices)

    class Meta:
        model = Receipt
        fields = ["application", "code", "number", "issued_on", "kind"]

    def filter_application(self, queryset, name, value):
        return queryset.filter(application__reference=references.normalize_reference(value))

    def filter_key(self, queryset, name, value):
        # Stored normalised (cases.bills.services.normalize_key): full-width digits and dashes
        # match.
        return queryset.filter(**{name: normalize_key(value)})


class AllocationFilter(django_filters.FilterSet):
    review = IdFilter(field_name="review_id", help_text="The pledge (member review) id.")
    receipt = IdFilter(field_name="receipt_id")

    class Meta:
        model = Allocation
        fields = ["review", "receipt"]


class PaymentFilter(django_filters.FilterSet):
    review = IdFilter(field_name="review_id", help_text="The pledge (member review) id.")
    paid_on = django_filters.DateFromToRangeFilter()
    method = django_filters.ChoiceFilter(choices=Payment.Method.choices)

    class Meta:
        model = Payment
        fields = ["review", "paid_on", "method"]
