"""The classroom on the distributed shape: PostgreSQL and Redis, a grade recorded in another process.

Settings are read once per process, so the scenario (postgres_redis_scenario.py) runs in a pytest of
its own with REDIS_URL and DATABASE_URL set, like tests/labapp/labs/test_redis_mode.py.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
REDIS_DB = 12  # a database number of its own on the shared Redis


@pytest.mark.slow
def test_classroom_over_postgres_and_redis():
    token = secrets.token_hex(3)
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/nslab_{token}",
        "NSLAB_NODE": f"test{token}",
    }
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore"]
    argv.append("tests/labapp/classroom/postgres_redis_scenario.py")
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    failures = result.stdout.find("= FAILURES =")
    report = result.stdout[failures : failures + 6000] if failures >= 0 else result.stdout[-6000:]
    assert result.returncode == 0, report + result.stderr[-3000:]
    assert "2 passed" in result.stdout
