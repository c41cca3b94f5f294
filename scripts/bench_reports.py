"""Benchmark of the secretariat's reports (reports/) on PostgreSQL with many applications.

    DATABASE_URL=postgres://root@127.0.0.1:5432/aid_alliance_bench \\
        .venv/bin/python scripts/bench_reports.py [--count 100000] [--year 2025]

Creates and fills the database when it holds fewer than --count applications (migrate,
the demo directory and users, `manage.py generate_demo_cases --seed 1`, timed), then
measures, each in a fresh process so that its peak memory is its own:

- the figures selector (reports.selectors.report_figures) for the year, a quarter, a month;
- the dashboard page for the year (through django.test.Client, as the secretariat);
- the alliance report for the year as PDF, CSV and XLSX (reports.services.report_write);
- the report to authorities for the year as CSV and XLSX (its access records are rolled
  back, so that repeated runs leave the database as it was).

For each: wall time, SQL queries and the process's peak resident memory (VmHWM, which
includes Django and WeasyPrint themselves; bench_setup.peak_rss_mb) from one run, and the peak of
Python allocations (tracemalloc) from a second run (tracing slows it down). The table goes
to stdout and to bench-results/reports.txt. Like the other benches, it refuses a database
whose name does not contain "bench".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_setup  # noqa: E402 - the shared set-up
from bench_setup import BASE_DIR, configure_environment, ensure_database  # noqa: E402

__all__ = ["configure_environment", "ensure_database", "fill"]  # bench_scale's too
RESULTS = BASE_DIR / "bench-results" / "reports.txt"
MEASURES = (
    "figures-year",
    "figures-quarter",
    "figures-month",
    "dashboard-year",
    "pdf-year",
    "csv-year",
    "xlsx-year",
    "authorities-csv-year",
    "authorities-xlsx-year",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="Applications wanted.")
    parser.add_argument("--year", type=int, default=2025, help="The year reported on.")
    parser.add_argument("--seed", type=int, default=1, help="Seed for generate_demo_cases.")
    parser.add_argument("--measure", choices=MEASURES, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args()


def fill(count: int, seed: int) -> str:
    """Migrate, load the directory, generate what is missing; a line saying what was done."""
    import django

    django.setup()
    info = bench_setup.fill(count=count, seed=seed)
    if not info["generated"]:
        return f"{info['existing']} applications in the database already: nothing generated."
    return f"Generated {info['generated']} applications in {info['generation_s']:.0f} s."


def measure(name: str, year: int, *, trace: bool) -> dict:
    """One measure, in this (fresh) process: seconds, queries and peak resident memory; with
    `trace`, the peak of Python allocations instead (tracemalloc slows the run down, so the
    time is taken from a run without it)."""
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    from organizations.models import User
    from reports import services
    from reports.periods import parse_period
    from reports.selectors import report_figures

    secretariat = User.objects.filter(role=User.Role.SECRETARIAT).order_by("pk").first()
    period_code = {"quarter": f"{year}-Q4", "month": f"{year}-11"}.get(
        name.split("-")[-1], str(year)
    )
    period = parse_period(period_code)
    out = BASE_DIR / "bench-results" / f"bench-{name}.out"
    out.parent.mkdir(exist_ok=True)
    rows = {}

    def run():
        if name.startswith("figures"):
            figures = report_figures(period)
            rows["applications"] = figures.received
        elif name.startswith("dashboard"):
            # Past the second factor, as the secretariat is after its code (a bare
            # force_login is sent to the code page: HTTP 302).
            client = bench_setup.verified_client(secretariat)
            response = client.get("/reports/", {"period": period_code})
            if response.status_code != 200:
                raise RuntimeError(f"dashboard: HTTP {response.status_code}")
        else:
            kind = "authorities" if name.startswith("authorities") else "alliance"
            fmt = name.split("-")[-2]
            with transaction.atomic(), out.open("wb") as target:
                services.report_write(
                    kind=kind, period=period, fmt=fmt, target=target, by=secretariat
                )
                transaction.set_rollback(True)  # the access records of the bench
            rows["file bytes"] = out.stat().st_size

    with translation.override("zh-hans"):
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            run()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
    return {
        "name": name,
        "period": period_code,
        "seconds": round(seconds, 2),
        "queries": len(queries),
        "python_peak_mb": round(peak / 2**20, 1),
        "max_rss_mb": bench_setup.peak_rss_mb(),
        **rows,
    }


def _run_measure(name: str, year: int, trace: bool) -> dict:
    command = [sys.executable, __file__, f"--measure={name}", f"--year={year}"]
    if trace:
        command.append("--trace")
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        sys.exit(f"{name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    args = parse_args()
    url = configure_environment()
    if args.measure:
        print(json.dumps(measure(args.measure, args.year, trace=args.trace)))
        return
    ensure_database(url)
    filled = fill(args.count, args.seed)
    print(filled)
    results = []
    for name in MEASURES:
        timed, traced = (_run_measure(name, args.year, trace) for trace in (False, True))
        results.append({**timed, "python_peak_mb": traced["python_peak_mb"]})
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    lines = [
        f"Reports benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"database {url.rsplit('/', 1)[-1]}",
        filled,
        "",
        f"{'measure':24} {'period':8} {'seconds':>8} {'queries':>8} {'py peak MB':>11} "
        f"{'max RSS MB':>11}  notes",
    ]
    for r in results:
        notes = ", ".join(f"{k} {v}" for k, v in r.items() if k in ("applications", "file bytes"))
        lines.append(
            f"{r['name']:24} {r['period']:8} {r['seconds']:8.2f} {r['queries']:8d} "
            f"{r['python_peak_mb']:11.1f} {r['max_rss_mb']:11.1f}  {notes}"
        )
    text = "\n".join(lines) + "\n"
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print()
    print(text)


if __name__ == "__main__":
    main()
