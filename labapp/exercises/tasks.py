"""Celery tasks of exercises; each goes to the queue of the attempt's lab node (`labnode.<node>`)."""

from celery import shared_task

from labapp.exercises.node import attempt_grading

LIMITS = {"soft_time_limit": 60, "time_limit": 90}


@shared_task(**LIMITS)
def attempt_check(attempt_id: int, answers: dict | None = None) -> dict | None:
    """Grade an attempt on demand (re-reads the attempt and its lab; a stopped lab is not graded)."""
    return attempt_grading.attempt_check(attempt_id=attempt_id, answers=answers)
