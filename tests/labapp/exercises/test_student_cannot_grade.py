"""From the lab's terminal a student cannot reach what grades them: the web server, Redis,
PostgreSQL, the database file and the server's files are out of reach, and faking the remote server's
log does not fool the grader. The grade is the same afterwards."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from labapp.exercises.models import TaskState
from labapp.exercises.node import attempt_grading
from labapp.exercises.web import services
from topology.client import Client, ClientAccess
from topology.probes import remote_saw

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sandboxes_cleaned"),
]


def machine_addresses() -> list[str]:
    """The machine's own IPv4 addresses (read only)."""
    out = subprocess.run(["ip", "-j", "-4", "addr"], capture_output=True, text=True, check=True).stdout
    return [a["local"] for link in json.loads(out) for a in link.get("addr_info", [])]


def in_lab(sandbox_id: str, script: str) -> int:
    """Run a shell script in the lab's host namespace, as the student's terminal would."""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        return Client().exec(sandbox_id, ["bash", "-c", script], ns="host", stdio=(null, null, null))
    finally:
        os.close(null)


def test_the_terminal_cannot_reach_the_grader_or_change_the_grade(user_factory, exercise):
    attempt = services.attempt_start(user=user_factory("ada"), exercise=exercise, language="en")
    attempt.refresh_from_db()
    sandbox_id = attempt.lab.sandbox_id
    before = attempt_grading.attempt_check(attempt_id=attempt.pk)
    states_before = list(TaskState.objects.filter(attempt=attempt).values_list("task_id", "passed", "score"))

    # A listener of the machine's own network namespace stands in for the web server.
    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen()
    web_port = server.getsockname()[1]
    try:
        for address in ["127.0.0.1", *machine_addresses()]:
            for port in (web_port, 8000, 6379, 5432):
                script = f"exec 3<>/dev/tcp/{address}/{port}"
                assert in_lab(sandbox_id, f"timeout 3 bash -c '{script}'") != 0, (address, port)
    finally:
        server.close()

    database = Path(settings.DATABASES["default"]["NAME"])
    state_dir = Path(os.environ["NSLAB_STATE_DIR"])
    for path in [
        settings.BASE_DIR / "var" / "db.sqlite3",
        database if database.is_absolute() else settings.BASE_DIR / "var" / "db.sqlite3",
        settings.BASE_DIR / "labapp" / "config" / "settings.py",
        Path(__file__),
        state_dir / "daemon.sock",
    ]:
        assert in_lab(sandbox_id, f"test -e '{path}' || cat '{path}'") != 0, path
    assert in_lab(sandbox_id, f"ls '{settings.BASE_DIR}'") != 0

    # Faking the remote server's log: the student's /run is their own, the router's is out of reach.
    fake = "echo '203.0.113.99:4242: url:/nslab-probe-0000000000000000' >> /run/remote.log"
    in_lab(sandbox_id, fake)
    in_lab(sandbox_id, f'ip netns exec router sh -c "{fake}"; nsenter -t 1 -m sh -c "{fake}"')
    saw = remote_saw(ClientAccess(sandbox_id), {"from": "client", "source": "203.0.113.99"})
    assert saw["ok"] is False and saw["message"]["code"] != "remote_saw.ok"

    after = attempt_grading.attempt_check(attempt_id=attempt.pk)
    assert after["score"] == before["score"] == 0
    assert [t["passed"] for t in after["tasks"]] == [t["passed"] for t in before["tasks"]]
    states_after = list(TaskState.objects.filter(attempt=attempt).values_list("task_id", "passed", "score"))
    assert states_after == states_before
