"""Reading exercises and attempts; ownership is enforced here."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from labapp.exercises.models import Attempt, Course, Exercise, Submission, TaskState
from labapp.exercises.results import result_for_people
from labapp.exercises.spec import localised, render
from labapp.exercises.web.markdown import render_inline, render_markdown
from labapp.labs.models import Lab


def course_list() -> QuerySet[Course]:
    return Course.objects.order_by("slug")


def course_get(*, slug: str) -> Course | None:
    return Course.objects.filter(slug=slug).first()


def exercise_get(*, slug: str) -> Exercise | None:
    return Exercise.objects.filter(slug=slug).first()


def attempt_latest(*, user, exercise: Exercise) -> Attempt | None:
    if not user.is_authenticated:
        return None
    return Attempt.objects.filter(user=user, exercise=exercise).select_related("lab").first()


def attempt_get_for_user(*, attempt_id: int, user) -> Attempt | None:
    if not user.is_authenticated:
        return None
    return Attempt.objects.filter(pk=attempt_id, user=user).select_related("exercise", "lab").first()


def attempt_get_for_lab(*, lab_id: int, user=None) -> Attempt | None:
    """The attempt running in the lab (only if `user` owns it, when given)."""
    attempts = Attempt.objects.filter(lab_id=lab_id).select_related("exercise", "lab")
    if user is not None:
        if not user.is_authenticated:
            return None
        attempts = attempts.filter(user=user)
    return attempts.first()


def course_progress(*, course: Course, user, language: str) -> list[dict]:
    """The course's exercises with the user's latest attempt, score and passed tasks."""
    exercises = list(Exercise.objects.filter(course=course.slug).order_by("order", "slug"))
    latest: dict[int, Attempt] = {}
    for attempt in Attempt.objects.filter(user=user, exercise__in=exercises).select_related("lab"):
        latest.setdefault(attempt.exercise_id, attempt)
    passed: dict[int, int] = {}
    for state in TaskState.objects.filter(attempt__in=latest.values(), passed=True):
        passed[state.attempt_id] = passed.get(state.attempt_id, 0) + 1
    rows = []
    for exercise in exercises:
        attempt = latest.get(exercise.pk)
        rows.append(
            {
                "exercise": exercise,
                "title": render_inline(localised(exercise.data["title"], language)),
                "summary": render_inline(localised(exercise.data["summary"], language)),
                "attempt": attempt,
                "score": attempt.score if attempt else 0,
                "max_score": exercise.max_score,
                "tasks": len(exercise.tasks),
                "tasks_passed": passed.get(attempt.pk, 0) if attempt else 0,
                "lab_open": bool(attempt and attempt.lab and attempt.lab.status in Lab.ACTIVE),
            }
        )
    return rows


def hints_shown(task: dict, state: TaskState | None, language: str) -> list[SafeString]:
    """The hints the student asked for so far, as HTML."""
    count = state.hints_shown if state else 0
    return [render_inline(localised(hint, language)) for hint in task.get("hints", [])[:count]]


def attempt_panel(*, attempt: Attempt, language: str) -> dict:
    """What the exercise panel of the lab page shows (texts in `language`)."""
    exercise = attempt.exercise
    data = render(exercise.data, attempt.params)
    states = {s.task_id: s for s in attempt.task_states.all()}
    # The last Check's results, as the page showed them when it came back.
    checked = attempt.submissions.filter(kind=Submission.Kind.CHECK).first()
    last_results = {r["id"]: r["checks"] for r in checked.results} if checked else {}
    tasks = []
    for task in data["tasks"]:
        state = states.get(task["id"])
        questions = []
        for index, check in enumerate(task["checks"]):
            ((kind, args),) = check.items()
            if kind in ("answer", "pick_rule"):
                questions.append(
                    {
                        "index": index,
                        "kind": kind,
                        "prompt": render_inline(localised(args["prompt"], language)),
                    }
                )
        tasks.append(
            {
                "id": task["id"],
                "title": render_inline(localised(task["title"], language)),
                "text_html": render_markdown(localised(task.get("text"), language)),
                "points": task.get("points", 1),
                "passed": bool(state and state.passed),
                "score": state.score if state else 0,
                "hints": hints_shown(task, state, language),
                "hints_total": len(task.get("hints", [])),
                "questions": questions,
                "results": [result_for_people(r) for r in last_results.get(task["id"], [])],
            }
        )
    return {
        "attempt": attempt,
        "title": render_inline(localised(data["title"], language)),
        "text_html": render_markdown(localised(data["text"], language)),
        "tasks": tasks,
        "score": attempt.score,
        "max_score": exercise.max_score,
        "course": exercise.course,
        "no_hint": _("No more hints."),
        "checked_at": checked.created_at if checked else None,
        # The step the student is on: the first task not passed.
        "current_task": next((t["id"] for t in tasks if not t["passed"]), None),
    }
