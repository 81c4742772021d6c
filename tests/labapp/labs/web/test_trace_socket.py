"""The lab socket's packet walk: `trace.request` from the browser, walked on the lab node, answered
with `trace.walk` (its step templates in the asked language) to that socket alone."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from labapp.labs.web import services
from tests.labapp.frames import FrameLog, next_frame
from tests.labapp.sockets import lab_socket, run_async, session_cookie
from tests.polling import wait_for
from topology.client import ClientAccess

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.kernel
@pytest.mark.usefixtures("sandboxes_cleaned")
def test_trace_request_gets_the_walk(client, user_factory):
    ada = user_factory("ada")
    cookie = session_cookie(client, ada)

    async def scenario():
        lab = await database_sync_to_async(services.lab_create)(owner=ada, docker_version="19.03")
        await lab.arefresh_from_db()
        assert lab.status == "ready"
        comm = lab_socket(lab.pk, cookie)
        assert (await comm.connect())[0]
        status = await next_frame(comm)
        assert status["status"] == "ready", status
        log = FrameLog(comm)
        await log.until(lambda: log.of("lab.state"))
        other = lab_socket(lab.pk, cookie)
        assert (await other.connect())[0]
        other_log = FrameLog(other)
        await other_log.until(lambda: other_log.of("lab.state"))

        request = {
            "type": "trace.request",
            "source": "client",
            "to": "198.51.100.80",
            "port": 80,
            "proto": "tcp",
        }
        await comm.send_json_to({**request, "language": "zh-hans", "armed": False})
        (walk,) = await log.until(lambda: log.of("trace.walk"))
        assert walk["walk"]["verdict"] == "delivered"
        assert walk["walk"]["path"] == ["client", "router", "remote"]
        route = walk["messages"]["route.out"]
        assert "{ns}" in route and route != "{ns} routes the packet for {dst} out of {dev}: {route}"

        await comm.send_json_to({**request, "source": "nothere", "language": "en", "armed": False})
        (failed,) = await log.until(lambda: log.of("trace.failed"))
        assert "nothere" in failed["message"]
        assert not other_log.of("trace.walk")  # the walk went to the socket that asked

        # Armed: the walk waits for the student's packet; meanwhile the lab takes no other walk.
        await comm.send_json_to({**request, "language": "en", "armed": True})
        student = ClientAccess(lab.sandbox_id)

        def armed() -> bool:
            # once the source's trace table marks packets (the other namespaces' do by then)
            return "nftrace" in student.run("client", ["nft", "list", "ruleset"])[1]

        # In plain threads: the consumer's own database calls need the thread-sensitive one.
        await asyncio.to_thread(wait_for, armed)
        await comm.send_json_to({**request, "language": "zh-hans", "armed": False})
        busy = (await log.until(lambda: log.of("trace.failed")[1:]))[0]
        assert busy["message"] == "这个实验的另一次追踪正在进行中。"
        await asyncio.to_thread(
            student.run, "client", ["curl", "-s", "-o", "/dev/null", "http://198.51.100.80/"]
        )
        armed_walk = (await log.until(lambda: log.of("trace.walk")[1:]))[0]
        assert armed_walk["walk"]["verdict"] == "delivered" and armed_walk["walk"]["answered"]
        await other.disconnect()
        await comm.disconnect()

    run_async(scenario)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({}, None),
        ({"port": None, "proto": "icmp"}, None),
        ({"to": "example.test"}, 'trace.request: to fails pattern "^[0-9]{1,3}(\\\\.[0-9]{1,3}){3}$"'),
        ({"port": 70000}, "trace.request: port fails maximum 65535"),
        ({"proto": "sctp"}, 'trace.request: proto fails enum ["tcp", "udp", "icmp"]'),
        ({"source": "x" * 65}, "trace.request: source is 65 characters long; the limit is 64"),
    ],
)
def test_trace_request_schema(change, problem):
    from labapp.labs.frames import CLIENT_FRAMES, frame_errors

    frame = {"type": "trace.request", "source": "client", "to": "203.0.113.2", "port": 8080, "proto": "tcp"}
    found = frame_errors({**frame, "language": "en", "armed": False, **change}, CLIENT_FRAMES)
    assert found == problem


def test_every_step_message_has_its_chinese_text():
    import gettext
    import re
    from pathlib import Path

    from topology.checks import MESSAGES as CHECK_MESSAGES
    from topology.trace import MESSAGES

    mo = Path(__file__).resolve().parents[4] / "labapp/locale/zh_Hans/LC_MESSAGES/django.mo"
    with open(mo, "rb") as f:
        zh = gettext.GNUTranslations(f)
    templates = [*MESSAGES.values(), *(t for code, t in CHECK_MESSAGES.items() if code.startswith("trace."))]
    for template in templates:
        text = zh._catalog.get(template)
        assert text, template
        assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", template)), template
