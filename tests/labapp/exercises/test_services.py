"""Starting an exercise and grading it, with real sandboxes (embedded mode: tasks run eagerly)."""

from __future__ import annotations

import pytest

from labapp.exercises.models import Submission, TaskState
from labapp.exercises.node import attempt_grading
from labapp.exercises.node.runner import run_steps, sandbox_access
from labapp.exercises.spec import exercise_params, params_seed
from labapp.exercises.web import services
from topology.client import Client

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sandboxes_cleaned"),
]


def start(user, exercise):
    attempt = services.attempt_start(user=user, exercise=exercise, language="en")
    attempt.refresh_from_db()
    attempt.lab.refresh_from_db()
    assert attempt.lab.status == "ready", attempt.lab.error
    return attempt


def states(attempt) -> dict[str, tuple[bool, float]]:
    return {s.task_id: (s.passed, s.score) for s in TaskState.objects.filter(attempt=attempt)}


def sh(attempt, script: str) -> None:
    run_steps(sandbox_access(attempt.lab.sandbox_id), [{"sh": script}])


def test_start_runs_setup_and_creates_the_attempt(user_factory, exercise):
    ada = user_factory("ada")
    attempt = start(ada, exercise)
    assert attempt.params == exercise_params(exercise.data, params_seed(ada.pk, "t-publish"))
    assert attempt.lab.docker_version == "19.03" and attempt.lab.owner == ada
    snapshot = Client().snapshot(attempt.lab.sandbox_id)
    assert snapshot["sysctls"]["host"]["ip_forward"] == 0  # setup turned it off
    assert states(attempt) == {"forward": (False, 0), "publish": (False, 0), "port": (False, 0)}
    # Start again: the same attempt and lab.
    again = services.attempt_start(user=ada, exercise=exercise, language="zh-hans")
    assert (again.pk, again.lab_id) == (attempt.pk, attempt.lab_id)


def test_check_stores_a_submission_partial_credit_and_passed_stays_passed(user_factory, exercise):
    attempt = start(user_factory("ada"), exercise)
    name, port = attempt.params["name"], attempt.params["port"]

    frame = attempt_grading.attempt_check(attempt_id=attempt.pk)
    assert frame["kind"] == "check" and frame["score"] == 0 and frame["max_score"] == 4
    assert Submission.objects.filter(attempt=attempt, kind="check").count() == 1
    submission = Submission.objects.get(attempt=attempt)
    assert submission.snapshot["sandbox"] == attempt.lab.sandbox_id
    assert [t["id"] for t in submission.results] == ["forward", "publish", "port"]
    failed = frame["tasks"][0]["results"][0]
    assert failed["ok"] is False and "ip_forward" in failed["message"]

    # Partial credit: forwarding on, the container runs but is not published (1 of 2 checks).
    sh(attempt, f"sysctl -w net.ipv4.ip_forward=1; docker run -d --name {name} nginx")
    frame = attempt_grading.attempt_check(attempt_id=attempt.pk)
    assert states(attempt) == {"forward": (True, 1.0), "publish": (False, 1.0), "port": (False, 0)}
    assert frame["score"] == 2.0

    # The whole solution, and the right answer to the question.
    sh(attempt, f"docker rm -f {name} && docker run -d --name {name} -p {port}:80 nginx")
    frame = attempt_grading.attempt_check(attempt_id=attempt.pk, answers={"port": {"0": str(port)}})
    assert all(t["passed"] for t in frame["tasks"]), frame
    assert frame["score"] == 4.0 and states(attempt)["publish"] == (True, 2.0)

    # Breaking it again does not take a passed task back.
    sh(attempt, f"docker rm -f {name}; sysctl -w net.ipv4.ip_forward=0")
    frame = attempt_grading.attempt_check(attempt_id=attempt.pk, answers={"port": {"0": "1"}})
    assert frame["score"] == 4.0 and all(t["passed"] for t in frame["tasks"])
    assert frame["tasks"][1]["results"][0]["ok"] is False  # ... while the results say what is now
    assert Submission.objects.filter(attempt=attempt, kind="check").count() == 4
    attempt.refresh_from_db()
    assert attempt.score == 4.0


def test_continuous_grading_is_state_only_and_sends_only_changes(user_factory, exercise):
    attempt = start(user_factory("ada"), exercise)
    lab_id, sandbox_id = attempt.lab_id, attempt.lab.sandbox_id

    frame = attempt_grading.attempt_grade_continuous(lab_id=lab_id, snapshot=Client().snapshot(sandbox_id))
    assert frame["kind"] == "continuous"
    probe = frame["tasks"][1]["results"][1]
    assert probe["ok"] is None and probe["skipped"]
    assert (
        attempt_grading.attempt_grade_continuous(lab_id=lab_id, snapshot=Client().snapshot(sandbox_id))
        is None
    )
    assert not Submission.objects.filter(attempt=attempt).exists()

    sh(attempt, "sysctl -w net.ipv4.ip_forward=1")
    frame = attempt_grading.attempt_grade_continuous(lab_id=lab_id, snapshot=Client().snapshot(sandbox_id))
    assert frame["tasks"][0]["passed"] and frame["score"] == 1.0
    (submission,) = Submission.objects.filter(attempt=attempt)
    assert submission.kind == "continuous" and submission.snapshot["sysctls"]["host"]["ip_forward"] == 1
    # A task with a probe never passes without a Check.
    assert not TaskState.objects.get(attempt=attempt, task_id="publish").passed


def test_hints_are_revealed_one_at_a_time(user_factory, exercise):
    from labapp.exercises.models import Attempt

    ada = user_factory("ada")
    attempt = Attempt.objects.create(user=ada, exercise=exercise, params={"name": "web", "port": 8000})
    for expected in (1, 2, 2):
        assert services.task_hint_reveal(attempt=attempt, task_id="forward").hints_shown == expected
    assert services.task_hint_reveal(attempt=attempt, task_id="nope") is None
