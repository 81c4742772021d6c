"""Waiting for readable file descriptors with poll(2): select(2) fails on descriptors above 1023."""

from __future__ import annotations

import select
from typing import TypeVar

Readable = TypeVar("Readable")


def readable(sources: list[Readable], timeout: float | None) -> list[Readable]:
    """The members of `sources` (fds or objects with fileno()) that are readable within `timeout` seconds.

    A hang-up or error counts as readable, as with select(): the read that follows tells what happened.
    """
    poller = select.poll()
    by_fd: dict[int, Readable] = {}
    for source in sources:
        fd = source if isinstance(source, int) else source.fileno()
        by_fd[fd] = source
        poller.register(fd, select.POLLIN | select.POLLPRI)
    events = poller.poll(None if timeout is None else max(0, int(timeout * 1000)))
    return [by_fd[fd] for fd, _ in events]
