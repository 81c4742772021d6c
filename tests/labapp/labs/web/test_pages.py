import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

LOGIN_URL = "/accounts/login/"


def test_login_page_renders(client):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    assert response.templates[0].name == "registration/login.html"
    page = response.content.decode()
    assert "nslab" in page
    assert 'name="username"' in page and 'name="password"' in page


def test_login_page_speaks_simplified_chinese(client):
    response = client.get(LOGIN_URL, headers={"accept-language": "zh-hans"})
    assert response.status_code == 200
    assert "登录 nslab" in response.content.decode()


def test_home_requires_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == f"{LOGIN_URL}?next=/"


@pytest.mark.django_db
def test_home_after_login_lists_no_labs(client):
    get_user_model().objects.create_user(username="ada", password="pw-for-tests")
    response = client.post(LOGIN_URL, {"username": "ada", "password": "pw-for-tests"}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    page = response.content.decode()
    assert "No labs yet" in page
    assert 'action="/labs/"' in page


@pytest.mark.django_db
def test_demo_users_command_is_idempotent(settings):
    settings.DEBUG = True
    User = get_user_model()
    call_command("nslab_demo_users")
    teacher = User.objects.get(username="teacher")
    student = User.objects.get(username="student")
    assert teacher.is_staff and teacher.check_password("teacher")
    assert not student.is_staff and student.check_password("student")

    student.set_password("changed-by-student")
    student.save()
    call_command("nslab_demo_users")

    assert User.objects.count() == 2
    student.refresh_from_db()
    assert student.check_password("changed-by-student")


@pytest.mark.django_db
def test_demo_users_command_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("nslab_demo_users")
    assert not get_user_model().objects.exists()


def test_asgi_application_serves_the_login_page():
    from labapp.config.asgi import application

    communicator = HttpCommunicator(application, "GET", LOGIN_URL, headers=[(b"host", b"testserver")])
    response = async_to_sync(communicator.get_response)()
    assert response["status"] == 200
    assert b"nslab" in response["body"]
