"""The staff lists' category and member choices (the staff list's search, the inbox's
filters), kept per version of the directory and language (organizations.directory_cache):
the version's one read instead of a query for the categories and one for the members on
every list page (issue 18). Not a feature's: the intake's and the review's lists share it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from aid_alliance.widgets import QuickSelect
from organizations import directory_cache
from organizations.eligibility import bilingual
from organizations.models import DiseaseCategory, MemberOrganization


@dataclass(frozen=True)
class ListChoices:
    """The staff list's category and member choices, in the directory's order."""

    categories: list[tuple[str, str]]  # (code, name in the page's language)
    category_ids: dict[str, int]  # code -> id
    members: list[dict]  # short_name, name_zh, name_en (org_extras.local_name reads them)
    member_ids: dict[str, int]  # short_name -> id


def _build() -> ListChoices:
    categories = list(DiseaseCategory.objects.values_list("pk", "code", "name_zh", "name_en"))
    members = list(MemberOrganization.objects.values("pk", "short_name", "name_zh", "name_en"))
    return ListChoices(
        # The label a ModelChoiceField gave: the category's str() in the active language.
        categories=[(code, str(bilingual(zh, en or zh))) for _pk, code, zh, en in categories],
        category_ids={code: pk for pk, code, _zh, _en in categories},
        members=members,
        member_ids={member["short_name"]: member["pk"] for member in members},
    )


def list_choices(request=None) -> ListChoices:
    """The choices for this version of the directory and the active language, the version
    read once per request (organizations.directory_cache.state_of)."""
    state = directory_cache.state_of(request)
    return directory_cache.cached(state, ("list_choices",), _build)


class CategoryFilter(forms.ChoiceField):
    """A list's disease-category filter (the staff list's search, the inbox): a category's
    code among the directory's kept choices, "Any" first; an unknown code is refused with a
    model choice's message. Rendered in Python (QuickSelect, issue 18)."""

    def __init__(self, **kwargs):
        super().__init__(
            label=_("Disease category"),
            required=False,
            widget=QuickSelect,
            error_messages={
                "invalid_choice": forms.ModelChoiceField.default_error_messages["invalid_choice"]
            },
            **kwargs,
        )

    def offer(self, choices: Callable[[], ListChoices]) -> None:
        """The choices, read only when the filter is checked or its select rendered (a CSV
        download without a category makes no query for them)."""
        self.choices = lambda: [("", _("Any")), *choices().categories]
