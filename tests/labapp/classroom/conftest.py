"""Fixtures of the classroom tests: the exercises tests' small course, instructors, cohorts, grading."""

from __future__ import annotations

import pytest
from django.utils import translation

from labapp.classroom.roles import instructor_grant
from labapp.classroom.web import services
from labapp.exercises.models import Attempt, Exercise, TaskState
from labapp.exercises.spec import exercise_params, params_seed
from tests.labapp.exercises.conftest import TEST_COURSE, TEST_EXERCISE


@pytest.fixture(autouse=True)
def english():
    """Services answer in the active language, and a request of an earlier test may have left another."""
    with translation.override("en"):
        yield


@pytest.fixture
def exercise(db, tmp_path) -> Exercise:
    """The exercises tests' course (testcourse: one exercise, t-publish, three tasks, 4 points)."""
    from labapp.exercises.web.services import exercises_load

    folder = tmp_path / "course" / "testcourse"
    folder.mkdir(parents=True)
    (folder / "course.yaml").write_text(TEST_COURSE)
    (folder / "01-t-publish.yaml").write_text(TEST_EXERCISE)
    assert not exercises_load(root=tmp_path / "course").errors
    return Exercise.objects.get(slug="t-publish")


@pytest.fixture
def instructor_factory(user_factory):
    def make(username: str):
        user = user_factory(username)
        instructor_grant(user)
        return type(user).objects.get(pk=user.pk)  # permissions are cached per object

    return make


@pytest.fixture
def cohort_factory():
    def make(instructor, *students, name: str = "Class A", course: str = "testcourse"):
        cohort = services.cohort_create(name=name, course=course, instructor=instructor)
        for student in students:
            services.cohort_join(cohort=cohort, user=student)
        return cohort

    return make


def attempt_without_lab(user, exercise) -> Attempt:
    """An attempt as attempt_start makes it, without its lab (grading is then recorded directly)."""
    attempt = Attempt.objects.create(
        user=user,
        exercise=exercise,
        params=exercise_params(exercise.data, params_seed(user.pk, exercise.slug)),
    )
    TaskState.objects.bulk_create(TaskState(attempt=attempt, task_id=t["id"]) for t in exercise.tasks)
    return attempt


def results(
    forward: bool, publish: tuple[bool, bool], answer: str | None = None, port_ok: bool = False
) -> list[dict]:
    """Grading results of t-publish shaped as topology.grading.grade_tasks gives them."""
    sysctl = {
        "code": "sysctl.mismatch",
        "params": {"name": "ip_forward", "ns": "host", "actual": 0, "expected": 1},
    }
    wrong = {"code": "answer.wrong", "params": {"answer": answer}}
    return [
        {
            "id": "forward",
            "passed": forward,
            "checks": [{"kind": "sysctl", "ok": forward, "message": sysctl}],
        },
        {
            "id": "publish",
            "passed": all(publish),
            "checks": [{"kind": "container", "ok": publish[0]}, {"kind": "http", "ok": publish[1]}],
        },
        {"id": "port", "passed": port_ok, "checks": [{"kind": "answer", "ok": port_ok, "message": wrong}]},
    ]
