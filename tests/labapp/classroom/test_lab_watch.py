"""The instructor's read-only view of a student's lab: who reaches it, the watch socket (relays, refuses
input), the notice and the messages on the student's lab page, reset and stop from there."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client as HttpClient

from labapp.classroom.frames import LAB_FRAMES
from labapp.classroom.models import LabWatch
from labapp.labs.frames import SERVER_FRAMES
from labapp.labs.models import Lab
from labapp.labs.web import services as lab_services
from tests.labapp.frames import FrameLog, next_frame
from tests.labapp.sockets import lab_socket, run_async, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def watch_socket(cohort_id: int, lab_id: int, cookie: bytes | None, origin: bytes = b"http://localhost"):
    from labapp.config.asgi import application

    headers = [(b"origin", origin), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, f"/ws/teach/{cohort_id}/labs/{lab_id}/", headers=headers)


def lab_pages(cohort_id: int, lab_id: int) -> list[tuple[str, str]]:
    base = f"/teach/{cohort_id}/labs/{lab_id}/"
    return [("get", base), *(("post", base + action) for action in ("reset", "stop", "start", "message"))]


@pytest.fixture
def world(instructor_factory, cohort_factory, user_factory, exercise):
    """Tess teaches Ada (a stopped lab); Otto teaches Bob (a stopped lab) in another class."""
    tess, otto, ada, bob = (
        instructor_factory("tess"),
        instructor_factory("otto"),
        user_factory("ada"),
        user_factory("bob"),
    )
    cohort = cohort_factory(tess, ada)
    cohort_factory(otto, bob, name="Other class")
    ada_lab = Lab.objects.create(owner=ada, node="local", status=Lab.Status.STOPPED)
    bob_lab = Lab.objects.create(owner=bob, node="local", status=Lab.Status.STOPPED)
    return tess, otto, ada, bob, cohort, ada_lab, bob_lab


def test_who_reaches_the_lab_view_and_its_controls(client, world):
    tess, otto, ada, _bob, cohort, ada_lab, bob_lab = world
    client.force_login(ada)
    for method, path in lab_pages(cohort.pk, ada_lab.pk):
        assert getattr(client, method)(path).status_code == 403, path
    client.force_login(otto)
    for method, path in lab_pages(cohort.pk, ada_lab.pk):
        assert getattr(client, method)(path).status_code == 404, path
    client.force_login(tess)
    for lab_id in (bob_lab.pk, bob_lab.pk + 100):  # a student of another class; no such lab
        for method, path in lab_pages(cohort.pk, lab_id):
            assert getattr(client, method)(path).status_code == 404, path
    page = client.get(f"/teach/{cohort.pk}/labs/{ada_lab.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-ws-path="/ws/teach/{cohort.pk}/labs/{ada_lab.pk}/"' in html
    assert "classroom/lab_watch.js" in html and "labs/lab.js" not in html and 'id="paste"' not in html
    drill_down = client.get(f"/teach/{cohort.pk}/students/{ada.pk}/").content.decode()
    assert f'href="/teach/{cohort.pk}/labs/{ada_lab.pk}/"' in drill_down
    HttpClient().logout()
    anonymous = HttpClient().get(f"/teach/{cohort.pk}/labs/{ada_lab.pk}/")
    assert anonymous.status_code == 302


def test_the_instructor_starts_and_stops_the_students_lab(client, world):
    tess, _otto, _ada, _bob, cohort, ada_lab, _bob_lab = world
    client.force_login(tess)
    base = f"/teach/{cohort.pk}/labs/{ada_lab.pk}/"
    # Stopping a stopped lab is refused by the labs app's rules, with its message.
    refused = client.post(base + "stop")
    assert refused.status_code == 409 and "Stopped" in refused.json()["error"]
    Lab.objects.filter(pk=ada_lab.pk).update(status=Lab.Status.FAILED)
    # Stop from failed: the labs app's service queues the teardown (here run at once, embedded).
    answer = client.post(base + "stop")
    assert answer.status_code == 200 and answer.json()["ok"]
    ada_lab.refresh_from_db()
    assert ada_lab.status == Lab.Status.STOPPED


def test_the_watch_socket_is_refused_to_students_other_instructors_and_strangers(client, world):
    tess, otto, ada, _bob, cohort, ada_lab, bob_lab = world
    refused = [
        (ada_lab.pk, session_cookie(HttpClient(), ada), b"http://localhost"),
        (ada_lab.pk, session_cookie(HttpClient(), otto), b"http://localhost"),
        (ada_lab.pk, None, b"http://localhost"),
        (bob_lab.pk, session_cookie(HttpClient(), tess), b"http://localhost"),
        (ada_lab.pk + 100, session_cookie(HttpClient(), tess), b"http://localhost"),
        (ada_lab.pk, session_cookie(client, tess), b"http://evil.example"),
    ]

    async def scenario():
        for lab_id, cookie, origin in refused:
            connected, _ = await watch_socket(cohort.pk, lab_id, cookie, origin).connect()
            assert not connected, (lab_id, origin)

    run_async(scenario)


def test_the_student_sees_who_watches_and_gets_messages_and_the_view_refuses_input(client, world):
    tess, _otto, ada, _bob, cohort, ada_lab, _bob_lab = world
    teacher_cookie = session_cookie(HttpClient(), tess)
    student_cookie = session_cookie(HttpClient(), ada)
    teacher_http = HttpClient()
    teacher_http.force_login(tess)
    student_http = HttpClient()
    student_http.force_login(ada)
    schemas = {**SERVER_FRAMES, **LAB_FRAMES}

    async def scenario():
        student = lab_socket(ada_lab.pk, student_cookie)
        assert (await student.connect())[0]
        assert (await next_frame(student))["type"] == "lab.status"
        # As it joins, a socket is told who watches now (nobody yet) and the recent messages (none).
        assert await next_frame(student) == {"type": "classroom.watchers", "watchers": []}

        teacher = watch_socket(cohort.pk, ada_lab.pk, teacher_cookie)
        assert (await teacher.connect())[0]
        log = FrameLog(teacher)
        await log.until(lambda: log.of("lab.status"))
        assert log.of("lab.status")[0]["status"] == "stopped"
        # The student's socket says who watches.
        assert await next_frame(student) == {"type": "classroom.watchers", "watchers": ["tess"]}
        assert await database_sync_to_async(LabWatch.objects.filter(lab=ada_lab).count)() == 1

        # The view takes no input: terminal input, resizes and checks are refused, the socket stays.
        refused = (
            {"type": "tty.input", "data": "rm -rf /\r"},
            {"type": "tty.resize", "cols": 10, "rows": 5},
            {"type": "attempt.check", "answers": {}},
        )
        for count, frame in enumerate(refused, 1):
            await teacher.send_json_to(frame)
            error = (await log.until(lambda n=count: len(log.of("error")) == n and log.of("error")))[-1]
            assert error["code"] == "bad_frame" and "read-only" in error["message"], frame

        # A message reaches the student's open page at once.
        answer = await database_sync_to_async(teacher_http.post)(
            f"/teach/{cohort.pk}/labs/{ada_lab.pk}/message", {"text": "  Look at the FORWARD chain  "}
        )
        assert answer.status_code == 200
        frame = await student.receive_json_from(timeout=10)
        assert frame["type"] == "classroom.message" and frame["text"] == "Look at the FORWARD chain"
        assert frame["sender"] == "tess"
        too_long = await database_sync_to_async(teacher_http.post)(
            f"/teach/{cohort.pk}/labs/{ada_lab.pk}/message", {"text": "x" * 501}
        )
        assert too_long.status_code == 400

        # A page opened now renders the watchers and the message; the socket frames match the schemas.
        page = await database_sync_to_async(student_http.get)(f"/labs/{ada_lab.pk}/")
        html = page.content.decode()
        assert "classroom/lab_notice.js" in html
        start = html.index('id="classroom-lab-notice"')
        notice = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
        assert notice["watchers"] == ["tess"]
        assert [m["text"] for m in notice["messages"]] == ["Look at the FORWARD chain"]

        # A socket joining now (a reload, a reconnect) is told at once: nothing sent before is missed.
        again = lab_socket(ada_lab.pk, student_cookie)
        assert (await again.connect())[0]
        assert (await next_frame(again))["type"] == "lab.status"
        assert await next_frame(again) == {"type": "classroom.watchers", "watchers": ["tess"]}
        joined = await next_frame(again)
        assert joined["type"] == "classroom.message" and joined["text"] == "Look at the FORWARD chain"
        await again.disconnect()

        # The teacher leaves: the student's notice goes.
        await teacher.disconnect()
        assert await next_frame(student) == {"type": "classroom.watchers", "watchers": []}
        assert not await database_sync_to_async(LabWatch.objects.filter(lab=ada_lab).exists)()
        await student.disconnect()
        for f in log.frames:
            assert f["type"] in schemas

    run_async(scenario)


def test_a_student_in_no_class_gets_no_notice_panel(client, user_factory):
    loner = user_factory("lou")
    lab = Lab.objects.create(owner=loner, node="local", status=Lab.Status.STOPPED)
    client.force_login(loner)
    assert "classroom-lab-notice" not in client.get(f"/labs/{lab.pk}/").content.decode()


@pytest.mark.kernel
@pytest.mark.usefixtures("sandboxes_cleaned")
def test_the_instructor_sees_the_students_terminal_with_its_scrollback_and_cannot_type(
    client, instructor_factory, cohort_factory, user_factory, exercise
):
    tess, ada = instructor_factory("tess"), user_factory("ada")
    cohort = cohort_factory(tess, ada)
    teacher_cookie = session_cookie(HttpClient(), tess)
    student_cookie = session_cookie(client, ada)

    async def scenario():
        lab = await database_sync_to_async(lab_services.lab_create)(owner=ada, docker_version="19.03")
        await lab.arefresh_from_db()
        assert lab.status == "ready"
        student = lab_socket(lab.pk, student_cookie)
        assert (await student.connect())[0]
        await student.send_json_to({"type": "tty.resize", "cols": 101, "rows": 31})
        mine = FrameLog(student)
        await mine.until(lambda: "root@docker-host" in mine.tty())
        await student.send_json_to({"type": "tty.input", "data": "echo before-$((6*7))\r"})
        await mine.until(lambda: "before-42" in mine.tty())

        # The teacher's view: the scrollback (what came before), the graph's state, then live output.
        teacher = watch_socket(cohort.pk, lab.pk, teacher_cookie)
        assert (await teacher.connect())[0]
        view = FrameLog(teacher)
        await view.until(lambda: "before-42" in view.tty() and view.of("lab.state"))
        assert view.of("lab.state")[0]["snapshot"]["sandbox"] == lab.sandbox_id

        await teacher.send_json_to({"type": "tty.input", "data": "echo teacher-$((5*5))\r"})
        await view.until(lambda: view.of("error"))
        await student.send_json_to({"type": "tty.input", "data": "echo after-$((7*7))\r"})
        await view.until(lambda: "after-49" in view.tty())
        await mine.until(lambda: "after-49" in mine.tty())
        assert "teacher" not in mine.tty() and "teacher-25" not in view.tty()

        # The view draws the terminal at the student's size, follows it, and cannot change it.
        assert [(f["cols"], f["rows"]) for f in view.of("lab.tty.open")] == [(101, 31)]
        await student.send_json_to({"type": "tty.resize", "cols": 90, "rows": 27})
        await view.until(lambda: view.of("lab.tty.size"))
        assert view.of("lab.tty.size") == [{"type": "lab.tty.size", "cols": 90, "rows": 27}]
        await teacher.send_json_to({"type": "tty.resize", "cols": 200, "rows": 60})
        await view.until(lambda: len(view.of("error")) == 2)
        await student.send_json_to({"type": "tty.input", "data": "stty size\r"})
        await mine.until(lambda: "27 90" in mine.tty())
        await teacher.disconnect()
        await student.disconnect()

    run_async(scenario)
