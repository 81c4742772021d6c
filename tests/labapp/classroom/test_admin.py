"""The Instructors group, the demo class and Django's admin as an instructor sees it."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from labapp.classroom.models import Cohort
from labapp.classroom.roles import INSTRUCTORS
from labapp.exercises.records import attempt_record_grading
from labapp.labs.models import Lab
from tests.labapp.classroom.conftest import attempt_without_lab, results

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_the_demo_users_come_with_a_demo_class():
    out = io.StringIO()
    call_command("nslab_demo_users", "--force", stdout=out)
    cohort = Cohort.objects.get(name="Demo class")
    teacher, student = User.objects.get(username="teacher"), User.objects.get(username="student")
    assert list(cohort.instructors.all()) == [teacher] and list(cohort.students.all()) == [student]
    assert (
        cohort.course == "docker-networking"
        and cohort.join_code_valid()
        and cohort.join_code in out.getvalue()
    )
    assert teacher.groups.filter(name=INSTRUCTORS).exists() and teacher.is_staff
    assert not student.groups.exists()
    call_command("nslab_demo_users", "--force", stdout=io.StringIO())  # again: nothing new
    assert Cohort.objects.count() == 1 and cohort.enrolments.count() == 1


def test_instructors_see_their_classes_in_the_admin_and_nothing_else(client, user_factory, exercise):
    call_command("nslab_demo_users", "--force", stdout=io.StringIO())
    teacher, student = User.objects.get(username="teacher"), User.objects.get(username="student")
    stranger = user_factory("eve")
    for user in (student, stranger):
        attempt = attempt_without_lab(user, exercise)
        attempt_record_grading(
            attempt_id=attempt.pk, results=results(True, (False, False)), kind="check", snapshot={}
        )
        Lab.objects.create(owner=user, node="local", status=Lab.Status.STOPPED)
    other = Cohort.objects.create(name="Not yours", course="testcourse", join_code="OTHER234")

    client.force_login(teacher)
    index = client.get("/admin/").content.decode()
    for model in ("Cohorts", "Attempts", "Exercises", "Labs", "Submissions"):
        assert f">{model}<" in index, model
    assert "Users" not in index  # accounts stay the administrator's

    pages = {
        path: client.get(path)
        for path in (
            "/admin/classroom/cohort/",
            "/admin/exercises/attempt/",
            "/admin/labs/lab/",
            "/admin/exercises/submission/",
            "/admin/exercises/exercise/",
        )
    }
    assert all(page.status_code == 200 for page in pages.values())
    assert list(pages["/admin/classroom/cohort/"].context["cl"].result_list) == [
        Cohort.objects.get(name="Demo class")
    ]
    for path in ("/admin/exercises/attempt/", "/admin/exercises/submission/", "/admin/labs/lab/"):
        assert pages[path].context["cl"].result_count == 1, path  # the student's, not eve's
    assert (
        client.get(f"/admin/classroom/cohort/{other.pk}/change/").status_code == 302
    )  # not found: back to the list
    assert client.get("/admin/auth/user/").status_code == 403

    # The admin's search and filters work on these lists.
    assert client.get("/admin/exercises/attempt/?q=student").context["cl"].result_count == 1
    assert client.get("/admin/exercises/exercise/?course=testcourse").context["cl"].result_count == 1
