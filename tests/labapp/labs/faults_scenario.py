"""Run by test_redis_mode.py (Redis, PostgreSQL, real worker processes, NSLAB_HEARTBEAT_SECONDS=1):
lab-node workers killed with SIGKILL in the middle of a provision and of a Check, and a lab node that
disappears for good beside a second one."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from bench.labserver import stop_private_daemon
from labapp.exercises.models import Exercise, Submission
from labapp.exercises.web import services as exercise_services
from labapp.labs.channels import node_channel
from labapp.labs.models import Lab
from labapp.labs.node.lifecycle import node_owner
from labapp.labs.web import services
from tests.labapp.exercises.conftest import TEST_EXERCISE, load_test_exercise
from tests.labapp.frames import FrameLog
from tests.labapp.labs.workers import LabNodeWorker, scenario_worker
from tests.labapp.sockets import lab_socket, run_async, session_cookie
from tests.polling import wait_for
from tests.tcp_proxy import CuttableProxy
from topology.client import Client

pytestmark = [
    pytest.mark.skipif("REDIS_URL" not in os.environ, reason="run by test_redis_mode.py"),
    pytest.mark.kernel,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sandboxes_cleaned"),
]

# The test exercise, its setup made long enough to kill the worker while it runs.
SLOW_SETUP = TEST_EXERCISE.replace(
    '  - sh: "sysctl -w net.ipv4.ip_forward=0"\n',
    '  - sh: "sysctl -w net.ipv4.ip_forward=0"\n  - sh: "sleep 3"\n',
)


@pytest.fixture
def worker(tmp_path: Path):
    with scenario_worker(tmp_path) as worker:
        yield worker


@pytest.fixture
def exercise(tmp_path) -> Exercise:
    return load_test_exercise(tmp_path, SLOW_SETUP)


def node_sandboxes(node: str, client: Client | None = None) -> set[str]:
    return {s["id"] for s in (client or Client()).ls() if s.get("owner") == node_owner(node)}


def unacked_tasks(queue: str) -> list[str]:
    """The names of the tasks taken from `queue` and not acknowledged (kombu's Redis `unacked`)."""
    names = []
    for raw in redis.Redis.from_url(settings.REDIS_URL).hvals("unacked"):
        message, _exchange, routing_key = json.loads(raw)
        if routing_key == queue:
            names.append(message["headers"]["task"])
    return names


def test_a_provision_killed_with_its_worker_runs_again(worker, user_factory, exercise):
    ada = user_factory("ada")
    attempt = exercise_services.attempt_start(user=ada, exercise=exercise)
    lab = attempt.lab
    # The sandbox exists and the setup sleeps: the provision is half done.
    half_made = wait_for(lambda: node_sandboxes(worker.node), 60, interval=0.05, what="a new sandbox")
    worker.kill()
    lab.refresh_from_db()
    assert lab.status == "preparing"
    assert unacked_tasks(node_channel(worker.node)) == ["labapp.labs.tasks.lab_provision"]

    worker.start()
    wait_for(lambda: Lab.objects.get(pk=lab.pk).status != "preparing", 60, what="the lab prepared again")
    lab.refresh_from_db()
    assert (lab.status, lab.error) == ("ready", "")
    # The half-made sandbox was reaped as an orphan; the lab's is the only one of the node.
    assert node_sandboxes(worker.node) == {lab.sandbox_id} and lab.sandbox_id not in half_made
    # Acknowledged once the task returns, just after it marked the lab ready.
    wait_for(lambda: unacked_tasks(node_channel(worker.node)) == [], 10, what="the provision acknowledged")


def test_a_check_killed_with_its_worker_is_graded_once(worker, client, user_factory, exercise):
    ada = user_factory("ada")
    attempt = exercise_services.attempt_start(user=ada, exercise=exercise)
    wait_for(lambda: Lab.objects.get(pk=attempt.lab_id).status == "ready", 60, what="lab ready")
    cookie = session_cookie(client, ada)
    queue = node_channel(worker.node)

    async def scenario():
        comm = lab_socket(attempt.lab_id, cookie)
        assert (await comm.connect())[0]
        log = FrameLog(comm)
        await comm.send_json_to({"type": "attempt.check", "answers": {"port": {"0": "8080"}}})
        # Killed as soon as it took the Check (before or after grading: once either way).
        # (In threads of their own: the thread of database_sync_to_async serves the consumer.)
        await asyncio.to_thread(
            wait_for, lambda: "labapp.exercises.tasks.attempt_check" in unacked_tasks(queue), 30, 0.005
        )
        worker.kill()
        await asyncio.to_thread(worker.start)
        await log.until(lambda: [f for f in log.of("attempt.graded") if f["kind"] == "check"], timeout=60)
        await comm.disconnect()

    run_async(scenario)
    checks = Submission.objects.filter(attempt=attempt, kind="check")
    assert checks.count() == 1 and checks[0].request_id
    # Acknowledged once the task returns, just after it sent the grades.
    wait_for(lambda: unacked_tasks(queue) == [], 10, what="the Check acknowledged")


def test_labs_of_a_dead_node_are_lost_and_start_again_elsewhere(worker, tmp_path, client, user_factory):
    ada, bob = user_factory("ada"), user_factory("bob")
    lab = services.lab_create(owner=ada)
    assert lab.node == worker.node
    wait_for(lambda: Lab.objects.get(pk=lab.pk).status == "ready", 60, what="lab ready")
    # A second node with its own daemon (state directory).
    # (The session's private daemon's directory, from tests/labapp/conftest.py, with a suffix.)
    other_dir = Path(os.environ["NSLAB_STATE_DIR"] + "-b")
    other = LabNodeWorker(f"{worker.node}b", tmp_path / "other.log", state_dir=other_dir)
    other_client = Client()
    other_client.path = other_dir / "daemon.sock"
    cookie = session_cookie(client, ada)
    try:
        other.start()

        async def scenario():
            comm = lab_socket(lab.pk, cookie)
            assert (await comm.connect())[0]
            log = FrameLog(comm)
            worker.kill()  # the node is gone for good: its heartbeat stops
            failed = await log.until(
                lambda: [f for f in log.of("lab.status") if f["status"] == "failed"], timeout=30
            )
            assert worker.node in failed[0]["error"] and "lost" in failed[0]["error"]
            await comm.disconnect()

        run_async(scenario)
        lab.refresh_from_db()
        assert (lab.status, lab.sandbox_id) == ("failed", "")

        # One click: Reset gives the lab a new sandbox on the node that lives; new labs go there too.
        lab = services.lab_reset(lab=lab)
        fresh = services.lab_create(owner=bob)
        assert lab.node == other.node and fresh.node == other.node
        wait_for(
            lambda: {Lab.objects.get(pk=pk).status for pk in (lab.pk, fresh.pk)} == {"ready"},
            60,
            what="both labs ready on the other node",
        )
        lab.refresh_from_db()
        fresh.refresh_from_db()
        assert node_sandboxes(other.node, other_client) == {lab.sandbox_id, fresh.sandbox_id}
    finally:
        other.stop()
        print(other.log())
        stop_private_daemon(other_dir)


def test_terminals_come_back_after_the_worker_restarts(worker, client, user_factory):
    ada = user_factory("ada")
    lab = services.lab_create(owner=ada)
    wait_for(lambda: Lab.objects.get(pk=lab.pk).status == "ready", 60, what="lab ready")
    cookie = session_cookie(client, ada)

    async def scenario():
        comm = lab_socket(lab.pk, cookie)
        assert (await comm.connect())[0]
        log = FrameLog(comm)
        await log.until(lambda: "root@docker-host" in log.tty(), timeout=30)
        await asyncio.to_thread(worker.kill)
        await asyncio.to_thread(worker.start)
        # The new agent announced itself: this socket watches again and gets a new shell's terminal.
        await log.until(lambda: log.of("lab.tty.reset"), timeout=30)
        resets = len(log.frames)

        def since_reset() -> str:
            return "".join(f["data"] for f in log.frames[resets:] if f["type"] == "lab.tty")

        await log.until(lambda: "root@docker-host" in since_reset(), timeout=30)
        assert [f["notice"] for f in log.frames[resets:] if f["type"] == "lab.tty.open"] == ["restarted"]
        await comm.send_json_to({"type": "tty.input", "data": "echo back-$((6*7))\r"})
        await log.until(lambda: "back-42" in since_reset())
        # A page opened later (a second tab, a teacher watching) is told so too: the note is the shell's.
        later = lab_socket(lab.pk, cookie)
        assert (await later.connect())[0]
        later_log = FrameLog(later)
        await later_log.until(lambda: "back-42" in later_log.tty(), timeout=30)
        assert [f["notice"] for f in later_log.of("lab.tty.open")] == ["restarted"]
        await later.disconnect()
        await comm.disconnect()

    run_async(scenario)


def test_a_provision_waits_out_a_database_restart(tmp_path, user_factory):
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    proxy = CuttableProxy(int(connection.settings_dict["PORT"] or 5432))
    worker = LabNodeWorker(settings.NSLAB_NODE, tmp_path / "worker.log", db_port=proxy.port)
    try:
        worker.start()
        proxy.cut()  # PostgreSQL restarting, as the worker sees it
        lab = services.lab_create(owner=user_factory("ada"))
        wait_for(lambda: "OperationalError" in worker.log(), 30, what="the provision meeting no database")
        proxy.restore()
        wait_for(lambda: Lab.objects.get(pk=lab.pk).status != "preparing", 60, what="the lab prepared")
        assert Lab.objects.get(pk=lab.pk).status == "ready"
    finally:
        worker.stop()
        proxy.close()
        print(worker.log())
