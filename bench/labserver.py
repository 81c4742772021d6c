"""A real nslab web server for the browser tests and the web-lab benchmarks (not a benchmark module).

Public API, used by `bench.weblab`, `bench.exercise_check` and the test suites' conftests: `LabServer`
and `stop_private_daemon`. `LabServer` runs daphne as `make run` does (labapp/config/serve.py), in the
embedded mode (in-memory channel layer, tasks in-process, node agent in the web process), as a
subprocess of ours: SQLite in a temporary directory, a topology daemon of its own (NSLAB_STATE_DIR
under `state_root`), a free port on 127.0.0.1; DEBUG on unless `debug=False` (then with collected
static files, as `make run`). `stop()` ends daphne by its pid, removes the daemon's sandboxes, ends
that daemon by the pid it reports and removes both directories. Nothing here touches the machine's own
network namespace: every lab lives in its sandbox's.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from topology.client import Client
from topology.errors import TopologyError

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll `predicate` until it returns something truthy (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class LabServer:
    """One daphne of the embedded mode with its own SQLite database and topology daemon; `start()` it."""

    def __init__(
        self,
        name: str,
        *,
        state_root: Path = Path("/var/lib/nslab-test"),
        debug: bool = True,
        ignored_signals: tuple[signal.Signals, ...] = (),
    ):
        """`ignored_signals`: start daphne with these ignored, as a background start (`make run &`) does."""
        self.tmp = Path(tempfile.mkdtemp(prefix=f"nslab-{name}-"))
        state_root.mkdir(parents=True, exist_ok=True)
        os.chmod(state_root, 0o711)
        self.state_dir = state_root / f"{name}-{os.getpid()}-{secrets.token_hex(2)}"
        self.db_path = self.tmp / "db.sqlite3"
        self.port = 0
        self.process: subprocess.Popen | None = None
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        env.update(
            DATABASE_URL=f"sqlite:///{self.db_path}",
            NSLAB_STATE_DIR=str(self.state_dir),
            DJANGO_SETTINGS_MODULE="labapp.config.settings",
            # DEBUG serves the page code from the sources; without it, as `make run`: collected files.
            DJANGO_DEBUG="1" if debug else "0",
            DJANGO_STATIC_ROOT=str(self.tmp / "static"),
            PYTHONUNBUFFERED="1",
        )
        self.env, self.debug, self.ignored_signals = env, debug, ignored_signals

    @property
    def base_url(self) -> str:
        """The server's root URL, e.g. http://127.0.0.1:40123 (valid once started)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where daphne's output goes."""
        return self.tmp / "daphne.log"

    def manage(self, *args: str) -> str:
        """Run `manage.py *args` against this server's database; its output, or RuntimeError."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def python(self, code: str, stdin: str = "") -> str:
        """Run `code` in a Python process with Django set up against this server's database."""
        prelude = "import django; django.setup()\n"
        done = subprocess.run(
            [sys.executable, "-c", prelude + code],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"django script failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> LabServer:
        """Migrate, create the demo users, start daphne on a free port and wait until it answers."""
        self.manage("migrate", "--noinput")
        self.manage("nslab_demo_users", "--force")
        if not self.debug:
            self.manage("collectstatic", "--noinput", "--verbosity", "0")
        self.port = _free_port()
        self.serve()
        return self

    def serve(self) -> None:
        """Start daphne on `port` and wait until it answers (again, after `end_daphne`: a restart on
        the same database and daemon)."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "labapp.config.serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=self._ignore_signals if self.ignored_signals else None,
            )
        try:
            wait_for(self._answers, timeout=START_TIMEOUT, what=f"daphne on port {self.port}")
        except Exception:
            self.stop()
            raise

    def end_daphne(self) -> None:
        """SIGTERM daphne, as an upgrade or a restart does (its embedded node agent ends with it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _ignore_signals(self) -> None:
        for number in self.ignored_signals:
            signal.signal(number, signal.SIG_IGN)

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"daphne exited ({self.process.returncode}):\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(self.base_url + "/accounts/login/", timeout=2) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines of daphne's output ("" if none)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def client(self) -> Client:
        """A Client of this server's topology daemon (never starts one)."""
        client = Client(autostart=False)
        client.path = self.state_dir / "daemon.sock"
        return client

    def sandboxes(self) -> list[dict]:
        """The sandboxes of this server's daemon ([] before the daemon started)."""
        if not (self.state_dir / "daemon.sock").exists():
            return []
        return self.client().ls()

    def stop(self) -> None:
        """End daphne and the daemon it started, remove their sandboxes and directories."""
        self.end_daphne()
        if (self.state_dir / "daemon.sock").exists():
            client = self.client()
            try:
                # One by one: `down_all` only queues a paced teardown, which ending the daemon would cut.
                for sandbox in client.ls():
                    client.down(sandbox["id"])
                pid = client.request({"op": "ping"})["pid"]
                os.kill(pid, signal.SIGTERM)
                wait_for(lambda: not _alive(pid), timeout=15, what=f"daemon {pid} to exit")
            except (TopologyError, OSError, TimeoutError) as exc:
                print(
                    f"LabServer.stop: the daemon of {self.state_dir} did not clean up: {exc!r}",
                    file=sys.stderr,
                )
        shutil.rmtree(self.state_dir, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


def stop_private_daemon(state_dir: Path) -> None:
    """Remove the sandboxes of the daemon serving `state_dir` (an NSLAB_STATE_DIR of a test session
    or a benchmark), end that daemon by the pid it reports, and remove the directory."""
    if (state_dir / "daemon.sock").exists():
        client = Client(autostart=False)
        client.path = state_dir / "daemon.sock"
        try:
            client.down_all(wait=True)
        except (TopologyError, OSError):
            pass  # end the daemon all the same: nothing may outlive the session
        try:
            os.kill(client.request({"op": "ping"})["pid"], signal.SIGTERM)
        except (TopologyError, OSError):
            pass
    shutil.rmtree(state_dir, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie until its parent (init: the daemon runs in a session of its own) reaps it.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
