"""Loaded by pytest before Django's settings (pyproject: `-p tests.pytest_test_mode`).

The settings relax their production checks (a throwaway key, plain HTTP, "testserver")
only when AID_TEST_MODE is set. A conftest.py would come too late: pytest-django reads the
settings before any conftest is imported. Set in os.environ, the mark also reaches the
processes the tests start (servers, workers, commands).
"""

import os

os.environ["AID_TEST_MODE"] = "1"
