"""ICD-10 codes and ranges as the eligibility rules and the disease categories give them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

_ICD_RE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,8})?$")


def normalize_icd(code: str) -> str:
    """Upper case, half-width, no spaces: 'ｃ９１．０ ' -> 'C91.0'."""
    return unicodedata.normalize("NFKC", code or "").replace(" ", "").replace("。", ".").upper()


def is_icd_code(code: str) -> bool:
    return bool(_ICD_RE.match(normalize_icd(code)))


def parse_icd_items(items: Iterable[str]) -> list[tuple[str, str]]:
    """Turn ["C91-C95", "D68.0"] into [("C91", "C95"), ("D68.0", "D68.0")].

    Raises ValueError naming the first item that is not a code or an ascending range.
    """
    if isinstance(items, str) or not isinstance(items, Iterable):
        raise ValueError(_("Give a list of ICD-10 codes or ranges."))
    parsed = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(format_lazy(_("Not an ICD-10 code or range: {item}"), item=item))
        low, _dash, high = normalize_icd(item).replace("–", "-").partition("-")
        if _dash and not high:
            raise ValueError(format_lazy(_("Not an ICD-10 code or range: {item}"), item=item))
        high = high or low
        if not (_ICD_RE.match(low) and _ICD_RE.match(high)) or low > high:
            raise ValueError(format_lazy(_("Not an ICD-10 code or range: {item}"), item=item))
        parsed.append((low, high))
    return parsed


def code_within(code: str, low: str, high: str) -> bool:
    # A code matches a range when its 3-character category lies in it; a dotted bound
    # matches itself and its sub-codes, nothing broader (demo-directory.yaml header).
    # "C91" <= "C92.0" and "C92.0" <= "C95" compare as strings because the codes share
    # one shape; "C95.1" is a sub-code of the upper bound "C95". A bare category is
    # broader than a dotted upper bound of its own: "D68" is not within "D66-D68.0".
    if code < low:
        return False
    if "." in high and "." not in code and code == high[:3]:
        return False
    return code <= high or code.startswith(high if "." in high else high + ".")


def icd_matches(code: str, items: Iterable[str]) -> bool:
    code = normalize_icd(code)
    return any(code_within(code, low, high) for low, high in parse_icd_items(items))
