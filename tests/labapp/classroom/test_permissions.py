"""Who reaches what: every /teach/ page for students, staff, other instructors, unknown ids."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def pages(cohort_id: int, student_id: int) -> list[tuple[str, str]]:
    """(method, path) of every instructor page of a cohort."""
    base = f"/teach/{cohort_id}/"
    return [
        ("get", base),
        ("post", base + "code"),
        ("post", base + "instructors"),
        ("get", base + "enrol"),
        ("post", base + "enrol"),
        ("get", base + "grades.csv"),
        ("get", f"{base}students/{student_id}/"),
        ("post", f"{base}students/{student_id}/remove"),
    ]


@pytest.fixture
def world(instructor_factory, cohort_factory, user_factory, exercise):
    tess, other = instructor_factory("tess"), instructor_factory("otto")
    ada = user_factory("ada")
    cohort = cohort_factory(tess, ada)
    return tess, other, ada, cohort


def test_students_reach_no_teach_page(client, world):
    _tess, _other, ada, cohort = world
    client.force_login(ada)
    assert client.get("/teach/").status_code == 403
    assert client.post("/teach/new", {"name": "Mine", "course": "testcourse"}).status_code == 403
    for method, path in pages(cohort.pk, ada.pk):
        assert getattr(client, method)(path).status_code == 403, path


def test_staff_status_alone_opens_nothing(client, world):
    _tess, _other, ada, cohort = world
    staff = get_user_model().objects.create_user("sam", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get("/teach/").status_code == 403
    for method, path in pages(cohort.pk, ada.pk):
        assert getattr(client, method)(path).status_code == 403, path


def test_another_instructor_and_a_superuser_get_404_for_a_cohort_they_do_not_teach(client, world):
    tess, other, ada, cohort = world
    boss = get_user_model().objects.create_superuser("boss", password="pw")
    for user in (other, boss):
        client.force_login(user)
        assert client.get("/teach/").status_code == 200
        assert "Class A" not in client.get("/teach/").content.decode()
        for method, path in pages(cohort.pk, ada.pk):
            assert getattr(client, method)(path).status_code == 404, (user, path)
    cohort.refresh_from_db()
    assert cohort.enrolments.count() == 1 and list(cohort.instructors.all()) == [tess]


def test_unknown_ids_and_students_of_other_cohorts_give_404(client, world, cohort_factory, user_factory):
    tess, other, ada, cohort = world
    bob = user_factory("bob")
    cohort_factory(other, bob, name="Other class")
    client.force_login(tess)
    assert client.get(f"/teach/{cohort.pk + 100}/").status_code == 404
    assert client.get(f"/teach/{cohort.pk}/students/{bob.pk}/").status_code == 404
    assert client.get(f"/teach/{cohort.pk}/students/{bob.pk + 100}/").status_code == 404
    assert client.post(f"/teach/{cohort.pk}/students/{bob.pk}/remove").status_code == 404
    assert client.get(f"/teach/{cohort.pk}/students/{ada.pk}/").status_code == 200


def test_anonymous_users_are_sent_to_log_in(client, world):
    _tess, _other, ada, cohort = world
    for _method, path in [("get", "/teach/"), *pages(cohort.pk, ada.pk)]:
        answer = client.get(path)
        assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/"), path
