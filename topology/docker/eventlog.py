"""The engine's event stream as dockerd keeps it (moby's daemon/events): typed messages, the last
256 for replay (`docker events --since/--until`), and one bounded queue per subscriber.

Publishing never blocks: a subscriber whose queue is full (moby's pubsub gives each 1024 slots and
skips it after 100 ms) loses the event, so a reader that does not read cannot stall the engine.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

RECENT = 256  # moby's eventsLimit
QUEUE = 1024  # moby's pubsub bufferSize


@dataclass(frozen=True)
class Message:
    """moby's events.Message of a local event (scope "local")."""

    type: str
    action: str
    actor_id: str
    attributes: dict[str, str] = field(default_factory=dict)
    time_nano: int = 0


class Subscription:
    """A subscriber's queue of the events its filter lets through."""

    def __init__(self, include: Callable[[Message], bool] | None) -> None:
        self.include = include
        self.dropped = 0
        self.closed = False
        self._queue: deque[Message] = deque()
        self._ready = threading.Condition()

    def offer(self, msg: Message) -> None:
        if self.include is not None and not self.include(msg):
            return
        with self._ready:
            if len(self._queue) >= QUEUE:
                self.dropped += 1
                return
            self._queue.append(msg)
            self._ready.notify()

    def get(self, timeout: float) -> Message | None:
        """The next event, or None after `timeout` seconds or once closed."""
        with self._ready:
            if not self._queue and not self.closed:
                self._ready.wait(timeout)
            return self._queue.popleft() if self._queue else None

    def close(self) -> None:
        with self._ready:
            self.closed = True
            self._ready.notify_all()


class EventLog:
    """One engine's events: the recent ones and the live subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recent: deque[Message] = deque(maxlen=RECENT)
        self._subscribers: list[Subscription] = []

    def log(self, type_: str, action: str, actor_id: str, attributes: dict[str, str]) -> Message:
        msg = Message(type_, action, actor_id, dict(attributes), time.time_ns())
        with self._lock:
            self._recent.append(msg)
            subscribers = list(self._subscribers)
        for sub in subscribers:
            sub.offer(msg)
        return msg

    def subscribe(
        self, since_ns: int | None, until_ns: int | None, include: Callable[[Message], bool] | None
    ) -> tuple[list[Message], Subscription]:
        """moby's SubscribeTopic: the recent events between since and until (none when neither is
        given) that `include` accepts, and a subscription to the next ones."""
        sub = Subscription(include)
        with self._lock:
            recent = list(self._recent)
            self._subscribers.append(sub)
        if since_ns is None and until_ns is None:
            return [], sub
        replay = [
            m
            for m in recent
            if m.time_nano >= (since_ns or 0)
            and not (until_ns and m.time_nano > until_ns)
            and (include is None or include(m))
        ]
        return replay, sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)
        sub.close()

    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def close(self) -> None:
        """The engine is going away: end every subscription."""
        with self._lock:
            subscribers, self._subscribers = self._subscribers, []
        for sub in subscribers:
            sub.close()
