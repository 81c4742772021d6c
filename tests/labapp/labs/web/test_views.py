"""The lab pages and control API: ownership, CSRF, answers."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from labapp.labs.models import Lab

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(user_factory):
    return user_factory("ada")


def logged_in(user, *, csrf: bool = False) -> HttpClient:
    client = HttpClient(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def test_lab_page_renders_for_its_owner_only(ada, user_factory):
    lab = Lab.objects.create(owner=ada, node="local", status="stopped")
    page = logged_in(ada).get(f"/labs/{lab.pk}/")
    assert page.status_code == 200
    assert page.context["ws_path"] == f"/ws/labs/{lab.pk}/"
    assert ("28", "Docker 28") in page.context["versions"]
    assert logged_in(user_factory("eve")).get(f"/labs/{lab.pk}/").status_code == 404
    assert HttpClient().get(f"/labs/{lab.pk}/").status_code == 302


@pytest.mark.parametrize("action", ["reset", "stop", "start"])
def test_actions_on_another_users_lab_are_404(ada, user_factory, action):
    lab = Lab.objects.create(owner=ada, node="local", status="stopped")
    response = logged_in(user_factory("eve")).post(f"/labs/{lab.pk}/{action}")
    assert response.status_code == 404
    lab.refresh_from_db()
    assert lab.status == "stopped"


def test_actions_need_a_csrf_token(ada):
    lab = Lab.objects.create(owner=ada, node="local", status="stopped")
    assert logged_in(ada, csrf=True).post(f"/labs/{lab.pk}/start").status_code == 403
    assert logged_in(ada, csrf=True).post("/labs/", {"docker_version": "28"}).status_code == 403


def test_refused_action_answers_json_error(ada):
    lab = Lab.objects.create(owner=ada, node="local", status="stopping")
    response = logged_in(ada).post(f"/labs/{lab.pk}/stop")
    assert response.status_code == 409
    assert response.json()["ok"] is False and response.json()["error"]


def test_unknown_docker_version_is_refused(ada):
    response = logged_in(ada).post("/labs/", {"docker_version": "1.0"})
    assert response.status_code == 400
    assert not Lab.objects.exists()


def test_a_refusal_page_shows_the_asked_version_as_text_not_markup(ada):
    attack = "<img src=x onerror=alert(1)>"
    response = logged_in(ada).post("/labs/", {"docker_version": attack})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<img" not in page
    assert "Docker &lt;img src=x onerror=alert(1)&gt; is not available." in page


def test_javascript_catalog_is_served(ada):
    response = logged_in(ada).get("/jsi18n/")
    assert response.status_code == 200
    assert b"gettext" in response.content


@pytest.mark.kernel
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sandboxes_cleaned")
def test_create_then_stop_through_http(ada):
    client = logged_in(ada)
    response = client.post("/labs/", {"docker_version": "28"})
    lab = Lab.objects.get(owner=ada)
    assert response.status_code == 302 and response.url == f"/labs/{lab.pk}/"
    assert (lab.status, lab.docker_version) == ("ready", "28")
    response = client.post(f"/labs/{lab.pk}/stop")
    assert response.json() == {"ok": True, "status": "stopped"}
    home = client.get("/")
    assert list(home.context["labs"]) == [Lab.objects.get(pk=lab.pk)]
