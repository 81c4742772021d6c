"""A real PostgreSQL restart under the running web process (DEBUG off, the embedded mode): while the
database is down, pages answer the plain 503 page (one log line each) and the process stays up; once
it is back, the same pages and new lab sockets work again, the student still logged in, and a lab
socket held open all along still answers, without restarting anything. A quick restart with no
request in between shows that no dead database connection is kept.

The database is a private PostgreSQL cluster of this test (Debian's binaries, a temporary directory,
a free port on 127.0.0.1): the machine's shared PostgreSQL is never stopped."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
import websockets
import websockets.sync.client

from bench.labserver import LabServer
from tests.labapp.sockets import session_of_a_lab_owner
from tests.polling import wait_for

pytestmark = pytest.mark.slow

ENGLISH = "The database is briefly unavailable"
CHINESE = "数据库暂时无法使用"


class PrivatePostgres:
    """A PostgreSQL cluster of our own, run as the `postgres` OS user (initdb refuses root): trust
    authentication, listening on 127.0.0.1:`port` and a socket in its own directory."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.tmp = Path(tempfile.mkdtemp(prefix="nslab-pg-"))
        shutil.chown(self.tmp, "postgres", "postgres")
        self.data = self.tmp / "data"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]

    def run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bindir / tool), *args],
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"{tool} {' '.join(args)}:\n{done.stdout}{done.stderr}{self.log()}"

    def log(self) -> str:
        path = self.tmp / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def init(self) -> None:
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.tmp} -c fsync=off"
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.tmp / "server.log"), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        """Stop the cluster if it runs, remove its directory."""
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except AssertionError as exc:
                print(f"PrivatePostgres.remove: {exc}")
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture
def postgres():
    if os.geteuid() != 0:
        pytest.skip("starts PostgreSQL as the postgres OS user and the lab server as root (CI is root)")
    binaries = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: [int(n) for n in p.split("/")[4].split(".")],
    )
    if not binaries or shutil.which("runuser") is None:
        pytest.skip("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) or runuser are not installed")
    cluster = PrivatePostgres(Path(binaries[-1]).parent)
    try:
        cluster.init()
        cluster.start()
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
            admin.execute("CREATE DATABASE nslab")
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def server(postgres):
    server = LabServer("pgrestart", debug=False)
    server.env["DATABASE_URL"] = postgres.url("nslab")
    server.start()  # migrates, creates the demo users
    try:
        yield server
    finally:
        server.stop()


def get(server: LabServer, path: str, session: str, language: str = "en") -> tuple[int, dict, str]:
    request = urllib.request.Request(
        server.base_url + path, headers={"Cookie": f"sessionid={session}", "Accept-Language": language}
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def lab_socket(server: LabServer, session: str, lab_id: int):
    """The lab's socket as the student's page opens it (a context manager)."""
    return websockets.sync.client.connect(
        f"ws://127.0.0.1:{server.port}/ws/labs/{lab_id}/",
        origin=server.base_url,
        additional_headers={"Cookie": f"sessionid={session}"},
        open_timeout=15,
    )


def lab_socket_status(server: LabServer, session: str, lab_id: int) -> str:
    """The first frame of a new lab socket."""
    with lab_socket(server, session, lab_id) as ws:
        return ws.recv(timeout=15)


def answer_to_refresh(ws) -> dict:
    """The socket's answer to a `lab.refresh` (for a stopped lab: not ready), past the join frames."""
    ws.send(json.dumps({"type": "lab.refresh"}))
    while (frame := json.loads(ws.recv(timeout=15)))["type"] != "error":
        pass
    return frame


def assert_served(server: LabServer, session: str, lab_id: int) -> None:
    """The student's home and lab pages and a new socket of the lab work, the student logged in."""
    status, _, home = get(server, "/", session)
    assert status == 200 and "student" in home and 'name="password"' not in home, home[:500]
    status, _, lab_page = get(server, f"/labs/{lab_id}/", session)
    assert status == 200 and f'data-ws-path="/ws/labs/{lab_id}/"' in lab_page
    assert '"lab.status"' in lab_socket_status(server, session, lab_id)


def assert_unavailable(server: LabServer, session: str, lab_id: int) -> None:
    """The 503 page in English and Chinese, no new socket (the page retries), the process up; the
    log has one line per failure, no traceback."""
    log_before = len(server.log_tail(100000).splitlines())
    for language, text in (("en", ENGLISH), ("zh-hans", CHINESE)):
        status, headers, page = get(server, "/", session, language)
        assert (status, headers.get("Retry-After")) == (503, "10"), page[:500]
        assert text in page and "Traceback" not in page
        status, _, page = get(server, f"/labs/{lab_id}/", session, language)
        assert status == 503 and text in page
    with pytest.raises((websockets.InvalidStatus, websockets.ConnectionClosed)):
        lab_socket_status(server, session, lab_id)
    assert server.process.poll() is None, server.log_tail()

    def outage_log():
        log = server.log_tail(100000).splitlines()[log_before:]
        return log if len([line for line in log if "Service Unavailable: " in line]) == 4 else None

    log = wait_for(outage_log, what="the four 503s in the log")
    assert len([line for line in log if "(database unreachable" in line]) >= 4, log
    assert not [line for line in log if "Traceback" in line or line.startswith((" ", "\t"))], log


def test_a_postgresql_restart_gives_the_503_page_then_everything_works_again(postgres, server):
    session, lab_id = session_of_a_lab_owner(server)
    assert_served(server, session, lab_id)
    with lab_socket(server, session, lab_id) as held:  # a page open all along
        assert answer_to_refresh(held)["code"] == "not_ready"  # (its consumer has connected)

        # A quick restart between two requests: a database connection kept from before it is dead now.
        postgres.stop("fast")
        postgres.start()
        assert_served(server, session, lab_id)

        # A longer one: requests meet the database down; then the same web process serves again.
        postgres.stop("fast")
        try:
            assert_unavailable(server, session, lab_id)
        finally:
            postgres.start()
        assert_served(server, session, lab_id)
        assert answer_to_refresh(held)["code"] == "not_ready"
    assert server.process.poll() is None
