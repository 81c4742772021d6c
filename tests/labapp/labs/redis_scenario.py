"""Run by test_redis_mode.py in a pytest with REDIS_URL and DATABASE_URL (PostgreSQL) set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from labapp.labs.web import services
from tests.labapp.frames import FrameLog
from tests.labapp.labs.workers import scenario_worker
from tests.labapp.sockets import lab_socket, run_async, session_cookie
from topology.client import Client

pytestmark = [
    pytest.mark.skipif("REDIS_URL" not in os.environ, reason="run by test_redis_mode.py"),
    pytest.mark.kernel,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def worker(tmp_path: Path):
    with scenario_worker(tmp_path) as worker:
        yield worker.node


def test_worker_provisions_and_streams_through_redis(worker, client, user_factory):
    ada = user_factory("ada")
    cookie = session_cookie(client, ada)

    async def scenario():
        lab = await database_sync_to_async(services.lab_create)(owner=ada, docker_version="19.03")
        assert lab.node == worker
        comm = lab_socket(lab.pk, cookie)
        assert (await comm.connect())[0]
        log = FrameLog(comm)
        ready = await log.until(
            lambda: [f for f in log.of("lab.status") if f["status"] == "ready"], timeout=60
        )
        sandbox_id = ready[0]["sandbox_id"]
        state = (await log.until(lambda: log.of("lab.state"), timeout=30))[0]
        assert state["snapshot"]["sandbox"] == sandbox_id
        await log.until(lambda: "root@docker-host" in log.tty(), timeout=30)
        await comm.send_json_to({"type": "tty.input", "data": "echo over-redis\r"})
        await log.until(lambda: "over-redis\r\n" in log.tty().split("echo over-redis", 1)[-1], timeout=30)

        await database_sync_to_async(services.lab_stop)(lab=lab)
        await log.until(lambda: [f for f in log.of("lab.status") if f["status"] == "stopped"], timeout=60)
        assert sandbox_id not in {s["id"] for s in Client().ls()}
        await comm.disconnect()

    run_async(scenario)


def test_channel_layer_reads_outlast_its_blocking_receive():
    # Otherwise a receive's BZPOPMIN answer can come just after the socket read gave up.
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    pool = layer.create_pool(0)
    assert pool.connection_kwargs["socket_timeout"] > layer.brpop_timeout
