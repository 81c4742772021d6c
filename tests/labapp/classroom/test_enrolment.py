"""Enrolling from a CSV file: good rows kept, bad rows reported by line, whole-file errors refused."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from labapp.classroom.models import Enrolment
from labapp.classroom.web.enrolment import MAX_BYTES, CsvFileError, enrol_csv

pytestmark = pytest.mark.django_db
User = get_user_model()

GOOD_AND_BAD = """username,email,name
ada,ada@example.org,Ada Lovelace
bad name,x@example.org,Spaces
grace,not-an-email,Grace
lin,lin@example.org,林 小明
ada,ada2@example.org,Ada again

only,two
eve,eve@example.org,Eve
"""


def test_good_rows_are_kept_and_bad_rows_reported_by_line(instructor_factory, cohort_factory, user_factory):
    cohort = cohort_factory(instructor_factory("tess"))
    eve = user_factory("eve")  # exists: enrolled, not created, password unchanged
    report = enrol_csv(cohort=cohort, data=GOOD_AND_BAD.encode())
    assert report.enrolled == ["ada", "lin", "eve"]
    assert [a.username for a in report.created] == ["ada", "lin"]
    assert [(p.line, p.reason) for p in report.problems] == [
        (3, "“bad name” is not a valid username (letters, digits and @.+-_ only)."),
        (4, "“not-an-email” is not a valid email address."),
        (6, "Duplicate of line 2."),
        (8, "3 fields expected, 2 found."),
    ]
    lin = User.objects.get(username="lin")
    assert (lin.email, lin.get_full_name()) == ("lin@example.org", "林 小明")
    assert not lin.has_usable_password()
    eve.refresh_from_db()
    assert eve.check_password("pw-for-tests")
    assert set(Enrolment.objects.filter(cohort=cohort).values_list("student__username", flat=True)) == {
        "ada",
        "lin",
        "eve",
    }
    # Again: nobody twice, nothing created.
    again = enrol_csv(cohort=cohort, data=GOOD_AND_BAD.encode())
    assert again.enrolled == [] and sorted(again.already) == ["ada", "eve", "lin"] and again.created == []


def test_accounts_that_do_not_match_are_refused(instructor_factory, cohort_factory, user_factory):
    cohort = cohort_factory(instructor_factory("tess"))
    User.objects.create_user("bob", email="bob@example.org")
    data = "email,name,username\nbob@other.org,Bob,BOB\nbob@example.org,Robert,rob\n"  # any column order
    report = enrol_csv(cohort=cohort, data=data.encode())
    assert [(p.line, p.reason) for p in report.problems] == [
        (2, "The account “BOB” exists with another email address."),
        (3, "The email address belongs to the account “bob”."),
    ]
    assert not Enrolment.objects.exists() and User.objects.count() == 2


def test_a_byte_order_mark_is_fine(instructor_factory, cohort_factory):
    cohort = cohort_factory(instructor_factory("tess"))
    report = enrol_csv(cohort=cohort, data="\ufeffusername,email,name\r\nada,,Ada\r\n".encode())
    assert report.enrolled == ["ada"] and not report.problems


@pytest.mark.parametrize(
    "data, message",
    [
        ("username,email,name\nzoë,z@example.org,Zoë\n".encode("latin-1"), "not UTF-8 text (line 2)"),
        ("username,email,name\nzoë,z@example.org,Zoë\n".encode("utf-16"), "not UTF-8 text (line 1)"),
        (b"user,mail\nada,ada@example.org\n", "columns username, email, name (found: user, mail)"),
        (b"username,email,name,extra\n", "(found: username, email, name, extra)"),
        (b"", "(found: nothing)"),
        (b"username,email,name\n" + b"x" * MAX_BYTES, "larger than 1024 KB"),
        (b"username,email,name\nada,\0,Ada\n", "not a CSV file: it holds NUL"),
        (b'username,email,name\nada,"' + b"x" * 200_000 + b'",Ada\n', "not a CSV file: field larger"),
    ],
)
def test_files_that_cannot_be_read_change_nothing(instructor_factory, cohort_factory, data, message):
    cohort = cohort_factory(instructor_factory("tess"))
    with pytest.raises(CsvFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        enrol_csv(cohort=cohort, data=data)
    assert not Enrolment.objects.exists() and User.objects.count() == 1


def test_the_page_shows_the_report_and_set_password_links_that_work(
    client, instructor_factory, cohort_factory
):
    teacher = instructor_factory("tess")
    cohort = cohort_factory(teacher)
    client.force_login(teacher)
    upload = SimpleUploadedFile("class.csv", GOOD_AND_BAD.encode(), content_type="text/csv")
    page = client.post(f"/teach/{cohort.pk}/enrol", {"file": upload})
    html = page.content.decode()
    assert page.status_code == 200 and "3 students enrolled" in html and "Duplicate of line 2." in html
    link = page.context["created"][0]["url"]
    assert link.startswith("http://testserver/accounts/reset/")

    client.logout()
    form = client.get(link, follow=True)  # Django moves the token into the session, then asks
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-Long-pass-99", "new_password2": "a-Long-pass-99"}
    )
    assert done.status_code == 302
    assert client.login(username="ada", password="a-Long-pass-99")
    assert client.get(link, follow=True).context["validlink"] is False  # used once


def test_a_50_mb_upload_is_refused_before_it_is_read(client, instructor_factory, cohort_factory):
    teacher = instructor_factory("tess")
    cohort = cohort_factory(teacher)
    client.force_login(teacher)
    big = SimpleUploadedFile("big.csv", b"username,email,name\n" + b"a,b,c\n" * (50 * 1024 * 1024 // 6))
    page = client.post(f"/teach/{cohort.pk}/enrol", {"file": big})
    assert page.status_code == 413 and "larger than 1024 KB" in page.content.decode()
    assert not Enrolment.objects.exists()
    assert client.post(f"/teach/{cohort.pk}/enrol", {}).status_code == 400  # no file: the form says so


def test_the_upload_is_csrf_protected(instructor_factory, cohort_factory):
    teacher = instructor_factory("tess")
    cohort = cohort_factory(teacher)
    client = Client(enforce_csrf_checks=True)
    client.force_login(teacher)
    upload = SimpleUploadedFile("class.csv", GOOD_AND_BAD.encode())
    assert client.post(f"/teach/{cohort.pk}/enrol", {"file": upload}).status_code == 403
    assert not Enrolment.objects.exists()
