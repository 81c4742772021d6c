"""The classroom on the distributed shape: PostgreSQL and Redis, a grade recorded in another process.

Settings are read once per process, so the scenario (postgres_redis_scenario.py) runs in a pytest of
its own with REDIS_URL and DATABASE_URL set (tests/labapp/redis_mode.py).
"""

from __future__ import annotations

import pytest

from tests.labapp.redis_mode import run_redis_mode, shared_redis


@pytest.mark.slow
def test_classroom_over_postgres_and_redis():
    run_redis_mode("tests/labapp/classroom/postgres_redis_scenario.py", redis_url=shared_redis(12), passed=2)
