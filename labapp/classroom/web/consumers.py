"""The dashboard WebSocket of a cohort (/ws/teach/<cohort>/): read-only, for its instructors.

On connect it sends the whole grid (`classroom.grid`), then every changed cell and presence as the
cohort's group gets them (labapp.classroom.live). The origin is checked by the ASGI router
(AllowedHostsOriginValidator), the session by AuthMiddlewareStack, the cohort's ownership here.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from labapp.classroom.channels import cohort_group
from labapp.classroom.progress import cohort_cells, cohort_presence
from labapp.classroom.selectors import cohort_get_for_instructor

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
