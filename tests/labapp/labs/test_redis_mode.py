"""The distributed shape: Redis, PostgreSQL and a real Celery lab-node worker.

Settings are read once per process, so the scenario (tests/labapp/labs/redis_scenario.py) runs in a pytest
of its own with REDIS_URL and DATABASE_URL set; it starts the worker process itself.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
REDIS_DB = 11  # a database number of its own on the shared Redis


@pytest.mark.kernel
@pytest.mark.slow
def test_lab_node_over_redis_postgres_and_celery():
    token = secrets.token_hex(3)
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/nslab_{token}",
        "NSLAB_NODE": f"test{token}",
    }
    env.pop("NSLAB_STATE_DIR", None)  # the inner session makes its own private daemon
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/labapp/labs/redis_scenario.py",
    ]
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    # The start of the failure report, not its end (the worker's log, printed by the fixture).
    failures = result.stdout.find("= FAILURES =")
    report = result.stdout[failures : failures + 6000] if failures >= 0 else result.stdout[-6000:]
    assert result.returncode == 0, report + result.stderr[-3000:]
    assert "2 passed" in result.stdout
