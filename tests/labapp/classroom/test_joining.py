"""Cohorts and joining them: the code, the link, expiry and regeneration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from labapp.classroom.models import Cohort, Enrolment
from labapp.classroom.web import services

pytestmark = pytest.mark.django_db


def test_a_cohort_gets_an_unambiguous_code_and_its_creator_teaches_it(instructor_factory, cohort_factory):
    teacher = instructor_factory("tess")
    cohort = cohort_factory(teacher)
    assert len(cohort.join_code) == services.CODE_LENGTH
    assert set(cohort.join_code) <= set(services.CODE_ALPHABET) and not set(cohort.join_code) & set("O0I1L")
    assert list(cohort.instructors.all()) == [teacher]
    assert cohort.join_code_valid()
    assert timedelta(days=13) < cohort.join_code_expires_at - timezone.now() <= timedelta(days=14)


def test_the_link_names_the_class_and_its_button_enrols(
    client, instructor_factory, cohort_factory, user_factory, exercise
):
    cohort = cohort_factory(instructor_factory("tess"))
    client.force_login(user_factory("ada"))
    page = client.get(f"/join/{cohort.join_code}/")
    assert page.status_code == 200 and "Class A" in page.content.decode()
    assert not Enrolment.objects.exists()  # opening the link alone changes nothing
    answer = client.post(f"/join/{cohort.join_code}/")
    assert answer.status_code == 302 and answer["Location"] == "/courses/testcourse/"
    assert Enrolment.objects.get().cohort == cohort
    # Twice: still one enrolment, and a page saying so.
    client.post(f"/join/{cohort.join_code}/")
    assert Enrolment.objects.count() == 1
    assert "You are in Class A" in client.get(f"/join/{cohort.join_code}/").content.decode()
    # The join page lists the student's classes with their courses.
    listed = client.get("/join/").content.decode()
    assert 'Class A · <a href="/courses/testcourse/">Test course</a>' in listed


def test_the_link_asks_to_log_in_first_and_comes_back(client, instructor_factory, cohort_factory):
    cohort = cohort_factory(instructor_factory("tess"))
    answer = client.get(f"/join/{cohort.join_code}/")
    assert answer.status_code == 302
    assert answer["Location"] == f"/accounts/login/?next=/join/{cohort.join_code}/"


def test_a_typed_code_ignores_case_and_spaces(
    client, instructor_factory, cohort_factory, user_factory, exercise
):
    cohort = cohort_factory(instructor_factory("tess"))
    ada = user_factory("ada")
    client.force_login(ada)
    typed = " ".join(cohort.join_code.lower()[i : i + 4] for i in (0, 4))
    assert client.post("/join/", {"code": typed}).status_code == 302
    assert Cohort.objects.get(enrolments__student=ada) == cohort


@pytest.mark.parametrize("path", ["/join/", "/join/NOSUCHCODE/"])
def test_a_wrong_code_is_a_clear_404(client, user_factory, path):
    client.force_login(user_factory("ada"))
    answer = client.post(path, {"code": "NOSUCHCODE"})
    assert answer.status_code == 404
    assert "No class has this code" in answer.content.decode()
    assert client.get("/join/NOSUCHCODE/").status_code == 404
    assert not Enrolment.objects.exists()


def test_expired_and_regenerated_codes(client, instructor_factory, cohort_factory, user_factory):
    cohort = cohort_factory(instructor_factory("tess"))
    client.force_login(user_factory("ada"))
    old = cohort.join_code
    services.join_code_expire(cohort=cohort)
    answer = client.post(f"/join/{old}/")
    assert answer.status_code == 404 and "expired" in answer.content.decode()
    assert "expired" in client.get(f"/join/{old}/").content.decode()

    cohort = services.join_code_regenerate(cohort=cohort, code_days=None)
    assert cohort.join_code != old and cohort.join_code_expires_at is None
    assert client.post(f"/join/{old}/").status_code == 404  # the old code is gone
    assert client.post(f"/join/{cohort.join_code}/").status_code == 302
    assert Enrolment.objects.filter(cohort=cohort).count() == 1


def test_instructors_regenerate_and_close_the_code_from_the_dashboard(
    client, instructor_factory, cohort_factory
):
    teacher = instructor_factory("tess")
    cohort = cohort_factory(teacher)
    client.force_login(teacher)
    old = cohort.join_code
    client.post(f"/teach/{cohort.pk}/code", {"action": "regenerate", "code_days": "7"})
    cohort.refresh_from_db()
    assert cohort.join_code != old
    assert timedelta(days=6) < cohort.join_code_expires_at - timezone.now() <= timedelta(days=7)
    client.post(f"/teach/{cohort.pk}/code", {"action": "expire"})
    cohort.refresh_from_db()
    assert not cohort.join_code_valid()


def test_cohort_creation_from_the_page_and_co_instructors(client, instructor_factory, exercise):
    teacher, colleague = instructor_factory("tess"), instructor_factory("carl")
    client.force_login(teacher)
    page = client.get("/teach/")
    assert page.status_code == 200 and "Test course" in page.content.decode()
    answer = client.post("/teach/new", {"name": "Autumn", "course": "testcourse", "code_days": "0"})
    cohort = Cohort.objects.get(name="Autumn")
    assert answer["Location"] == f"/teach/{cohort.pk}/" and cohort.join_code_expires_at is None
    assert (
        client.post("/teach/new", {"name": "X", "course": "nosuchcourse", "code_days": "0"}).status_code
        == 400
    )

    client.post(f"/teach/{cohort.pk}/instructors", {"username": "carl"})
    client.post(f"/teach/{cohort.pk}/instructors", {"username": "nobody"})
    assert set(cohort.instructors.values_list("username", flat=True)) == {"tess", "carl"}
    client.force_login(colleague)
    assert client.get(f"/teach/{cohort.pk}/").status_code == 200
