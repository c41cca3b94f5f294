"""Where a page's CPU goes under load: CPU ms a request of each group of processes.

    DATABASE_URL=postgres://root@127.0.0.1:5432/aid_alliance_bench \\
        .venv/bin/python scripts/bench_cpu.py [--pages bare,bare-signed-in,inbox] [--duration 8]
        [--system]

The server and the load are scripts/bench_scale.py's (gunicorn with twice the cores of sync
workers, Redis on 127.0.0.1:6379 when it answers, wrk with 8 connections, the same pages
and sign-ins, on a bench database it has filled). A page answering anything but 2xx or 3xx
is not measured: the run stops. For
each page, after 2 s of warm-up, it reads the CPU time (user and system) of every process
from /proc before and after --duration seconds of load and divides each group's by the
requests served: the app's workers (gunicorn), PostgreSQL (its backends, the WAL writer,
the checkpointer, autovacuum), Redis, and wrk itself. On a machine whose cores are all
busy (a throughput run), the sum is about the cores' time a request costs, so it says
which part of the stack a page's cost is in. Every process of a group counts, so run it
with nothing else using PostgreSQL or Redis. A process that ends inside the window takes
its time with it: the workers keep their database connections for the whole run
(DB_CONN_MAX_AGE an hour here, a minute in `make bench`), so that their backends last.

With --system each group's figure is followed by the part of it spent in the kernel
(system time: sockets, the WAL's fsync, page faults), the rest being its own code.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_reports  # noqa: E402 - the environment of a production-mode run
import bench_scale  # noqa: E402 - the server, the pages and the load

GROUPS = ("gunicorn", "postgres", "redis", "wrk")
TICKS = os.sysconf("SC_CLK_TCK")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pages",
        default="bare,bare-signed-in,inbox,search,application,status,directory,edit,dashboard",
        help="Comma-separated pages (bare is the bare view without a session).",
    )
    parser.add_argument("--duration", type=int, default=8, help="Seconds of load a page.")
    parser.add_argument("--year", type=int, default=2026, help="The dashboard's year.")
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers."
    )
    parser.add_argument(
        "--system", action="store_true", help="Also each group's system (kernel) time."
    )
    return parser.parse_args()


def _group(pid: str) -> tuple[str, int, int] | None:
    """The process's group and its CPU ticks (user + system, and system alone), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    system = int(fields[12])
    ticks = int(fields[11]) + system
    if b"gunicorn" in command:
        return "gunicorn", ticks, system
    if name.startswith("postgres"):
        return "postgres", ticks, system
    if name.startswith("redis"):
        return "redis", ticks, system
    if name == "wrk":
        return "wrk", ticks, system
    return None


def _ticks() -> dict[str, tuple[str, int, int]]:
    found = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit() and (group := _group(pid)) is not None:
            found[pid] = group
    return found


def measure(url: str, cookie: str, duration: int) -> dict:
    """req/s and the CPU ms a request of each group (`cpu`) and the part of it in the kernel
    (`system`), wrk's own from its rusage."""
    bench_scale.load(url, cookie, 2, 8)  # warm-up, not counted
    before, wrk_before = _ticks(), os.times()
    result = bench_scale.load(url, cookie, duration, 8)
    after, wrk_after = _ticks(), os.times()
    if result["non_2xx"]:
        sys.exit(f"{url}: {result['non_2xx']} answers not 2xx or 3xx; not measured")
    requests = result["rps"] * duration
    spent, in_kernel = dict.fromkeys(GROUPS, 0.0), dict.fromkeys(GROUPS, 0.0)
    for pid, (group, ticks, system) in after.items():
        _, ticks_before, system_before = before.get(pid, (group, 0, 0))
        spent[group] += ticks - ticks_before
        in_kernel[group] += system - system_before
    cpu = {group: spent[group] * 1000 / TICKS / requests for group in GROUPS}
    system = {group: in_kernel[group] * 1000 / TICKS / requests for group in GROUPS}
    wrk_system = wrk_after.children_system - wrk_before.children_system
    children = (wrk_after.children_user - wrk_before.children_user) + wrk_system
    cpu["wrk"] = children * 1000 / requests  # wrk has ended: its time is in our rusage
    system["wrk"] = wrk_system * 1000 / requests
    return {"rps": result["rps"], "cpu": cpu, "system": system}


def main() -> None:
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `make bench` installs Debian's wrk package.")
    cache = bench_scale.use_local_redis(bench_reports.configure_environment())
    os.environ["BENCH_BARE_VIEW"] = "true"
    os.environ["DB_CONN_MAX_AGE"] = "3600"  # the backends last the run: their time is read
    os.environ.setdefault("API_THROTTLE_ANON", "1000000/minute")
    os.environ.setdefault("API_THROTTLE_USER", "1000000/minute")
    import django

    django.setup()
    from django.db import connections

    prep = bench_scale.prepare(args.year)
    connections.close_all()
    server, base = bench_scale.start_server(args.workers)
    print(f"{args.workers} sync workers; cache and sessions: {cache}", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}; CPU ms a request:", flush=True)
    titles = [title for g in GROUPS for title in ((g, "system") if args.system else (g,))]
    print(f"{'page':16} {'req/s':>7} " + " ".join(f"{t:>9}" for t in titles) + "      sum")
    try:
        for name in [page for page in args.pages.split(",") if page]:
            path = "/bench/bare/" if name == "bare" else prep["pages"][name]
            cookie = "" if name == "bare" else prep["cookies"].get(name, "")
            done = measure(base + path, cookie, args.duration)
            figures = " ".join(
                f"{done['cpu'][g]:9.2f}" + (f" {done['system'][g]:9.2f}" if args.system else "")
                for g in GROUPS
            )
            total = sum(done["cpu"].values())
            print(f"{name:16} {done['rps']:7.0f} {figures} {total:8.2f}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
