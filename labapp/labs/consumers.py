"""The lab WebSocket (docs/web-lab.md): relays between the browser and the lab's group and node."""

from __future__ import annotations

import json
import time

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _

from labapp.labs.broadcast import status_frame
from labapp.labs.channels import lab_group, node_channel
from labapp.labs.node import embedded_agent
from labapp.labs.schemas import CLIENT_FRAMES, frame_errors
from labapp.labs.selectors import lab_get_for_user
from labapp.labs.services import TOUCH_EVERY, lab_touch


class LabConsumer(AsyncJsonWebsocketConsumer):
    lab_id: int | None = None
    watching = False
    # Live terminal output is passed on only after the scrollback: what came before is in it.
    tty_ready = False
    touched = 0.0

    async def connect(self) -> None:
        lab_id = self.scope["url_route"]["kwargs"]["lab_id"]
        lab = await database_sync_to_async(lab_get_for_user)(lab_id=lab_id, user=self.scope.get("user"))
        if lab is None:
            await self.close()
            return
        self.lab_id, self.node, self.sandbox_id = lab.pk, lab.node, ""
        await self.channel_layer.group_add(lab_group(lab.pk), self.channel_name)
        await self.accept()
        if settings.NSLAB_EMBEDDED:
            await embedded_agent()
        await self._touch()
        # Read again after joining the group, so that no status change falls in between.
        await lab.arefresh_from_db()
        await self.lab_status(status_frame(lab))

    async def disconnect(self, code: int) -> None:
        if self.lab_id is None:
            return
        if self.watching:
            await self._to_node("lab.unwatch")
        await self.channel_layer.group_discard(lab_group(self.lab_id), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            frame = None
        problem = frame_errors(frame, CLIENT_FRAMES)
        if problem:
            await self._error("bad_frame", problem)
            return
        await self._touch()
        if not self.watching:
            await self._error("not_ready", _("The lab is not ready."))
            return
        if frame["type"] == "attempt.check":
            await self._attempt_check(frame)
            return
        fields = {k: v for k, v in frame.items() if k != "type"}
        await self._to_node(frame["type"], **fields)

    async def _attempt_check(self, frame: dict) -> None:
        """Grade the lab's exercise attempt on its node; `attempt.graded` comes back through the group."""
        from labapp.exercises.services import attempt_check_request

        queued = await database_sync_to_async(attempt_check_request)(
            lab_id=self.lab_id,
            user=self.scope.get("user"),
            answers=frame["answers"],
            language=frame.get("language"),
        )
        if not queued:
            await self._error("no_attempt", _("This lab has no exercise to check."))

    # -- group and node messages (handler name = message type) -----------------------------

    async def lab_status(self, event: dict) -> None:
        await self.send_json(event)
        ready = event["status"] == "ready"
        if ready and (not self.watching or event["sandbox_id"] != self.sandbox_id):
            self.sandbox_id, self.watching, self.tty_ready = event["sandbox_id"], True, False
            reply = {"sandbox_id": self.sandbox_id, "reply_channel": self.channel_name}
            await self._to_node("lab.watch", **reply)
            await self._to_node("tty.open", **reply)
        elif not ready:
            self.watching = self.tty_ready = False

    async def lab_progress(self, event: dict) -> None:
        await self.send_json(event)

    async def lab_state(self, event: dict) -> None:
        await self.send_json(event)

    async def lab_tty(self, event: dict) -> None:
        if event.pop("scrollback", False):
            self.tty_ready = True
        elif not self.tty_ready:
            return
        if event["data"]:
            await self.send_json(event)

    async def lab_tty_reset(self, event: dict) -> None:
        await self.send_json(event)

    async def attempt_graded(self, event: dict) -> None:
        await self.send_json(event)

    # -- helpers -------------------------------------------------------------------------

    async def _to_node(self, type_: str, **fields) -> None:
        try:
            await self.channel_layer.send(
                node_channel(self.node), {"type": type_, "lab_id": self.lab_id, **fields}
            )
        except ChannelFull:
            await self._error("failed", _("The lab node is busy; try again."))

    async def _error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})

    async def _touch(self) -> None:
        now = time.monotonic()
        if now - self.touched >= TOUCH_EVERY.total_seconds():
            self.touched = now
            await database_sync_to_async(lab_touch)(lab_id=self.lab_id)
