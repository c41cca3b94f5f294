"""Milliseconds of a submission with routing to every member (issue 18: median <= 30 ms).

    DATABASE_URL=postgres://root@127.0.0.1:5432/aid_alliance_bench \\
        .venv/bin/python scripts/bench_submit.py [--submissions 30] [--runs 3] [--profile 25]

scripts/bench_scale.py's measure (`make bench` reports it), alone: copies of a submitted
application submitted as new drafts, each in a transaction rolled back, on a bench
database. Each run prints the median wall and CPU ms of --submissions submissions and the
queries of one; with --profile N, a cProfile (on process time) of one more run and the N
functions of the app's own code with the most cumulative CPU ms per submission.

BENCH_APP_ROOT=/path/to/other/checkout measures that checkout's code (the "before").
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pages  # noqa: E402 - the Django set-up for BENCH_APP_ROOT's code
import bench_scale  # noqa: E402 - the measure itself


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=30, help="Submissions per run.")
    parser.add_argument("--runs", type=int, default=3, help="Runs.")
    parser.add_argument("--profile", type=int, default=0, help="Top N functions to show.")
    return parser.parse_args()


def show_profile(submissions: int, top: int) -> None:
    profiler = cProfile.Profile(time.process_time)
    bench_scale.time_submissions(submissions, profiler=profiler)
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (filename, line, name), (_cc, calls, _own, cumulative, _callers) in stats.stats.items():
        where = filename.replace(str(bench_pages.APP_ROOT) + "/", "")
        if where.startswith(bench_pages.APP_CODE):
            rows.append((cumulative * 1000 / submissions, calls / submissions, where, line, name))
    print("  CPU ms per submission, app code, cumulative:")
    for ms, calls, where, line, name in sorted(rows, reverse=True)[:top]:
        print(f"    {ms:7.2f} ms  {calls:6.1f}x  {where}:{line}({name})")


def main() -> None:
    args = parse_args()
    bench_pages.setup_django()
    print(f"code: {bench_pages.APP_ROOT}; load average: {os.getloadavg()[0]:.2f}", flush=True)
    for _ in range(args.runs):
        result = bench_scale.time_submissions(args.submissions)
        print(
            f"submission (routing to {result['routed']} members): median "
            f"{result['median_ms']:.1f} ms  CPU {result['cpu_ms']:.1f} ms  "
            f"p95 {result['p95_ms']:.1f} ms  {result['queries']} queries",
            flush=True,
        )
    if args.profile:
        show_profile(args.submissions, args.profile)


if __name__ == "__main__":
    main()
