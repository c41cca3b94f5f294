"""Gunicorn settings for one app server: `gunicorn -c deploy/gunicorn.conf.py aid_alliance.wsgi`.

Each app server runs this with the same environment (deploy/aid-alliance.env); they share
nothing but PostgreSQL, the cache (the database's, or Redis with REDIS_URL) and the
private-media mount, so any of them can serve any request of any session. Values here can be
changed per server with GUNICORN_* variables, or on the command line (which wins).
"""

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The address nginx proxies to (deploy/nginx.conf, upstream aid_alliance_app). On a server of
# its own: its private address, e.g. 10.0.0.11:8000, never a public one.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Synchronous workers: a request holds one process, and a page's work is mostly waiting on
# PostgreSQL or making a PDF (CPU). WEB_CONCURRENCY (Gunicorn's own name) sets the number;
# by default two per core and one more.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)

# One application's PDF (WeasyPrint) and a month's report are made in the request and take a
# few seconds; a quarter's or a year's PDF goes to the worker (reports/tasks.py). Two minutes
# is far above the first and still ends a request that hangs.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
# A deploy (SIGHUP, or SIGTERM from systemd) lets requests under way finish.
graceful_timeout = 30
# nginx keeps connections to the app servers open (upstream keepalive).
keepalive = 5

# Recycle each worker after about twenty thousand requests, at different times (jitter), so
# that memory held by PDF rendering is given back and the workers never restart all at once.
# Not after a thousand: a new worker spends about 0.7 s of CPU importing the app, and then
# builds its pages live once each, so recycling that often cost about a millisecond of every
# request, as much as serving a kept page adds to the bare view (issue 18; under `make
# bench`'s load with this file, a thousand took the bare view from about 1,100 to 620-790
# req/s and the inbox from 350 to 220-320).
max_requests = 20000
max_requests_jitter = 2000

# Only the reverse proxy may tell Gunicorn the request came over HTTPS (X-Forwarded-Proto).
# The client's own address for the rate limits is read by Django (aid_alliance/clients.py,
# TRUSTED_PROXY_COUNT), not here.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# One line per request to stdout (journald): the client address as the proxy saw it, the
# status, the size, and the time taken in milliseconds. The query string is not logged
# separately and nothing of a request body ever is.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = '%({x-forwarded-for}i)s %(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Gunicorn 25+ opens a control socket at one path per user: two instances on one host would
# take each other's. systemd reloads and stops through signals instead.
control_socket_disable = True

# Sealing the access record (cases.audit) next to the app: with GUNICORN_ACCESS_SEAL_SECONDS
# above 0 the master starts `manage.py seal_access_records --loop SECONDS` once it is ready
# and stops it when it exits; the loop also ends by itself if the master is killed outright.
# `make run` sets it: there is no worker host there, and nobody has to remember anything. In
# deploy/ it stays 0: the worker host's aid-alliance-sealer.service seals, so that one host
# writes the one checkpoint file (ACCESS_CHECKPOINT_FILE) the nightly verification reads.
access_seal_seconds = float(os.environ.get("GUNICORN_ACCESS_SEAL_SECONDS") or 0)


def when_ready(server):
    if access_seal_seconds > 0:
        server.access_sealer = subprocess.Popen(  # noqa: S603 - our own command, no shell
            [sys.executable, str(ROOT / "manage.py"), "seal_access_records"]
            + ["--loop", f"{access_seal_seconds:g}"],
            cwd=ROOT,
        )
        server.log.info("access record sealer started (pid %s)", server.access_sealer.pid)


def on_exit(server):
    sealer = getattr(server, "access_sealer", None)
    if sealer is None or sealer.poll() is not None:
        return
    sealer.terminate()  # it finishes the seal under way
    try:
        sealer.wait(timeout=20)
    except subprocess.TimeoutExpired:
        sealer.kill()
