"""The dashboard's charts data: the checks failed most with their reasons (ever and still), the
student's timeline, and who reaches the JSON."""

from __future__ import annotations

import json

import pytest

from labapp.classroom.charts import cohort_failed_checks, student_timeline
from labapp.classroom.progress import student_attempts
from labapp.exercises.records import attempt_record_grading
from tests.labapp.classroom.conftest import attempt_without_lab, results

pytestmark = pytest.mark.django_db


def check(attempt, *args):
    attempt_record_grading(attempt_id=attempt.pk, results=results(*args), kind="check", snapshot={})


@pytest.fixture
def graded(instructor_factory, cohort_factory, user_factory, exercise):
    """Ada, Bob and Cy fail the forwarding sysctl at a Check; Bob fixes it; Ada answers wrongly."""
    tess, ada, bob, cy = (
        instructor_factory("tess"),
        user_factory("ada"),
        user_factory("bob"),
        user_factory("cy"),
    )
    cohort = cohort_factory(tess, ada, bob, cy)
    attempts = {u.username: attempt_without_lab(u, exercise) for u in (ada, bob, cy)}
    check(attempts["ada"], False, (True, True), "80", False)
    check(attempts["bob"], False, (True, False))
    check(attempts["bob"], True, (True, True), None, True)
    check(attempts["cy"], False, (False, False))
    return tess, cohort, ada, attempts


def test_the_checks_failed_most_count_students_with_the_reason(graded):
    _tess, cohort, _ada, _attempts = graded
    rows = cohort_failed_checks(cohort=cohort, language="en")
    top = rows[0]
    assert (top["task"], top["kind"], top["students"], top["still"]) == ("Forwarding on", "sysctl", 3, 2)
    assert top["usernames"] == ["ada", "bob", "cy"]
    assert top["reason"] == "ip_forward in host is 0, expected 1."
    by_kind = {(r["kind"], r["students"], r["still"]) for r in rows}
    # The http check: Bob (fixed since) and Cy; the answer: all three once, Ada and Cy still.
    assert ("http", 2, 1) in by_kind and ("answer", 3, 2) in by_kind and ("container", 1, 1) in by_kind
    assert [r["students"] for r in rows] == sorted((r["students"] for r in rows), reverse=True)
    assert cohort_failed_checks(cohort=cohort, language="en", limit=1) == [top]


def test_the_timeline_has_each_start_and_grading(graded):
    _tess, cohort, ada, _attempts = graded
    attempts = student_attempts(student=ada, course=cohort.course, language="en")
    points = student_timeline(attempts=attempts)
    assert [p["kind"] for p in points] == ["start", "check"]
    assert points[1]["score"] < points[1]["max"] and points[1]["passed"] == ["Publish"]


def test_the_pages_carry_the_charts_and_the_json_is_for_the_cohorts_instructors(
    client, graded, instructor_factory
):
    tess, cohort, ada, _attempts = graded
    client.force_login(tess)
    page = client.get(f"/teach/{cohort.pk}/").content.decode()
    assert 'id="chart-pass-rate"' in page and 'id="failed-checks-data"' in page
    data = client.get(f"/teach/{cohort.pk}/failed-checks.json").json()["failed_checks"]
    assert data[0]["students"] == 3
    drill_down = client.get(f"/teach/{cohort.pk}/students/{ada.pk}/").content.decode()
    start = drill_down.index('id="timeline-data"')
    timeline = json.loads(drill_down[drill_down.index(">", start) + 1 : drill_down.index("</script>", start)])
    assert len(timeline) == 2
    client.force_login(ada)
    assert client.get(f"/teach/{cohort.pk}/failed-checks.json").status_code == 403
    client.force_login(instructor_factory("otto"))
    assert client.get(f"/teach/{cohort.pk}/failed-checks.json").status_code == 404
