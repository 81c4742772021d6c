"""What every socket that shows a lab shares: it joins the lab's group, asks the lab's node to watch the
lab and open its terminal once the lab is ready, and passes the group's frames on to the browser
(terminal output only after the scrollback, which holds what came before). The student's lab socket
(`consumers.LabConsumer`) and other apps' views of a lab (the classroom's read-only watch) build on it."""

from __future__ import annotations

import logging
import time

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from labapp.labs import hooks
from labapp.labs.broadcast import status_frame
from labapp.labs.channels import lab_group, node_channel
from labapp.labs.node.agent import embedded_agent

log = logging.getLogger(__name__)


class LabRelay(AsyncJsonWebsocketConsumer):
    lab_id: int | None = None
    node = sandbox_id = ""
    watching = False
    watched_at = 0.0  # when this socket last asked the node to watch the lab (epoch seconds)
    # Live terminal output is passed on only after the scrollback: what came before is in it.
    tty_ready = False

    async def send_json(self, content, close=False) -> None:
        """Send, unless the browser went away meanwhile: Daphne then raises, and the disconnect (whose
        handler leaves the lab's group) is the next message; a crash here would skip it."""
        try:
            await super().send_json(content, close=close)
        except Disconnected:
            log.info("lab %s: a frame for a socket closed meanwhile was dropped", self.lab_id)

    async def join_lab(self, lab) -> None:
        """Accept the socket and relay `lab`'s group to it (the embedded mode's agent started)."""
        self.lab_id, self.node, self.sandbox_id = lab.pk, lab.node, ""
        await self.channel_layer.group_add(lab_group(lab.pk), self.channel_name)
        await self.accept()
        if settings.NSLAB_EMBEDDED:
            await embedded_agent()

    async def relay_start(self, lab) -> None:
        """The lab's status as it is now, and the other apps' join frames (hooks.join_frames); read
        after joining the group, so no change falls in between."""
        await lab.arefresh_from_db()
        await self.lab_status(status_frame(lab))
        # Not on the thread-sensitive executor: the embedded agent's start may hold it for a second.
        for frame in await database_sync_to_async(hooks.join_frames, thread_sensitive=False)(lab.pk):
            await self.send_json(frame)

    async def leave_lab(self) -> None:
        if self.watching:
            await self.to_node("lab.unwatch", reply_channel=self.channel_name)
        await self.channel_layer.group_discard(lab_group(self.lab_id), self.channel_name)

    async def to_node(self, type_: str, **fields) -> bool:
        """A message about this lab to its node; False (after `node_busy()`) when the node's queue is full."""
        try:
            await self.channel_layer.send(
                node_channel(self.node), {"type": type_, "lab_id": self.lab_id, **fields}
            )
        except ChannelFull:
            await self.node_busy()
            return False
        return True

    async def node_busy(self) -> None:
        """The node's queue was full (the socket catches up with the next state)."""

    async def sandbox_changed(self) -> None:
        """The lab got another sandbox (or became ready): what was meant for the old one is void."""

    # -- group and node messages (handler name = message type) -----------------------------

    async def dispatch(self, message: dict) -> None:
        if message.get("type") in hooks.GROUP_FRAMES:  # another app's frame: passed on as it is
            await self.send_json(message)
            return
        await super().dispatch(message)

    async def lab_status(self, event: dict) -> None:
        await self.send_json(event)
        ready = event["status"] == "ready"
        if ready and (not self.watching or event["sandbox_id"] != self.sandbox_id):
            self.sandbox_id, self.watching, self.tty_ready = event["sandbox_id"], True, False
            await self.sandbox_changed()
            await self._watch()
        elif not ready:
            self.watching = self.tty_ready = False

    async def lab_node_started(self, event: dict) -> None:
        """The lab's node restarted and its agent knows no viewer: watch and open the terminal again
        (a new shell in the same lab; the browser clears the old one)."""
        if not self.watching or self.watched_at >= event["started_at"]:  # that agent has our watch
            return
        self.tty_ready = False
        await self.sandbox_changed()
        await self.send_json({"type": "lab.tty.reset"})
        await self._watch(restarted=True)

    async def _watch(self, *, restarted: bool = False) -> None:
        """Ask the node to watch the lab and open its terminal (`restarted`: after the node restarted)."""
        self.watched_at = time.time()
        reply = {"sandbox_id": self.sandbox_id, "reply_channel": self.channel_name}
        await self.to_node("lab.watch", **reply)
        await self.to_node("tty.open", restarted=restarted, **reply)

    async def lab_progress(self, event: dict) -> None:
        await self.send_json(event)

    async def lab_state(self, event: dict) -> None:
        await self.send_json(event)

    async def lab_tty_open(self, event: dict) -> None:
        """The node's answer to our `tty.open`: the shell's size and why it is new (`lab.tty.open`),
        then its scrollback as terminal output; live output follows."""
        data = event.pop("data")
        self.tty_ready = True
        await self.send_json(event)
        if data:
            await self.send_json({"type": "lab.tty", "data": data})

    async def lab_tty(self, event: dict) -> None:
        if self.tty_ready and event["data"]:
            await self.send_json(event)

    async def lab_tty_size(self, event: dict) -> None:
        await self.send_json(event)

    async def lab_tty_reset(self, event: dict) -> None:
        await self.send_json(event)
