"""Every SQL query of each key page, with PostgreSQL's EXPLAIN (ANALYZE, BUFFERS) (issue 18).

    DATABASE_URL=postgres://root@127.0.0.1:5432/aid_alliance_bench \\
        .venv/bin/python scripts/bench_sql.py [--pages inbox,search] [--plans] [--repeat 5]

The same users and objects as scripts/bench_scale.py. Each page is requested twice (the
caches warm), then once more with its queries captured; each query is then run under
EXPLAIN (ANALYZE, BUFFERS) --repeat times in a transaction rolled back (INSERTs and
UPDATEs leave nothing), and the median execution time is printed with the query's first
characters (--plans: the whole plan of the last run). The page's own wall ms and the sum
of the queries' execution ms show the database's share.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS))
import bench_pages  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default="inbox,search,application,edit")
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        help="More pages: username:path (signed in and past the second factor), repeatable.",
    )
    parser.add_argument("--plans", action="store_true", help="Print each query's plan.")
    parser.add_argument("--repeat", type=int, default=5, help="EXPLAIN runs per query.")
    parser.add_argument("--width", type=int, default=150, help="Characters of each query.")
    parser.add_argument(
        "--requests", type=int, default=30, help="Requests timed per page (0: none)."
    )
    return parser.parse_args()


def explain(sql: str, repeat: int) -> tuple[float, float, str]:
    """Median execution and planning ms of `sql` and the plan of its last run."""
    from django.db import connection, transaction

    executions, plannings, plan = [], [], ""

    class Rollback(Exception):
        pass

    for _ in range(repeat):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql.replace("%", "%%"))
                plan = "\n".join(row[0] for row in cursor.fetchall())
                raise Rollback
        except Rollback:
            pass
        executions.append(float(re.search(r"Execution Time: ([\d.]+)", plan).group(1)))
        plannings.append(float(re.search(r"Planning Time: ([\d.]+)", plan).group(1)))
    return statistics.median(executions), statistics.median(plannings), plan


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def backend_cpu_ns(pid: int) -> int:
    """CPU time of the PostgreSQL backend `pid` so far (nanoseconds, from
    /proc/<pid>/schedstat: the server must run on this machine)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def time_requests(client, url: str, requests: int) -> tuple[float, float, float, list]:
    """Wall ms, this process's CPU ms and the PostgreSQL backend's CPU ms per request, and
    for each statement of a request (in order) the median wall ms of its round trip and
    the backend's CPU ms for it (parse, plan, execute, commit)."""
    from django.db import connection

    client.get(url)
    pid = backend_pid()
    per_statement: dict[int, list] = {}
    position = [0]

    def measure(execute, sql, params, many, context):
        cpu_before, started = backend_cpu_ns(pid), time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            wall_ms = (time.perf_counter() - started) * 1000
            cpu_ms = (backend_cpu_ns(pid) - cpu_before) / 1e6
            per_statement.setdefault(position[0], []).append((wall_ms, cpu_ms))
            position[0] += 1

    backend, cpu, wall = backend_cpu_ns(pid), time.process_time(), time.perf_counter()
    with connection.execute_wrapper(measure):
        for _ in range(requests):
            position[0] = 0
            client.get(url)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    backend = (backend_cpu_ns(pid) - backend) / 1e6
    statements = [
        (
            statistics.median(w for w, _c in samples),
            statistics.median(c for _w, c in samples),
        )
        for _position, samples in sorted(per_statement.items())
    ]
    return wall * 1000 / requests, cpu * 1000 / requests, backend / requests, statements


def main() -> None:
    args = parse_args()
    bench_pages.setup_django()
    from bench_setup import verified_client
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    from organizations.models import User

    pages = bench_pages.targets()
    chosen = [p for p in args.pages.split(",") if p]
    for extra in args.url:
        username, path = extra.split(":", 1)
        pages[extra] = (verified_client(User.objects.get(username=username)), path)
        chosen.append(extra)
    with translation.override("zh-hans"):
        for name in chosen:
            client, url = pages[name]
            for _ in range(2):
                client.get(url)
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            wall = (time.perf_counter() - started) * 1000
            queries = list(captured.captured_queries)  # the next request clears the log
            total = 0.0
            print(f"== {name} {url}: {len(captured)} queries, {wall:.1f} ms wall", flush=True)
            statements = []
            if args.requests:
                wall, cpu, backend, statements = time_requests(client, url, args.requests)
                print(
                    f"  per request ({args.requests}): {wall:.1f} ms wall, {cpu:.1f} ms CPU "
                    f"(Python), {backend:.2f} ms CPU of the PostgreSQL backend "
                    f"({sum(c for _w, c in statements):.2f} in the statements' round trips)",
                    flush=True,
                )
            for number, query in enumerate(queries, 1):
                sql = query["sql"]
                # A server-side cursor (QuerySet.iterator()): its SELECT.
                sql = re.sub(r"^DECLARE .*? CURSOR WITH(?:OUT)? HOLD FOR ", "", sql, flags=re.S)
                # The access record's asynchronous commit (cases.audit): its INSERT.
                sql = re.sub(r"^SET LOCAL [^;]*; ", "", sql)
                trip = ""
                if number <= len(statements):
                    trip = "trip {:5.2f} ms, backend CPU {:5.2f} ms  ".format(
                        *statements[number - 1]
                    )
                if not sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
                    print(f"  {number:2} (not explained) {trip}{sql[: args.width]}")
                    continue
                execution, planning, plan = explain(sql, args.repeat)
                total += execution
                print(
                    f"  {number:2} exec {execution:6.2f} ms, plan {planning:5.2f} ms, {trip}"
                    f"{' '.join(sql.split())[: args.width]}",
                    flush=True,
                )
                if args.plans:
                    print("     SQL: " + sql)
                    print("     " + plan.replace("\n", "\n     "))
            print(f"  sum of execution ms: {total:.2f}", flush=True)


if __name__ == "__main__":
    main()
