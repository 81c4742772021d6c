"""The dashboard socket in tests: a logged-in WebSocket on the real ASGI app, frames checked against
their schemas."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator

from labapp.classroom.frames import SERVER_FRAMES
from labapp.labs.frames import frame_errors


def teach_socket(cohort_id: int, cookie: bytes | None = None, origin: bytes = b"http://localhost"):
    from labapp.config.asgi import application

    headers = [(b"origin", origin), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, f"/ws/teach/{cohort_id}/", headers=headers)


async def next_frame(comm, timeout: float = 10.0) -> dict:
    frame = await comm.receive_json_from(timeout=timeout)
    assert frame_errors(frame, SERVER_FRAMES) is None, (frame_errors(frame, SERVER_FRAMES), frame)
    return frame
