"""Form fields the features share: an amount in yuan as people type it, an optional text."""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from aid_alliance import money
from aid_alliance.text import PlainTextField

# A bank account number (G04, and a payment's): digits only.
ACCOUNT_RE = re.compile(r"^[0-9]{8,30}$")


def as_querydict(data: dict) -> QueryDict:
    """Values as the browser posts them: a ticked box is "on", an unticked one is absent."""
    query = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list | tuple):
            query.setlist(key, [str(item) for item in value])
        elif isinstance(value, bool):
            if value:
                query[key] = "on"
        elif value is not None:
            query[key] = str(value)
    return query


class YuanField(forms.DecimalField):
    """An amount in yuan as people type it: full-width digits, thousands commas, "元"."""

    def __init__(self, *, min_value=money.ZERO, **kwargs):
        super().__init__(
            **money.MONEY,
            min_value=min_value,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            error_messages={
                "invalid": _("Enter an amount in yuan, e.g. 12000 or 12000.50."),
                "max_decimal_places": _("At most 2 decimal places (fen)."),
            },
            **kwargs,
        )

    def to_python(self, value):
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value)
            value = re.sub(r"[\s,，元¥￥]", "", value)
        return super().to_python(value)


def optional_text(label, max_length: int) -> PlainTextField:
    """A free text that may be left empty. Too long, or holding a character the database
    cannot store (NUL), is refused with the field's name, never cut or left to the
    database (a 500 on PostgreSQL)."""
    return PlainTextField(label=label, max_length=max_length, required=False)
