"""Celery tasks of exercises; each goes to the queue of the attempt's lab node (`labnode.<node>`)."""

from celery import shared_task

from labapp.exercises.node import attempt_grading
from labapp.labs.tasks import DATABASE_RETRY

LIMITS = {"soft_time_limit": 60, "time_limit": 90, **DATABASE_RETRY}


@shared_task(bind=True, **LIMITS)
def attempt_check(self, attempt_id: int, answers: dict | None = None) -> dict | None:
    """Grade an attempt on demand (re-reads the attempt and its lab; a stopped lab is not graded).

    Redelivered after its worker died, it grades again but records the grade once (its task id)."""
    return attempt_grading.attempt_check(
        attempt_id=attempt_id, answers=answers, request_id=self.request.id or ""
    )
