"""What typed names and free text may hold (issue 14), the same for pages, forms and the API.

Characters that change how text is shown without being seen are refused: bidirectional
controls (U+202E "right-to-left override" shows 明王 for 王明, or a file name backwards) and
zero-width characters (U+200B between two characters of a name defeats the duplicate-child
check and the name search while looking the same). ZWJ (U+200D) also joins emoji sequences;
no name, address or note of the standard needs one, so it is refused too.

Names are NFKC-normalised (full-width ＡＢＣ１２３ → ABC123, compatibility ideographs → the
unified ones) so that one name is stored one way and found one way. Free text (addresses,
notes, reasons) is NFC-normalised with full-width letters and digits made plain: full NFKC
would also rewrite what Chinese writing uses on purpose (the full-width ，：（） become
ASCII, ①② become 12).
"""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

# Bidirectional controls: embeddings and overrides, isolates, the marks (LRM, RLM, ALM).
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
# Zero-width space, non-joiner and joiner, word joiner, the byte-order mark (ZWNBSP).
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# Other C0 and C1 controls but tab and line breaks (NUL has Django's own message).
CONTROLS = "\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_INVISIBLE = re.compile(f"[{BIDI_CONTROLS}{ZERO_WIDTH}{CONTROLS}]")
# Full-width letters and digits (U+FF10–FF19, FF21–FF3A, FF41–FF5A) → ASCII.
_FULL_WIDTH_ALNUM = {
    code: code - 0xFEE0
    for start, end in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for code in range(start, end + 1)
}

INVISIBLE_CHARACTER = _(
    "This holds an invisible control character (%(char)s): bidirectional-text and "
    "zero-width characters make what is shown differ from what is stored. Delete it and "
    "type the text again."
)


def normalize_name(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def normalize_text(value: str) -> str:
    return unicodedata.normalize("NFC", value).translate(_FULL_WIDTH_ALNUM)


def refuse_invisible_characters(value: str) -> None:
    """A validator: the first invisible character found, named by its code point."""
    found = _INVISIBLE.search(value or "")
    if found:
        raise ValidationError(
            INVISIBLE_CHARACTER,
            code="invisible_character",
            params={"char": f"U+{ord(found[0]):04X}"},
        )


class PlainTextField(forms.CharField):
    """A form's name (`name=True`) or free-text field: normalised, invisible characters
    refused at the field (after Django's own checks, so a NUL keeps its message)."""

    def __init__(self, *, name: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.normalize = normalize_name if name else normalize_text
        self.validators.append(refuse_invisible_characters)

    def to_python(self, value):
        # Normalised before max_length is checked: NFKC may lengthen a value (㍿ → 株式会社).
        value = super().to_python(value)
        return self.normalize(value) if isinstance(value, str) else value


class PlainTextSerializerField(serializers.CharField):
    """The API's twin of PlainTextField, for the bodies a serializer validates itself."""

    def __init__(self, *, name: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.normalize = normalize_name if name else normalize_text
        self.validators.append(refuse_invisible_characters)

    def to_internal_value(self, data):
        return self.normalize(super().to_internal_value(data))
