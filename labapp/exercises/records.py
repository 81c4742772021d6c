"""Keeping what grading found (the node side reports through here): a passed task stays passed, every
Check is a Submission, and so is a newly passed task."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from labapp.exercises.models import Attempt, Submission, TaskState
from labapp.exercises.results import graded_frame

# Sent (robustly, on commit) after a grading was kept, with `attempt` and `newly` (task ids newly
# passed); the classroom's live grid listens.
attempt_graded = Signal()


def _task_score(task: dict, result: dict) -> tuple[bool, float]:
    """(passed, partial score) of one task's result: points × passed checks / checks."""
    checks = result.get("checks") or []
    passed = bool(result.get("passed")) and all(c.get("ok") is True for c in checks)
    points = task.get("points", 1)
    ok = sum(1 for c in checks if c.get("ok") is True)
    return passed, round(points * ok / len(checks), 2) if checks else 0.0


@transaction.atomic
def attempt_record_grading(
    *,
    attempt_id: int,
    results: list[dict],
    kind: str,
    snapshot: dict | None,
    answers: dict | None = None,
    request_id: str = "",
) -> tuple[dict, list[str]]:
    """Keep a grading's results: task states (a passed task stays passed; a Check sets the partial
    score of the others), the attempt's score and a Submission (every Check; a continuous grading only
    when a task newly passed). Returns the `attempt.graded` frame and the ids of newly passed tasks.

    A grading with the `request_id` of one already kept (a Check's task redelivered after its worker
    died) changes nothing: its frame is the one kept, and nothing is newly passed."""
    attempt = Attempt.objects.select_for_update().select_related("exercise").get(pk=attempt_id)
    tasks = attempt.rendered_tasks()
    kept = Submission.objects.filter(attempt=attempt, request_id=request_id).first() if request_id else None
    if kept is not None:
        states = {s.task_id: s for s in attempt.task_states.all()}
        return graded_frame(attempt=attempt, tasks=tasks, states=states, results=kept.results, kind=kind), []
    by_id = {r["id"]: r for r in results}
    states = {s.task_id: s for s in attempt.task_states.all()}
    newly: list[str] = []
    now = timezone.now()
    for task in tasks:
        state = states.get(task["id"]) or TaskState.objects.create(attempt=attempt, task_id=task["id"])
        states[task["id"]] = state
        result = by_id.get(task["id"])
        if result is None:
            continue
        passed, partial = _task_score(task, result)
        if passed and not state.passed:
            state.passed, state.first_passed_at = True, now
            newly.append(task["id"])
        if state.passed:
            state.score = float(task.get("points", 1))
        elif kind == Submission.Kind.CHECK:
            state.score = partial
        state.save(update_fields=["passed", "first_passed_at", "score"])
    attempt.score = round(sum(s.score for tid, s in states.items() if any(t["id"] == tid for t in tasks)), 2)
    attempt.save(update_fields=["score"])
    if kind == Submission.Kind.CHECK or newly:
        Submission.objects.create(
            attempt=attempt,
            kind=kind,
            results=results,
            answers=answers or {},
            score=attempt.score,
            snapshot=snapshot or {},
            request_id=request_id,
        )
    transaction.on_commit(lambda: attempt_graded.send_robust(sender=Attempt, attempt=attempt, newly=newly))
    return graded_frame(attempt=attempt, tasks=tasks, states=states, results=results, kind=kind), newly
