"""Helpers of the WebSocket tests: logged-in sockets on the real ASGI app, one loop per scenario; a
session of a lab owner on a real server (bench.labserver.LabServer)."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator


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
    from labapp.labs.node.agent import embedded_agent_stop

    async def main():
        try:
            await scenario()
        finally:
            await embedded_agent_stop()
            await get_channel_layer().flush()

    async_to_sync(main)()


def session_of_a_lab_owner(server) -> tuple[str, int]:
    """A session cookie of the demo student and the id of a (stopped) lab of theirs."""
    out = server.python(
        "from django.contrib.auth import get_user_model\n"
        "from django.test import Client\n"
        "from labapp.labs.models import Lab\n"
        "user = get_user_model().objects.get(username='student')\n"
        "lab = Lab.objects.create(owner=user, node='local', status='stopped')\n"
        "client = Client()\n"
        "client.force_login(user)\n"
        "print(client.cookies['sessionid'].value, lab.pk)\n"
    )
    session, lab_id = out.split()
    return session, int(lab_id)
