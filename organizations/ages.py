"""Dates and ages as the eligibility rules count them (standard.md §1: age limits)."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from aid_alliance.money import ZERO


def add_months(start: date, months: int) -> date:
    """The same day `months` later; the 29th–31st fall back to a shorter month's last day."""
    year, month_index = divmod(start.month - 1 + months, 12)
    year += start.year
    month = month_index + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def birthday(dob: date, years: int) -> date:
    """The `years`-th birthday (29 February falls on 28 February in common years)."""
    return add_months(dob, 12 * years)


def eligible_from(dob: date, min_years: Decimal) -> date:
    """The first day of eligibility: the fraction of a year counts months (0.5 = 6 months)."""
    months = int((Decimal(min_years) * 12).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return add_months(dob, months)


def age_in_years(dob: date, on: date) -> Decimal:
    """Completed years plus the fraction of the current year, to one decimal, rounded down."""
    years = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    if years < 0:
        return ZERO
    last = birthday(dob, years)
    nxt = birthday(dob, years + 1)
    fraction = Decimal((on - last).days) / Decimal((nxt - last).days)
    return (Decimal(years) + fraction).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
