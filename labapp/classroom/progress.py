"""What a cohort's students did: the grid's cells, who is online, one student's attempts, the grades.

Plain data (dicts of ids, numbers, states and ISO times) for the page, the live socket, the CSV
export and the charts, all computed by the same functions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Exists, IntegerField, Max, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from labapp.classroom.models import Cohort
from labapp.classroom.selectors import cohort_students
from labapp.exercises.models import Attempt, Exercise, Submission, TaskState
from labapp.exercises.results import result_for_people
from labapp.exercises.spec import localised
from labapp.labs.models import Lab

NOT_STARTED, WORKING, PASSED, FAILED = "not_started", "working", "passed", "failed"
# A student is online while one of their labs is up and its page was used this recently.
ONLINE_WITHIN = timedelta(minutes=15)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def course_exercises(*, course: str) -> list[Exercise]:
    """The course's exercises in order (the grid's columns)."""
    return list(Exercise.objects.filter(course=course).order_by("order", "slug"))


def _graded_attempts(**filters):
    """Attempts with their passed task count, whether a Check was made and when the last task passed."""
    passed = TaskState.objects.filter(attempt=OuterRef("pk"), passed=True)
    return (
        Attempt.objects.filter(**filters)
        .annotate(
            tasks_passed=Coalesce(
                Subquery(passed.values("attempt").annotate(n=Count("pk")).values("n")[:1]),
                Value(0),
                output_field=IntegerField(),
            ),
            checked=Exists(Submission.objects.filter(attempt=OuterRef("pk"), kind=Submission.Kind.CHECK)),
            last_passed_at=Subquery(
                passed.values("attempt").annotate(at=Max("first_passed_at")).values("at")[:1]
            ),
        )
        .order_by("-score", "started_at")
    )


def _cell(student_id: int, exercise: Exercise, attempt: Attempt | None) -> dict:
    tasks = len(exercise.tasks)
    cell = {
        "student_id": student_id,
        "exercise_id": exercise.pk,
        "state": NOT_STARTED,
        "score": 0.0,
        "max_score": float(exercise.max_score),
        "tasks_passed": 0,
        "tasks": tasks,
        "attempt_id": None,
        "started_at": None,
        "passed_at": None,  # with started_at: the time to pass
    }
    if attempt is None:
        return cell
    done = attempt.tasks_passed >= tasks
    cell.update(
        state=PASSED if done else (FAILED if attempt.checked else WORKING),
        score=float(attempt.score),
        tasks_passed=attempt.tasks_passed,
        attempt_id=attempt.pk,
        started_at=_iso(attempt.started_at),
        passed_at=_iso(attempt.last_passed_at) if done else None,
    )
    return cell


def cohort_cells(*, cohort: Cohort, students=None, exercises: list[Exercise] | None = None) -> list[dict]:
    """One cell per student × exercise: the best attempt's score and its state."""
    students = list(students if students is not None else cohort_students(cohort=cohort))
    exercises = exercises if exercises is not None else course_exercises(course=cohort.course)
    best: dict[tuple[int, int], Attempt] = {}
    for attempt in _graded_attempts(user__in=students, exercise__in=exercises):
        best.setdefault((attempt.user_id, attempt.exercise_id), attempt)  # ordered best first
    return [_cell(s.pk, e, best.get((s.pk, e.pk))) for s in students for e in exercises]


def student_cell(*, student_id: int, exercise: Exercise) -> dict:
    """The grid cell of one student and exercise."""
    attempt = _graded_attempts(user_id=student_id, exercise=exercise).first()
    return _cell(student_id, exercise, attempt)


def student_presence(*, student_id: int, labs: list[Lab] | None = None, now=None) -> dict:
    """Whether the student is online now, in which exercise (None: a plain lab) and since when."""
    now = now or timezone.now()
    if labs is None:
        labs = list(_active_labs(owner_id=student_id))
    lab = next((lab for lab in labs if lab.last_active_at >= now - ONLINE_WITHIN), None)
    if lab is None:
        return {"student_id": student_id, "online": False, "exercise_id": None, "since": None, "lab_id": None}
    attempt = getattr(lab, "attempt", None)
    return {
        "student_id": student_id,
        "online": True,
        "lab_id": lab.pk,  # the instructor's view of it: /teach/<cohort>/labs/<lab_id>/
        "exercise_id": attempt.exercise_id if attempt else None,
        # The lab's last status change: when it came up (or began preparing).
        "since": _iso(lab.updated_at),
    }


def _active_labs(**filters):
    return (
        Lab.objects.filter(status__in=(Lab.Status.PREPARING, Lab.Status.READY), **filters)
        .select_related("attempt")
        .order_by("-last_active_at")
    )


def cohort_presence(*, cohort: Cohort, students=None) -> list[dict]:
    """Presence of every student of the cohort."""
    students = list(students if students is not None else cohort_students(cohort=cohort))
    labs: dict[int, list[Lab]] = {}
    for lab in _active_labs(owner__in=students):
        labs.setdefault(lab.owner_id, []).append(lab)
    now = timezone.now()
    return [student_presence(student_id=s.pk, labs=labs.get(s.pk, []), now=now) for s in students]


def cohort_grid(*, cohort: Cohort, language: str) -> dict:
    """The dashboard's data: columns (exercises), rows (students), cells and presence."""
    students = list(cohort_students(cohort=cohort))
    exercises = course_exercises(course=cohort.course)
    cells = cohort_cells(cohort=cohort, students=students, exercises=exercises)
    by_student: dict[int, list[dict]] = {}
    for cell in cells:
        by_student.setdefault(cell["student_id"], []).append(cell)
    presence = {p["student_id"]: p for p in cohort_presence(cohort=cohort, students=students)}
    columns = [{"exercise": e, "title": localised(e.data["title"], language)} for e in exercises]
    rows = [
        {
            "student": s,
            "cells": by_student.get(s.pk, []),
            "presence": presence[s.pk],
            "total": round(sum(c["score"] for c in by_student.get(s.pk, [])), 2),
        }
        for s in students
    ]
    return {
        "columns": columns,
        "rows": rows,
        "cells": cells,
        "presence": list(presence.values()),
        "max_total": sum(e.max_score for e in exercises),
    }


def student_attempts(*, student, course: str, language: str) -> list[dict]:
    """Every attempt of the student at the course's exercises: tasks (hints used, passed when), every
    submission with each check's result and reason and the answers given, and the time spent."""
    attempts = (
        Attempt.objects.filter(user=student, exercise__course=course)
        .select_related("exercise")
        .prefetch_related("task_states", Prefetch("submissions", Submission.objects.defer("snapshot")))
        .order_by("exercise__order", "started_at")
    )
    out = []
    for attempt in attempts:
        tasks = attempt.rendered_tasks()
        titles = {t["id"]: localised(t["title"], language) for t in tasks}
        states = {s.task_id: s for s in attempt.task_states.all()}
        submissions = sorted(attempt.submissions.all(), key=lambda s: s.created_at)
        last = max([s.created_at for s in submissions] + [attempt.started_at])
        out.append(
            {
                "attempt": attempt,
                "exercise": attempt.exercise,
                "title": localised(attempt.exercise.data["title"], language),
                "max_score": attempt.exercise.max_score,
                "last_at": last,  # the last grading (or the start)
                "time_spent": last - attempt.started_at,
                "tasks": [
                    {
                        "id": t["id"],
                        "title": titles[t["id"]],
                        "passed": bool(states.get(t["id"]) and states[t["id"]].passed),
                        "first_passed_at": states[t["id"]].first_passed_at if t["id"] in states else None,
                        "hints_shown": states[t["id"]].hints_shown if t["id"] in states else 0,
                        "hints_total": len(t.get("hints", [])),
                    }
                    for t in tasks
                ],
                "submissions": [_submission(s, titles) for s in submissions],
            }
        )
    return out


def _submission(submission: Submission, titles: dict[str, str]) -> dict:
    return {
        "submission": submission,
        "tasks": [
            {
                "id": result.get("id"),
                "title": titles.get(result.get("id"), result.get("id")),
                "passed": bool(result.get("passed")),
                "checks": [result_for_people(check) for check in result.get("checks") or []],
                "answers": [
                    {"index": index, "value": value}
                    for index, value in sorted((submission.answers.get(result.get("id")) or {}).items())
                ],
            }
            for result in submission.results
        ],
    }


def cohort_grades(*, cohort: Cohort) -> tuple[list[str], list[list]]:
    """The grades table: a header and one row per student (username, name, email, a score per
    exercise, total)."""
    students = list(cohort_students(cohort=cohort))
    exercises = course_exercises(course=cohort.course)
    scores = {
        (c["student_id"], c["exercise_id"]): c["score"]
        for c in cohort_cells(cohort=cohort, students=students, exercises=exercises)
    }
    header = ["username", "name", "email", *(e.slug for e in exercises), "total", "max_total"]
    max_total = sum(e.max_score for e in exercises)
    rows = []
    for s in students:
        row_scores = [scores[(s.pk, e.pk)] for e in exercises]
        rows.append(
            [s.username, s.get_full_name(), s.email, *row_scores, round(sum(row_scores), 2), max_total]
        )
    return header, rows
