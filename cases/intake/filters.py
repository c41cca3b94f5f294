"""The API's query filters of applications and documents (see cases.filters)."""

import django_filters

from cases import references
from cases.intake import selectors
from cases.models import Application, Document
from organizations.models import DiseaseCategory, MemberOrganization


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


class DocumentFilter(django_filters.FilterSet):
    application = django_filters.CharFilter(
        method="filter_application", max_length=20, help_text="A reference number."
    )

    class Meta:
        model = Document
        fields = ["application", "doc_type", "status"]

    def filter_application(self, queryset, name, value):
        return queryset.filter(application__reference=references.normalize_reference(value))
