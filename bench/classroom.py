"""Classroom benchmarks (issue 11): a grade → the teacher's grid cell, and the dashboard page drawn,
with a cohort of STUDENTS students × the course's exercises (docker-networking's, as its files
under course/ hold them).

The server is daphne (`bench.labserver`) with the Redis channel layer (REDIS_URL, database
REDIS_DB), as a classroom runs: the grade is kept by another process, as a lab node's worker keeps
a Check's grading, and reaches the dashboard through Redis. The cohort, its students (half their
exercises attempted, graded at random, so that the grid and the charts have something to show) and
the teacher's session are made by one Django process against the server's SQLite file. `cleanup()`
stops the server and the grading process.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import benchmark, percentile, result
from bench.labserver import ROOT, LabServer
from bench.pages import drawn_ms, floor_server, interleaved
from labapp.exercises.spec import load_courses

STUDENTS = int(os.environ.get("NSLAB_BENCH_STUDENTS", "100"))
COURSE = "docker-networking"
REDIS_DB = 14  # a database number of its own on the local Redis
GRADES = 60
PAGE_LOADS = 10
FRAME_TIMEOUT = 20.0
STATIC_DIRS = (ROOT / "frontend/src", ROOT / "frontend/build")


def _course_exercises() -> int:
    """The course's exercises, as `manage.py exercises load` puts them in the database."""
    return sum(1 for e in load_courses(ROOT / "course").exercises if e.data["course"] == COURSE)


EXERCISES = _course_exercises()
# The results' names, which `python -m bench --list` shows: they depend on the class and the course
GRADE_TO_CELL = f"classroom_grade_to_cell_{STUDENTS}_students"
DASHBOARD_DRAWN = f"classroom_dashboard_drawn_{STUDENTS}x{EXERCISES}"

_SERVER: LabServer | None = None
_WORKER: subprocess.Popen | None = None
_CLASS: dict | None = None

_MAKE_CLASS = """
import json, random, sys
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from labapp.classroom.models import Enrolment
from labapp.classroom.roles import instructor_grant
from labapp.classroom.web.services import cohort_create
from labapp.exercises.models import Attempt, Exercise, TaskState
from labapp.exercises.records import attempt_record_grading
from labapp.exercises.spec import exercise_params, params_seed

students = int(sys.stdin.read())
random.seed(11)
User = get_user_model()
teacher = User.objects.create(username="benchteacher", password="!")
instructor_grant(teacher)
session = SessionStore()
session.update({"_auth_user_id": str(teacher.pk),
                "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                "_auth_user_hash": teacher.get_session_auth_hash()})
session.create()
cohort = cohort_create(name="Bench class", course="docker-networking", instructor=teacher)
# Unusable passwords: hashing real ones would cost minutes, and the students never log in here.
User.objects.bulk_create([User(username=f"s{i:03d}", first_name=f"Student {i}", password="!")
                          for i in range(students)])
pupils = list(User.objects.filter(username__regex=r"^s[0-9]{3}$").order_by("username"))
Enrolment.objects.bulk_create([Enrolment(cohort=cohort, student=p, via="csv") for p in pupils])
exercises = list(Exercise.objects.filter(course="docker-networking").order_by("order", "slug"))

def outcome(exercise, passed):
    return [{"id": t["id"], "passed": passed,
             "checks": [{"kind": c.get("kind", "state"), "ok": passed} for c in t.get("checks", [])]}
            for t in exercise.tasks]

targets = []
for pupil in pupils:
    for exercise in random.sample(exercises, len(exercises) // 2):
        params = exercise_params(exercise.data, params_seed(pupil.pk, exercise.slug))
        attempt = Attempt.objects.create(user=pupil, exercise=exercise, params=params)
        TaskState.objects.bulk_create(TaskState(attempt=attempt, task_id=t["id"]) for t in exercise.tasks)
        if random.random() < 0.7:
            attempt_record_grading(attempt_id=attempt.pk, results=outcome(exercise, random.random() < 0.6),
                                   kind="check", snapshot={})
        targets.append({"attempt": attempt.pk, "student": pupil.pk, "exercise": exercise.pk})
print(json.dumps({"cohort": cohort.pk, "session": session.session_key, "exercises": len(exercises),
                  "students": len(pupils), "targets": random.sample(targets, 60)}))
"""

# What a lab node's worker does when a Check is graded, one line of stdin at a time: `grade ATTEMPT
# PASSED` keeps a grading (its signal sends the cell), `ping COHORT` sends the cohort's dashboards a
# bare frame (the floor: the same path without the grading). Each answers the wall clock it began at.
_WORKER_CODE = """
import json, sys, time
import django
django.setup()
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from labapp.classroom.channels import cohort_group
from labapp.exercises.models import Attempt
from labapp.exercises.records import attempt_record_grading

layer = get_channel_layer()
for line in sys.stdin:
    kind, target, *rest = line.split()
    if kind == "grade":
        exercise = Attempt.objects.select_related("exercise").get(pk=int(target)).exercise
        passed = rest[0] == "1"
        graded = [{"id": t["id"], "passed": passed,
                   "checks": [{"kind": c.get("kind", "state"), "ok": passed} for c in t.get("checks", [])]}
                  for t in exercise.tasks]
        began = time.time()
        attempt_record_grading(attempt_id=int(target), results=graded, kind="check", snapshot={})
    else:
        began = time.time()
        async_to_sync(layer.group_send)(cohort_group(int(target)), {"type": "classroom.roster"})
    print(json.dumps({"began": began}), flush=True)
"""


def browser_socket(base_url: str, path: str, session: str):
    """Connect to the websocket `path` as a browser page does: its Origin and the session cookie."""
    import websockets

    headers = {"Cookie": f"sessionid={session}"}
    url = base_url.replace("http://", "ws://") + path
    return websockets.connect(
        url, origin=base_url, additional_headers=headers, max_size=None, open_timeout=60, ping_interval=None
    )


def server() -> LabServer:
    global _SERVER
    if _SERVER is None:
        srv = LabServer("classroom", state_root=Path("/var/lib/nslab-bench"))
        srv.env["REDIS_URL"] = f"redis://127.0.0.1:6379/{REDIS_DB}"
        srv.env["NSLAB_NODE"] = f"bench{os.getpid()}"
        srv.start()
        _SERVER = srv
    return _SERVER


def classroom() -> dict:
    """The bench cohort (made once): its id, the teacher's session, sample attempts to grade."""
    global _CLASS
    if _CLASS is None:
        srv = server()
        srv.manage("exercises", "load")
        _CLASS = json.loads(srv.python(_MAKE_CLASS, stdin=str(STUDENTS)))
    return _CLASS


def _worker() -> subprocess.Popen:
    global _WORKER
    if _WORKER is None:
        srv = server()
        _WORKER = subprocess.Popen(
            [sys.executable, "-c", _WORKER_CODE],
            cwd=ROOT,
            env=srv.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    return _WORKER


def cleanup() -> None:
    global _SERVER, _WORKER, _CLASS
    if _WORKER is not None:
        _WORKER.stdin.close()
        _WORKER.wait(timeout=15)
        _WORKER = None
    if _SERVER is not None:
        _SERVER.stop()
        _SERVER = None
    _CLASS = None


# -- a grade → the teacher's grid cell ---------------------------------------------------------


async def _grade_to_cell() -> tuple[list[float], list[float]]:
    srv, data, worker = server(), classroom(), _worker()
    samples, floor = [], []
    async with browser_socket(srv.base_url, f"/ws/teach/{data['cohort']}/", data["session"]) as ws:
        grid = json.loads(await asyncio.wait_for(ws.recv(), 60))
        assert grid["type"] == "classroom.grid" and len(grid["cells"]) == data["students"] * data["exercises"]

        async def timed(line: str, wanted) -> float:
            worker.stdin.write(line + "\n")
            worker.stdin.flush()
            began = json.loads(await asyncio.to_thread(worker.stdout.readline))["began"]
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT))
                if wanted(frame):
                    return (time.time() - began) * 1000

        for i in range(GRADES):
            target = data["targets"][i % len(data["targets"])]
            passed = (i // len(data["targets"])) % 2 == 0  # each attempt's cell changes state each round

            def the_cell(frame, target=target, passed=passed):
                cell = frame.get("cell") or {}
                where = (cell.get("student_id"), cell.get("exercise_id"))
                return (
                    frame["type"] == "classroom.cell"
                    and where == (target["student"], target["exercise"])
                    and (cell.get("state") == "passed") == passed
                )

            samples.append(await timed(f"grade {target['attempt']} {int(passed)}", the_cell))
            floor.append(await timed(f"ping {data['cohort']}", lambda f: f["type"] == "classroom.roster"))
    return samples, floor


@benchmark(name=GRADE_TO_CELL)
def classroom_grade_to_cell():
    """A grade kept → the teacher's dashboard socket has the student's new cell, STUDENTS students.

    A sample starts in the grading process (another process, as a lab node's worker) just before
    `attempt_record_grading` keeps a Check's results, and ends when the teacher's dashboard socket (a
    real client over TCP with the teacher's session and Origin) receives the `classroom.cell` of that
    student and exercise in its new state. Between them: the grading's transaction, the
    `attempt_graded` signal on commit, the cell computed again (one query) and the cohorts looked up,
    Redis, daphne's consumer. The floor is the same path without the grading: the same process
    sends the cohort's group a bare frame (`classroom.roster`) through Redis and the socket gets it.
    """
    samples, floor = asyncio.run(_grade_to_cell())
    return result(
        GRADE_TO_CELL, samples, floor_p50_ms=round(percentile(floor, 50), 3), goal="p95 < 150 ms"
    ) | {
        "students": STUDENTS,
        "floor_p95_ms": round(percentile(floor, 95), 3),
    }


# -- the dashboard page drawn ------------------------------------------------------------------

# navigation start → the grid live (every cell from the socket) and both charts drawn, in the page.
_DRAWN_AT = """
window.__drawnAt = null;
new MutationObserver((changes, observer) => {
  const done = ['progress-grid', 'chart-pass-rate', 'chart-time-to-pass'].every((id) => {
    const el = document.getElementById(id);
    return el && (el.dataset.live || el.dataset.drawn);
  });
  if (done) { window.__drawnAt = performance.now(); observer.disconnect(); }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-live', 'data-drawn'] });
"""
_FLOOR_SCRIPT = """<script src="/static/vendor/plotly-basic.min.js"></script>
<script>
const figures = %s;
Promise.all(figures.map(([id, f]) => Plotly.newPlot(id, f.data, f.layout, {displayModeBar: false})))
  .then(() => { for (const [id] of figures) document.getElementById(id).dataset.drawn = '1';
                document.getElementById('progress-grid').dataset.live = '1'; });
</script>"""


def _static(path: str) -> tuple[bytes, str] | None:
    kinds = {".css": "text/css", ".js": "text/javascript"}
    relative = path.removeprefix("/static/")
    for folder in STATIC_DIRS:
        file = (folder / relative).resolve()
        if file.is_relative_to(folder) and file.is_file():
            return file.read_bytes(), kinds.get(file.suffix, "application/octet-stream")
    return None


def _load(browser, url: str, cookies: list[dict]) -> float:
    return drawn_ms(browser, url, cookies, drawn_at=_DRAWN_AT, viewport=(1440, 900), timeout_ms=60_000)


@benchmark(name=DASHBOARD_DRAWN)
def classroom_dashboard_drawn():
    """The teacher's dashboard page opened → drawn, STUDENTS students × the course's EXERCISES, in Debian's
    chromium (headless) on localhost, each load in a fresh context.

    The figure is `performance.now()` (from navigation start) when the grid is live (the socket's
    `classroom.grid` applied to every cell) and both charts are drawn. The floor is the same browser
    loading the page's own server-rendered HTML without its scripts, with the same styles, from the
    plainest HTTP server (http.server), drawing the same two chart figures with the same plotly.js:
    what any page showing this table and these charts costs. Above it: Django (session, the grid's
    queries, the template), the socket and the grid's frame, the page's modules.
    """
    from playwright.sync_api import sync_playwright

    srv, data = server(), classroom()
    assert data["exercises"] == EXERCISES, (data["exercises"], EXERCISES)  # as the result's name says
    cookies = [{"name": "sessionid", "value": data["session"], "url": srv.base_url}]
    url = f"{srv.base_url}/teach/{data['cohort']}/"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.add_cookies(cookies)
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector("#chart-time-to-pass[data-drawn]", state="attached", timeout=60_000)
            html = page.evaluate("() => fetch(location.href).then((r) => r.text())")
            figures = page.evaluate(
                "() => ['chart-pass-rate', 'chart-time-to-pass'].map((id) => {"
                " const g = document.getElementById(id); return [id, {data: g.data, layout: g.layout}]; })"
            )
            cells = page.locator("#progress-grid td.cell").count()
            (ROOT / "test-artifacts").mkdir(exist_ok=True)
            page.screenshot(path=str(ROOT / "test-artifacts" / "bench-dashboard-1440.png"), full_page=True)
            context.close()
            assert cells == data["students"] * data["exercises"], cells
            static = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)
            static = static.replace("</body>", _FLOOR_SCRIPT % json.dumps(figures) + "</body>")
            page_bytes = static.encode()

            def files(path: str) -> tuple[bytes, str] | None:
                return (page_bytes, "text/html; charset=utf-8") if path == "/" else _static(path)

            with floor_server(files) as floor_url:
                samples, floor = interleaved(
                    lambda u, c: _load(browser, u, c), url, floor_url, cookies, PAGE_LOADS
                )
        finally:
            browser.close()
    return result(
        DASHBOARD_DRAWN,
        samples,
        floor_p50_ms=round(percentile(floor, 50), 3),
        goal="p50 < 1000 ms (navigation start → grid live and charts drawn)",
    ) | {"floor_p95_ms": round(percentile(floor, 95), 3), "cells": cells}
