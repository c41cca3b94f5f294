"""The report's figures as tables: what the dashboard, the PDF, the CSV and the XLSX show.

Every rendering walks the same list of tables, so a number can only differ between them in
its formatting: cells hold ints, Decimals (money to 0.01 yuan, days to 0.1) or None, and
`display` / `plain` turn them into text for pages and for CSV.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from aid_alliance import money
from reports.selectors import Figures, Line


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list]


def is_number(value) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def is_money(value) -> bool:
    """Money is kept to the fen (two places); days to 0.1, counts whole."""
    return isinstance(value, Decimal) and value.as_tuple().exponent == -2


def display(value) -> str:
    """A cell on a page or in the PDF: thousands separated, money as every page writes it
    (aid_alliance.money.yuan: "95,000", "1,234.50"), '—' for none."""
    if value is None:
        return "—"
    if is_money(value):
        return money.yuan(value)
    if is_number(value):
        return f"{value:,}"
    return str(value)


def plain(value) -> str:
    """A cell in CSV: digits and a decimal point only, empty for none. The files are read
    by machines (spreadsheets, the authorities' systems): no thousands separators, the
    fen always written ("95000.00"), whatever the pages show."""
    return "" if value is None else str(value)


def definitions() -> list[tuple[str, str]]:
    """What each figure means (reports/selectors.py), printed with the report; the terms
    are the summary's own labels."""
    return [
        (
            _("Period"),
            _(
                "Applications submitted in the period, by the local date of submission in "
                "China; drafts are not counted."
            ),
        ),
        (
            _("Applications routed to the members"),
            _("Applications sent to the member organisations for review."),
        ),
        (
            _("Applications funded"),
            _(
                "Applications with at least one pledge: a member review approved, being paid "
                "or paid (in-kind and service help included)."
            ),
        ),
        (
            _("Member reviews declined"),
            _("Member reviews declined, one per member, by the reason given."),
        ),
        (_("Children aided"), _("Distinct children with at least one pledge.")),
        (_("Pledged (yuan)"), _("The amounts of those pledges, in yuan.")),
        (
            _("Paid (yuan)"),
            _(
                "What was paid out against those pledges up to the time of this report, net "
                "of reversals."
            ),
        ),
        (
            _("Median days"),
            _(
                "From submission to the first decision of any member; and from the date of "
                "submission to the first payment (reversed payments not counted)."
            ),
        ),
    ]


def _summary(f: Figures) -> Table:
    rows = [
        [_("Applications received"), f.received],
        [_("Applications routed to the members"), f.routed],
        [_("Applications funded"), f.funded],
        [_("Pledges (member reviews)"), f.pledges],
        [_("Member reviews declined"), f.declined],
        [_("Children aided"), f.children],
        [_("Pledged (yuan)"), f.pledged],
        [_("Paid (yuan)"), f.paid],
        [_("Median days from submission to first decision"), f.decision_days],
        [_("Applications with a decision"), f.decision_count],
        [_("Median days from submission to payment"), f.payment_days],
        [_("Applications with a payment"), f.payment_count],
    ]
    return Table("summary", _("Summary"), [_("Figure"), _("Value")], rows)


def _money_columns(line: Line) -> list:
    return [line.children, line.pledged, line.paid]


def report_tables(f: Figures) -> list[Table]:
    money_headers = [_("Children aided"), _("Pledged (yuan)"), _("Paid (yuan)")]
    return [
        _summary(f),
        Table(
            "members",
            _("By member organisation"),
            [
                _("Member"),
                _("Applications entered"),
                _("Reviews routed"),
                _("Pledges"),
                _("Declined"),
                *money_headers,
            ],
            [
                [m.label, m.received, m.routed, m.pledges, m.declined, *_money_columns(m)]
                for m in f.by_member
            ],
        ),
        Table(
            "projects",
            _("By aid project"),
            [_("Code"), _("Project"), _("Member"), _("Pledges"), *money_headers],
            [[p.key, p.label, p.note, p.pledges, *_money_columns(p)] for p in f.by_project],
        ),
        Table(
            "categories",
            _("By disease category"),
            [_("Disease category"), _("Received"), _("Funded"), *money_headers],
            [[c.label, c.received, c.funded, *_money_columns(c)] for c in f.by_category],
        ),
        Table(
            "provinces",
            _("By province of household registration"),
            [_("Province"), _("Received"), _("Funded"), *money_headers],
            [[p.label, p.received, p.funded, *_money_columns(p)] for p in f.by_province],
        ),
        Table(
            "declined",
            _("Declined, by reason"),
            [_("Reason"), _("Member reviews")],
            [[r.label, r.declined] for r in f.by_decline_reason],
        ),
        Table(
            "trend",
            _("Monthly trend (12 months to the end of the period)"),
            [_("Month"), _("Received"), _("Funded"), _("Pledged (yuan)")],
            [[t.label, t.received, t.funded, t.pledged] for t in f.trend],
        ),
    ]
