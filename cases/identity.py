"""China's 18-character resident identity number (居民身份证号码, GB 11643-1999).

Layout: 6-digit region code of the first registration, 8-digit date of birth (YYYYMMDD),
3-digit sequence (odd = male, even = female) and a check character (ISO 7064 MOD 11-2).

The region code is deliberately NOT checked against the current list of administrative
divisions: a number keeps the code of the place where it was issued, and many of those
codes have since been abolished or merged (e.g. 110103, Beijing's former Chongwen district).
That is also why python-stdnum's ``cn.ric`` is not used: its birthplace check rejects real people.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MALE = "male"
FEMALE = "female"
EARLIEST_BIRTH_YEAR = 1900
# The numbers masked wherever they are shown, by section form field name (§5 least
# privilege): the child's and the guardians' ID numbers and the bank account.
ID_FIELDS = frozenset({"id_number", "g1_id_number", "g2_id_number"})
ACCOUNT_FIELDS = frozenset({"account_number"})
MASKED_FIELDS = ID_FIELDS | ACCOUNT_FIELDS

_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"


@dataclass(frozen=True)
class ResidentId:
    number: str  # normalised: 17 digits and a final digit or "X"
    region_code: str  # first six digits, as issued; may no longer be a current code
    birth_date: date
    sex: str  # "male" | "female"


def normalize_resident_id(text: str) -> str:
    """Remove all whitespace, fold full-width characters (NFKC) and upper-case a final x."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def parse_resident_id(text: str, *, today: date | None = None) -> ResidentId:
    """Parse and check an identity number; raise ValidationError with one clear message."""
    number = normalize_resident_id(text)
    if not _SHAPE.fullmatch(number):
        raise ValidationError(
            _("An identity number must be 18 characters: 17 digits and a final digit or X."),
            code="id_format",
        )
    digits = number[6:14]
    try:
        birth_date = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise ValidationError(
            _("The date of birth in this identity number (%(digits)s) does not exist."),
            code="id_birth_date_invalid",
            params={"digits": digits},
        ) from None
    if birth_date.year < EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            _("The date of birth in this identity number is before 1900."),
            code="id_birth_date_too_early",
        )
    if birth_date > (today or timezone.localdate()):
        raise ValidationError(
            _("The date of birth in this identity number is in the future."),
            code="id_birth_date_future",
        )
    if number[17] != check_character(number[:17]):
        raise ValidationError(
            _("This identity number has a typo: please check each digit against the card."),
            code="id_checksum",
        )
    return ResidentId(
        number=number,
        region_code=number[:6],
        birth_date=birth_date,
        sex=MALE if int(number[16]) % 2 else FEMALE,
    )


def check_matches(
    resident: ResidentId, *, sex: str | None, birth_date: date | None
) -> dict[str, str]:
    """Field-keyed messages where the entered sex or date of birth disagrees with the number.

    A value of None (or "") is not compared. Returns an empty dict when everything agrees.
    """
    if sex not in (None, "", MALE, FEMALE):
        raise ValueError(f"sex must be {MALE!r}, {FEMALE!r} or None, not {sex!r}")
    errors: dict[str, str] = {}
    if sex and sex != resident.sex:
        if resident.sex == MALE:
            errors["sex"] = str(_("This does not match the identity number, which is for a male."))
        else:
            errors["sex"] = str(
                _("This does not match the identity number, which is for a female.")
            )
    if birth_date is not None and birth_date != resident.birth_date:
        errors["birth_date"] = _(
            "This does not match the identity number, which gives the date of birth %(date)s."
        ) % {"date": resident.birth_date.isoformat()}
    return errors


def mask_id_number(text: str) -> str:
    """Mask an identity document number for display.

    A resident identity number keeps its first 6 and last 4 characters
    ("110105********123X"); any other document keeps only its last 4, and a number
    too short to hide at least 4 characters is masked completely.
    """
    number = normalize_resident_id(text)
    if _SHAPE.fullmatch(number):
        return number[:6] + "*" * 8 + number[-4:]
    if len(number) < 8:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]
