"""The production shape for real: the web, labnode and beat commands of docker-compose.yml run as
processes (as the image runs them: from the project's root, DJANGO_DEBUG=0, the file's environment)
against real PostgreSQL and Redis, and a student completes an exercise through HTTP and the lab's
WebSocket, as a browser would."""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import redis
from websockets.sync.client import connect

from bench.production import Services, postgres_database
from tests.polling import wait_for

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/14"  # a database number of its own on the shared Redis
EXERCISE = "fix-ip-forward"


@pytest.fixture
def database():
    with postgres_database("nslab_prod") as url:
        yield url


def test_a_student_completes_an_exercise_on_the_production_shape(tmp_path, database):
    redis.Redis.from_url(REDIS_URL).flushdb()
    services = Services(tmp_path, database, REDIS_URL)
    base = services.base_url
    try:
        services.manage("collectstatic", "--noinput", "--verbosity", "0")  # as the image's build (Dockerfile)
        services.start("web")  # migrates, loads the course, serves
        wait_for(services.serving, 120, 0.2, "the web service")
        services.start("labnode")
        services.start("beat")
        services.manage("nslab_demo_users", "--force")

        jar = CookieJar()
        http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login = http.open(base + "/accounts/login/").read().decode()
        assert "csrfmiddlewaretoken" in login
        _post(http, base, "/accounts/login/", {"username": "student", "password": "student"}, jar)
        answer = _post(http, base, f"/exercises/{EXERCISE}/start", {}, jar)
        lab_id = int(re.search(r"/labs/(\d+)/$", answer.geturl()).group(1))
        assert f'data-ws-path="/ws/labs/{lab_id}/"' in answer.read().decode()  # the lab page

        cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
        with connect(
            f"ws://127.0.0.1:{services.port}/ws/labs/{lab_id}/",
            additional_headers={"Cookie": cookies, "Origin": base},
        ) as ws:
            frames = _Frames(ws)
            frames.until(lambda f: f["type"] == "lab.status" and f["status"] == "ready", 120)
            ws.send(json.dumps({"type": "tty.input", "data": "sysctl -w net.ipv4.ip_forward=1\r"}))
            frames.until(lambda f: f["type"] == "lab.tty" and "net.ipv4.ip_forward = 1" in frames.tty, 30)
            answers = {"why": {"0": "net.ipv4.ip_forward"}}
            ws.send(json.dumps({"type": "attempt.check", "answers": answers}))
            graded = frames.until(lambda f: f["type"] == "attempt.graded" and f["kind"] == "check", 60)
        assert graded["score"] == graded["max_score"] > 0, graded
        services.check_running()
    finally:
        services.stop()
        for name in services.procs:
            print(f"--- {name}\n{services.log(name)}")


def _post(http, base: str, path: str, fields: dict, jar: CookieJar):
    token = next(c.value for c in jar if c.name == "csrftoken")
    body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(base + path, data=body, headers={"Referer": base + path, "Origin": base})
    return http.open(request)


class _Frames:
    """The frames of a socket, read until one matches; the terminal's text so far."""

    def __init__(self, ws):
        self.ws, self.tty = ws, ""

    def until(self, match, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no matching frame in time"
            try:
                frame = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                continue
            if frame["type"] == "lab.tty":
                self.tty += frame["data"]
            if match(frame):
                return frame
