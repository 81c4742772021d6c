"""Reading server frames in tests: each one is checked against its schema and kept."""

from __future__ import annotations

import time

from labapp.labs.frames import SERVER_FRAMES, frame_errors


async def next_frame(comm, timeout: float = 10.0) -> dict:
    frame = await comm.receive_json_from(timeout=timeout)
    assert frame_errors(frame, SERVER_FRAMES) is None, (frame_errors(frame, SERVER_FRAMES), frame)
    return frame


class FrameLog:
    """Every frame a socket received, so that waiting for one thing loses none of the others."""

    def __init__(self, comm):
        self.comm = comm
        self.frames: list[dict] = []

    def of(self, type_: str) -> list[dict]:
        return [f for f in self.frames if f["type"] == type_]

    def tty(self) -> str:
        return "".join(f["data"] for f in self.of("lab.tty"))

    async def until(self, condition, timeout: float = 20.0):
        """Receive frames until `condition()` is truthy (its value is returned), within `timeout` s."""
        deadline = time.monotonic() + timeout
        while not (result := condition()):
            left = deadline - time.monotonic()
            if left <= 0:
                brief = [f if f["type"] != "lab.state" else f["seq"] for f in self.frames]
                raise AssertionError(f"condition not met within {timeout} s; frames: {brief!r}"[:4000])
            try:
                self.frames.append(await next_frame(self.comm, timeout=left))
            except TimeoutError:
                continue
        return result
