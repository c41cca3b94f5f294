"""Benchmark of the staff application list (/applications/) on PostgreSQL with many rows.

    DATABASE_URL=postgres://root@127.0.0.1:5432/aid_alliance_bench \\
        .venv/bin/python scripts/bench_application_list.py [--count 100000]

Creates the database when it is missing, migrates it, loads the demo directory and users,
adds fake applications (manage.py generate_demo_cases) until there are --count, then
requests the list page through django.test.Client as a member caseworker and as the
secretariat. For each variant: SQL queries per request, median and p95 of --runs timed
requests after --warmups, and EXPLAIN (ANALYZE, BUFFERS) of the list and COUNT queries of
the slowest variants. The table and those plans go to stdout and to
bench-results/application_list.txt; the plans of every variant to
bench-results/application_list_explain.txt.

The bench keeps its data in its own database (the name must contain "bench"): the test
suite and the development database are not touched. Pages run in production mode (DEBUG
off), as served by gunicorn, but in-process: no network or WSGI server in the timings.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_setup import (  # noqa: E402 - the shared set-up
    BASE_DIR,
    configure_environment,
    ensure_database,
    fill,
    vacuum,
)

__all__ = ["BASE_DIR", "configure_environment", "ensure_database"]  # bench_workflow's too
RESULTS = BASE_DIR / "bench-results" / "application_list.txt"
PAGE_SIZE = 25


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="Applications wanted.")
    parser.add_argument("--runs", type=int, default=30, help="Timed requests per variant.")
    parser.add_argument("--warmups", type=int, default=3, help="Untimed requests first.")
    parser.add_argument("--explain-top", type=int, default=4, help="EXPLAIN the N slowest.")
    parser.add_argument("--seed", type=int, default=1, help="Seed for generate_demo_cases.")
    parser.add_argument("--batch", type=int, default=5000, help="Rows per insert transaction.")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args()


def prepare_data(args) -> dict:
    """Migrate, load the demo directory and users, top up the applications."""
    from cases.models import Application

    info = fill(count=args.count, seed=args.seed, batch=args.batch)
    info["vacuum_s"] = vacuum(("cases_child", "cases_application", "cases_guardian"))
    info["total"] = Application.objects.count()
    return info


def static_storage_override():
    """Production pages need the static manifest; without it, plain static storage."""
    from django.test import override_settings

    if (BASE_DIR / "staticfiles" / "staticfiles.json").is_file():
        return None
    print("No staticfiles manifest (make run builds it): using plain static storage.")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override = override_settings(STORAGES=storages)
    override.enable()
    return override


def sample_values(user) -> dict[str, str]:
    """Search terms taken from what the user can see, a thousand rows down the list."""
    from cases.intake import selectors

    rows = selectors.application_list(user).filter(status="submitted")
    rows = rows.exclude(child__name="").values_list("reference", "child__name", "child__id_number")
    start = min(1000, rows.count() // 2)
    for reference, name, id_number in rows[start : start + 100]:
        if len(name) == 3:  # surname + two-character given name
            return {"reference": reference, "id": id_number, "name1": name[1], "name2": name[1:]}
    raise SystemExit(f"No sample application visible to {user.username}.")


def variants(user) -> list[tuple[str, dict]]:
    sample = sample_values(user)
    return [
        ("list", {}),
        ("page=2000", {"page": "2000"}),
        ("status=submitted", {"status": "submitted"}),
        ("category=LEUK", {"category": "LEUK"}),
        (f"q=name 1 char ({sample['name1']})", {"q": sample["name1"]}),
        (f"q=name 2 chars ({sample['name2']})", {"q": sample["name2"]}),
        ("q=ID number", {"q": sample["id"]}),
        ("q=reference", {"q": sample["reference"]}),
    ]


def split_queries(captured) -> tuple[str, str]:
    """The page's list query and its COUNT(*) query, as sent to PostgreSQL."""
    list_sql = count_sql = ""
    for query in captured:
        sql = query["sql"]
        if 'FROM "cases_application"' not in sql:
            continue
        if sql.startswith("SELECT COUNT(*)"):
            count_sql = sql
        elif " LIMIT " in sql:
            list_sql = sql
    return list_sql, count_sql


class SqlTimer:
    """Wall time spent in the database during a request (connection.execute_wrapper)."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def percentile95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def measure(client, url: str, *, runs: int, warmups: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmups):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # Read now: the next request's request_started signal empties the query log.
    queries = list(captured.captured_queries)
    timings, sql_timings = [], []
    timer = SqlTimer()
    with connection.execute_wrapper(timer):
        for _ in range(runs):
            timer.seconds = 0.0
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            sql_timings.append(timer.seconds * 1000)
    list_sql, count_sql = split_queries(queries)
    matches = ""
    if count_sql:
        with connection.cursor() as cursor:
            cursor.execute(count_sql)
            matches = cursor.fetchone()[0]
    offset = re.search(r"OFFSET (\d+)", list_sql)
    offset = int(offset[1]) if offset else 0
    return {
        "queries": len(queries),
        "median": statistics.median(timings),
        "p95": percentile95(timings),
        "sql_median": statistics.median(sql_timings),
        "matches": matches,
        "offset": offset,
        "list_sql": list_sql,
        "count_sql": count_sql,
    }


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def plan_section(r: dict) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the variant's list query and COUNT query."""
    lines = ["", f"=== {r['user']} {r['variant']}: {r['url']} ({r['median']:.1f} ms)"]
    shown = re.sub(r"^SELECT .*? FROM ", "SELECT <columns> FROM ", r["list_sql"], count=1)
    for title, sql, display in (
        ("list query", r["list_sql"], shown),
        ("COUNT query", r["count_sql"], r["count_sql"]),
    ):
        if sql:
            lines += [f"--- {title}:", display, "", explain(sql)]
    return lines


def table(results: list[dict]) -> str:
    header = (
        "user",
        "variant",
        "matches",
        "offset (page)",
        "queries",
        "median ms",
        "p95 ms",
        "SQL median ms",
    )
    rows = [
        (
            r["user"],
            r["variant"],
            str(r["matches"]),
            f"{r['offset']} (p.{r['offset'] // PAGE_SIZE + 1})",
            str(r["queries"]),
            f"{r['median']:.1f}",
            f"{r['p95']:.1f}",
            f"{r['sql_median']:.1f}",
        )
        for r in results
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]

    def line(cells):
        return " | ".join(
            str(c).ljust(w) if i < 2 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), "-+-".join("-" * w for w in widths), *map(line, rows)])


def main() -> None:
    args = parse_args()
    url = configure_environment()
    created = ensure_database(url)

    import django

    django.setup()

    from django.db import connection
    from django.test import Client

    from organizations.models import User

    info = prepare_data(args)
    static_storage_override()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    caseworker = User.objects.filter(role="caseworker", organization__number=1).earliest("username")
    secretariat = User.objects.filter(role="secretariat").earliest("username")

    results = []
    for user in (caseworker, secretariat):
        client = Client()
        client.force_login(user)
        for label, params in variants(user):
            page_url = "/applications/" + (f"?{urlencode(params)}" if params else "")
            result = measure(client, page_url, runs=args.runs, warmups=args.warmups)
            results.append({"user": user.username, "variant": label, "url": page_url, **result})
            print(f"  {user.username:<16} {label:<28} {result['median']:8.1f} ms", flush=True)

    generation = (
        f"generated {info['generated']} in {info['generation_s']:.1f} s"
        if info["generation_s"] is not None
        else f"{info['existing']} already present, none generated"
    )
    report = [
        f"Application list benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"PostgreSQL {server}, database {connection.settings_dict['NAME']}"
        + (" (created)" if created else ""),
        f"Applications: {info['total']} ({generation}); "
        f"VACUUM ANALYZE + CHECKPOINT {info['vacuum_s']:.1f} s",
        f"Per variant: {args.warmups} warm-ups, 1 request with queries captured, "
        f"{args.runs} timed requests (django.test.Client, in-process, DEBUG off); "
        "SQL ms: time in cursor.execute during the timed requests.",
        f"{caseworker.username}: caseworker of member 1, sees only its applications; "
        f"{secretariat.username}: sees all.",
        "",
        table(results),
    ]
    slowest = sorted(results, key=lambda r: r["median"], reverse=True)[: args.explain_top]
    plans = {id(r): plan_section(r) for r in results}
    for r in slowest:
        report += plans[id(r)]
    text = "\n".join(report) + "\n"
    print()
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    every_plan = args.output.with_name(args.output.stem + "_explain.txt")
    every_plan.write_text(
        "\n".join(line for r in results for line in plans[id(r)]) + "\n", encoding="utf-8"
    )
    print(f"Written to {args.output}; the plans of every variant to {every_plan}")


if __name__ == "__main__":
    main()
