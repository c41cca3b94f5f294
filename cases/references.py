"""Case reference numbers that a family can read over the phone, e.g. ``DB-2026-7K3M9Q``.

Layout: the prefix "DB", the year, then 5 random characters and 1 check character, all from
Crockford's base32 alphabet (no I, L, O or U, so nothing is confused with 1 or 0).

The check character is Luhn mod N (N = 32) over the year digits and the 5 random characters,
so a reference copied into the wrong year fails as well. Luhn mod N catches every
single-character error. It catches every swap of two adjacent different characters except one:
"0" and "Z" (the values 0 and N-1) swapped leave the sum unchanged. ``new_reference`` therefore
never issues a reference in which "0" and "Z" stand next to each other, so every adjacent swap
in an issued reference is caught.
"""

import re
import secrets
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "DB"
RANDOM_LENGTH = 5

_N = len(ALPHABET)
_VALUES = {character: value for value, character in enumerate(ALPHABET)}
_SHAPE = re.compile(rf"{PREFIX}([0-9]{{4}})([{ALPHABET}]{{{RANDOM_LENGTH + 1}}})")
# What people type for characters that are not in the alphabet.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Dashes and spaces are only separators; the reference is shaped from what remains.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


def _luhn_sum(payload: str, *, factor: int) -> int:
    """Luhn mod N sum from the rightmost character, starting with ``factor``."""
    total = 0
    for character in reversed(payload):
        addend = factor * _VALUES[character]
        total += addend // _N + addend % _N
        factor = 3 - factor  # 2, 1, 2, 1, ...
    return total


def check_character(payload: str) -> str:
    """The Luhn mod N check character for the year digits + random characters."""
    return ALPHABET[-_luhn_sum(payload, factor=2) % _N]


def _has_blind_spot(payload: str) -> bool:
    """Whether "0" and "Z" stand next to each other (Luhn mod N misses their swap)."""
    return "0Z" in payload or "Z0" in payload


def new_reference(year: int) -> str:
    """A new random (non-sequential) reference for ``year``, e.g. "DB-2026-7K3M9Q"."""
    if not 1000 <= year <= 9999:
        raise ValueError(f"year must have four digits, not {year!r}")
    while True:
        random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
        payload = f"{year}{random_part}"
        payload += check_character(payload)
        if not _has_blind_spot(payload):
            return f"{PREFIX}-{year}-{payload[4:]}"


def normalize_reference(text: str) -> str:
    """The reference in its canonical form "DB-YYYY-XXXXXX", or "" when it cannot be shaped.

    Accepts lower case, full-width characters, spaces, missing or extra dashes and the
    look-alikes O (for 0) and I or L (for 1). The check character is not verified here.
    """
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())
    match = _SHAPE.fullmatch(compact.translate(_LOOKALIKES))
    if not match:
        return ""
    return f"{PREFIX}-{match[1]}-{match[2]}"


def is_valid_reference(text: str) -> bool:
    """Whether ``text`` (in any form ``normalize_reference`` accepts) is a well-formed reference."""
    reference = normalize_reference(text)
    if not reference:
        return False
    payload = reference[len(PREFIX) + 1 :].replace("-", "")
    return _luhn_sum(payload, factor=1) % _N == 0
