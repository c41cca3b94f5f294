"""Money in yuan, as the whole project writes it (standard.md §3, §4): Decimal, two places,
never float; and the funding gap's arithmetic, written once.

The reads that feed the arithmetic (an application's coverage, its other aid, the members'
pledges) are in cases.funding; organizations.eligibility applies the same arithmetic to the
figures of an applicant.
"""

from decimal import Decimal

ZERO = Decimal("0")
# The digits of one amount (a cost, a pledge, a payment) and of a sum of many.
MONEY = {"max_digits": 12, "decimal_places": 2}
TOTAL = {"max_digits": 14, "decimal_places": 2}
# A form's or a body's amount: never below zero.
AMOUNT = {**MONEY, "min_value": ZERO}
# A sum as the reports print it, with its two places even when nothing was paid.
ZERO_YUAN = Decimal("0.00")


def yuan(amount) -> str:
    """An amount as people read it, one way everywhere (issue 16): thousands separators,
    and fen only when there are any, "95,000" and "1,234.50" (GOV.UK writes pounds so).
    Pages (the `yuan` filter), the services' messages, the history's notes and the
    reports' tables all write money through this; CSV and XLSX files keep plain numbers
    for the machines that read them. The unit (元 / yuan) stays with the words around."""
    amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.2f}"


def need(*, estimated_cost, coverage, other_aid) -> Decimal:
    """What the family still has to find: the estimate less insurance and other aid (§3)."""
    return max((estimated_cost or ZERO) - (coverage or ZERO) - (other_aid or ZERO), ZERO)


def funding_gap(*, need: Decimal, pledged) -> Decimal:
    """The need less every member's pledge (§3): what one more pledge may at most be."""
    return max(need - (pledged or ZERO), ZERO)
