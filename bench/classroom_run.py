"""A classroom run (issue 11): CLASS_SIZE simulated students, each a client doing what the browser does,
start the publish-a-port exercise, type its reference solution into their lab's terminal and press
Check, while their teacher's dashboard is open.

The server is daphne in the embedded mode (`bench.labserver`: labs on its own topology daemon). A
student: the course page (a CSRF cookie), `POST /exercises/publish-p/start` (the lab is prepared in
that request), the lab socket (status, state, terminal), the solution typed as `tty.input`, then
`attempt.check` with the answers a student reads from their live lab; the sample is that Check,
from the frame sent to its `attempt.graded`. The teacher's dashboard socket counts the passed cells.
`cleanup()` stops the server, its labs and its daemon.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.classroom import browser_socket
from bench.harness import benchmark, result
from bench.labserver import LabServer

CLASS_SIZE = int(os.environ.get("NSLAB_BENCH_CLASS", "60"))
SLUG = "publish-p"
# Students start their labs ten at a time (a class arriving at once); the Checks all come at once.
CONCURRENT_STARTS = int(os.environ.get("NSLAB_BENCH_CONCURRENT_STARTS", "10"))
STEP_TIMEOUT = 180.0

_SERVER: LabServer | None = None

_MAKE_CLASS = """
import json, sys
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from labapp.classroom.models import Enrolment
from labapp.classroom.roles import instructor_grant
from labapp.classroom.web.services import cohort_create

size = int(sys.stdin.read())
User = get_user_model()

def session(user):
    s = SessionStore()
    s.update({"_auth_user_id": str(user.pk), "_auth_user_hash": user.get_session_auth_hash(),
              "_auth_user_backend": "django.contrib.auth.backends.ModelBackend"})
    s.create()
    return s.session_key

teacher = User.objects.create(username="runteacher", password="!")
instructor_grant(teacher)
cohort = cohort_create(name="Run class", course="docker-networking", instructor=teacher)
User.objects.bulk_create([User(username=f"r{i:03d}", password="!") for i in range(size)])
pupils = list(User.objects.filter(username__regex=r"^r[0-9]{3}$").order_by("username"))
Enrolment.objects.bulk_create([Enrolment(cohort=cohort, student=p) for p in pupils])
print(json.dumps({"cohort": cohort.pk, "teacher": session(teacher),
                  "students": [{"id": p.pk, "session": session(p)} for p in pupils]}))
"""

# The solution's shell lines and, after it ran, the answers the live lab gives (what a student reads).
_SOLUTION = """
import json, sys
from labapp.exercises.models import Attempt
out = {}
for lab_id in json.loads(sys.stdin.read()):
    tasks = Attempt.objects.get(lab_id=lab_id).rendered_tasks()
    lines = []
    for task in tasks:
        for step in task.get("solution", []):
            lines.append(step["sh"] if "sh" in step else "docker " + step["docker"])
    out[lab_id] = lines
print(json.dumps(out))
"""
_ANSWERS = """
import json, sys
from labapp.exercises.models import Attempt
from topology.client import ClientAccess
from topology.grading import expected_answers
out = {}
for lab_id in json.loads(sys.stdin.read()):
    attempt = Attempt.objects.select_related("lab").get(lab_id=lab_id)
    answers = expected_answers(attempt.rendered_tasks(), ClientAccess(attempt.lab.sandbox_id))
    out[lab_id] = {task: {str(i): v for i, v in given.items()} for task, given in answers.items()}
print(json.dumps(out))
"""


def server() -> LabServer:
    global _SERVER
    if _SERVER is None:
        _SERVER = LabServer("classrun", state_root=Path("/var/lib/nslab-bench")).start()
        _SERVER.manage("exercises", "load")
    return _SERVER


def cleanup() -> None:
    global _SERVER
    if _SERVER is not None:
        _SERVER.stop()
        _SERVER = None


def _start_lab(base_url: str, session: str) -> int:
    """The course page for a CSRF cookie, then Start: the lab's id (from the redirect)."""
    host = urlsplit(base_url)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=STEP_TIMEOUT)
    try:
        connection.request("GET", "/courses/docker-networking/", headers={"Cookie": f"sessionid={session}"})
        answer = connection.getresponse()
        answer.read()
        token = re.search(r"csrftoken=([^;]+)", answer.getheader("Set-Cookie") or "").group(1)
        headers = {
            "Cookie": f"sessionid={session}; csrftoken={token}",
            "X-CSRFToken": token,
            "Origin": base_url,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        connection.request("POST", f"/exercises/{SLUG}/start", body="", headers=headers)
        answer = connection.getresponse()
        answer.read()
        location = answer.getheader("Location") or ""
        if answer.status != 302 or not location.startswith("/labs/"):
            raise RuntimeError(f"start answered {answer.status} {location!r}")
        return int(location.rstrip("/").rsplit("/", 1)[1])
    finally:
        connection.close()


class Student:
    """One simulated student's lab socket: every frame read as it comes."""

    def __init__(self, base_url: str, account: dict, lab_id: int):
        self.base_url, self.account, self.lab_id = base_url, account, lab_id
        self.tty = ""
        self.graded: asyncio.Future | None = None
        self.errors: list[dict] = []

    async def open(self) -> None:
        self.ws = await browser_socket(self.base_url, f"/ws/labs/{self.lab_id}/", self.account["session"])
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for text in self.ws:
            frame = json.loads(text)
            if frame["type"] == "lab.tty":
                self.tty += frame["data"]
            elif frame["type"] == "attempt.graded" and frame["kind"] == "check" and self.graded:
                if not self.graded.done():
                    self.graded.set_result(frame)
            elif frame["type"] == "error":
                self.errors.append(frame)

    async def until(self, condition, what: str) -> None:
        deadline = time.monotonic() + STEP_TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"lab {self.lab_id}: {what}; terminal ends {self.tty[-300:]!r}")
            await asyncio.sleep(0.05)

    async def type_solution(self, lines: list[str]) -> None:
        await self.until(lambda: "root@" in self.tty, "no prompt")
        prompts = self.tty.count("root@")
        await self.ws.send(json.dumps({"type": "tty.input", "data": "".join(f"{line}\r" for line in lines)}))
        await self.until(
            lambda: self.tty.count("root@") >= prompts + len(lines), "the solution did not finish"
        )

    async def check(self, answers: dict) -> tuple[float, dict]:
        self.graded = asyncio.get_running_loop().create_future()
        start = time.perf_counter()
        await self.ws.send(json.dumps({"type": "attempt.check", "answers": answers, "language": "en"}))
        frame = await asyncio.wait_for(self.graded, STEP_TIMEOUT)
        return (time.perf_counter() - start) * 1000, frame

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


async def _run() -> dict:
    srv = server()
    data = json.loads(srv.python(_MAKE_CLASS, stdin=str(CLASS_SIZE)))
    base = srv.base_url
    teacher = await browser_socket(base, f"/ws/teach/{data['cohort']}/", data["teacher"])
    passed_cells: set[int] = set()

    async def dashboard() -> None:
        async for text in teacher:
            frame = json.loads(text)
            if frame["type"] == "classroom.cell" and frame["cell"]["state"] == "passed":
                passed_cells.add(frame["cell"]["student_id"])

    watching = asyncio.create_task(dashboard())
    began = time.perf_counter()
    semaphore = asyncio.Semaphore(CONCURRENT_STARTS)

    async def start(account: dict) -> Student:
        async with semaphore:
            lab_id = await asyncio.to_thread(_start_lab, base, account["session"])
        student = Student(base, account, lab_id)
        await student.open()
        return student

    students = await asyncio.gather(*(start(a) for a in data["students"]))
    started = time.perf_counter()
    lab_ids = [s.lab_id for s in students]
    solutions = json.loads(await asyncio.to_thread(srv.python, _SOLUTION, json.dumps(lab_ids)))
    await asyncio.gather(*(s.type_solution(solutions[str(s.lab_id)]) for s in students))
    answers = json.loads(await asyncio.to_thread(srv.python, _ANSWERS, json.dumps(lab_ids)))
    outcomes = await asyncio.gather(
        *(s.check(answers[str(s.lab_id)]) for s in students), return_exceptions=True
    )
    finished = time.perf_counter()
    latencies = [o[0] for o in outcomes if not isinstance(o, BaseException)]
    all_passed = sum(
        1 for o in outcomes if not isinstance(o, BaseException) and all(t["passed"] for t in o[1]["tasks"])
    )
    deadline = time.monotonic() + 30
    while len(passed_cells) < all_passed and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    labs = await asyncio.to_thread(srv.sandboxes)
    errors = [e for s in students for e in s.errors]
    await asyncio.gather(*(s.close() for s in students), return_exceptions=True)
    watching.cancel()
    await teacher.close()
    return {
        "latencies": latencies,
        "checks_answered": len(latencies),
        "checks_failed": [repr(o)[:200] for o in outcomes if isinstance(o, BaseException)],
        "students_all_passed": all_passed,
        "dashboard_passed_cells": len(passed_cells),
        "socket_errors": errors[:5],
        "sandboxes_alive": len(labs),
        "start_to_all_labs_s": round(started - began, 1),
        "whole_run_s": round(finished - began, 1),
    }


@benchmark
def classroom_run_60_students():
    """CLASS_SIZE students start publish-p, type its solution and press Check, a teacher's dashboard
    open: p50/p95 of the Check (frame sent → `attempt.graded`), with every Check answered, how many
    passed everything, the passed cells the dashboard got, socket errors and the sandboxes still up
    (no lab lost). No floor: bench.exercise_check measures one grading against its floor."""
    run = asyncio.run(_run())
    record = result(
        f"classroom_run_{CLASS_SIZE}_students",
        run.pop("latencies") or [float("nan")],
        floor_p50_ms=None,
        goal=f"every Check of {CLASS_SIZE} answered, no error, no lab lost",
    )
    return record | run | {"students": CLASS_SIZE}
