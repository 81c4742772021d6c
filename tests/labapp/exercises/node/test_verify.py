"""`manage.py exercises verify` for every exercise of course/: one case per slug."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from labapp.exercises.spec import load_courses
from tests.labapp.exercises.conftest import REPO

SLUGS = sorted(e.data["slug"] for e in load_courses(REPO / "course").exercises)

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("sandboxes_cleaned")]


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_verify(slug):
    out = io.StringIO()
    try:
        call_command("exercises", "verify", slug, stdout=out)
    except CommandError as exc:
        pytest.fail(f"{out.getvalue()}{exc}")
    assert out.getvalue().startswith(f"ok    {slug} ")


def test_verify_reports_a_failing_exercise(tmp_path, test_course):
    text = (test_course / "testcourse" / "01-t-publish.yaml").read_text()
    (test_course / "testcourse" / "01-t-publish.yaml").write_text(
        text.replace("ip_forward=1", "ip_forward=0")
    )
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("exercises", "verify", "--root", str(test_course), stdout=out)
    assert out.getvalue().startswith("FAIL  t-publish ")
    assert "task forward check 0 fails after the solution" in out.getvalue()


def test_load_reports_file_line_field_and_fails(tmp_path, test_course, db):
    path = test_course / "testcourse" / "01-t-publish.yaml"
    path.write_text(path.read_text().replace("order: 1", "order: first"))
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("exercises", "load", "--root", str(test_course), stderr=err)
    assert raised.value.returncode == 1
    assert "testcourse/01-t-publish.yaml:3: order: 'first' is not of type 'integer'" in err.getvalue()
