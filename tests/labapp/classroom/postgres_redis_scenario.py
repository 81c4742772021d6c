"""Run by test_postgres_redis.py in a pytest with REDIS_URL and DATABASE_URL (PostgreSQL) set."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest
import redis
from django.conf import settings
from django.db import connection

from labapp.classroom.models import Enrolment
from labapp.classroom.progress import cohort_grid
from labapp.classroom.web.enrolment import enrol_csv
from tests.labapp.classroom.conftest import attempt_without_lab, results
from tests.labapp.classroom.sockets import next_frame, teach_socket
from tests.labapp.classroom.test_enrolment import GOOD_AND_BAD
from tests.labapp.sockets import run_async, session_cookie

pytestmark = [
    pytest.mark.skipif("REDIS_URL" not in os.environ, reason="run by test_postgres_redis.py"),
    pytest.mark.django_db(transaction=True),
]

# What a lab node's worker does when a Check passes: keep the grading (its signal does the rest).
RECORD = """
import json, sys, django
django.setup()
from labapp.exercises.records import attempt_record_grading
attempt_id, graded = int(sys.argv[1]), json.loads(sys.argv[2])
attempt_record_grading(attempt_id=attempt_id, results=graded, kind="check", snapshot={})
"""


@pytest.fixture(autouse=True)
def distributed():
    assert not settings.NSLAB_EMBEDDED and connection.vendor == "postgresql"
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def test_a_grade_kept_by_another_process_reaches_the_dashboard(
    client, instructor_factory, cohort_factory, user_factory, exercise
):
    teacher, ada = instructor_factory("tess"), user_factory("ada")
    cohort = cohort_factory(teacher, ada)
    attempt = attempt_without_lab(ada, exercise)
    cookie = session_cookie(client, teacher)
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    argv = [
        sys.executable,
        "-c",
        RECORD,
        str(attempt.pk),
        json.dumps(results(True, (True, True), "80", True)),
    ]

    async def scenario():
        comm = teach_socket(cohort.pk, cookie)
        assert (await comm.connect())[0]
        assert (await next_frame(comm))["cells"][0]["state"] == "working"
        done = await asyncio.to_thread(subprocess.run, argv, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        frame = await next_frame(comm, timeout=20)
        assert frame["type"] == "classroom.cell" and frame["cell"]["state"] == "passed"
        await comm.disconnect()

    run_async(scenario)
    assert cohort_grid(cohort=cohort, language="en")["rows"][0]["total"] == 4.0


def test_enrolment_and_the_grid_queries_on_postgres(
    instructor_factory, cohort_factory, user_factory, exercise
):
    cohort = cohort_factory(instructor_factory("tess"))
    user_factory("EVE")  # a username differing only in case: enrolled, not created again
    report = enrol_csv(cohort=cohort, data=GOOD_AND_BAD.encode())
    assert report.enrolled == ["ada", "lin", "EVE"] and [p.line for p in report.problems] == [3, 4, 6, 8]
    assert Enrolment.objects.filter(cohort=cohort).count() == 3
    grid = cohort_grid(cohort=cohort, language="en")
    assert [c["state"] for c in grid["cells"]] == ["not_started"] * 3
