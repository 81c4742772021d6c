"""Course pages, Start, the exercise panel on the lab page, hints (ownership, CSRF)."""

from __future__ import annotations

import pytest

from labapp.exercises.models import Attempt

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sandboxes_cleaned"),
]


def test_course_pages_start_and_the_exercise_panel(client, user_factory, exercise):
    ada = user_factory("ada")
    client.force_login(ada)
    home = client.get("/").content.decode()
    assert 'href="/courses/"' in home
    assert "/courses/testcourse/" in client.get("/courses/").content.decode()
    page = client.get("/courses/testcourse/").content.decode()
    assert "Publish a port." in page and "/exercises/t-publish/start" in page

    response = client.post("/exercises/t-publish/start")
    attempt = Attempt.objects.get(user=ada)
    assert response.status_code == 302 and response["Location"] == f"/labs/{attempt.lab_id}/"
    lab_page = client.get(response["Location"]).content.decode()
    assert 'id="exercise"' in lab_page and f'data-attempt-id="{attempt.pk}"' in lab_page
    assert f"Run <strong>{attempt.params['name']}</strong> on port {attempt.params['port']}." in lab_page
    assert "exercises/exercise.js" in lab_page and "Pick a rule" not in lab_page  # no pick_rule here
    assert f"Host port of {attempt.params['name']}?" in lab_page

    zh = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "打开转发" in zh

    assert client.post(f"/attempts/{attempt.pk}/hint", {"task_id": "forward"}).json() == {
        "ok": True,
        "hints_html": ["sysctl"],
        "more": True,
    }
    client.force_login(user_factory("eve"))
    assert client.post(f"/attempts/{attempt.pk}/hint", {"task_id": "forward"}).status_code == 404
    assert 'id="exercise"' not in client.get(f"/labs/{attempt.lab_id}/").content.decode()


def test_lesson_html_is_escaped(client, user_factory, exercise):
    from labapp.exercises.web.markdown import render_markdown

    html = render_markdown("**a** <script>alert(1)</script> [x](javascript:alert(1))")
    assert "<strong>a</strong>" in html and "<script>" not in html and "javascript:" not in html


def test_short_course_texts_render_inline_markdown_escaped():
    from labapp.exercises.web.markdown import render_inline

    assert (
        render_inline("Run `iptables -S` <b>now</b>") == "Run <code>iptables -S</code> &lt;b&gt;now&lt;/b&gt;"
    )
    assert render_inline("`a & b`") == "<code>a &amp; b</code>"
    assert render_inline("") == ""


def test_hint_needs_csrf(user_factory, exercise):
    from django.test import Client as HttpClient

    ada = user_factory("ada")
    attempt = Attempt.objects.create(user=ada, exercise=exercise, params={"name": "web", "port": 8000})
    strict = HttpClient(enforce_csrf_checks=True)
    strict.force_login(ada)
    assert strict.post(f"/attempts/{attempt.pk}/hint", {"task_id": "forward"}).status_code == 403
