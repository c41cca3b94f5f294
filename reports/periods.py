"""Report periods: a month (2026-11), a quarter (2026-Q4) or a year (2026).

A period is a range of local dates in China (Asia/Shanghai), whatever TIME_ZONE says: an
application belongs to the period in which it was submitted, by its local submission date
(standard.md §6), so one submitted at 23:30 on 30 September in Beijing is in Q3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

CHINA = ZoneInfo("Asia/Shanghai")
FIRST_YEAR, LAST_YEAR = 2000, 2099

_YEAR = re.compile(r"(\d{4})")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_QUARTER = re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    kind: str  # "month", "quarter" or "year"
    year: int
    number: int = 0  # the month (1-12) or the quarter (1-4); 0 for a year

    @property
    def code(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        return str(self.year)

    @property
    def first_day(self) -> date:
        if self.kind == "month":
            return date(self.year, self.number, 1)
        if self.kind == "quarter":
            return date(self.year, 3 * self.number - 2, 1)
        return date(self.year, 1, 1)

    @property
    def end_day(self) -> date:
        """The first day after the period."""
        months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
        return add_months(self.first_day, months)

    @property
    def is_long(self) -> bool:
        """Longer than a month: its heavy files are made in the background (reports/tasks.py)."""
        return self.kind != "month"

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes at local midnight in China."""
        return local_midnight(self.first_day), local_midnight(self.end_day)

    def label(self) -> str:
        if self.kind == "month":
            return _("%(year)s, month %(month)s") % {"year": self.year, "month": self.number}
        if self.kind == "quarter":
            return _("%(year)s, quarter %(quarter)s") % {
                "year": self.year,
                "quarter": self.number,
            }
        return _("Year %(year)s") % {"year": self.year}

    def __str__(self) -> str:
        return self.code


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA)


def parse_period(text: str) -> Period:
    """The period written as 2026-11, 2026-Q4 (or 2026Q4, 2026-q4) or 2026."""
    value = (text or "").strip()
    if match := _YEAR.fullmatch(value):
        period = Period("year", int(match[1]))
    elif match := _QUARTER.fullmatch(value):
        period = Period("quarter", int(match[1]), int(match[2]))
    elif (match := _MONTH.fullmatch(value)) and 1 <= int(match[2]) <= 12:
        period = Period("month", int(match[1]), int(match[2]))
    else:
        raise PeriodError(
            _("Write the period as a month (2026-11), a quarter (2026-Q4) or a year (2026).")
        )
    if not FIRST_YEAR <= period.year <= LAST_YEAR:
        raise PeriodError(
            _("Choose a year from %(first)s to %(last)s.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )
    return period


def current_quarter(today: date) -> Period:
    return Period("quarter", today.year, (today.month - 1) // 3 + 1)
