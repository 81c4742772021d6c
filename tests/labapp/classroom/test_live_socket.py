"""The dashboard socket on the real ASGI app: the whole grid on connect, then each grade and lab
status as the exercises and labs apps record them; ownership, origin, read-only."""

from __future__ import annotations

from datetime import datetime

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HttpClient

from labapp.classroom.web import services
from labapp.classroom.web.consumers import CLOSE_READ_ONLY
from labapp.exercises.records import attempt_record_grading
from labapp.labs.models import Lab
from labapp.labs.records import lab_set_status
from tests.labapp.classroom.conftest import attempt_without_lab, results
from tests.labapp.classroom.sockets import next_frame, teach_socket
from tests.labapp.sockets import run_async, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def test_grades_and_lab_statuses_reach_the_grid_live(
    client, instructor_factory, cohort_factory, user_factory, exercise
):
    teacher, ada, bob, cy = (
        instructor_factory("tess"),
        user_factory("ada"),
        user_factory("bob"),
        user_factory("cy"),
    )
    cohort = cohort_factory(teacher, ada, bob)
    other = cohort_factory(instructor_factory("otto"), bob, name="Other class")
    cookie = session_cookie(client, teacher)
    lab = Lab.objects.create(owner=ada, node="local")
    attempt = attempt_without_lab(ada, exercise)
    attempt.lab = lab
    attempt.save()

    async def scenario():
        comm = teach_socket(cohort.pk, cookie)
        assert (await comm.connect())[0]
        grid = await next_frame(comm)
        assert grid["type"] == "classroom.grid"
        states = {(c["student_id"], c["exercise_id"]): c["state"] for c in grid["cells"]}
        assert states == {(ada.pk, exercise.pk): "working", (bob.pk, exercise.pk): "not_started"}
        assert {p["student_id"]: p["online"] for p in grid["presence"]} == {ada.pk: True, bob.pk: False}

        # A Check passes every task: the cell arrives, passed.
        await database_sync_to_async(attempt_record_grading)(
            attempt_id=attempt.pk,
            results=results(True, (True, True), "8080", True),
            kind="check",
            snapshot={},
        )
        frame = await next_frame(comm)
        assert frame["type"] == "classroom.cell"
        assert frame["cell"]["student_id"] == ada.pk and frame["cell"]["state"] == "passed"
        started, passed = (datetime.fromisoformat(frame["cell"][k]) for k in ("started_at", "passed_at"))
        assert frame["cell"]["score"] == 4.0 and started < passed

        # Ada's lab stops: she is offline; then it is ready again, in the exercise.
        await database_sync_to_async(lab_set_status)(lab_id=lab.pk, expected=("preparing",), status="stopped")
        frame = await next_frame(comm)
        assert frame == {
            "type": "classroom.presence",
            "presence": {
                "student_id": ada.pk,
                "online": False,
                "exercise_id": None,
                "since": None,
                "lab_id": None,
            },
        }
        await database_sync_to_async(lab_set_status)(lab_id=lab.pk, expected=("stopped",), status="ready")
        presence = (await next_frame(comm))["presence"]
        assert presence["online"] and presence["exercise_id"] == exercise.pk and presence["since"]
        assert presence["lab_id"] == lab.pk

        # Bob starts the exercise: his cell turns to working (his other cohort gets it too).
        await database_sync_to_async(attempt_without_lab)(bob, exercise)
        frame = await next_frame(comm)
        assert frame["cell"]["student_id"] == bob.pk and frame["cell"]["state"] == "working"

        # Cy joins, Bob leaves: the dashboards fetch the rows again.
        await database_sync_to_async(services.cohort_join)(cohort=cohort, user=cy)
        assert await next_frame(comm) == {"type": "classroom.roster"}
        await database_sync_to_async(services.student_remove)(cohort=cohort, student_id=bob.pk)
        assert await next_frame(comm) == {"type": "classroom.roster"}

        # Read-only: anything the browser sends closes the socket.
        await comm.send_json_to({"type": "attempt.check"})
        assert (await comm.receive_output(timeout=5))["code"] == CLOSE_READ_ONLY
        await comm.disconnect()

    run_async(scenario)
    assert other.enrolments.count() == 1 and cohort.enrolments.count() == 2


def test_students_other_instructors_strangers_and_foreign_origins_are_refused(
    client, instructor_factory, cohort_factory, user_factory, exercise
):
    teacher, ada = instructor_factory("tess"), user_factory("ada")
    cohort = cohort_factory(teacher, ada)
    refused = [
        (cohort.pk, session_cookie(HttpClient(), ada), b"http://localhost"),
        (cohort.pk, session_cookie(HttpClient(), instructor_factory("otto")), b"http://localhost"),
        (cohort.pk, None, b"http://localhost"),
        (cohort.pk + 100, session_cookie(HttpClient(), teacher), b"http://localhost"),
        (cohort.pk, session_cookie(client, teacher), b"http://evil.example"),
    ]

    async def scenario():
        for cohort_id, cookie, origin in refused:
            connected, _ = await teach_socket(cohort_id, cookie, origin).connect()
            assert not connected, (cohort_id, origin)

    run_async(scenario)
