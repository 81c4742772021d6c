"""`make run`'s server (labapp/config/serve.py) as a classroom meets it: a real Daphne with DEBUG off."""

from __future__ import annotations

import asyncio
import http.client
import os
import socket

import pytest
import websockets

from bench.labserver import LabServer
from labapp.config.serve import allowed_hosts, banner, machine_addresses
from labapp.labs.frames import FRAME_MAX
from tests.labapp.sockets import session_of_a_lab_owner
from tests.polling import wait_for

TRACEBACK_MARKS = ("Traceback", "technical", "DEBUG = True", "URLconf", "settings.py")


@pytest.fixture(scope="module")
def server():
    if os.geteuid() != 0:
        pytest.skip("the lab server runs the lab engine as root here (CI is root)")
    server = LabServer("serve", debug=False).start()
    try:
        yield server
    finally:
        server.stop()


def get(server: LabServer, path: str, host: str = "127.0.0.1", headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host, **(headers or {})})
        answer = conn.getresponse()
        return answer.status, answer.read().decode(errors="replace")
    finally:
        conn.close()


def test_a_missing_page_is_plain_without_debug(server):
    status, body = get(server, "/no/such/page/")
    assert status == 404
    assert "Page not found" in body
    assert not any(mark in body for mark in TRACEBACK_MARKS), body[:500]


def test_a_foreign_host_header_is_refused(server):
    assert get(server, "/accounts/login/")[0] == 200
    status, body = get(server, "/accounts/login/", host="evil.example")
    assert status == 400
    assert not any(mark in body for mark in TRACEBACK_MARKS), body[:500]


def test_collected_static_files_are_served(server):
    assert get(server, "/static/labs/lab.js")[0] == 200
    assert get(server, "/static/vendor/xterm.js")[0] == 200


def test_bad_socket_paths_are_refused_at_the_handshake_with_one_log_line(server):
    paths = ["/ws/labs/-1/", "/ws/labs/abc/", "/ws/labs/1", "/ws/labs/99999999999999999999999/", "/ws/"]
    before = len(server.log_tail(100000).splitlines())

    async def scenario():
        for path in paths:
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(f"ws://127.0.0.1:{server.port}{path}", origin=server.base_url):
                    pass
            assert refused.value.response.status_code == 403, path

    asyncio.run(scenario())
    log = server.log_tail(100000).splitlines()[before:]
    assert not [line for line in log if "Traceback" in line or "ERROR" in line], log
    for path in paths:
        assert len([line for line in log if "refused" in line and repr(path) in line]) == 1, (path, log)


def test_an_oversized_frame_closes_the_socket_with_1009_and_one_log_line(server):
    session, lab_id = session_of_a_lab_owner(server)
    before = len(server.log_tail(100000).splitlines())

    async def scenario():
        async with websockets.connect(
            f"ws://127.0.0.1:{server.port}/ws/labs/{lab_id}/",
            origin=server.base_url,
            additional_headers={"Cookie": f"sessionid={session}"},
        ) as ws:
            assert '"lab.status"' in await ws.recv()
            await ws.send('{"type": "tty.input", "data": "' + "x" * 1_000_000 + '"}')
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:  # frames sent before the close (the classroom's join frames) come first
                    await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None, "dropped without a close frame"
        assert closed.value.rcvd.code == 1009

    asyncio.run(scenario())

    def log_after():
        log = server.log_tail(100000).splitlines()[before:]
        return log if any("1009" in line and str(FRAME_MAX) in line for line in log) else None

    # The consumer logs after Daphne has logged the disconnection.
    try:
        log = wait_for(log_after, what="the consumer to log the 1009 close")
    except AssertionError:
        print("\n".join(server.log_tail(100000).splitlines()[before:]))
        raise
    assert not [line for line in log if "Traceback" in line or "ERROR" in line], log
    assert len([line for line in log if "1009" in line]) == 1, log


def test_allowed_hosts_follow_the_bind_address():
    assert allowed_hosts("127.0.0.1") == ["127.0.0.1", "localhost", "[::1]"]
    everywhere = allowed_hosts("0.0.0.0")
    assert socket.gethostname() in everywhere
    assert {f"[{a}]" if ":" in a else a for a in machine_addresses()} <= set(everywhere)
    assert "*" not in everywhere
    assert allowed_hosts("2001:db8::5")[-1] == "[2001:db8::5]"


def test_the_banner_says_where_to_log_in_and_how_to_serve_a_classroom():
    local = banner("127.0.0.1", 8000, {})
    assert "http://127.0.0.1:8000" in local and "make run HOST=0.0.0.0" in local and "DEBUG is off" in local
    classroom = banner("0.0.0.0", 8000, {"DJANGO_ALLOWED_HOSTS": "localhost,10.1.2.3", "DJANGO_DEBUG": "1"})
    assert "http://10.1.2.3:8000" in classroom and "DEBUG is ON" in classroom
