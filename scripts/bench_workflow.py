"""Benchmark of the review workflow on PostgreSQL: submission with routing, the member inbox
and the application page with its members' matrix, with 100,000 applications.

    DATABASE_URL=postgres://root@127.0.0.1:5432/aid_alliance_bench \\
        .venv/bin/python scripts/bench_workflow.py [--count 100000]

Prepares the bench database as scripts/bench_application_list.py does (created when
missing, migrated, demo directory and users, topped up to --count applications), then
routes the submitted applications that have no member reviews yet
(manage.py generate_demo_cases --route-existing) and checks a sample of the stored
eligibility snapshots against cases.review.services.route (in rolled-back transactions). Then:

a) submission: --submissions complete drafts (sections as in tests/intake_data.py, each
   a different child with its own valid ID number, the checklist's documents uploaded to a
   temporary directory) are submitted through cases.intake.services.application_submit, which
   routes each to every active member: queries, median and p95, and the share spent in
   workflow.route. The drafts are made and, unless --keep-submissions, deleted afterwards
   outside the timings, so that every run measures the same database;
b) the inbox (/inbox/) of member 1's reviewer, with each filter and a deep page;
c) the application page (/applications/<ref>/) of another member's application as member
   1's reviewer: the members' matrix and the review timeline.

Pages: --warmups untimed requests, one with its queries captured, --runs timed ones
(django.test.Client in-process, DEBUG off). SQL ms is the time spent in cursor.execute.
EXPLAIN (ANALYZE, BUFFERS) of the inbox's list and COUNT queries of the slowest variants,
of the counts per state and of the application page's slowest query. The table and plans
go to stdout and bench-results/workflow.txt. With --try-fixes, the inbox's queries are also
measured with a candidate index (FIX_INDEX) and other query shapes, in a transaction that
is rolled back: the database keeps its schema.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_application_list import (  # noqa: E402 - the shared bench helpers
    SqlTimer,
    explain,
    percentile95,
    static_storage_override,
)
from bench_setup import BASE_DIR, configure_environment, ensure_database, fill, vacuum  # noqa: E402

RESULTS = BASE_DIR / "bench-results" / "workflow.txt"
GIVEN = "子涵浩宇欣怡梓轩雨桐一诺思远俊杰佳琪博文嘉明若曦晨阳"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="Applications wanted.")
    parser.add_argument("--runs", type=int, default=30, help="Timed requests per variant.")
    parser.add_argument("--warmups", type=int, default=3, help="Untimed requests first.")
    parser.add_argument("--submissions", type=int, default=30, help="Drafts to submit.")
    parser.add_argument("--explain-top", type=int, default=3, help="EXPLAIN the N slowest.")
    parser.add_argument("--checks", type=int, default=20, help="Snapshots to compare.")
    parser.add_argument("--seed", type=int, default=1, help="Seed for generate_demo_cases.")
    parser.add_argument("--batch", type=int, default=5000, help="Rows per insert transaction.")
    parser.add_argument(
        "--keep-submissions", action="store_true", help="Keep the submitted bench drafts."
    )
    parser.add_argument(
        "--try-fixes",
        action="store_true",
        help="Also EXPLAIN ANALYZE the inbox queries with the candidate index and query "
        "shapes (FIXES), in a transaction that is rolled back.",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args()


# --- data ---------------------------------------------------------------------------------


def prepare_data(args) -> dict:
    """Migrate, load the demo directory and users, top up the applications, route them."""
    from django.db import connection

    from cases.models import Application, MemberReview, ReviewEvent

    info = fill(count=args.count, seed=args.seed, batch=args.batch, route_existing=True)
    info["vacuum_s"] = vacuum(
        (
            "cases_child",
            "cases_application",
            "cases_guardian",
            "cases_otheraid",
            "cases_memberreview",
            "cases_reviewevent",
        )
    )
    info["total"] = Application.objects.count()
    info["submitted"] = Application.objects.filter(status="submitted").count()
    info["reviews"] = MemberReview.objects.count()
    info["events"] = ReviewEvent.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('cases_memberreview')), "
            "pg_size_pretty(pg_total_relation_size('cases_reviewevent'))"
        )
        info["reviews_size"], info["events_size"] = cursor.fetchone()
    return info


def check_snapshots(count: int, seed: int) -> tuple[int, int]:
    """Stored snapshots equal to what workflow.route stores now (rolled back)."""
    from django.db import transaction

    from cases.models import Application
    from cases.review import services as workflow

    ids = list(
        Application.objects.filter(status="submitted", reviews__isnull=False)
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )
    same = 0
    sample = random.Random(seed).sample(ids, min(count, len(ids)))  # noqa: S311

    def facts(reviews):
        return {
            r.member_id: (r.eligibility, r.any_eligible, r.category_id, r.province) for r in reviews
        }

    for pk in sample:
        application = Application.objects.select_related("child", "category").get(pk=pk)
        stored = facts(application.reviews.all())
        with transaction.atomic():
            application.reviews.all().delete()
            fresh = facts(workflow.route(application, by=None))
            transaction.set_rollback(True)
        same += stored == fresh
    return same, len(sample)


# --- a) submission with routing -------------------------------------------------------


def draft_sections(rng: random.Random, index: int, taken: set[str]) -> dict[str, dict]:
    """tests/intake_data.SECTIONS for another child: its own name, birth date and ID number."""
    from cases.crypto import keyed_hash
    from cases.identity import check_character
    from cases.models import Child
    from tests.intake_data import SECTIONS

    today = datetime.now(UTC).date()
    while True:
        dob = today - timedelta(days=rng.randint(400, 14 * 365))
        sequence = rng.randrange(1, 1000, 2)  # odd: a boy, as in the sample data
        first17 = f"110105{dob:%Y%m%d}{sequence:03d}"
        id_number = first17 + check_character(first17)
        if (
            id_number not in taken
            and not Child.objects.filter(id_number_hash=keyed_hash(id_number)).exists()
        ):
            taken.add(id_number)
            break
    sections = {key: dict(values) for key, values in SECTIONS.items()}
    sections["A"].update(
        name="王" + "".join(rng.sample(GIVEN, 2)), dob=dob.isoformat(), id_number=id_number
    )
    sections["C"].update(annual_income=str(rng.randint(10, 80) * 1000))
    cost = rng.randint(100, 400) * 1000
    sections["D"].update(
        diagnosis_date=max(dob, today - timedelta(days=rng.randint(10, 300))).isoformat(),
        estimated_cost=str(cost),
        costs_incurred=str(cost // 10),
    )
    sections["E"].update(basic_insurance=str(cost * 4 // 10))
    sections["H"].update(consent_date=today.isoformat())
    return sections


def querydict(values: dict):
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for key, value in values.items():
        if isinstance(value, list):
            data.setlist(key, value)
        else:
            data[key] = value
    return data


def make_draft(caseworker, sections: dict[str, dict]):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases import documents
    from cases.intake import services
    from tests.intake_data import PDF_BYTES

    application = services.application_create(by=caseworker)
    for key, values in sections.items():
        services.section_save(
            application=application, section=key, data=querydict(values), by=caseworker
        )
    application.refresh_from_db()
    if application.pending_input:
        raise SystemExit(
            f"Draft {application.reference} kept invalid input: {application.pending_input}"
        )
    for doc_type, flag in documents.missing(application):
        upload = SimpleUploadedFile(f"{doc_type}.pdf", PDF_BYTES, content_type="application/pdf")
        services.document_upload(
            application=application, doc_type=doc_type, flag=flag, upload=upload, by=caseworker
        )
    return application


class RouteTimer:
    """Wraps cases.review.services.route (looked up at each submission) to time it apart."""

    def __init__(self):
        from cases.review import services as workflow

        self.workflow = workflow
        self.original = workflow.route
        self.seconds = 0.0

    def __enter__(self):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        self.workflow.route = timed
        return self

    def __exit__(self, *exc):
        self.workflow.route = self.original


def bench_submissions(caseworker, *, count: int, warmups: int, seed: int, keep: bool) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases.intake import services
    from cases.models import Application, Child, ChildIdentity, MemberReview

    rng = random.Random(seed)  # noqa: S311 - fake data
    taken: set[str] = set()
    started = time.monotonic()
    drafts = [make_draft(caseworker, draft_sections(rng, i, taken)) for i in range(warmups + count)]
    drafting_s = time.monotonic() - started
    timings, route_ms, sql_ms, queries, query_sql = [], [], [], [], []
    timer = SqlTimer()
    for i, draft in enumerate(drafts):
        with RouteTimer() as route, connection.execute_wrapper(timer):
            timer.seconds = 0.0
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                services.application_submit(application=draft, by=caseworker)
                elapsed = time.perf_counter() - started
        if i < warmups:
            continue
        timings.append(elapsed * 1000)
        route_ms.append(route.seconds * 1000)
        sql_ms.append(timer.seconds * 1000)
        queries.append(len(captured.captured_queries))
        query_sql = [q["sql"] for q in captured.captured_queries]
    ids = [d.pk for d in drafts]
    reviews = MemberReview.objects.filter(application__in=ids).count() / len(ids)
    if not keep:
        children = list(Application.objects.filter(pk__in=ids).values_list("child", flat=True))
        identities = list(
            Child.objects.filter(pk__in=children).values_list("identity", flat=True).distinct()
        )
        Application.objects.filter(pk__in=ids).delete()
        Child.objects.filter(pk__in=children).delete()
        ChildIdentity.objects.filter(pk__in=identities, records__isnull=True).delete()
    return {
        "count": count,
        "drafting_s": drafting_s,
        "reviews": reviews,
        "queries": queries,
        "median": statistics.median(timings),
        "p95": percentile95(timings),
        "route_median": statistics.median(route_ms),
        "sql_median": statistics.median(sql_ms),
        "query_sql": query_sql,
    }


# --- b), c) pages -----------------------------------------------------------------------


class QueryTimer:
    """Per request: each query's SQL position and its time (connection.execute_wrapper)."""

    def __init__(self):
        self.times: list[float] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.times.append((time.perf_counter() - started) * 1000)


def measure(client, url: str, *, runs: int, warmups: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmups):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = [q["sql"] for q in captured.captured_queries]
    timings, sql_timings, per_query = [], [], []
    for _ in range(runs):
        timer = QueryTimer()
        with connection.execute_wrapper(timer):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        sql_timings.append(sum(timer.times))
        if len(timer.times) == len(queries):
            per_query.append(timer.times)
    query_ms = [statistics.median(column) for column in zip(*per_query, strict=True)]
    return {
        "queries": len(queries),
        "median": statistics.median(timings),
        "p95": percentile95(timings),
        "sql_median": statistics.median(sql_timings),
        "sql": queries,
        "query_ms": query_ms,
    }


def classify(sql: str) -> str:
    if sql in ("BEGIN", "COMMIT", "ROLLBACK") or sql.startswith(("SAVEPOINT", "RELEASE")):
        return sql.split()[0]
    if 'FROM "cases_memberreview"' in sql and "FILTER (WHERE" in sql:
        return "counts per state"
    if sql.startswith("SELECT COUNT(*)") and "cases_memberreview" in sql:
        return "page COUNT"
    if sql.startswith('SELECT "cases_memberreview"') and " LIMIT " in sql:
        return "page rows"
    if sql.startswith(("INSERT", "UPDATE", "DELETE")):
        return sql.split()[0].lower() + " " + sql.split('"')[1]
    table = sql.split(" FROM ", 1)[1].split()[0].strip('"') if " FROM " in sql else "?"
    return f"select {table}"


def inbox_variants() -> list[tuple[str, dict]]:
    return [
        ("default", {}),
        ("state=pending", {"state": "pending"}),
        ("category=LEUK", {"category": "LEUK"}),
        ("province=11", {"province": "11"}),
        ("eligible=yes", {"eligible": "yes"}),
        ("waiting=30", {"waiting": "30"}),
        ("page=500", {"page": "500"}),
    ]


def inbox_rows(reviewer, params: dict) -> int:
    from cases.list_choices import list_choices
    from cases.review.forms import InboxFilterForm
    from cases.review.selectors import inbox_queryset

    data = {k: v for k, v in params.items() if k != "page"} or None
    form = InboxFilterForm(data, choices=list_choices)
    filters = dict(form.cleaned_data) if form.is_valid() else {}
    if filters.get("category"):
        filters["category"] = list_choices().category_ids[filters["category"]]
    return inbox_queryset(reviewer.organization, filters).count()


def detail_applications(reviewer) -> list[tuple[str, str]]:
    """Another member's applications routed to the reviewer's member: the one with the
    longest timeline among the 5,000 newest, and the newest with every review open."""
    from django.db.models import Count, Q

    from cases.models import Application

    recent = (
        Application.objects.filter(status="submitted")
        .exclude(member=reviewer.organization)
        .order_by("-submitted_at")
    )
    busy_ids = list(recent.values_list("pk", flat=True)[:5000])
    busy = (
        Application.objects.filter(pk__in=busy_ids)
        .annotate(n=Count("reviews__events"))
        .order_by("-n", "pk")
        .values_list("reference", "n")
        .first()
    )
    fresh = (
        recent.annotate(open=Count("reviews", filter=Q(reviews__state="pending")))
        .filter(open=8)
        .values_list("reference", flat=True)
        .first()
    )
    result = [(f"busy timeline ({busy[1]} events)", busy[0])]
    if fresh:
        result.append(("new, all 8 pending", fresh))
    return result


def review_count(reference: str) -> int:
    from cases.models import MemberReview

    return MemberReview.objects.filter(application__reference=reference).count()


# The candidates that scripts/bench_workflow.py --try-fixes measures (see the report).
FIX_INDEX = (
    "CREATE INDEX bench_review_member_routed ON cases_memberreview (member_id, routed_at, id)"
)


def execution_ms(sql: str, runs: int = 3) -> float:
    import re

    from django.db import connection

    times = []
    for _ in range(runs):
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE) " + sql)
            last = cursor.fetchall()[-1][0]
        times.append(float(re.search(r"Execution Time: ([\d.]+)", last)[1]))
    return statistics.median(times)


def mogrify(queryset) -> str:
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        return cursor.mogrify(sql, params).decode()


def try_fixes(reviewer, inbox: list[dict]) -> list[str]:
    """EXPLAIN ANALYZE the inbox's queries as they are, with the counts per state and the
    page's rows in other shapes, then again with FIX_INDEX (rolled back)."""
    from django.db import connection, transaction
    from django.db.models import Count

    from cases.models import MemberReview
    from cases.review.selectors import inbox_queryset

    member = reviewer.organization
    queries: list[tuple[str, str]] = []
    for r in inbox:
        for sql in r["sql"]:
            if classify(sql) in ("page rows", "page COUNT"):
                queries.append((f"{r['variant']}: {classify(sql)}", sql))
            elif classify(sql) == "counts per state" and r["variant"] == "default":
                queries.append(("counts per state, as now: Count('pk', filter=...)", sql))
    mine = MemberReview.objects.filter(member=member)
    counts = next(sql for name, sql in queries if name.startswith("counts per state"))
    queries += [
        (
            # What .aggregate(**{s: Count("state", filter=Q(state=s)) ...}) sends.
            "counts per state: Count('state', filter=...)",
            counts.replace(
                'COUNT("cases_memberreview"."id")', 'COUNT("cases_memberreview"."state")'
            ),
        ),
        (
            "counts per state: values('state').annotate(n=Count('*'))",
            mogrify(mine.values("state").annotate(n=Count("*")).order_by()),
        ),
    ]
    offset = 499 * 25
    page_ids = mine.order_by("routed_at", "pk").values("pk")[offset : offset + 25]
    queries.append(
        (
            "page=500: rows by a deferred join",
            mogrify(inbox_queryset(member, {}).filter(pk__in=page_ids)),
        )
    )
    before = {name: execution_ms(sql) for name, sql in queries}
    with transaction.atomic():
        with connection.cursor() as cursor:
            started = time.monotonic()
            cursor.execute(FIX_INDEX)
            built = time.monotonic() - started
            cursor.execute("ANALYZE cases_memberreview")
        after = {name: execution_ms(sql) for name, sql in queries}
        transaction.set_rollback(True)
    width = max(len(name) for name, _sql in queries)
    lines = [
        "",
        f"Candidate fixes (--try-fixes; EXPLAIN ANALYZE execution ms, median of 3; the index "
        f"built in {built:.1f} s inside a transaction that was rolled back):",
        f"  {FIX_INDEX}",
        "",
        f"  {'query':<{width}} | {'now':>9} | {'+ index':>9}",
    ]
    lines += [
        f"  {name:<{width}} | {before[name]:9.2f} | {after[name]:9.2f}" for name, _sql in queries
    ]
    return lines


def plan_lines(title: str, sql: str) -> list[str]:
    return [f"--- {title}:", sql, "", explain(sql), ""]


def table(rows: list[tuple]) -> str:
    header = ("part", "variant", "rows", "queries", "median ms", "p95 ms", "SQL median ms")
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]

    def line(cells):
        return " | ".join(
            str(c).ljust(w) if i < 2 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), "-+-".join("-" * w for w in widths), *map(line, rows)])


def main() -> None:  # noqa: C901 - one section per part of the bench
    args = parse_args()
    private = tempfile.mkdtemp(prefix="bench-workflow-")
    os.environ["PRIVATE_MEDIA_ROOT"] = private  # the drafts' documents, removed at the end
    url = configure_environment()
    created = ensure_database(url)

    import django

    django.setup()

    from django.db import connection
    from django.test import Client

    from organizations.models import User

    try:
        info = prepare_data(args)
        static_storage_override()
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
        same, checked = check_snapshots(args.checks, args.seed)
        print(f"Snapshots equal to workflow.route: {same}/{checked}", flush=True)
        caseworker = User.objects.filter(role="caseworker", organization__number=1).earliest(
            "username"
        )
        reviewer = User.objects.filter(role="reviewer", organization__number=1).earliest("username")

        submit = bench_submissions(
            caseworker,
            count=args.submissions,
            warmups=min(3, args.warmups),
            seed=args.seed,
            keep=args.keep_submissions,
        )
        print(f"  submit: {submit['median']:.1f} ms median", flush=True)

        client = Client()
        client.force_login(reviewer)
        inbox = []
        for label, params in inbox_variants():
            page_url = "/inbox/" + (f"?{urlencode(params)}" if params else "")
            result = measure(client, page_url, runs=args.runs, warmups=args.warmups)
            result.update(variant=label, url=page_url, rows=inbox_rows(reviewer, params))
            inbox.append(result)
            print(f"  inbox {label:<16} {result['median']:8.1f} ms", flush=True)
        details = []
        for label, reference in detail_applications(reviewer):
            page_url = f"/applications/{reference}/"
            result = measure(client, page_url, runs=args.runs, warmups=args.warmups)
            result.update(variant=label, url=page_url, rows=f"{review_count(reference)} reviews")
            details.append(result)
            print(f"  detail {label:<30} {result['median']:8.1f} ms", flush=True)
        fixes = try_fixes(reviewer, inbox) if args.try_fixes else []
    finally:
        shutil.rmtree(private, ignore_errors=True)

    queries = submit["queries"]
    rows = [
        (
            "a) submit + route",
            f"{submit['count']} drafts",
            f"{submit['reviews']:g} reviews each",
            f"{min(queries)}-{max(queries)}" if min(queries) != max(queries) else queries[0],
            f"{submit['median']:.1f}",
            f"{submit['p95']:.1f}",
            f"{submit['sql_median']:.1f}",
        ),
        (
            "   of which route()",
            "",
            "",
            "",
            f"{submit['route_median']:.1f}",
            "",
            "",
        ),
    ]
    for part, results in (("b) /inbox/", inbox), ("c) /applications/<ref>/", details)):
        rows += [
            (
                part,
                r["variant"],
                str(r["rows"]),
                str(r["queries"]),
                f"{r['median']:.1f}",
                f"{r['p95']:.1f}",
                f"{r['sql_median']:.1f}",
            )
            for r in results
        ]

    generation = (
        f"generated {info['generated']} in {info['generation_s']:.1f} s"
        if info["generation_s"] is not None
        else f"{info['existing']} already present, none generated"
    )
    routing = (
        f"routed {info['routed']} existing applications in {info['routing_s']:.1f} s "
        f"({info['routed'] / info['routing_s']:.0f}/s)"
        if info["routed"]
        else "all submitted applications already routed"
    )
    report = [
        f"Review workflow benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"PostgreSQL {server}, database {connection.settings_dict['NAME']}"
        + (" (created)" if created else ""),
        f"Applications: {info['total']}, {info['submitted']} submitted ({generation}; {routing}); "
        f"member reviews {info['reviews']} ({info['reviews_size']}), review events "
        f"{info['events']} ({info['events_size']}); VACUUM ANALYZE + CHECKPOINT "
        f"{info['vacuum_s']:.1f} s",
        f"Eligibility snapshots equal to what workflow.route stores: {same} of {checked} sampled.",
        f"a) {submit['count']} complete drafts of {caseworker.username} (made in "
        f"{submit['drafting_s']:.1f} s, not timed) submitted with services.application_submit "
        f"after {min(3, args.warmups)} untimed ones; queries per submission captured with "
        "CaptureQueriesContext; deleted afterwards"
        + (" (kept: --keep-submissions)" if args.keep_submissions else "")
        + ".",
        f"b), c) as {reviewer.username} (reviewer of member 1): {args.warmups} warm-ups, 1 "
        f"request with queries captured, {args.runs} timed requests (django.test.Client, "
        "in-process, DEBUG off). rows: the inbox's matching reviews.",
        "",
        table(rows),
        "",
        "Queries of one submission (kind: count):",
    ]
    kinds: dict[str, int] = {}
    for sql in submit["query_sql"]:
        kinds[classify(sql)] = kinds.get(classify(sql), 0) + 1
    report += [f"  {kind}: {n}" for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1])]
    report += ["", "Median ms per query (pages):"]
    for r in [*inbox, *details]:
        parts = ", ".join(
            f"{classify(sql)} {ms:.2f}"
            for sql, ms in sorted(zip(r["sql"], r["query_ms"], strict=False), key=lambda p: -p[1])[
                :4
            ]
        )
        report.append(f"  {r['url']}: {parts}")

    report += fixes
    plans: list[str] = []
    slowest = sorted(inbox, key=lambda r: r["median"], reverse=True)[: args.explain_top]
    counts_sql = ""
    for r in slowest:
        plans += ["", f"=== inbox {r['variant']}: {r['url']} ({r['median']:.1f} ms)"]
        for sql in r["sql"]:
            kind = classify(sql)
            if kind == "counts per state":
                counts_sql = sql
            elif kind in ("page rows", "page COUNT"):
                plans += plan_lines(kind, sql)
    if counts_sql:
        plans += ["", "=== inbox counts per state (the same on every inbox page)"]
        plans += plan_lines("counts per state", counts_sql)
    for r in details:
        slow = sorted(zip(r["sql"], r["query_ms"], strict=False), key=lambda p: -p[1])[:2]
        plans += ["", f"=== application page {r['variant']}: {r['url']} ({r['median']:.1f} ms)"]
        for sql, ms in slow:
            if sql.startswith("SELECT"):
                plans += plan_lines(f"{classify(sql)} ({ms:.2f} ms)", sql)
    text = "\n".join(report + plans) + "\n"
    print()
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"Written to {args.output}")


if __name__ == "__main__":
    main()
