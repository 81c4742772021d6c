"""The distributed shape: Redis, PostgreSQL and real Celery lab-node workers.

Settings are read once per process, so each scenario runs in a pytest of its own with REDIS_URL and
DATABASE_URL set (tests/labapp/redis_mode.py); it starts the worker processes itself.
"""

from __future__ import annotations

import pytest

from tests.labapp.redis_mode import run_redis_mode


@pytest.mark.kernel
@pytest.mark.slow
def test_lab_node_over_redis_postgres_and_celery():
    run_redis_mode("tests/labapp/labs/redis_scenario.py", redis_db=11, passed=2)


@pytest.mark.kernel
@pytest.mark.slow
def test_labs_survive_killed_workers_and_dead_nodes():
    # Heartbeats every second: a node silent for 3 s is dead.
    run_redis_mode(
        "tests/labapp/labs/faults_scenario.py", redis_db=13, passed=4, env={"NSLAB_HEARTBEAT_SECONDS": "1"}
    )
