"""The API's JSON parser (issue 14): a body nested deeper than any request of the API needs
is refused with 400 before it is decoded, so neither the decoder nor any code that walks the
data can recurse into it (a 1 KB body of 500 nested arrays was a RecursionError, a 500).

The depth is counted on the raw bytes without recursion: strings are cut out first (a
bracket inside a string is text), then the brackets left are paired off level by level.
Form and multipart bodies are flat (one value per key): they have no nesting to refuse.
"""

from __future__ import annotations

import io
import re

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

# The deepest body of the API is 3 levels (a section's D07 plan: object > object > value).
MAX_JSON_DEPTH = 32

# A JSON string: a quote, then anything but a quote or a backslash, or a backslash and the
# character it escapes. Written so that the regex engine does not backtrack.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_AS_PARENTHESES = str.maketrans("[]{}", "()()")
_PAIR = re.compile(r"\(\)")


def nesting_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than `limit` levels deep."""
    brackets = _NOT_BRACKETS.sub("", _STRING.sub("", text)).translate(_AS_PARENTHESES)
    # Each pass removes the innermost pairs. A pair left after `limit` passes holds more
    # than `limit` levels; brackets without a partner (not JSON: the decoder refuses it)
    # count as levels too, since the decoder goes down into them before it finds out.
    for _level in range(limit):
        brackets, removed = _PAIR.subn("", brackets)
        if not removed:
            break
    return "()" in brackets or brackets.count("(") > limit


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with the nesting limit (settings REST_FRAMEWORK, every view)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            # Scanned as text in the request's encoding: in UTF-16 a quote's byte could
            # also be half of another character.
            text = raw.decode(get_encoding(parser_context or {}))
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(_("The body is not text in its declared encoding.")) from exc
        if nesting_exceeds(text):
            raise ParseError(
                _("The JSON body is nested more than %(limit)s levels deep.")
                % {"limit": MAX_JSON_DEPTH}
            )
        return super().parse(io.BytesIO(raw), media_type, parser_context)
