"""The distributed shape: Redis, PostgreSQL and real Celery lab-node workers.

Settings are read once per process, so each scenario runs in a pytest of its own with REDIS_URL and
DATABASE_URL set (tests/labapp/redis_mode.py); it starts the worker processes itself.
"""

from __future__ import annotations

import socket

import pytest

from tests.labapp.redis_mode import run_redis_mode, shared_redis


@pytest.mark.kernel
@pytest.mark.slow
def test_lab_node_over_redis_postgres_and_celery():
    run_redis_mode("tests/labapp/labs/redis_scenario.py", redis_url=shared_redis(11), passed=2)


@pytest.mark.kernel
@pytest.mark.slow
def test_labs_survive_killed_workers_and_dead_nodes():
    # Heartbeats every second: a node silent for 3 s is dead.
    run_redis_mode(
        "tests/labapp/labs/faults_scenario.py",
        redis_url=shared_redis(13),
        passed=5,
        env={"NSLAB_HEARTBEAT_SECONDS": "1"},
    )


@pytest.mark.kernel
@pytest.mark.slow
def test_a_session_survives_a_redis_restart():
    # A Redis of the scenario's own (it restarts it), on a free port.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run_redis_mode(
        "tests/labapp/labs/redis_restart_scenario.py",
        redis_url=f"redis://127.0.0.1:{port}/0",
        passed=1,
    )
