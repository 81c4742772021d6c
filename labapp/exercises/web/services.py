"""Changing exercises and attempts: loading the course files, starting an attempt, recording grades.

Grading itself runs on the lab's node (labapp.exercises.tasks, labapp.exercises.node); what it finds is
kept by labapp.exercises.records.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction
from django.utils import timezone

from labapp.exercises.models import Attempt, Course, Exercise, TaskState
from labapp.exercises.spec import Loaded, exercise_params, load_courses, params_seed
from labapp.exercises.tasks import attempt_check
from labapp.exercises.web.selectors import attempt_get_for_lab
from labapp.labs.channels import node_channel
from labapp.labs.models import Lab
from labapp.labs.web import services as lab_services

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
