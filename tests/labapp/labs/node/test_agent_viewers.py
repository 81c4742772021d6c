"""The node agent counts a lab's viewers by their reply channel: a socket that asks twice (it watches
again after its node restarted) counts once, so the watcher still stops when the last one leaves."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer

from labapp.labs.node import agent as agent_module
from labapp.labs.node.agent import Agent
from topology.client import Client

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("sandboxes_cleaned")]


def test_a_viewer_that_asks_twice_counts_once(monkeypatch):
    monkeypatch.setattr(agent_module, "LINGER", 0.05)
    sandbox_id = Client().up("19.03")["id"]

    async def scenario():
        agent = Agent("local", layer=InMemoryChannelLayer())
        agent.loop = asyncio.get_running_loop()

        def message(kind: str, viewer: str) -> dict:
            return {"type": kind, "lab_id": 1, "sandbox_id": sandbox_id, "reply_channel": viewer}

        try:
            for viewer in ("student", "student", "teacher"):
                agent.handle(message("lab.watch", viewer))
            stream = agent.streams[1]
            assert stream.viewers == {"student", "teacher"}
            agent.handle(message("lab.unwatch", "student"))
            assert stream.viewers == {"teacher"} and stream.watcher is not None
            agent.handle(message("lab.unwatch", "teacher"))
            deadline = time.monotonic() + 5
            while stream.watcher is not None:  # stopped LINGER after the last viewer left
                assert time.monotonic() < deadline, "the watcher outlived its viewers"
                await asyncio.sleep(0.02)
        finally:
            agent.close()

    async_to_sync(scenario)()
