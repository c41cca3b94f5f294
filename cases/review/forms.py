"""The forms of the review workflow's pages (§3): the inbox's filters and each action's
fields. The API checks its bodies with the same forms (cases.review.api)."""

from collections.abc import Callable

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aid_alliance.widgets import QuickSelect
from cases.fields import YuanField, optional_text
from cases.list_choices import CategoryFilter, ListChoices
from cases.models import Document, MemberReview
from organizations import regions


class InboxFilterForm(forms.Form):
    # Its selects are rendered in Python (QuickSelect): a template per option was a large
    # share of the inbox's time (issue 18).
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        choices=[("", gettext_lazy("Any")), *MemberReview.State.choices],
        required=False,
        widget=QuickSelect,
    )
    # A category's code, among the directory's kept choices (cases.list_choices): the
    # categories were a query on every inbox page.
    category = CategoryFilter()
    province = forms.ChoiceField(label=gettext_lazy("Province"), required=False, widget=QuickSelect)
    eligible = forms.ChoiceField(
        label=gettext_lazy("Eligible for one of our projects"),
        choices=[
            ("", gettext_lazy("Any")),
            ("yes", gettext_lazy("Yes")),
            ("no", gettext_lazy("No")),
        ],
        required=False,
        widget=QuickSelect,
    )
    waiting = forms.IntegerField(
        label=gettext_lazy("Waiting at least (days)"), min_value=0, max_value=3650, required=False
    )
    hospital = forms.ChoiceField(
        label=gettext_lazy("Confirmed by the hospital"),
        choices=[
            ("", gettext_lazy("Any")),
            ("yes", gettext_lazy("Yes")),
            ("no", gettext_lazy("No")),
        ],
        required=False,
        widget=QuickSelect,
    )

    def __init__(self, data=None, *, choices: Callable[[], ListChoices]):
        super().__init__(data)
        self.fields["category"].offer(choices)
        self.fields["province"].choices = [("", _("Any"))] + [
            (r.code[:2], r.name) for r in regions.provinces()
        ]


class ReviewNoteForm(forms.Form):
    """The free texts of a review action. Too long, or holding a character the database
    cannot store (NUL), is refused with the field's name, never cut or left to the
    database (a 500 on PostgreSQL)."""

    note = optional_text(gettext_lazy("Internal note (only your member sees it)"), 500)


class RequestInfoForm(ReviewNoteForm):
    items = optional_text(gettext_lazy("Documents or answers needed"), 500)
    # Papers of the standard's list (§2 F): the family can send each from its status page.
    documents = forms.MultipleChoiceField(
        label=gettext_lazy("Papers the family can send from its phone"),
        choices=Document.Type.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class ApproveForm(ReviewNoteForm):
    project = optional_text(gettext_lazy("Project"), 20)
    amount = YuanField(label=gettext_lazy("Amount (yuan)"), required=False)
    description = optional_text(gettext_lazy("What is given, for in-kind or service help"), 300)
    override_reason = optional_text(
        gettext_lazy("Why approve although not eligible (only then)"), 300
    )


class DeclineForm(ReviewNoteForm):
    # The reason is checked against its choices by the workflow, with its own message.
    reason = optional_text(gettext_lazy("Reason"), 20)


class AnswerForm(forms.Form):
    note = optional_text(gettext_lazy("Note to the member"), 500)


class ApplicationNoteForm(forms.Form):
    note = optional_text(gettext_lazy("Note"), 300)


class CloseForm(ApplicationNoteForm):
    reason = optional_text(gettext_lazy("Closing reason"), 20)


class ReviseEstimateForm(ApplicationNoteForm):
    estimated_cost = YuanField(label=gettext_lazy("New estimated total cost (yuan)"))


REVIEW_ACTION_FORMS = {
    "take": ReviewNoteForm,
    "request-info": RequestInfoForm,
    "approve": ApproveForm,
    "decline": DeclineForm,
}
APPLICATION_ACTION_FORMS = {
    "withdraw": ApplicationNoteForm,
    "close": CloseForm,
    "revise-estimate": ReviseEstimateForm,
}
