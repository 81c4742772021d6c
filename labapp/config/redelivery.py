"""Redelivering a lab node's tasks at once when its worker comes back after dying.

Tasks are acknowledged late (settings: CELERY_TASK_ACKS_LATE), so a task whose worker was killed
stays in the Redis transport's `unacked` hash; kombu restores such a message only after its
visibility timeout (an hour). A node's queue `labnode.<node>` has one consumer, that node's worker:
when the worker starts, before it consumes, whatever it left unacknowledged on its own queue was
taken by an earlier process of the node that is gone, so it goes back to the queue's head now.
The tasks are idempotent (they re-read their rows; a Check records its grade once), so running
one again is safe.
"""

from __future__ import annotations

import json
import logging

log = logging.getLogger(__name__)


def requeue_unacked(app, queue: str) -> list[str]:
    """Put back on `queue` the messages taken from it and never acknowledged; their delivery tags.

    Nothing on a broker that is not Redis (there a lost consumer's messages return by themselves)."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        if not hasattr(channel, "unacked_key"):
            return []
        client = channel.client
        tags = []
        for tag, raw in client.hgetall(channel.unacked_key).items():
            _message, _exchange, routing_key = json.loads(raw)
            if routing_key == queue:
                # Consumers pop from the right (BRPOP): pushed there, it is the next to run.
                channel.qos.restore_by_tag(tag, client=client, leftmost=False)
                tags.append(tag.decode() if isinstance(tag, bytes) else tag)
    if tags:
        log.warning("%s: %d task(s) of a worker that died are queued again", queue, len(tags))
    return tags
