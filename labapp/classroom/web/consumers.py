"""The instructors' WebSockets: a cohort's dashboard (/ws/teach/<cohort>/) and the read-only view of
one student's lab (/ws/teach/<cohort>/labs/<lab>/).

The dashboard sends the whole grid on connect (`classroom.grid`), then every changed cell and
presence as the cohort's group gets them (labapp.classroom.live). The origin is checked by the ASGI router
(AllowedHostsOriginValidator), the session by AuthMiddlewareStack, the cohort's ownership here.
"""

from __future__ import annotations

import asyncio
import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from labapp.classroom.channels import cohort_group
from labapp.classroom.frames import WATCH_CLIENT_FRAMES
from labapp.classroom.progress import cohort_cells, cohort_presence
from labapp.classroom.selectors import cohort_get_for_instructor, cohort_lab_get
from labapp.classroom.web import watching
from labapp.labs.frames import frame_errors
from labapp.labs.web.relay import LabRelay

# The browser sends nothing; a frame is answered by closing with this code (policy violation).
CLOSE_READ_ONLY = 4003


def _grid_frame(cohort) -> dict:
    return {
        "type": "classroom.grid",
        "cells": cohort_cells(cohort=cohort),
        "presence": cohort_presence(cohort=cohort),
    }


class CohortConsumer(AsyncJsonWebsocketConsumer):
    cohort_id: int | None = None

    async def connect(self) -> None:
        cohort_id = self.scope["url_route"]["kwargs"]["cohort_id"]
        user = self.scope.get("user")
        cohort = await database_sync_to_async(cohort_get_for_instructor)(cohort_id=cohort_id, user=user)
        if cohort is None:
            await self.close()
            return
        self.cohort_id = cohort.pk
        await self.channel_layer.group_add(cohort_group(cohort.pk), self.channel_name)
        await self.accept()
        # Read after joining the group, so that no change falls in between.
        await self.send_json(await database_sync_to_async(_grid_frame)(cohort))

    async def disconnect(self, code: int) -> None:
        if self.cohort_id is not None:
            await self.channel_layer.group_discard(cohort_group(self.cohort_id), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.close(code=CLOSE_READ_ONLY)

    async def classroom_cell(self, event: dict) -> None:
        await self.send_json(event)

    async def classroom_presence(self, event: dict) -> None:
        await self.send_json(event)

    async def classroom_roster(self, event: dict) -> None:
        await self.send_json(event)


class LabWatchConsumer(LabRelay):
    """An instructor's read-only view of a student's lab (/ws/teach/<cohort>/labs/<lab>/).

    It joins the lab's group and relays what the student's lab socket gets (status, state, terminal
    with its scrollback, other apps' group frames); from the browser it takes only `lab.refresh`.
    The lab socket's node messages are used as they are (docs/web-lab.md): `lab.watch` and `tty.open`
    with this socket as the reply channel, `lab.unwatch` when it closes. It never touches the lab
    (an instructor watching does not keep a student's idle lab alive)."""

    beat: asyncio.Task | None = None

    async def connect(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        user = self.scope.get("user")
        lab = await database_sync_to_async(_watched_lab)(kwargs["cohort_id"], kwargs["lab_id"], user)
        if lab is None:
            await self.close()
            return
        await self.join_lab(lab)
        await database_sync_to_async(watching.watch_start)(
            lab_id=lab.pk, instructor=user, channel_name=self.channel_name
        )
        self.beat = asyncio.create_task(self._beat())
        await self.relay_start(lab)

    async def disconnect(self, code: int) -> None:
        if self.lab_id is None:
            return
        if self.beat:
            self.beat.cancel()
        await self.leave_lab()
        await database_sync_to_async(watching.watch_end)(lab_id=self.lab_id, channel_name=self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            frame = None
        problem = frame_errors(frame, WATCH_CLIENT_FRAMES)
        if problem:
            await self.send_json({"type": "error", "code": "bad_frame", "message": _READ_ONLY % problem})
        elif self.watching:
            await self.to_node("lab.refresh")

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(watching.WATCH_BEAT.total_seconds())
            await database_sync_to_async(watching.watch_beat)(channel_name=self.channel_name)


_READ_ONLY = "This view is read-only (%s)."


def _watched_lab(cohort_id: int, lab_id: int, user):
    cohort = cohort_get_for_instructor(cohort_id=cohort_id, user=user)
    return cohort_lab_get(cohort=cohort, lab_id=lab_id) if cohort else None
