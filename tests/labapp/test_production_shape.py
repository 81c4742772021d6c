"""The production shape for real: the web, labnode and beat commands of docker-compose.yml run as
processes (as the image runs them: from the project's root, DJANGO_DEBUG=0, the file's environment)
against real PostgreSQL and Redis, and a student completes an exercise through HTTP and the lab's
WebSocket, as a browser would."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg
import pytest
import redis
from websockets.sync.client import connect

from bench.labserver import stop_private_daemon
from tests.polling import wait_for
from tests.test_compose import compose

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
REDIS_DB = 14  # a database number of its own on the shared Redis
EXERCISE = "fix-ip-forward"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database():
    """A new PostgreSQL database; its URL (dropped at the end)."""
    name = f"nslab_prod_{secrets.token_hex(3)}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Services:
    """The compose file's application services as processes; logs in `tmp`."""

    def __init__(self, tmp: Path, database_url: str):
        self.tmp, self.port = tmp, free_port()
        self.state_dir = Path(f"/var/lib/nslab-test/prod-{os.getpid()}-{secrets.token_hex(2)}")
        self.project = compose({"SECRET_KEY": secrets.token_urlsafe(50)})
        env = {
            k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "NSLAB_STATE_DIR")
        }
        # The file's environment, with this machine's addresses for the db and redis services.
        env.update({k: str(v) for k, v in self.project.get_service("web").environment.items()})
        assert env["DJANGO_DEBUG"] == "0"
        env.update(
            DATABASE_URL=database_url,
            REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
            NSLAB_STATE_DIR=str(self.state_dir),  # the labnode-state volume
            DJANGO_STATIC_ROOT=str(tmp / "static"),
            PATH=f"{VENV_BIN}:{env['PATH']}",  # the image's `python` and `celery`
        )
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}

    def command(self, service: str) -> list[str]:
        argv = shlex.split(self.project.get_service(service).command)
        # Served on the loopback at a free port; beat's schedule file in the test's directory.
        argv = [a.replace("--host 0.0.0.0 --port 8000", f"--host 127.0.0.1 --port {self.port}") for a in argv]
        return [a.replace("/tmp/celerybeat-schedule", str(self.tmp / "schedule")) for a in argv]

    def start(self, service: str) -> None:
        log = open(self.tmp / f"{service}.log", "w")  # noqa: SIM115 - the process's output
        self.procs[service] = subprocess.Popen(
            self.command(service), cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def check_running(self) -> None:
        for name, proc in self.procs.items():
            assert proc.poll() is None, f"{name} exited:\n{self.log(name)}"

    def log(self, service: str) -> str:
        return (self.tmp / f"{service}.log").read_text()[-4000:]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stop_private_daemon(self.state_dir)


def test_a_student_completes_an_exercise_on_the_production_shape(tmp_path, database):
    redis.Redis(db=REDIS_DB).flushdb()
    services = Services(tmp_path, database)
    base = f"http://127.0.0.1:{services.port}"
    try:
        # As the image was built: static files collected (Dockerfile).
        done = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=services.env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        services.start("web")  # migrates, loads the course, serves
        wait_for(lambda: services.check_running() or _answers(base), 120, 0.2, "the web service")
        services.start("labnode")
        services.start("beat")
        done = subprocess.run(
            [sys.executable, "manage.py", "nslab_demo_users", "--force"],
            cwd=ROOT,
            env=services.env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr

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


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/accounts/login/", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


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
