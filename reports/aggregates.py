"""Where the alliance report's figures are read from: the live tables, or the kept aggregates.

The live reads (LIVE) go over the applications, their member reviews and payments each time:
about a minute for a year at a million applications, most of it passes over the wide
member review rows. The kept aggregates (KEPT) are the same GROUP BYs done once, over every
month, into narrow tables (reports.models: ApplicationFigure, ReviewFigure, PledgeFigure,
ApplicationTiming), so a report reads a few thousand small rows instead.

`rebuild()` (`manage.py rebuild_report_aggregates`, from cron) empties the tables and fills
them with set-based INSERT … SELECT … GROUP BY statements, the SELECTs being the live reads'
own querysets, so the two can only differ by what changed since the rebuild. Freshness: the
rebuild records the newest id of every table whose rows change the figures (applications,
member reviews, application events, review events, payments; each submission, decision,
payment, reversal, link of a child and anonymisation writes at least one of them), read in
its own snapshot. While those ids are still the newest, nothing has changed and the
aggregates are used; after any change the report reads the live tables until the next
rebuild. Checking costs five index look-ups (the newest id of each table), folded into a
query the report makes anyway (reports.selectors._directory).

One gap is known: a transaction that got its id before the rebuild's snapshot and commits
after it, while another with a newer id committed before, is not seen until the next
change of those tables. The next change of any of them makes the aggregates stale again.
"""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear, Substr
from django.utils import timezone

from cases.models import Application, ApplicationEvent, MemberReview, Payment, ReviewEvent
from reports.models import (
    AggregateStamp,
    ApplicationFigure,
    ApplicationTiming,
    PledgeFigure,
    ReviewFigure,
)
from reports.periods import CHINA

PLEDGING = Q(state__in=MemberReview.PLEDGING_STATES)
MONEY = DecimalField(max_digits=16, decimal_places=2)
# The tables whose newest id says whether anything the figures count has changed.
WATCHED = {
    "last_application": Application,
    "last_review": MemberReview,
    "last_application_event": ApplicationEvent,
    "last_review_event": ReviewEvent,
    "last_payment": Payment,
}


def submitted_in(start: datetime, end: datetime, prefix: str = "") -> Q:
    return Q(**{f"{prefix}submitted_at__gte": start, f"{prefix}submitted_at__lt": end})


def month_index(prefix: str = ""):
    """The local month of submission as one number, year * 12 + month - 1: a number, not a
    datetime, so that tens of thousands of rows need no time-zone conversion here."""
    moment = f"{prefix}submitted_at"
    return ExtractYear(moment, tzinfo=CHINA) * 12 + ExtractMonth(moment, tzinfo=CHINA) - 1


def month_of(moment: datetime) -> int:
    local = timezone.localtime(moment, CHINA)
    return local.year * 12 + local.month - 1


# --- the SELECTs, shared by the live reads and the rebuild -------------------------------


def _applications_by_group(applications):
    reviews = MemberReview.objects.filter(application=OuterRef("pk"))
    return (
        applications.annotate(
            month=month_index(),
            region=Coalesce(Substr("child__household_region", 1, 2), Value("")),
        )
        .values("month", "member_id", "category_id", "region")
        .annotate(
            received=Count("pk"),
            routed=Count("pk", filter=Q(Exists(reviews))),
            funded=Count("pk", filter=Q(Exists(reviews.filter(PLEDGING)))),
        )
        .order_by()
    )


def _first_decision_and_payment(applications):
    """Each application's first decision and first payment, in one pass over the reviews
    (MIN is not changed by the rows the two joins repeat). A reversal is not a payment, nor
    is a payment later reversed (a mistake, or returned by the bank)."""
    payments = "reviews__payments__"
    return (
        applications.annotate(
            decided=Min("reviews__decided_at"),
            paid=Min(
                f"{payments}paid_on",
                filter=Q(
                    **{f"{payments}reverses__isnull": True, f"{payments}reversal__isnull": True}
                ),
            ),
        )
        .filter(Q(decided__isnull=False) | Q(paid__isnull=False))
        .order_by()
    )


class _Live:
    """The figures' rows from the live tables."""

    def application_rows(self, window):
        return _applications_by_group(Application.objects.filter(submitted_in(*window)))

    def review_rows(self, bounds):
        return (
            MemberReview.objects.filter(submitted_in(*bounds, "application__"))
            .values("member_id", "state", "decline_reason")
            .annotate(n=Count("pk"))
            .order_by()
        )

    def pledge_rows(self, window):
        rows = (
            MemberReview.objects.filter(PLEDGING, submitted_in(*window, "application__"))
            .annotate(
                month=month_index("application__"),
                region=Substr("application__child__household_region", 1, 2),
            )
            .values_list(
                "month",
                "member_id",
                "project_id",
                "application__category_id",
                "region",
                "application__child__identity_id",
                "amount",
                "paid_total",
            )
            .order_by()
            .iterator(chunk_size=5000)  # a year is tens of thousands of rows: not all at once
        )
        return (row + (1,) for row in rows)  # one pledge per row

    def timing_rows(self, bounds):
        applications = Application.objects.filter(submitted_in(*bounds))
        return (
            _first_decision_and_payment(applications)
            .values_list("submitted_at", "decided", "paid")
            .iterator(chunk_size=5000)
        )


class _Kept:
    """The figures' rows from the aggregates, in the shapes of the live rows."""

    def _months(self, model, window):
        return model.objects.filter(month__gte=month_of(window[0]), month__lt=month_of(window[1]))

    def application_rows(self, window):
        return self._months(ApplicationFigure, window).values(
            "month",
            "member_id",
            "category_id",
            "received",
            "routed",
            "funded",
            region=F("province"),
        )

    def review_rows(self, bounds):
        return (
            self._months(ReviewFigure, bounds)
            .values("member_id", "state", "decline_reason")
            .annotate(n=Sum("count"))
            .order_by()
        )

    def pledge_rows(self, window):
        return (
            self._months(PledgeFigure, window)
            .values_list(
                "month",
                "member_id",
                "project_id",
                "category_id",
                "province",
                "child_id",
                "pledged",
                "paid",
                "pledges",
            )
            .order_by()
            .iterator(chunk_size=5000)
        )

    def timing_rows(self, bounds):
        return (
            self._months(ApplicationTiming, bounds)
            .values_list("submitted_at", "decided_at", "paid_on")
            .order_by()
            .iterator(chunk_size=5000)
        )


LIVE, KEPT = _Live(), _Kept()


# --- freshness -------------------------------------------------------------------------------


def _newest_id(model):
    return Coalesce(Subquery(model.objects.order_by("-pk").values("pk")[:1]), 0)


def fresh_expression() -> Exists:
    """True when the aggregates were rebuilt after the newest change (one index look-up per
    watched table: an uncorrelated subquery, evaluated once per query)."""
    return Exists(
        AggregateStamp.objects.filter(
            **{name: _newest_id(model) for name, model in WATCHED.items()}
        )
    )


def is_fresh() -> bool:
    return AggregateStamp.objects.filter(
        **{name: _newest_id(model) for name, model in WATCHED.items()}
    ).exists()


# --- the rebuild -----------------------------------------------------------------------------


def _insert_from(model, queryset, columns: dict[str, str]) -> int:
    """INSERT INTO model's table (its fields) SELECT the queryset's columns: one statement,
    the rows never pass through Python. `columns`: the model's field -> the column's alias."""
    sql, params = queryset.query.sql_with_params()
    quote = connection.ops.quote_name
    fields = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    aliases = ", ".join(quote(alias) for alias in columns.values())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({fields}) "  # noqa: S608 - names are ours
            f"SELECT {aliases} FROM ({sql}) AS source",
            params,
        )
        return cursor.rowcount


def _fill() -> dict[str, int]:
    submitted = Application.objects.filter(submitted_at__isnull=False)
    counts = {}
    counts["applications"] = _insert_from(
        ApplicationFigure,
        _applications_by_group(submitted),
        {
            "month": "month",
            "member_id": "member_id",
            "category_id": "category_id",
            "province": "region",
            "received": "received",
            "routed": "routed",
            "funded": "funded",
        },
    )
    counts["reviews"] = _insert_from(
        ReviewFigure,
        MemberReview.objects.filter(application__submitted_at__isnull=False)
        .values(
            r_month=month_index("application__"),
            r_member=F("member_id"),
            r_state=F("state"),
            r_reason=F("decline_reason"),
        )
        .annotate(r_count=Count("pk"))
        .order_by(),
        {
            "month": "r_month",
            "member_id": "r_member",
            "state": "r_state",
            "decline_reason": "r_reason",
            "count": "r_count",
        },
    )
    counts["pledges"] = _insert_from(
        PledgeFigure,
        MemberReview.objects.filter(PLEDGING, application__submitted_at__isnull=False)
        .values(
            p_month=month_index("application__"),
            p_member=F("member_id"),
            p_project=F("project_id"),
            p_category=F("application__category_id"),
            p_province=Coalesce(Substr("application__child__household_region", 1, 2), Value("")),
            p_child=F("application__child__identity_id"),
        )
        .annotate(
            p_pledges=Count("pk"),
            p_pledged=Coalesce(Sum("amount"), Value(Decimal("0")), output_field=MONEY),
            p_paid=Coalesce(Sum("paid_total"), Value(Decimal("0")), output_field=MONEY),
        )
        .order_by(),
        {
            "month": "p_month",
            "member_id": "p_member",
            "project_id": "p_project",
            "category_id": "p_category",
            "province": "p_province",
            "child_id": "p_child",
            "pledges": "p_pledges",
            "pledged": "p_pledged",
            "paid": "p_paid",
        },
    )
    counts["timings"] = _insert_from(
        ApplicationTiming,
        _first_decision_and_payment(submitted).values(
            t_month=month_index(),
            t_application=F("pk"),
            t_submitted=F("submitted_at"),
            t_decided=F("decided"),
            t_paid=F("paid"),
        ),
        {
            "month": "t_month",
            "application_id": "t_application",
            "submitted_at": "t_submitted",
            "decided_at": "t_decided",
            "paid_on": "t_paid",
        },
    )
    return counts


def rebuild() -> dict[str, int]:
    """Empty the aggregates and fill them again, with the stamp of what they were built from,
    in one transaction: a report made meanwhile reads the old rows, or the live tables."""
    started = time.monotonic()
    # One snapshot for the newest ids and every SELECT (PostgreSQL's default, READ
    # COMMITTED, takes one per statement): the stamp then names exactly the rows read.
    # Possible only when the transaction starts here (not inside a test's).
    repeatable = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if repeatable:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        newest = {
            name: model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            for name, model in WATCHED.items()
        }
        for model in (ApplicationFigure, ReviewFigure, PledgeFigure, ApplicationTiming):
            model.objects.all()._raw_delete(model.objects.db)
        counts = _fill()
        AggregateStamp.objects.all().delete()
        AggregateStamp.objects.create(
            rebuilt_at=timezone.now(), seconds=time.monotonic() - started, **newest
        )
    return counts
