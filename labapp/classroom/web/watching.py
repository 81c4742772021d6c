"""Watching a student's lab: who watches (the student's page says so) and the instructor's messages.

Both reach the student's lab page as frames of the lab's group (`classroom.watchers`,
`classroom.message`, registered through labapp.labs.hooks), and its first render from the database.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from labapp.classroom.models import Enrolment, LabMessage, LabWatch
from labapp.labs.broadcast import lab_send

# A watch socket writes seen_at every WATCH_BEAT; a row not seen for WATCH_STALE_AFTER (its process
# died without closing it) no longer counts.
WATCH_BEAT = timedelta(seconds=60)
WATCH_STALE_AFTER = timedelta(seconds=150)
# The lab page shows the messages of the last MESSAGES_FOR, at most MESSAGES_SHOWN of them.
MESSAGES_FOR = timedelta(hours=12)
MESSAGES_SHOWN = 5
MESSAGE_MAX = 500


def _person(user) -> str:
    return user.get_full_name() or user.username


def lab_watchers(*, lab_id: int) -> list[str]:
    """The names of the instructors watching the lab now (each once, by name)."""
    fresh = LabWatch.objects.filter(lab_id=lab_id, seen_at__gte=timezone.now() - WATCH_STALE_AFTER)
    return sorted({_person(w.instructor) for w in fresh.select_related("instructor")})


def watchers_frame(*, lab_id: int) -> dict:
    return {"type": "classroom.watchers", "watchers": lab_watchers(lab_id=lab_id)}


def _watchers_send(lab_id: int) -> None:
    transaction.on_commit(lambda: lab_send(lab_id, watchers_frame(lab_id=lab_id)))


def watch_start(*, lab_id: int, instructor, channel_name: str) -> None:
    """An instructor's view of the lab opened (on its socket `channel_name`)."""
    LabWatch.objects.update_or_create(
        channel_name=channel_name, defaults={"lab_id": lab_id, "instructor": instructor}
    )
    _watchers_send(lab_id)


def watch_beat(*, channel_name: str) -> None:
    """The view is still open."""
    LabWatch.objects.filter(channel_name=channel_name).update(seen_at=timezone.now())


def watch_end(*, lab_id: int, channel_name: str) -> None:
    """The view closed."""
    LabWatch.objects.filter(channel_name=channel_name).delete()
    _watchers_send(lab_id)


def message_frame(message: LabMessage) -> dict:
    return {
        "type": "classroom.message",
        "id": message.pk,
        "sender": _person(message.sender),
        "text": message.text,
        "sent_at": message.created_at.isoformat(),
    }


def lab_message_send(*, lab_id: int, sender, text: str) -> LabMessage:
    """Send a short message to the lab's student (kept, and pushed to the open lab pages)."""
    message = LabMessage.objects.create(lab_id=lab_id, sender=sender, text=text.strip()[:MESSAGE_MAX])
    transaction.on_commit(lambda: lab_send(lab_id, message_frame(message)))
    return message


def lab_messages_recent(*, lab_id: int) -> list[dict]:
    """The lab's recent messages (as frames), the oldest first."""
    recent = (
        LabMessage.objects.filter(lab_id=lab_id, created_at__gte=timezone.now() - MESSAGES_FOR)
        .select_related("sender")
        .order_by("-created_at")[:MESSAGES_SHOWN]
    )
    return [message_frame(m) for m in reversed(recent)]


def lab_join_frames(lab_id: int) -> list[dict]:
    """What a lab socket gets as it joins the lab's group (hooks.join_frames_add): who watches now and
    the recent messages, which the page may have missed between its render and its (re)connect.
    Nothing for a lab whose owner is in no class (its page has no notice)."""
    if not Enrolment.objects.filter(student__labs=lab_id).exists():
        return []
    return [watchers_frame(lab_id=lab_id), *lab_messages_recent(lab_id=lab_id)]
