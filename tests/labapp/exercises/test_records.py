"""Keeping gradings: a Check whose task runs twice (redelivered after its worker died) counts once."""

from __future__ import annotations

from labapp.exercises.models import Submission
from labapp.exercises.records import attempt_record_grading
from tests.labapp.classroom.conftest import attempt_without_lab, results


def test_a_check_recorded_again_under_its_request_id_changes_nothing(user_factory, exercise):
    attempt = attempt_without_lab(user_factory("ada"), exercise)
    first, newly = attempt_record_grading(
        attempt_id=attempt.pk,
        results=results(True, (False, False)),
        kind="check",
        snapshot={},
        request_id="t1",
    )
    assert newly == ["forward"]
    # The same task again, this time finding more passed: the grade it kept stands.
    again, newly = attempt_record_grading(
        attempt_id=attempt.pk, results=results(True, (True, True)), kind="check", snapshot={}, request_id="t1"
    )
    assert newly == [] and again == first
    assert Submission.objects.filter(attempt=attempt).count() == 1
    attempt.refresh_from_db()
    assert attempt.score == 1.0

    attempt_record_grading(
        attempt_id=attempt.pk, results=results(True, (True, True)), kind="check", snapshot={}, request_id="t2"
    )
    assert list(Submission.objects.filter(attempt=attempt).values_list("request_id", flat=True)) == [
        "t2",
        "t1",
    ]
