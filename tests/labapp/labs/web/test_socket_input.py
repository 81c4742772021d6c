"""Bad and heavy input on the lab socket: refused paths, errors that never echo, input never lost."""

from __future__ import annotations

import hashlib
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from labapp.labs.frames import CLIENT_FRAMES, FRAME_MAX, TTY_INPUT_MAX, frame_errors
from labapp.labs.models import Lab
from labapp.labs.web import services
from tests.labapp.frames import FrameLog, next_frame
from tests.labapp.sockets import lab_socket, run_async, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "s3cr3t-typed-text"


BAD_PATHS = ["/ws/labs/-1/", "/ws/labs/abc/", "/ws/labs/1", "/ws/labs/" + "9" * 30 + "/"]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_bad_socket_paths_are_refused_with_one_log_line(client, user_factory, caplog, path):
    cookie = session_cookie(client, user_factory("ada"))

    async def scenario():
        from labapp.config.asgi import application

        headers = [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie)]
        connected, _ = await WebsocketCommunicator(application, path, headers=headers).connect()
        assert not connected

    run_async(scenario)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", f"WebSocket refused: no such path {path!r}")
    ]


def test_the_refusal_is_the_last_socket_route():
    """It matches every path: any route after it would never be reached."""
    from labapp.config.asgi import socket_routes
    from labapp.labs.web.routing import refused_socket_route

    assert socket_routes[-1] is refused_socket_route and socket_routes.count(refused_socket_route) == 1


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "tty.input", "data": SECRET * 5000},
        {"type": "tty.input", "data": 5, SECRET: 1},
        {"type": SECRET},
        {"type": "tty.resize", "cols": SECRET, "rows": 2},
        {"type": "tty.resize", "cols": 10**9, "rows": 2},
    ],
)
def test_frame_errors_never_echo_the_frame(frame):
    problem = frame_errors(frame, CLIENT_FRAMES)
    assert problem and SECRET not in problem and str(10**9) not in problem


def test_oversized_input_is_refused_with_the_limit_and_the_size(client, user_factory):
    ada = user_factory("ada")
    lab = Lab.objects.create(owner=ada, node="local", status=Lab.Status.STOPPED)
    cookie = session_cookie(client, ada)
    data = SECRET * (TTY_INPUT_MAX // len(SECRET) + 1)

    async def scenario():
        comm = lab_socket(lab.pk, cookie)
        assert (await comm.connect())[0]
        await next_frame(comm)  # lab.status
        await comm.send_json_to({"type": "tty.input", "data": data})
        error = await next_frame(comm)
        assert error["code"] == "bad_frame"
        assert SECRET not in error["message"]
        assert f"{len(data)} characters" in error["message"] and str(TTY_INPUT_MAX) in error["message"]
        await comm.disconnect()

    run_async(scenario)


@pytest.mark.kernel
@pytest.mark.usefixtures("sandboxes_cleaned")
def test_input_sent_while_the_shell_is_busy_is_typed_whole_and_in_order(client, user_factory):
    """1.5 MB pasted (in frames, as the browser cuts a paste) while the shell still sleeps: more than
    the node buffers; the consumer holds the rest back, and `cat` gets every byte, in order."""
    ada = user_factory("ada")
    cookie = session_cookie(client, ada)
    paste = "".join(f"{n:05d}" + "x" * 94 + "\r" for n in range(15000))  # 100 bytes a line in the file
    frames = [paste[i : i + TTY_INPUT_MAX] for i in range(0, len(paste), TTY_INPUT_MAX)]

    async def scenario():
        lab = await database_sync_to_async(services.lab_create)(owner=ada, docker_version="19.03")
        comm = lab_socket(lab.pk, cookie)
        assert (await comm.connect())[0]
        log = FrameLog(comm)
        await log.until(lambda: "root@docker-host" in log.tty())
        # No echo: 1.5 MB of it would only slow the test down.
        await comm.send_json_to({"type": "tty.input", "data": "stty -echo; sleep 3; cat > /tmp/x\r"})
        for data in frames:
            await comm.send_json_to({"type": "tty.input", "data": data})
        # Lines typed before `stty` ran may keep their \r (readline's terminal modes): compare without.
        check = "\x04stty echo; tr -d '\\r\\n' < /tmp/x | sha1sum\r"
        await comm.send_json_to({"type": "tty.input", "data": check})
        digest = hashlib.sha1(paste.replace("\r", "").encode()).hexdigest()
        await log.until(lambda: digest in log.tty(), timeout=60)
        assert not log.of("error"), log.of("error")[:3]
        await comm.disconnect()

    run_async(scenario)


def test_any_valid_input_frame_fits_under_the_frame_limit():
    worst = json.dumps({"type": "tty.input", "data": "\x01" * TTY_INPUT_MAX})  # each one \u0001
    assert len(worst.encode()) < FRAME_MAX
