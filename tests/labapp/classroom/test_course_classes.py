"""A student sees their classes on the course pages (classroom's section through exercises.hooks)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_students_see_their_classes_on_the_course_list_and_their_course(
    client, instructor_factory, cohort_factory, user_factory, exercise
):
    tess = instructor_factory("tess")
    tess.first_name, tess.last_name = "Tess", "Ng"
    tess.save()
    ada, lou = user_factory("ada"), user_factory("lou")
    cohort_factory(tess, ada, name="Networking 101")
    cohort_factory(instructor_factory("otto"), ada, name="Other course class", course="elsewhere")

    client.force_login(ada)
    listing = client.get("/courses/").content.decode()
    assert 'id="your-classes"' in listing
    assert "Networking 101" in listing and "Other course class" in listing and "taught by Tess Ng" in listing
    assert 'href="/courses/testcourse/"' in listing
    course = client.get("/courses/testcourse/").content.decode()
    assert "Your class in this course" in course and "Networking 101" in course
    assert "Other course class" not in course
    client.cookies["django_language"] = "zh-hans"
    assert "你在本课程中的班级" in client.get("/courses/testcourse/").content.decode()
    client.cookies["django_language"] = "en"

    client.force_login(lou)
    assert 'id="your-classes"' not in client.get("/courses/").content.decode()
    assert 'id="your-classes"' not in client.get("/courses/testcourse/").content.decode()
