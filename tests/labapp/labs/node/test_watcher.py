"""The node agent's kernel watcher (labapp.labs.node.watcher) against a real sandbox on the private daemon."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from labapp.labs.node.watcher import Watcher, _CuttableClient
from topology.client import Client

pytestmark = pytest.mark.kernel

DEADLINE = 10.0


def _exec(sid: str, ns: str, *argv: str) -> None:
    with open(os.devnull, "r+b") as null:
        assert Client().exec(sid, list(argv), ns=ns, stdio=(null.fileno(),) * 3) == 0, argv


def _has_link(snapshot: dict, name: str) -> bool:
    return any(link["name"] == name for link in snapshot["links"].get("host", []))


def _has_neighbour(snapshot: dict, ip: str) -> bool:
    return any(n["ip"] == ip for n in snapshot["neighbours"].get("router", []))


async def _next(published: asyncio.Queue, predicate) -> dict:
    deadline = time.monotonic() + DEADLINE
    while (left := deadline - time.monotonic()) > 0:
        snapshot = await asyncio.wait_for(published.get(), left)
        if predicate(snapshot):
            return snapshot
    raise AssertionError("no matching snapshot")


class RecordingWatcher(Watcher):
    """A Watcher that records the kinds of every snapshot request it makes."""

    def __init__(self, *args):
        self.requested: list[set[str]] = []
        super().__init__(*args)

    def request(self, changed_at, namespaces=None, kinds=()) -> None:
        self.requested.append(set(kinds))
        super().request(changed_at, namespaces, kinds)


def test_neighbour_changes_wait_for_the_next_snapshot(sandboxes_cleaned):
    # The page shows no neighbours: a neighbour change alone asks for no snapshot, and the next
    # snapshot (taken for a link made in the host) has the router's new neighbour all the same.
    sid = Client().up()["id"]

    async def scenario() -> None:
        published: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        watcher = RecordingWatcher(sid, loop, lambda w, snap, at: published.put_nowait(snap))
        try:
            await _next(published, lambda s: True)  # the first, full snapshot
            # A new sandbox settles (the stream's full snapshot, IPv6 duplicate address detection).
            while True:
                try:
                    await asyncio.wait_for(published.get(), 1.5)
                except TimeoutError:
                    break
            await asyncio.to_thread(
                _exec, sid, "router", "ip", "neigh", "add", "198.51.100.7",
                "lladdr", "02:00:00:00:00:07", "nud", "permanent", "dev", "eth1",
            )  # fmt: skip
            await asyncio.sleep(1.0)  # the neighbour's event has come by now
            # (Other changes may ask for snapshots meanwhile, e.g. a late stream.ready under load.)
            assert {"neighbour"} not in watcher.requested
            await asyncio.to_thread(_exec, sid, "host", "ip", "link", "add", "wt0", "type", "bridge")
            snapshot = await _next(published, lambda s: _has_link(s, "wt0"))
            assert _has_neighbour(snapshot, "198.51.100.7")
        finally:
            watcher.stop()

    asyncio.run(scenario())


def test_a_cut_ends_the_change_stream_it_blocks_on(sandboxes_cleaned):
    # Watcher.stop() cuts the stream its events thread follows (_CuttableClient.cut, from another
    # thread): the iteration ends, however quiet the sandbox is.
    sid = Client().up()["id"]
    client = _CuttableClient()
    following = threading.Event()
    ended = threading.Event()

    def follow() -> None:
        for _change in client.events(sid):
            following.set()
        ended.set()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    assert following.wait(DEADLINE)  # the stream's first message (ready) came
    client.cut()
    thread.join(DEADLINE)
    assert ended.is_set()
    assert client.sock is None  # closed by the stream, under the client's lock
