import django_filters
from django.utils.translation import gettext_lazy as _

from organizations import selectors
from organizations.models import AidProject, MemberOrganization


class MemberFilter(django_filters.FilterSet):
    class Meta:
        model = MemberOrganization
        fields = ["kind", "is_executive"]


class ProjectFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(
        method="filter_covering", label=_("Disease category code, e.g. LEUK")
    )
    region = django_filters.CharFilter(
        method="filter_covering", label=_("Region code (2, 4 or 6 digits) the project covers")
    )
    member = django_filters.CharFilter(field_name="member__short_name", label=_("Member"))

    class Meta:
        model = AidProject
        fields = ["kind", "is_open", "member"]

    def filter_covering(self, queryset, name, value):
        # Both filters are decided by the eligibility engine's own rule objects.
        return queryset.filter(pk__in=selectors.projects_covering(queryset, **{name: value}))
