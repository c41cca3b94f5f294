"""Browser tests: Debian's Chromium driven by Playwright against a live Django server.

Run with `DJANGO_ALLOW_ASYNC_UNSAFE=true .venv/bin/pytest tests/browser`. Without
/usr/bin/chromium every test here is skipped (with the reason shown), unless
REQUIRE_BROWSER=1, in which case they fail: CI must not pass by skipping them.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django then refuses
# database access from it unless told that this is safe (it is: one thread, no async code).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def _browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip() == "1"


def pytest_collection_modifyitems(config, items):
    """Mark every test of this folder `browser`; skip them all when Chromium is missing."""
    missing = not CHROMIUM.exists()
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} is missing (apt-get install chromium); set REQUIRE_BROWSER=1 to fail"
    )
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if missing and not _browser_required():
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        # Only reached with REQUIRE_BROWSER=1: the collection hook skips otherwise.
        pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def axe_source():
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in the project folder")
    return AXE.read_text(encoding="utf-8")


def _no_static_handler(app):
    return app


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, but serving static files like production.

    Pages link the hashed names of the manifest storage (css/app.<hash>.css), which the
    default test handler (the staticfiles finders) cannot find; WhiteNoise, already in
    the middleware, serves them from STATIC_ROOT as it does in production.
    """
    from pytest_django.live_server_helper import LiveServer

    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread.static_handler = _no_static_handler
    server.start()
    yield server
    server.stop()


@pytest.fixture
def site(transactional_db, live_server, people):
    """The live server's URL, with the demo directory and the named users in its database.

    `transactional_db` comes first so that `people` (and `directory` under it) write
    committed rows that the server thread can read.
    """
    return live_server.url
