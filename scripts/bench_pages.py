"""Milliseconds of Python per request for each key page, and where they go (issue 18).

    DATABASE_URL=postgres://root@127.0.0.1:5432/aid_alliance_bench \\
        .venv/bin/python scripts/bench_pages.py [--requests 30] [--runs 5] [--profile 12]
        [--pages inbox,application]

Through django.test.Client in this process (DEBUG off, as in production; no server, no
network), on a bench database filled by `make bench` or bench_setup: the same users and
objects as scripts/bench_scale.py (a member reviewer's inbox, the secretariat's search by
two characters of a child's name, an application page and the edit page of a draft as
its member's caseworker, the family status page, the directory API, the secretariat's
dashboard). For each page: 3 warm-up requests, then --runs runs of --requests requests,
the median of the runs' ms per request, the queries of one request; with --profile N, a
cProfile of one more run and its N functions with the most cumulative time under the
view (the time inside each, children included).

BENCH_APP_ROOT=/path/to/other/checkout measures that checkout's code with this script
(the "before" of a before/after comparison); the database is the same.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
APP_ROOT = Path(os.environ.get("BENCH_APP_ROOT", SCRIPTS.parent)).resolve()
sys.path.insert(0, str(SCRIPTS))
import bench_setup  # noqa: E402

PAGES = (
    "inbox",
    "search",
    "application",
    "status",
    "directory",
    "edit",
    "dashboard",
    "bare-signed-in",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="Requests per run.")
    parser.add_argument("--runs", type=int, default=5, help="Runs per page (median).")
    parser.add_argument("--profile", type=int, default=0, help="Top N functions to show.")
    parser.add_argument("--pages", default=",".join(PAGES), help="Comma-separated pages.")
    parser.add_argument("--json", action="store_true", help="One JSON line per page.")
    return parser.parse_args()


def setup_django():
    os.chdir(APP_ROOT)
    bench_setup.configure_environment()
    sys.path.insert(0, str(APP_ROOT))  # after configure_environment's: this code first
    # The load comes from one address: the API's throttles would answer 429.
    os.environ.setdefault("API_THROTTLE_ANON", "100000000/minute")
    os.environ.setdefault("API_THROTTLE_USER", "100000000/minute")
    os.environ.setdefault("BENCH_BARE_VIEW", "true")  # the page bare-signed-in
    import django

    django.setup()


def targets() -> dict:
    """page -> (client, url), as scripts/bench_scale.py's prepare() chooses them."""
    import bench_scale

    prep = bench_scale.prepare()
    return {name: (prep["clients"][name], url) for name, url in prep["pages"].items()}


def time_page(client, url: str, requests: int, runs: int) -> tuple:
    """Median wall ms per request, each run's, median CPU ms of this process per request
    (the Python; on a shared machine the steadier figure: waiting for a core and for
    PostgreSQL is not in it), and the queries of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"{url}: HTTP {response.status_code}")
    per_run, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(requests):
            client.get(url)
        per_run.append((time.perf_counter() - started) * 1000 / requests)
        cpu.append((time.process_time() - started_cpu) * 1000 / requests)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return statistics.median(per_run), per_run, statistics.median(cpu), len(captured)


APP_CODE = ("cases/", "organizations/", "reports/", "aid_alliance/")
WRAPPERS = ("middleware", "decorators", "_view_wrapper", "(inner)", "second_factor.py:195")


def profile_page(client, url: str, requests: int, top: int) -> dict[str, list]:
    """CPU ms per request (cProfile on process time: waiting for PostgreSQL or for a core
    is not counted): the `top` functions of the app's own code by cumulative time (their
    callees included) and the `top` functions overall by their own time."""
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(requests):
        client.get(url)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (filename, line, name), (_cc, calls, own, cumulative, _callers) in stats.stats.items():
        where = filename.replace(str(APP_ROOT) + "/", "")
        if "site-packages/" in where:
            where = where.split("site-packages/", 1)[1]
        label = f"{where}:{line}({name})"
        rows.append((label, cumulative * 1000 / requests, own * 1000 / requests, calls / requests))
    own_code = [
        (label, cum, calls)
        for label, cum, _own, calls in rows
        if label.startswith(APP_CODE) and not any(w in label for w in WRAPPERS)
    ]
    return {
        "app_cumulative": sorted(own_code, key=lambda row: -row[1])[:top],
        "self": [
            (label, own, calls) for label, _cum, own, calls in sorted(rows, key=lambda r: -r[2])
        ][:top],
    }


def main() -> None:
    args = parse_args()
    setup_django()
    from django.utils import translation

    chosen = [p for p in args.pages.split(",") if p]
    pages = targets()
    print(f"code: {APP_ROOT}; load average: {os.getloadavg()[0]:.2f}", flush=True)
    with translation.override("zh-hans"):
        for name in chosen:
            client, url = pages[name]
            median, per_run, cpu, queries = time_page(client, url, args.requests, args.runs)
            result = {
                "page": name,
                "url": url,
                "ms": round(median, 1),
                "cpu_ms": round(cpu, 1),
                "runs_ms": [round(ms, 1) for ms in per_run],
                "queries": queries,
                "load": round(os.getloadavg()[0], 2),
            }
            if args.json:
                print(json.dumps(result, ensure_ascii=False), flush=True)
            else:
                print(
                    f"{name:12} {median:7.1f} ms/request  CPU {cpu:6.1f} ms  "
                    f"runs {result['runs_ms']}  "
                    f"{queries} queries  load {result['load']}",
                    flush=True,
                )
            if args.profile:
                profile = profile_page(client, url, args.requests, args.profile)
                for title, key in (("app code, cumulative", "app_cumulative"), ("self", "self")):
                    print(f"  CPU ms per request, {title}:")
                    for where, ms, calls in profile[key]:
                        print(f"    {ms:7.2f} ms  {calls:7.1f}x  {where}")


if __name__ == "__main__":
    main()
