"""The forms of the guardian's rights (PIPL): the page and the API check a withdrawal of
consent with the same note field, and so with the same messages."""

from django import forms
from django.utils.translation import gettext_lazy

from aid_alliance.text import PlainTextField


class ConsentWithdrawalNoteForm(forms.Form):
    """How the guardian withdrew consent: the API's body (its call is the confirmation)."""

    note = PlainTextField(
        label=gettext_lazy("How did the guardian withdraw consent?"),
        help_text=gettext_lazy("E.g. a signed letter of 2 December, in person, by phone."),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": gettext_lazy(
                "Say how the guardian withdrew consent (e.g. a signed letter, in person, by phone)."
            ),
            "max_length": gettext_lazy("At most 300 characters."),
        },
    )


class ConsentWithdrawalForm(ConsentWithdrawalNoteForm):
    """The page's form: the note and a tick that confirms what follows."""

    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I confirm that the guardian withdrew consent: the other members will no longer "
            "see the child's data."
        ),
        error_messages={"required": gettext_lazy("Tick the box to confirm.")},
    )
