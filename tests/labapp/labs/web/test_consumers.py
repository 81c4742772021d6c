"""The lab WebSocket on the real ASGI application (labapp.config.asgi.application)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from labapp.labs.models import Lab
from labapp.labs.web import services
from tests.labapp.frames import FrameLog, next_frame
from tests.labapp.sockets import lab_socket, run_async, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def stopped_lab(owner) -> Lab:
    return Lab.objects.create(owner=owner, node="local", status=Lab.Status.STOPPED)


def test_anonymous_socket_is_refused(user_factory):
    lab = stopped_lab(user_factory("ada"))

    async def scenario():
        connected, _ = await lab_socket(lab.pk).connect()
        assert not connected

    run_async(scenario)


def test_another_users_lab_and_unknown_ids_are_refused(client, user_factory):
    lab = stopped_lab(user_factory("ada"))
    cookie = session_cookie(client, user_factory("eve"))

    async def scenario():
        for lab_id in (lab.pk, lab.pk + 1000):
            connected, _ = await lab_socket(lab_id, cookie).connect()
            assert not connected

    run_async(scenario)


def test_foreign_origin_is_refused(client, user_factory):
    ada = user_factory("ada")
    lab = stopped_lab(ada)
    cookie = session_cookie(client, ada)

    async def scenario():
        connected, _ = await lab_socket(lab.pk, cookie, origin=b"http://evil.example").connect()
        assert not connected

    run_async(scenario)


def test_malformed_frames_get_error_frames_and_the_socket_survives(client, user_factory):
    ada = user_factory("ada")
    lab = stopped_lab(ada)
    cookie = session_cookie(client, ada)

    async def scenario():
        comm = lab_socket(lab.pk, cookie)
        connected, _ = await comm.connect()
        assert connected
        status = await next_frame(comm)
        assert status == {
            "type": "lab.status",
            "status": "stopped",
            "error": "",
            "docker_version": "19.03",
            "sandbox_id": "",
        }
        bad = [
            "not json",
            "[1, 2]",
            '{"type": "rm -rf"}',
            '{"type": "tty.resize", "cols": 0, "rows": 24}',
            '{"type": "tty.input", "data": 5}',
            '{"type": "tty.input", "data": "x", "extra": 1}',
            '{"type": "tty.input", "data": "' + "x" * (64 * 1024 + 1) + '"}',
        ]
        for text in bad:
            await comm.send_to(text_data=text)
            error = await next_frame(comm)
            assert (error["type"], error["code"]) == ("error", "bad_frame"), text
        await comm.send_json_to({"type": "lab.refresh"})
        answer = await next_frame(comm)
        assert (answer["type"], answer["code"]) == ("error", "not_ready")
        await comm.disconnect()

    run_async(scenario)


@pytest.mark.kernel
@pytest.mark.usefixtures("sandboxes_cleaned")
def test_a_ready_lab_streams_status_state_and_terminal(client, user_factory):
    ada = user_factory("ada")
    cookie = session_cookie(client, ada)

    async def scenario():
        lab = await database_sync_to_async(services.lab_create)(owner=ada, docker_version="19.03")
        await lab.arefresh_from_db()
        assert lab.status == "ready" and lab.sandbox_id
        comm = lab_socket(lab.pk, cookie)
        connected, _ = await comm.connect()
        assert connected
        status = await next_frame(comm)
        assert (status["status"], status["sandbox_id"]) == ("ready", lab.sandbox_id)

        log = FrameLog(comm)
        state = (await log.until(lambda: log.of("lab.state")))[0]
        assert state["snapshot"]["sandbox"] == lab.sandbox_id
        assert any(link["name"] == "docker0" for link in state["snapshot"]["links"]["host"])

        await log.until(lambda: "root@docker-host" in log.tty())
        await comm.send_json_to({"type": "tty.resize", "cols": 100, "rows": 30})
        await comm.send_json_to({"type": "tty.input", "data": "echo hi; tty; stty size\r"})
        await log.until(lambda: "hi\r\n" in log.tty() and "30 100" in log.tty())
        assert "/dev/pts/" in log.tty()

        await comm.send_json_to({"type": "tty.input", "data": "ip link add nslabtest0 type bridge\r"})

        def dummy_state():
            return [
                f
                for f in log.of("lab.state")
                if any(link["name"] == "nslabtest0" for link in f["snapshot"]["links"]["host"])
            ]

        changed = (await log.until(dummy_state))[0]
        assert changed["seq"] > state["seq"]
        assert isinstance(changed["changed_at"], float)

        # A second socket (a reload) gets the scrollback first.
        second = lab_socket(lab.pk, cookie)
        assert (await second.connect())[0]
        replay = FrameLog(second)
        await replay.until(lambda: replay.of("lab.tty"))
        assert "nslabtest0" in replay.of("lab.tty")[0]["data"]
        await second.disconnect()
        await comm.disconnect()

    run_async(scenario)


@pytest.mark.kernel
@pytest.mark.usefixtures("sandboxes_cleaned")
def test_reset_over_the_socket_replaces_sandbox_and_shell(client, user_factory):
    ada = user_factory("ada")
    cookie = session_cookie(client, ada)

    async def scenario():
        lab = await database_sync_to_async(services.lab_create)(owner=ada, docker_version="19.03")
        await lab.arefresh_from_db()
        old = lab.sandbox_id
        comm = lab_socket(lab.pk, cookie)
        assert (await comm.connect())[0]
        log = FrameLog(comm)
        await log.until(lambda: "root@docker-host" in log.tty() and log.of("lab.state"))

        await database_sync_to_async(services.lab_reset)(lab=lab, docker_version="28")

        def new_status():
            return [f for f in log.of("lab.status") if f["status"] == "ready" and f["sandbox_id"] != old]

        ready = (await log.until(new_status))[0]
        assert ready["docker_version"] == "28"
        statuses = [f["status"] for f in log.of("lab.status")]
        assert statuses == ["ready", "preparing", "ready"]
        assert [f["step"] for f in log.of("lab.progress")] == ["queued", "creating", "starting", "ready"]
        assert log.of("lab.tty.reset")
        after = len(log.frames)
        await log.until(
            lambda: any(
                f["type"] == "lab.state" and f["snapshot"]["sandbox"] == ready["sandbox_id"]
                for f in log.frames[after:]
            )
        )
        await log.until(lambda: "root@docker-host" in "".join(f.get("data", "") for f in log.frames[after:]))
        await comm.disconnect()

    run_async(scenario)
