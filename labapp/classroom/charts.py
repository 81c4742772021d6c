"""The dashboard's charts that the grid's cells do not hold: the checks a cohort fails most, with their
why-not reasons, and one student's timeline of attempts. (Pass rates and times to pass are drawn in
the browser from the grid's cells, which the socket keeps live.)

Plain data for the page (`json_script`) and its JSON endpoint; texts in the active language.
"""

from __future__ import annotations

from collections import defaultdict

from labapp.classroom.models import Cohort
from labapp.classroom.progress import course_exercises
from labapp.classroom.selectors import cohort_students
from labapp.exercises.models import Submission
from labapp.exercises.results import message_text
from labapp.exercises.spec import localised

FAILED_CHECKS_SHOWN = 10


def _reason_key(check: dict) -> tuple:
    """What a failed check says, without its parameters (each student's exercise has its own)."""
    codes = [d.get("code") for d in check.get("diagnoses") or []]
    return ((check.get("message") or {}).get("code"), *codes)


def _reason_text(check: dict) -> str:
    """The why-not of a failed check: its diagnoses (they name the cause), else its message."""
    diagnoses = [message_text(d) for d in check.get("diagnoses") or []]
    return " ".join(diagnoses) or message_text(check.get("message")) or check.get("kind", "")


def cohort_failed_checks(*, cohort: Cohort, language: str, limit: int = FAILED_CHECKS_SHOWN) -> list[dict]:
    """The checks most students of the cohort failed at a Check, grouped by exercise, task, check and
    reason: how many students ever failed it that way, how many still do (at their last Check of the
    exercise), their usernames, and the reason in words (one student's example)."""
    students = {s.pk: s.username for s in cohort_students(cohort=cohort)}
    exercises = {e.pk: e for e in course_exercises(course=cohort.course)}
    checks = (
        Submission.objects.filter(
            kind=Submission.Kind.CHECK, attempt__user_id__in=students, attempt__exercise_id__in=exercises
        )
        .values_list("attempt__user_id", "attempt__exercise_id", "results")
        .order_by("created_at")
    )
    ever: dict[tuple, set[int]] = defaultdict(set)
    example: dict[tuple, dict] = {}
    last: dict[tuple[int, int], set[tuple]] = {}
    for user_id, exercise_id, results in checks.iterator():
        failing = set()
        for task in results or []:
            for index, check in enumerate(task.get("checks") or []):
                if check.get("ok") or check.get("skipped"):
                    continue
                key = (exercise_id, task.get("id"), index, _reason_key(check))
                ever[key].add(user_id)
                example.setdefault(key, check)
                failing.add(key)
        last[(user_id, exercise_id)] = failing  # checks come oldest first: the last one stays
    still: dict[tuple, int] = defaultdict(int)
    for failing in last.values():
        for key in failing:
            still[key] += 1
    ranked = sorted(ever, key=lambda k: (-len(ever[k]), -still[k], k[0], str(k[1]), k[2]))[:limit]
    rows = []
    for key in ranked:
        exercise = exercises[key[0]]
        tasks = {t["id"]: t for t in exercise.tasks}
        task = tasks.get(key[1], {})
        rows.append(
            {
                "exercise_id": exercise.pk,
                "exercise": localised(exercise.data["title"], language),
                "task": localised(task.get("title", key[1] or ""), language),
                "kind": example[key].get("kind", ""),
                "reason": _reason_text(example[key]),
                "students": len(ever[key]),
                "still": still[key],
                "usernames": sorted(students[u] for u in ever[key]),
            }
        )
    return rows


def student_timeline(*, attempts: list[dict]) -> list[dict]:
    """One student's attempts over time (from progress.student_attempts): each start and each
    grading, with the score reached and the tasks passed then."""
    points = []
    for item in attempts:
        attempt, title, max_score = item["attempt"], item["title"], item["max_score"]
        start = attempt.started_at.isoformat()
        points.append({"exercise": title, "at": start, "kind": "start", "score": 0, "max": max_score})
        for sub in item["submissions"]:
            submission = sub["submission"]
            points.append(
                {
                    "exercise": title,
                    "at": submission.created_at.isoformat(),
                    "kind": submission.kind,
                    "score": submission.score,
                    "max": max_score,
                    "passed": [t["title"] for t in sub["tasks"] if t["passed"]],
                }
            )
    return points
