"""The grid's cells and states, the drill-down and the grades export, from recorded gradings."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labapp.classroom.progress import cohort_grid
from labapp.exercises.records import attempt_record_grading
from labapp.exercises.web.services import task_hint_reveal
from tests.labapp.classroom.conftest import attempt_without_lab, results

pytestmark = pytest.mark.django_db


def cell_states(cohort) -> dict[str, tuple[str, float, int]]:
    grid = cohort_grid(cohort=cohort, language="en")
    return {
        row["student"].username: [(c["state"], c["score"], c["tasks_passed"]) for c in row["cells"]]
        for row in grid["rows"]
    }


def test_cells_go_from_not_started_to_working_failed_and_passed(
    instructor_factory, cohort_factory, user_factory, exercise
):
    ada, bob = user_factory("ada"), user_factory("bob")
    cohort = cohort_factory(instructor_factory("tess"), ada, bob)
    assert cell_states(cohort) == {"ada": [("not_started", 0, 0)], "bob": [("not_started", 0, 0)]}

    attempt = attempt_without_lab(ada, exercise)
    assert cell_states(cohort)["ada"] == [("working", 0, 0)]
    # Continuous grading found forwarding on: still working (no Check yet), 1 point.
    attempt_record_grading(
        attempt_id=attempt.pk, results=results(True, (False, False)), kind="continuous", snapshot={}
    )
    assert cell_states(cohort)["ada"] == [("working", 1.0, 1)]
    # A Check with failures: failed checks, with the partial credit.
    attempt_record_grading(
        attempt_id=attempt.pk, results=results(True, (True, False), "1"), kind="check", snapshot={}
    )
    assert cell_states(cohort)["ada"] == [("failed", 2.0, 1)]
    attempt_record_grading(
        attempt_id=attempt.pk, results=results(True, (True, True), "8080", True), kind="check", snapshot={}
    )
    assert cell_states(cohort) == {"ada": [("passed", 4.0, 3)], "bob": [("not_started", 0, 0)]}
    grid = cohort_grid(cohort=cohort, language="zh-hans")
    assert grid["columns"][0]["title"] == "发布" and grid["max_total"] == 4
    assert [row["total"] for row in grid["rows"]] == [4.0, 0]


def test_a_cohort_without_students_shows_how_to_get_some(
    client, instructor_factory, cohort_factory, exercise
):
    teacher = instructor_factory("tess")
    cohort = cohort_factory(teacher)
    client.force_login(teacher)
    html = client.get(f"/teach/{cohort.pk}/").content.decode()
    assert "No students yet" in html and cohort.join_code in html
    header = client.get(f"/teach/{cohort.pk}/grades.csv").content.decode("utf-8-sig").splitlines()
    assert header == ["username,name,email,t-publish,total,max_total"]


def test_the_page_draws_the_grid(client, instructor_factory, cohort_factory, user_factory, exercise):
    teacher, ada = instructor_factory("tess"), user_factory("ada")
    cohort = cohort_factory(teacher, ada)
    attempt = attempt_without_lab(ada, exercise)
    attempt_record_grading(
        attempt_id=attempt.pk, results=results(True, (True, True), "1"), kind="check", snapshot={}
    )
    client.force_login(teacher)
    html = client.get(f"/teach/{cohort.pk}/").content.decode()
    assert f'data-socket="/ws/teach/{cohort.pk}/"' in html
    assert f'class="cell state-failed" data-exercise-id="{exercise.pk}"' in html
    assert f"http://testserver/join/{cohort.join_code}/" in html


def test_the_drill_down_shows_every_check_hint_and_answer(
    client, instructor_factory, cohort_factory, user_factory, exercise
):
    teacher, ada = instructor_factory("tess"), user_factory("ada")
    cohort = cohort_factory(teacher, ada)
    attempt = attempt_without_lab(ada, exercise)
    task_hint_reveal(attempt=attempt, task_id="forward")
    attempt_record_grading(
        attempt_id=attempt.pk,
        results=results(False, (True, False), "8123"),
        kind="check",
        snapshot={},
        answers={"port": {0: "8123"}},
    )
    client.force_login(teacher)
    html = client.get(f"/teach/{cohort.pk}/students/{ada.pk}/").content.decode()
    assert "ip_forward in host is 0, expected 1." in html  # the check's reason, for people
    assert "8123 is not right." in html and "<code>8123</code>" in html  # the answer given
    assert "1 / 2" in html  # hints used of the forward task
    assert "time spent" in html and "Forwarding on" in html


def test_grades_export_one_row_per_student(
    client, instructor_factory, cohort_factory, user_factory, exercise
):
    teacher, ada, lin = instructor_factory("tess"), user_factory("ada"), user_factory("lin")
    lin.first_name = "林小明"
    lin.save()
    cohort = cohort_factory(teacher, ada, lin)
    attempt = attempt_without_lab(lin, exercise)
    attempt_record_grading(
        attempt_id=attempt.pk, results=results(True, (True, False)), kind="check", snapshot={}
    )
    client.force_login(teacher)
    answer = client.get(f"/teach/{cohort.pk}/grades.csv")
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"] == 'attachment; filename="grades-class-a.csv"'
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows == [
        ["username", "name", "email", "t-publish", "total", "max_total"],
        ["ada", "", "", "0", "0", "4"],
        ["lin", "林小明", "", "2", "2", "4"],
    ]


def test_the_pages_speak_simplified_chinese(
    client, instructor_factory, cohort_factory, user_factory, exercise
):
    teacher, ada = instructor_factory("tess"), user_factory("ada")
    cohort = cohort_factory(teacher, ada)
    client.force_login(teacher)
    headers = {"Accept-Language": "zh-hans"}
    assert "你的班级" in client.get("/teach/", headers=headers).content.decode()
    html = client.get(f"/teach/{cohort.pk}/", headers=headers).content.decode()
    assert "导出成绩（CSV）" in html and "发布" in html and "课程 测试课程" in html  # course, exercise titles
    bad = client.post(
        f"/teach/{cohort.pk}/enrol", {"file": SimpleUploadedFile("class.csv", b"user\n")}, headers=headers
    )
    assert "第一行必须给出列名" in bad.content.decode()
    client.force_login(ada)
    assert (
        "没有班级使用这个加入码" in client.post("/join/", {"code": "NOPE"}, headers=headers).content.decode()
    )
