"""The production shape as processes: the application services of docker-compose.yml (web, labnode,
beat) run from the project's root with the file's environment (DJANGO_DEBUG=0), against PostgreSQL and
Redis on this machine. Used by tests/labapp/test_production_shape.py and bench/restarts.py."""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import compose_spec
import podman_compose
import psycopg
import yaml

from bench.labserver import stop_private_daemon

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
VENV_BIN = Path(sys.executable).parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def compose_project(environ: dict[str, str], text: str | None = None) -> compose_spec.PyCompose:
    """docker-compose.yml as Compose reads it with these environment variables (.env's role):
    podman-compose's variable interpolation, then the compose_spec crate's model of the spec."""
    data = podman_compose.rec_subs(yaml.safe_load(text or COMPOSE_FILE.read_text()), environ)
    return compose_spec.PyOptions(apply_merge=True).from_yaml(yaml.safe_dump(data))


@contextmanager
def postgres_database(prefix: str):
    """A new database on the local PostgreSQL (user postgres); its URL. Dropped at the end."""
    name = f"{prefix}_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Services:
    """The compose file's application services as processes; logs in `tmp`."""

    def __init__(self, tmp: Path, database_url: str, redis_url: str):
        self.tmp, self.port = tmp, _free_port()
        self.state_dir = Path(f"/var/lib/nslab-test/prod-{os.getpid()}-{secrets.token_hex(2)}")
        self.project = compose_project({"SECRET_KEY": secrets.token_urlsafe(50)})
        env = {
            k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "NSLAB_STATE_DIR")
        }
        # The file's environment, with this machine's addresses for the db and redis services.
        env.update({k: str(v) for k, v in self.project.get_service("web").environment.items()})
        assert env["DJANGO_DEBUG"] == "0"
        env.update(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
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

    def manage(self, *args: str) -> None:
        """`manage.py *args` in the services' environment (collectstatic as the image's build runs it)."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}{done.stderr}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serving(self) -> bool:
        """Whether the web service answers (an AssertionError if a service exited)."""
        self.check_running()
        try:
            with urllib.request.urlopen(self.base_url + "/accounts/login/", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

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
