"""`attempt.check` over the lab WebSocket on the real ASGI app: round trip, continuous grades, ownership."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from labapp.exercises.models import Submission
from labapp.exercises.web import services
from labapp.labs.web import services as lab_services
from tests.labapp.frames import FrameLog
from tests.labapp.sockets import lab_socket, run_async, session_cookie

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sandboxes_cleaned"),
]


def graded(log: FrameLog, kind: str) -> list[dict]:
    return [f for f in log.of("attempt.graded") if f["kind"] == kind]


def test_check_round_trip_and_continuous_grades(client, user_factory, exercise):
    ada = user_factory("ada")
    attempt = services.attempt_start(user=ada, exercise=exercise, language="en")
    port = attempt.params["port"]
    cookie = session_cookie(client, ada)

    async def scenario():
        comm = lab_socket(attempt.lab_id, cookie)
        assert (await comm.connect())[0]
        log = FrameLog(comm)
        # Watching the lab: a kernel state, and the continuous grades of that same snapshot.
        await log.until(lambda: log.of("lab.state") and graded(log, "continuous"))
        first = graded(log, "continuous")[0]
        assert first["attempt_id"] == attempt.pk and first["score"] == 0
        assert first["tasks"][1]["results"][1]["skipped"] is True

        await comm.send_json_to(
            {"type": "attempt.check", "answers": {"port": {"0": str(port)}}, "language": "zh-hans"}
        )
        frame = await log.until(lambda: graded(log, "check") and graded(log, "check")[0])
        assert [t["id"] for t in frame["tasks"]] == ["forward", "publish", "port"]
        assert frame["score"] == 0 and not any(t["passed"] for t in frame["tasks"])
        assert "ip_forward" in frame["tasks"][0]["results"][0]["message"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in frame["tasks"][0]["results"][0]["message"])  # Chinese
        # An instructor watching in English reads the same result in English.
        translations = frame["tasks"][0]["results"][0]["translations"]
        assert translations["zh-hans"]["message"] == frame["tasks"][0]["results"][0]["message"]
        assert translations["en"]["message"] == "ip_forward in host is 0, expected 1."

        await comm.send_json_to({"type": "attempt.check", "answers": {"port": {"x": 1}}})
        error = await log.until(lambda: log.of("error") and log.of("error")[-1])
        assert error["code"] == "bad_frame"
        await comm.disconnect()

    run_async(scenario)
    assert Submission.objects.filter(attempt=attempt, kind="check").count() == 1


def test_ownership_and_labs_without_an_exercise(client, user_factory, exercise):
    ada, eve = user_factory("ada"), user_factory("eve")
    attempt = services.attempt_start(user=ada, exercise=exercise, language="en")
    plain = lab_services.lab_create(owner=ada)
    ada_cookie, eve_cookie = session_cookie(client, ada), session_cookie(HttpClient(), eve)

    async def scenario():
        assert not (await lab_socket(attempt.lab_id, eve_cookie).connect())[0]
        comm = lab_socket(plain.pk, ada_cookie)
        assert (await comm.connect())[0]
        log = FrameLog(comm)
        await log.until(lambda: log.of("lab.state"))
        await comm.send_json_to({"type": "attempt.check", "answers": {}})
        error = await log.until(lambda: log.of("error") and log.of("error")[-1])
        assert error["code"] == "no_attempt"
        await comm.disconnect()

    run_async(scenario)
    assert not Submission.objects.exists()
    # The service checks ownership too, whatever calls it.
    assert services.attempt_check_request(lab_id=attempt.lab_id, user=eve, answers={}) is False
