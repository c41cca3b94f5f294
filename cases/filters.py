"""Query filters of the API's lists. They parse and check the query string; where the browser
already filters the same list (the staff list, the member inbox), the browser's own function
does the filtering, so that a page and its API never disagree about what matches."""

import django_filters
from django import forms

from cases import references
from cases.bills.services import normalize_key
from cases.intake import selectors
from cases.models import Allocation, Application, Document, MemberReview, Payment, Receipt
from cases.review.views import inbox_queryset
from organizations import regions
from organizations.models import DiseaseCategory, MemberOrganization

# The largest id the databases store (a bigint): a larger one in a filter is refused with a
# 400 instead of reaching the database driver.
MAX_ID = 2**63 - 1


class WholeNumberFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class IdFilter(WholeNumberFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


def _provinces():
    return [(region.code[:2], region.name) for region in regions.provinces()]


class ApplicationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        max_length=50, help_text="A reference number, a child's name or an ID number (A03)."
    )
    status = django_filters.ChoiceFilter(choices=Application.Status.choices)
    category = django_filters.ModelChoiceFilter(
        queryset=DiseaseCategory.objects.all(),
        to_field_name="code",
        help_text="D01 disease category code, e.g. LEUK.",
    )
    member = django_filters.ModelChoiceFilter(
        queryset=MemberOrganization.objects.all(),
        to_field_name="short_name",
        help_text="The member that entered the application (the secretariat's filter; "
        "member staff list their own member's applications).",
    )

    class Meta:
        model = Application
        fields = ["q", "status", "category", "member"]

    def filter_queryset(self, queryset):
        # The staff list's search (cases.intake.selectors.application_list), as in the browser.
        data, user = self.form.cleaned_data, self.request.user
        return selectors.application_list(
            user,
            q=data.get("q") or "",
            status=data.get("status") or "",
            category=data.get("category"),
            member=data.get("member") if (user.is_superuser or user.is_secretariat) else None,
        )


class ReviewFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=MemberReview.State.choices)
    category = django_filters.ModelChoiceFilter(
        queryset=DiseaseCategory.objects.all(), to_field_name="code", help_text="D01 code."
    )
    province = django_filters.ChoiceFilter(
        choices=_provinces, help_text="The child's household province: two digits of A07."
    )
    eligible = django_filters.BooleanFilter(
        help_text="Whether one of the member's projects found the child eligible."
    )
    waiting = WholeNumberFilter(
        min_value=0,
        max_value=3650,
        help_text="Routed at least this many days ago.",
    )

    class Meta:
        model = MemberReview
        fields = ["state", "category", "province", "eligible", "waiting"]

    def filter_queryset(self, queryset):
        # The member inbox's filters (cases.review.views.inbox_queryset), as in the browser.
        data = self.form.cleaned_data
        eligible = data.get("eligible")
        return inbox_queryset(
            self.request.user.organization_id,  # an id: no query for the member
            {
                "state": data.get("state") or "",
                "category": data.get("category"),
                "province": data.get("province") or "",
                "eligible": "" if eligible is None else ("yes" if eligible else "no"),
                "waiting": data.get("waiting"),
            },
        )


class DocumentFilter(django_filters.FilterSet):
    application = django_filters.CharFilter(
        method="filter_application", max_length=20, help_text="A reference number."
    )

    class Meta:
        model = Document
        fields = ["application", "doc_type", "status"]

    def filter_application(self, queryset, name, value):
        return queryset.filter(application__reference=references.normalize_reference(value))


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
