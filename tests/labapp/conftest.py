"""Fixtures of the web lab tests: a private topology daemon, logged-in sockets, sandbox cleanup."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from topology.client import Client
from topology.errors import TopologyError

# Every Client of this test session (and the worker processes it starts) talks to a daemon of its
# own: the node agent reaps sandboxes it does not know, and must never see anyone else's.
STATE_DIR = Path(f"/var/lib/nslab-test/labapp-{os.getpid()}-{secrets.token_hex(2)}")
os.environ["NSLAB_STATE_DIR"] = str(STATE_DIR)


def pytest_sessionfinish(session, exitstatus):
    if not (STATE_DIR / "daemon.sock").exists():
        shutil.rmtree(STATE_DIR, ignore_errors=True)
        return
    client = Client(autostart=False)
    try:
        client.down_all()
        pid = client.request({"op": "ping"})["pid"]  # the daemon our Clients started
        os.kill(pid, 15)
    except (TopologyError, OSError):
        pass
    shutil.rmtree(STATE_DIR, ignore_errors=True)


@pytest.fixture
def sandboxes_cleaned():
    """Remove every sandbox the test left on the private daemon."""
    before = {s["id"] for s in Client().ls()}
    yield
    for sandbox in Client().ls():
        if sandbox["id"] not in before:
            try:
                Client().down(sandbox["id"])
            except TopologyError:
                pass


@pytest.fixture
def user_factory(db):
    def make(username: str):
        return get_user_model().objects.create_user(username=username, password="pw-for-tests")

    return make


def session_cookie(client, user) -> bytes:
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def lab_socket(lab_id: int, cookie: bytes | None = None, origin: bytes = b"http://localhost"):
    from labapp.config.asgi import application

    headers = [(b"origin", origin), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, f"/ws/labs/{lab_id}/", headers=headers)


def run_async(scenario) -> None:
    """Run an async test scenario in one event loop, then stop that loop's node agent."""
    from labapp.labs.node import embedded_agent_stop

    async def main():
        try:
            await scenario()
        finally:
            await embedded_agent_stop()
            await get_channel_layer().flush()

    async_to_sync(main)()
