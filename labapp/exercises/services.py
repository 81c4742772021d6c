"""Changing exercises and attempts: loading the course files, starting an attempt, recording grades.

Grading itself runs on the lab's node (labapp.exercises.tasks, .continuous); this module keeps what it
finds: a passed task stays passed, every Check is a Submission, and so is a newly passed task.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction
from django.utils import timezone

from labapp.exercises.models import Attempt, Course, Exercise, Submission, TaskState
from labapp.exercises.results import graded_frame
from labapp.exercises.selectors import attempt_get_for_lab, attempt_tasks
from labapp.exercises.spec import Loaded, exercise_params, load_courses, params_seed
from labapp.labs import services as lab_services
from labapp.labs.channels import node_channel
from labapp.labs.models import Lab

LANGUAGES = ("en", "zh-hans")


def _language(language: str | None) -> str:
    language = (language or "en").lower()
    return language if language in LANGUAGES else ("zh-hans" if language.startswith("zh") else "en")


@transaction.atomic
def exercises_load(*, root: Path, base: Path | None = None) -> Loaded:
    """Validate every course under `root` and, when all are valid, upsert them into the database."""
    loaded = load_courses(root, base=base)
    if loaded.errors:
        return loaded
    for slug, course in loaded.courses.items():
        Course.objects.update_or_create(slug=slug, defaults={"data": course.data})
    for item in loaded.exercises:
        data = item.data
        Exercise.objects.update_or_create(
            slug=data["slug"],
            defaults={
                "course": data["course"],
                "order": data["order"],
                "data": data,
                "digest": item.digest,
                "loaded_at": timezone.now(),
            },
        )
    return loaded


@transaction.atomic
def attempt_start(*, user, exercise: Exercise, language: str = "en") -> Attempt:
    """The student's attempt at `exercise` with a lab: the open one, restarted if its lab stopped, or a
    new one (a new lab, prepared with the exercise's setup on its node)."""
    language = _language(language)
    attempt = Attempt.objects.select_for_update().filter(user=user, exercise=exercise).first()
    if attempt is not None and attempt.lab is not None:
        Attempt.objects.filter(pk=attempt.pk).update(language=language)
        attempt.language = language
        if attempt.lab.status in (Lab.Status.STOPPED, Lab.Status.FAILED):
            lab_services.lab_start(lab=attempt.lab)
        return attempt
    # The attempt exists before the lab's provisioning runs (on commit): setup finds it.
    lab = lab_services.lab_create(owner=user, docker_version=exercise.docker_version)
    if attempt is None:
        attempt = Attempt.objects.create(
            user=user,
            exercise=exercise,
            lab=lab,
            language=language,
            params=exercise_params(exercise.data, params_seed(user.pk, exercise.slug)),
        )
        TaskState.objects.bulk_create(TaskState(attempt=attempt, task_id=t["id"]) for t in exercise.tasks)
    else:
        attempt.lab, attempt.language = lab, language
        attempt.save(update_fields=["lab", "language"])
    return attempt


def attempt_check_request(*, lab_id: int, user, answers: dict, language: str | None = None) -> bool:
    """Queue a Check of the attempt in `user`'s lab on the lab's node; False when there is none."""
    from labapp.exercises.tasks import attempt_check

    attempt = attempt_get_for_lab(lab_id=lab_id, user=user)
    if attempt is None or attempt.lab is None:
        return False
    if language:
        Attempt.objects.filter(pk=attempt.pk).update(language=_language(language))
    attempt_id, queue = attempt.pk, node_channel(attempt.lab.node)
    transaction.on_commit(lambda: attempt_check.apply_async(args=[attempt_id, answers], queue=queue))
    return True


def task_hint_reveal(*, attempt: Attempt, task_id: str) -> TaskState | None:
    """Show one more hint of the task (no more than it has); None for an unknown task."""
    task = next((t for t in attempt.exercise.tasks if t["id"] == task_id), None)
    if task is None:
        return None
    state, _created = TaskState.objects.get_or_create(attempt=attempt, task_id=task_id)
    if state.hints_shown < len(task.get("hints", [])):
        state.hints_shown += 1
        state.save(update_fields=["hints_shown"])
    return state


def _task_score(task: dict, result: dict) -> tuple[bool, float]:
    """(passed, partial score) of one task's result: points × passed checks / checks."""
    checks = result.get("checks") or []
    passed = bool(result.get("passed")) and all(c.get("ok") is True for c in checks)
    points = task.get("points", 1)
    ok = sum(1 for c in checks if c.get("ok") is True)
    return passed, round(points * ok / len(checks), 2) if checks else 0.0


@transaction.atomic
def attempt_record_grading(
    *, attempt_id: int, results: list[dict], kind: str, snapshot: dict | None, answers: dict | None = None
) -> tuple[dict, list[str]]:
    """Keep a grading's results: task states (a passed task stays passed; a Check sets the partial
    score of the others), the attempt's score and a Submission (every Check; a continuous grading only
    when a task newly passed). Returns the `attempt.graded` frame and the ids of newly passed tasks."""
    attempt = Attempt.objects.select_for_update().select_related("exercise").get(pk=attempt_id)
    tasks = attempt_tasks(attempt)
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
        )
    return graded_frame(attempt=attempt, tasks=tasks, states=states, results=results, kind=kind), newly
