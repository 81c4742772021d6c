"""Run by test_redis_mode.py with REDIS_URL naming a Redis of this scenario's own, which it starts and
restarts (as docker-compose.yml runs it: append-only file on) in the middle of a student's session."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings

from labapp.exercises.models import Exercise, Submission
from labapp.exercises.web import services as exercise_services
from labapp.labs.models import Lab
from tests.labapp.exercises.conftest import load_test_exercise
from tests.labapp.frames import FrameLog
from tests.labapp.labs.workers import scenario_worker
from tests.labapp.sockets import lab_socket, run_async, session_cookie
from tests.polling import wait_for
from tests.redis_server import PrivateRedis

pytestmark = [
    pytest.mark.skipif("REDIS_URL" not in os.environ, reason="run by test_redis_mode.py"),
    pytest.mark.kernel,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sandboxes_cleaned"),
]


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(urlsplit(settings.REDIS_URL).port, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def worker(redis_server, tmp_path):
    with scenario_worker(tmp_path, flush=False) as worker:
        yield worker


@pytest.fixture
def exercise(tmp_path) -> Exercise:
    return load_test_exercise(tmp_path)


async def reconnect(lab_id: int, cookie: bytes, timeout: float = 30.0):
    """A socket to the lab as the page makes it again: tries until the handshake is accepted."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        page = lab_socket(lab_id, cookie)
        try:
            if (await page.connect())[0]:
                return page
        except redis.ConnectionError:  # the first try may meet a connection Redis closed
            pass
        assert asyncio.get_running_loop().time() < deadline, "the lab socket did not connect again"
        await asyncio.sleep(0.5)


def test_a_session_goes_on_after_redis_restarts(redis_server, worker, client, user_factory, exercise):
    ada = user_factory("ada")
    attempt = exercise_services.attempt_start(user=ada, exercise=exercise)
    wait_for(lambda: Lab.objects.get(pk=attempt.lab_id).status == "ready", 60, what="lab ready")
    cookie = session_cookie(client, ada)

    async def scenario():
        page = lab_socket(attempt.lab_id, cookie)
        assert (await page.connect())[0]
        log = FrameLog(page)
        await log.until(lambda: "root@docker-host" in log.tty(), timeout=30)
        await page.send_json_to({"type": "tty.input", "data": "echo before-$((6*7))\r"})
        await log.until(lambda: "before-42" in log.tty())

        await asyncio.to_thread(redis_server.stop)
        await asyncio.to_thread(redis_server.start)
        # The page's socket broke with the channel layer; the browser connects again, with backoff.
        page = await reconnect(attempt.lab_id, cookie)
        log = FrameLog(page)
        await log.until(lambda: [f for f in log.of("lab.status") if f["status"] == "ready"])
        await log.until(lambda: log.of("lab.state"), timeout=30)
        # The same shell: its scrollback holds what was typed before.
        await log.until(lambda: "before-42" in log.tty(), timeout=30)
        await page.send_json_to({"type": "tty.input", "data": "echo after-$((6*7))\r"})
        await log.until(lambda: "after-42" in log.tty(), timeout=30)
        await page.send_json_to({"type": "attempt.check", "answers": {"port": {"0": "8080"}}})
        await log.until(lambda: [f for f in log.of("attempt.graded") if f["kind"] == "check"], timeout=60)
        await page.disconnect()

    run_async(scenario)
    assert Submission.objects.filter(attempt=attempt, kind="check").count() == 1
