"""The alliance report's figures for a period (standard.md §6): one selector, one result.

The dashboard, the PDF, the CSV and the XLSX all render `report_figures(period)`, so they
cannot disagree. What each figure means (the PDF prints the same definitions):

- The period's applications are those *submitted* in it (local date in China, see
  reports/periods.py), whatever became of them since; drafts are not counted.
- received: those applications. routed: those with member reviews (routing happens on
  submission). funded: those with at least one pledge. A pledge is a member review in
  `approved`, `paying` or `paid` (an in-kind or service pledge counts, with no amount).
- declined: member reviews of those applications declined, by reason (one per member).
- children aided: distinct children with at least one pledge on those applications.
- pledged: the amounts of those pledges; paid: what was paid out against them, net of
  reversals, up to the moment the report is made (cases.bills.services keeps `paid_total`).
- median days to first decision: from submission to the earliest `decided_at` of the
  application's reviews, over applications with a decision. To payment: from the local
  submission date to the earliest payment date of the application, counting payments that
  are neither reversals nor reversed, over applications with a payment.
- monthly trend: received, funded and pledged per month of submission, over the 12 months
  that end with the period.

How, at 100,000 applications and 700,000 member reviews: four queries, whatever the
number of rows, each reading a table once (a member review row is wide: it carries the
eligibility snapshot, so every pass over the reviews costs about a second; see
scripts/bench_reports.py). Periods are whole months and lie inside the trend's 12 months,
so the applications and the pledges are read once for the trend's months and the period's
figures are the sum of its months:

1. applications, grouped by month, member, disease category and province (GROUP BY);
2. the period's member reviews, grouped by member, state and decline reason (GROUP BY);
3. the pledges, one row each with its child (the children aided are distinct children by
   member, project, category and province: distinct counts do not add up across groups);
4. the first decision and the first payment of each application, for the medians: a
   median cannot be computed by SQLite, and computing it here from whole numbers gives
   SQLite and PostgreSQL the same answer to the second.

Those four reads come from the live tables, or, once `manage.py rebuild_report_aggregates`
has built them, from the kept aggregates: the same figures grouped by month in narrow tables
that the services keep exact in their own transactions, read in the same shapes
(reports/aggregates.py). Either way the directory is read first (three queries), its first
query also saying which source to read.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aid_alliance.compiled_reads import CompiledRead
from aid_alliance.money import ZERO_YUAN
from aid_alliance.routing import reads_from_replica
from cases.models import MemberReview
from organizations import regions
from organizations.models import AidProject, DiseaseCategory, MemberOrganization
from reports import aggregates, figures_cache
from reports.models import ReportRun
from reports.periods import CHINA, Period, add_months, local_midnight

PLEDGING = aggregates.PLEDGING
DECLINED = MemberReview.State.DECLINED
TREND_MONTHS = 12
MICROSECOND = timedelta(microseconds=1)
MICROSECONDS_PER_DAY = 86_400_000_000


@dataclass
class Line:
    """One row of a breakdown; a figure that does not apply to the breakdown is None."""

    key: str
    label: str
    received: int | None = None
    routed: int | None = None
    funded: int | None = None
    pledges: int | None = None
    declined: int | None = None
    children: int | None = None
    pledged: Decimal | None = None
    paid: Decimal | None = None
    note: str = ""  # a project's member


@dataclass
class Figures:
    period: Period
    generated_at: datetime
    received: int = 0
    routed: int = 0
    funded: int = 0
    pledges: int = 0
    declined: int = 0
    children: int = 0
    pledged: Decimal = ZERO_YUAN
    paid: Decimal = ZERO_YUAN
    decision_days: Decimal | None = None
    decision_count: int = 0
    payment_days: Decimal | None = None
    payment_count: int = 0
    by_member: list[Line] = field(default_factory=list)
    by_project: list[Line] = field(default_factory=list)
    by_category: list[Line] = field(default_factory=list)
    by_province: list[Line] = field(default_factory=list)
    by_decline_reason: list[Line] = field(default_factory=list)
    trend: list[Line] = field(default_factory=list)


class _Tally:
    """Counts and sums of one row of a breakdown while the rows are read."""

    def __init__(self):
        self.received = self.routed = self.funded = self.pledges = self.declined = 0
        self.pledged = self.paid = ZERO_YUAN
        self.children: set[int] = set()
        self.children_counted: int | None = None  # by the database (_read_kept)

    def child_count(self) -> int:
        return len(self.children) if self.children_counted is None else self.children_counted

    def line(self, key, label, *, note: str = "", applications: bool, reviews: bool) -> Line:
        return Line(
            key=key,
            label=label,
            note=note,
            received=self.received if applications else None,
            routed=self.routed if reviews else None,
            funded=self.funded if applications else None,
            pledges=self.pledges if reviews else None,
            declined=self.declined if reviews else None,
            children=self.child_count(),
            pledged=_money(self.pledged),
            paid=_money(self.paid),
        )


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def _name(obj) -> str:
    return obj.name_en if _english() else obj.name_zh


def _money(value) -> Decimal:
    return (value or ZERO_YUAN).quantize(Decimal("0.01"))


_submitted_in = aggregates.submitted_in


def _month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


@reads_from_replica
def report_figures(period: Period, *, now: datetime | None = None) -> Figures:
    """The figures from the kept aggregates once they are built (reports/aggregates.py),
    else from the live tables: the same numbers either way (tests/test_report_aggregates.py).
    """
    directory = _directory()
    source = aggregates.KEPT if directory.aggregates_kept else aggregates.LIVE
    return _figures(period, directory, source, now=now)


def cached_report_figures(period: Period) -> Figures:
    """report_figures, cached for the current generation of the figures and the active
    language (reports.figures_cache: a change through the services counts from the next
    call). The cache is read on the primary, the figures on the replica."""
    figures = figures_cache.cached("figures", (period.code,), lambda: report_figures(period))
    return dataclasses.replace(figures, generated_at=timezone.now())


@reads_from_replica
def live_report_figures(period: Period, *, now: datetime | None = None) -> Figures:
    """The figures from the live tables, whatever the aggregates (the tests' reference)."""
    return _figures(period, _directory(), aggregates.LIVE, now=now)


@dataclass
class _Directory:
    members: list
    projects: list
    categories: list
    aggregates_kept: bool


def _directory() -> _Directory:
    """The directory's members, projects and categories (three queries); the members' query
    also says whether the aggregates are kept, so that choosing the source costs no query
    of its own (the dashboard's query count is pinned)."""
    members = list(
        MemberOrganization.objects.annotate(aggregates_kept=aggregates.kept_expression()).order_by(
            "number"
        )
    )
    return _Directory(
        members=members,
        projects=list(AidProject.objects.select_related("member").order_by("code")),
        categories=list(DiseaseCategory.objects.order_by("sort_order", "code")),
        aggregates_kept=bool(members) and members[0].aggregates_kept,
    )


def _figures(period: Period, directory: _Directory, source, *, now) -> Figures:
    figures = Figures(period=period, generated_at=now or timezone.now())
    first_month = add_months(period.end_day, -TREND_MONTHS)
    window = (local_midnight(first_month), local_midnight(period.end_day))
    months = [add_months(first_month, n) for n in range(TREND_MONTHS)]
    in_period = {m for m in months if period.first_day <= m < period.end_day}
    tallies: dict[str, dict] = {
        name: defaultdict(_Tally) for name in ("member", "project", "category", "province")
    }
    total, trend = _Tally(), defaultdict(_Tally)

    if source is aggregates.KEPT:
        medians = _read_kept(period, window, total, tallies, trend)
    else:
        _read_applications(source.application_rows(window), in_period, total, tallies, trend)
        _read_pledges(source.pledge_rows(window), in_period, total, tallies, trend)
        medians = _medians(source.timing_rows(period.bounds()))
    _read_reviews(source.review_rows(period.bounds()), total, tallies, figures)

    for name in ("received", "routed", "funded", "pledges", "declined"):
        setattr(figures, name, getattr(total, name))
    figures.children = total.child_count()
    figures.pledged, figures.paid = _money(total.pledged), _money(total.paid)
    (
        figures.decision_days,
        figures.decision_count,
        figures.payment_days,
        figures.payment_count,
    ) = medians
    _lines(figures, tallies, directory)
    figures.trend = [
        _Tally.line(trend[m], f"{m:%Y-%m}", f"{m:%Y-%m}", applications=True, reviews=False)
        for m in months
    ]
    for line in figures.trend:
        line.children = line.paid = None  # the trend shows received, funded and pledged
    return figures


def _read_applications(rows, in_period, total, tallies, trend) -> None:
    """Query 1: received, routed and funded applications by month, member, category and
    the child's province (of household registration, A07, as the child's record has it)."""
    for row in rows:
        month = _month(row["month"])
        trend[month].received += row["received"]
        trend[month].funded += row["funded"]
        if month not in in_period:
            continue
        total.received += row["received"]
        total.routed += row["routed"]
        total.funded += row["funded"]
        tallies["member"][row["member_id"]].received += row["received"]
        for name, key in (("category", row["category_id"]), ("province", row["region"] or "")):
            tallies[name][key].received += row["received"]
            tallies[name][key].funded += row["funded"]


# The breakdowns of aggregates.KEPT.grouped_rows, with how their keys read back.
_KEPT_KEYS = {
    "member": int,
    "category": lambda key: int(key) or None,
    "province": str,
    "project": int,
}


def _read_kept(period, window, total, tallies, trend) -> tuple:
    """Queries 1, 3 and 4 from the kept aggregates, added up by the database: a row per
    month of the trend and per member, project, category and province of the period,
    then the medians' middle values (reports.aggregates._Kept)."""
    decisions = payments = 0
    rows = aggregates.KEPT.grouped_rows(period.bounds(), window)
    for kind, key, received, routed, funded, pledges, pledged, paid, children in rows:
        if kind == "timings":
            decisions, payments = received, routed
            continue
        if kind == "trend":
            trend[_month(int(key))].received += received
            trend[_month(int(key))].funded += funded
            continue
        if kind == "trend-pledges":
            trend[_month(int(key))].pledged += pledged or ZERO_YUAN
            continue
        name, _dash, of = kind.partition("-")
        tally = total if name == "total" else tallies[name][_KEPT_KEYS[name](key)]
        if not of:
            tally.received += received
            tally.funded += funded
            if name == "member":
                total.received += received
                total.routed += routed
                total.funded += funded
            continue
        tally.pledges += pledges or 0
        tally.pledged += pledged or ZERO_YUAN
        tally.paid += paid or ZERO_YUAN
        tally.children_counted = children or 0
    to_decision, to_payment = aggregates.KEPT.middles(period.bounds(), decisions, payments)
    return (
        _median(to_decision, unit=MICROSECONDS_PER_DAY) if decisions else None,
        decisions,
        _median(to_payment) if payments else None,
        payments,
    )


def _read_reviews(rows, total, tallies, figures) -> None:
    """Query 2: the period's member reviews by member, state and decline reason."""
    reasons: dict[str, int] = defaultdict(int)
    for row in rows:
        member = tallies["member"][row["member_id"]]
        member.routed += row["n"]
        if row["state"] == DECLINED:
            member.declined += row["n"]
            total.declined += row["n"]
            reasons[row["decline_reason"]] += row["n"]
    figures.by_decline_reason = [
        Line(key=reason.value, label=str(reason.label), declined=reasons.pop(reason.value, 0))
        for reason in MemberReview.DeclineReason
    ]
    if reasons:  # a reason no longer offered, or none recorded
        figures.by_decline_reason.append(
            Line(key="", label=_("Not given"), declined=sum(reasons.values()))
        )


def _read_pledges(rows, in_period, total, tallies, trend) -> None:
    """Query 3: the pledges of the trend's months, with their children (one row per pledge
    from the live tables, one per group of pledges of a child from the aggregates)."""
    for month, member, project, category, region, child, amount, paid, count in rows:
        month = _month(month)
        trend[month].pledged += amount or ZERO_YUAN
        if month not in in_period:
            continue
        groups = [total, tallies["member"][member], tallies["category"][category]]
        groups.append(tallies["province"][region or ""])
        if project is not None:
            groups.append(tallies["project"][project])
        for tally in groups:
            tally.pledges += count
            tally.pledged += amount or ZERO_YUAN
            tally.paid += paid or ZERO_YUAN
            tally.children.add(child)


def _lines(figures: Figures, tallies: dict, directory: _Directory) -> None:
    """The breakdowns in the directory's order (every member, project and category, with
    zeros), provinces by applications received."""
    member, project = tallies["member"], tallies["project"]
    figures.by_member = [
        member[m.pk].line(m.short_name, _name(m), applications=True, reviews=True)
        for m in directory.members
    ]
    for line in figures.by_member:
        line.funded = None  # a member pledges; applications are funded by the alliance
    figures.by_project = [
        project[p.pk].line(p.code, _name(p), note=_name(p.member), applications=False, reviews=True)
        for p in directory.projects
    ]
    for line in figures.by_project:
        line.routed = line.declined = None
    category = tallies["category"]
    categories = directory.categories
    keys = [c.pk for c in categories] + ([None] if None in category else [])
    names = {c.pk: (c.code, _name(c)) for c in categories}
    figures.by_category = [
        category[k].line(*names.get(k, ("", _("Not given"))), applications=True, reviews=False)
        for k in keys
    ]
    province = tallies["province"]
    codes = sorted(province, key=lambda code: (-province[code].received, code or "99"))
    figures.by_province = [
        province[c].line(
            c, regions.name_of(c) if c else _("Not given"), applications=True, reviews=False
        )
        for c in codes
    ]
    for line in figures.by_category + figures.by_province:
        line.pledges = None


def _median(values: list[int], *, unit: int = 1) -> Decimal | None:
    """The median of whole numbers divided by `unit`, rounded half up to 0.1. Exact
    arithmetic throughout, so SQLite and PostgreSQL give the same answer."""
    if not values:
        return None
    middle = Decimal(statistics.median(values)) / unit
    return middle.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _medians(rows) -> tuple[Decimal | None, int, Decimal | None, int]:
    """Query 4: each application's submission, first decision and first payment."""
    to_decision, to_payment = [], []
    for submitted, decided, paid in rows:
        if decided is not None:
            to_decision.append((decided - submitted) // MICROSECOND)
        if paid is not None:
            to_payment.append((paid - timezone.localtime(submitted, CHINA).date()).days)
    return (
        _median(to_decision, unit=MICROSECONDS_PER_DAY),
        len(to_decision),
        _median(to_payment),
        len(to_payment),
    )


# --- the report to authorities: one row per aided child ---------------------------------


@dataclass
class AidedChild:
    child_id: int
    name: str
    sex: str
    dob: date | None
    id_type: str
    id_number: str
    region_code: str
    references: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    icd_codes: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    application_ids: list[int] = field(default_factory=list)
    pledged: Decimal = ZERO_YUAN
    paid: Decimal = ZERO_YUAN
    submitted: date | None = None
    first_approved: date | None = None


def _pledges_in(period: Period):
    start, end = period.bounds()
    return MemberReview.objects.filter(PLEDGING, _submitted_in(start, end, "application__"))


@reads_from_replica
def aided_children_count(period: Period) -> int:
    """The number of rows `aided_children` yields: the report's "children aided"."""
    return _pledges_in(period).aggregate(n=Count("application__child__identity", distinct=True))[
        "n"
    ]


@reads_from_replica
def aided_application_ids(period: Period) -> list[int]:
    """The applications behind the rows, for the access record of an export (§5)."""
    return list(_pledges_in(period).order_by().values_list("application_id", flat=True).distinct())


_AIDED_FIELDS = (
    "application__child__identity_id",
    "application_id",
    "application__reference",
    "application__submitted_at",
    "application__child__name",
    "application__child__sex",
    "application__child__dob",
    "application__child__id_type",
    "application__child__id_number",
    "application__child__household_region",
    "application__category__name_zh",
    "application__icd",
    "member__name_zh",
    "project__name_zh",
    "amount",
    "paid_total",
    "decided_at",
)


def _add(values: list, value) -> None:
    if value and value not in values:
        values.append(value)


@reads_from_replica
def aided_children(period: Period):
    """The aided children of the period, one AidedChild each, streamed from the database.

    Children of the period are those of `report_figures` (a pledge on an application
    submitted in the period); a child with several pledges or applications is one row with
    the amounts added up. Read with iterator(): memory stays flat for a year of rows.
    """
    rows = (
        _pledges_in(period)
        .order_by(
            "application__child__identity_id", "application__submitted_at", "member__number", "pk"
        )
        .values_list(*_AIDED_FIELDS)
        .iterator(chunk_size=2000)
    )
    current: AidedChild | None = None
    for row in rows:
        (child_id, application_id, reference, submitted, name, sex, dob, id_type, id_number) = row[
            :9
        ]
        region, category, icd, member, project, amount, paid, decided = row[9:]
        if current is None or current.child_id != child_id:
            if current is not None:
                yield current
            current = AidedChild(child_id, name, sex, dob, id_type, id_number, region)
            current.submitted = timezone.localtime(submitted, CHINA).date()
        _add(current.references, reference)
        _add(current.categories, category)
        _add(current.icd_codes, icd)
        _add(current.members, member)
        _add(current.projects, project)
        _add(current.application_ids, application_id)
        current.pledged += amount or ZERO_YUAN
        current.paid += paid or ZERO_YUAN
        if decided is not None:
            approved = timezone.localtime(decided, CHINA).date()
            if current.first_approved is None or approved < current.first_approved:
                current.first_approved = approved
    if current is not None:
        yield current


RECENT_RUNS = 5
# The dashboard's "your recent files" (issue 18): the SQL compiled once per process, the
# rows read afresh on every request as light instances of what the list shows.
_RECENT_FIELDS = ("pk", "kind", "period", "format", "status", "created_at")
_RECENT_READ = CompiledRead(
    ReportRun,
    lambda user_id: (
        ReportRun.objects.filter(requested_by=user_id)
        .order_by("-created_at", "-pk")
        .values_list(*_RECENT_FIELDS)[:RECENT_RUNS]
    ),
)


def recent_runs(user) -> list[ReportRun]:
    """The user's latest RECENT_RUNS report files, newest first (the fields the list shows)."""
    return [
        ReportRun(**dict(zip(_RECENT_FIELDS, row, strict=True)))
        for row in _RECENT_READ.rows(user.pk)
    ]
