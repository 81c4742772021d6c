"""The lab WebSocket (docs/web-lab.md): relays between the browser and the lab's group and node.

Other apps' frames come in through labapp.labs.hooks (their handlers, the group frames passed on).

Terminal input has backpressure instead of losses: the consumer passes at most TTY_WINDOW characters
(TTY_FRAMES_IN_FLIGHT frames) on to the node that the node has not yet written into the pty (it answers
`lab.tty.written`); the rest waits here, in order, up to TTY_BACKLOG_MAX characters."""

from __future__ import annotations

import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.translation import gettext as _

from labapp.labs import hooks
from labapp.labs.frames import CLIENT_FRAMES, FRAME_MAX, TTY_INPUT_MAX, frame_errors
from labapp.labs.web.relay import LabRelay
from labapp.labs.web.selectors import lab_get_for_user
from labapp.labs.web.services import TOUCH_EVERY, lab_touch

log = logging.getLogger(__name__)

TTY_WINDOW = 256 * 1024
TTY_FRAMES_IN_FLIGHT = 32
TTY_BACKLOG_MAX = 4 * 1024 * 1024
# Daphne closes a socket with this code when a frame is over FRAME_MAX (labapp/config/serve.py).
CLOSE_TOO_BIG = 1009


class RefusedSocket(AsyncWebsocketConsumer):
    """Any WebSocket path but a lab's: refused at the handshake (HTTP 403), one line in the log."""

    async def connect(self) -> None:
        log.warning("WebSocket refused: no such path %r", self.scope["path"][:200])
        await self.close()


class LabConsumer(LabRelay):
    touched = 0.0
    # Terminal input held back (backpressure), and what the node has but not yet written.
    tty_backlog = ""
    tty_unwritten = tty_in_flight = 0

    async def connect(self) -> None:
        lab_id = int(self.scope["url_route"]["kwargs"]["lab_id"])
        lab = await database_sync_to_async(lab_get_for_user)(lab_id=lab_id, user=self.scope.get("user"))
        if lab is None:
            await self.close()
            return
        await self.join_lab(lab)
        await self._touch()
        await self.relay_start(lab)

    async def disconnect(self, code: int) -> None:
        if code == CLOSE_TOO_BIG:
            log.warning("lab %s: socket closed (1009): a frame over %d bytes", self.lab_id, FRAME_MAX)
        if self.lab_id is not None:
            await self.leave_lab()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            frame = None
        problem = frame_errors(frame, CLIENT_FRAMES)
        if problem:
            await self.send_error("bad_frame", problem)
            return
        await self._touch()
        if not self.watching:
            await self.send_error("not_ready", _("The lab is not ready."))
            return
        if frame["type"] == "tty.input":
            await self._tty_input(frame["data"])
            return
        handler = hooks.SOCKET_HANDLERS.get(frame["type"])
        if handler is not None:
            await handler(self, frame)
            return
        fields = {k: v for k, v in frame.items() if k != "type"}
        if frame["type"] == "trace.request":  # the walk comes back to this socket only
            fields["reply_channel"] = self.channel_name
        await self.to_node(frame["type"], **fields)

    # -- group and node messages (handler name = message type; the rest in LabRelay) ------

    async def sandbox_changed(self) -> None:
        self.tty_backlog, self.tty_unwritten, self.tty_in_flight = "", 0, 0  # typed into a shell gone

    async def lab_tty_written(self, event: dict) -> None:
        """The node wrote one tty.input of ours into the pty (or dropped it with the shell)."""
        self.tty_unwritten = max(0, self.tty_unwritten - event["size"])
        self.tty_in_flight = max(0, self.tty_in_flight - 1)
        await self._tty_pass_on()

    async def trace_walk(self, event: dict) -> None:
        await self.send_json(event)

    async def trace_failed(self, event: dict) -> None:
        await self.send_json(event)

    # -- terminal input ------------------------------------------------------------------

    async def _tty_input(self, data: str) -> None:
        if len(self.tty_backlog) + len(data) > TTY_BACKLOG_MAX:
            message = _("The shell is not reading its input: %(count)d characters were not typed.")
            await self.send_error("failed", message % {"count": len(data)})
            return
        self.tty_backlog += data
        await self._tty_pass_on()

    async def _tty_pass_on(self) -> None:
        while (
            self.tty_backlog and self.tty_unwritten < TTY_WINDOW and self.tty_in_flight < TTY_FRAMES_IN_FLIGHT
        ):
            chunk = self.tty_backlog[:TTY_INPUT_MAX]
            if not await self.to_node("tty.input", data=chunk, reply_channel=self.channel_name):
                return  # kept: the next input or answer tries again
            self.tty_backlog = self.tty_backlog[len(chunk) :]
            self.tty_unwritten += len(chunk)
            self.tty_in_flight += 1

    # -- helpers -------------------------------------------------------------------------

    async def node_busy(self) -> None:
        await self.send_error("failed", _("The lab node is busy; try again."))

    async def send_error(self, code: str, message: str) -> None:
        """An `error` frame to this socket (`code` from frames.ERROR_CODES)."""
        await self.send_json({"type": "error", "code": code, "message": message})

    async def _touch(self) -> None:
        now = time.monotonic()
        if now - self.touched >= TOUCH_EVERY.total_seconds():
            self.touched = now
            await database_sync_to_async(lab_touch)(lab_id=self.lab_id)
