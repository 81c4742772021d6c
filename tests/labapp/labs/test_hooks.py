"""labapp.labs.hooks: an app that labs does not know plugs a panel, a socket frame and a group frame in."""

from __future__ import annotations

import copy

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from labapp.labs import frames, hooks
from labapp.labs.channels import lab_group
from labapp.labs.models import Lab
from labapp.labs.web import services
from tests.labapp.frames import FrameLog, next_frame
from tests.labapp.sockets import lab_socket, run_async, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

PANEL = '<section id="echo-panel">Echo for lab {{ lab_id }}</section>'


async def echo_ping(consumer, frame: dict) -> None:
    """The stand-in app's socket frame: answered through the lab's group, or refused."""
    if frame["text"] == "no":
        await consumer.send_error("echo_refused", "refused")
        return
    message = {"type": "echo.pong", "text": frame["text"], "lab_id": consumer.lab_id}
    await get_channel_layer().group_send(lab_group(consumer.lab_id), message)


@pytest.fixture
def echo_app(settings, tmp_path):
    """A stand-in app registered through the hooks (as its AppConfig.ready() would); removed after."""
    registries = (hooks.SOCKET_HANDLERS, hooks.GROUP_FRAMES, hooks.LAB_PANELS)
    frame_sets = (frames.SERVER_FRAMES, frames.CLIENT_FRAMES, frames.ERROR_CODES)
    saved = [copy.copy(r) for r in (*registries, *frame_sets)]
    (tmp_path / "echo").mkdir()
    (tmp_path / "echo" / "panel.html").write_text(PANEL)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]

    def context(request, lab):
        return {"lab_id": lab.pk} if lab.docker_version == "28" else None

    hooks.lab_panel_add(
        hooks.LabPanel("echo", "echo/panel.html", context, ("echo/echo.css",), ("echo/echo.js",))
    )
    text = {"text": {"type": "string"}}
    hooks.socket_frame_add(
        "echo.ping", frames.frame_schema("echo.ping", text), echo_ping, error_codes=["echo_refused"]
    )
    hooks.group_frame_add(
        "echo.pong", frames.frame_schema("echo.pong", {**text, "lab_id": {"type": "integer"}})
    )
    yield
    for current, old in zip((*registries, *frame_sets), saved, strict=True):
        current.clear()
        if isinstance(current, list):
            current.extend(old)
        else:
            current.update(old)
    frames.frames_add()  # forgets the validators of the removed frames


def test_a_panel_shows_where_its_context_says_so(client, user_factory, echo_app):
    ada = user_factory("ada")
    client.force_login(ada)
    plain = Lab.objects.create(owner=ada, node="local", status="stopped")
    echoed = Lab.objects.create(owner=ada, node="local", status="stopped", docker_version="28")

    page = client.get(f"/labs/{echoed.pk}/").content.decode()
    assert f'<section id="echo-panel">Echo for lab {echoed.pk}</section>' in page
    assert '<link rel="stylesheet" href="/static/echo/echo.css">' in page
    # The panel's scripts come before the page's own.
    assert page.index('src="/static/echo/echo.js"') < page.index('src="/static/labs/lab.js"')
    assert "echo" not in client.get(f"/labs/{plain.pk}/").content.decode()


@pytest.mark.kernel
@pytest.mark.usefixtures("sandboxes_cleaned")
def test_socket_frames_reach_their_handler_and_group_frames_the_browser(client, user_factory, echo_app):
    ada = user_factory("ada")
    cookie = session_cookie(client, ada)

    async def scenario():
        lab = await database_sync_to_async(services.lab_create)(owner=ada)
        comm = lab_socket(lab.pk, cookie)
        assert (await comm.connect())[0]
        log = FrameLog(comm)
        await log.until(lambda: log.of("lab.state"))  # the lab is ready and watched

        await comm.send_json_to({"type": "echo.ping", "text": "hello"})
        pong = await log.until(lambda: log.of("echo.pong") and log.of("echo.pong")[0])
        assert pong == {"type": "echo.pong", "text": "hello", "lab_id": lab.pk}

        await comm.send_json_to({"type": "echo.ping", "text": "no"})
        error = await log.until(lambda: log.of("error") and log.of("error")[0])
        assert error["code"] == "echo_refused"
        await comm.send_json_to({"type": "echo.ping", "text": 5})
        assert (await next_frame(comm))["code"] == "bad_frame"
        await comm.disconnect()

    run_async(scenario)
