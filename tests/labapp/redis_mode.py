"""Running a scenario file in a pytest of its own with REDIS_URL and DATABASE_URL (PostgreSQL) set:
settings are read once per process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def shared_redis(db: int) -> str:
    """The URL of database number `db` (one per scenario) on the machine's Redis."""
    return f"redis://127.0.0.1:6379/{db}"


def run_redis_mode(scenario: str, *, redis_url: str, passed: int, env: dict | None = None) -> None:
    """Run `scenario` (a path from the repository root) on Redis `redis_url` and a new PostgreSQL
    database; fail with the start of its failure report unless `passed` tests passed."""
    token = secrets.token_hex(3)
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/nslab_{token}",
        "NSLAB_NODE": f"test{token}",
        **(env or {}),
    }
    env.pop("NSLAB_STATE_DIR", None)  # the inner session makes its own private daemon
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore", scenario]
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    # The start of the failure report, not its end (the workers' logs, printed by the fixtures).
    failures = result.stdout.find("= FAILURES =")
    report = result.stdout[failures : failures + 6000] if failures >= 0 else result.stdout[-6000:]
    assert result.returncode == 0, report + result.stderr[-3000:]
    assert f"{passed} passed" in result.stdout, result.stdout[-500:]
