"""The API's query filters of the member inbox (see cases.filters)."""

import django_filters

from cases.filters import WholeNumberFilter, provinces
from cases.models import MemberReview
from cases.review.selectors import inbox_queryset
from organizations.models import DiseaseCategory


class ReviewFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=MemberReview.State.choices)
    category = django_filters.ModelChoiceFilter(
        queryset=DiseaseCategory.objects.all(), to_field_name="code", help_text="D01 code."
    )
    province = django_filters.ChoiceFilter(
        choices=provinces, help_text="The child's household province: two digits of A07."
    )
    eligible = django_filters.BooleanFilter(
        help_text="Whether one of the member's projects found the child eligible."
    )
    waiting = WholeNumberFilter(
        min_value=0,
        max_value=3650,
        help_text="Routed at least this many days ago.",
    )
    hospital_confirmed = django_filters.BooleanFilter(
        help_text="Whether the treating hospital has confirmed (or corrected) the medical "
        "sections (issue 17)."
    )

    class Meta:
        model = MemberReview
        fields = ["state", "category", "province", "eligible", "waiting", "hospital_confirmed"]

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
                "hospital": ""
                if data.get("hospital_confirmed") is None
                else ("yes" if data["hospital_confirmed"] else "no"),
            },
        )
