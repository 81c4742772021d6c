"""A lab-node daemon started the way a background start leaves a server: some signals ignored, some
blocked (`nohup make run &` ignores SIGHUP, SIGINT and SIGQUIT; service managers block others).

What it starts inside a sandbox must see none of that (see nslab-enter in topology/guest/guest.c).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from bench.labserver import ROOT, stop_private_daemon
from tests.polling import wait_for
from topology.client import Client
from topology.errors import TopologyError

IGNORED = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT)
BLOCKED = {signal.SIGTSTP, signal.SIGUSR2}


@contextmanager
def background_dispositions():
    """Meanwhile this thread ignores IGNORED and blocks BLOCKED, as a background start would; the
    processes it starts inherit both."""
    saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in IGNORED}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, BLOCKED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def signal_status(pid: int | str) -> dict[str, int]:
    """The SigIgn and SigBlk masks of a process, from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as f:
        return {k: int(v, 16) for k, _, v in (line.partition(":") for line in f) if k in ("SigIgn", "SigBlk")}


class BackgroundDaemon:
    """`python -m topology daemon` on a private state directory, started under background_dispositions."""

    def __init__(self, name: str):
        self.state_dir = Path(f"/var/lib/nslab-test/{name}-{os.getpid()}-{secrets.token_hex(2)}")
        self.state_dir.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir.parent, 0o711)
        self.state_dir.mkdir()
        self.client = Client(autostart=False)
        self.client.path = self.state_dir / "daemon.sock"
        env = {**os.environ, "NSLAB_STATE_DIR": str(self.state_dir), "PYTHONUNBUFFERED": "1"}
        with background_dispositions(), open(self.state_dir / "daemon.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "topology", "daemon"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        try:
            wait_for(self._answers, timeout=30, what="the daemon")
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the daemon exited: {(self.state_dir / 'daemon.log').read_text()[-2000:]}")
        try:
            return self.client.request({"op": "ping"})["pid"] == self.process.pid
        except TopologyError:
            return False

    def run(self, sid: str, argv: list[str], *, ns: str = "host") -> tuple[int, str]:
        """Run a command in the sandbox (as the student would, no terminal); its exit code and output."""
        read, write = os.pipe()
        with open(os.devnull, "rb") as null:
            try:
                code = self.client.exec(sid, argv, ns=ns, stdio=(null.fileno(), write, write))
            finally:
                os.close(write)
        with os.fdopen(read, "rb") as out:
            return code, out.read().decode(errors="replace")

    def running(self, sid: str, command: str) -> bool:
        """True while a process of the sandbox runs exactly `command` (its argv joined by spaces)."""
        return self.run(sid, ["pgrep", "-xf", command])[0] == 0

    def state(self, sid: str, command: str) -> str:
        """The state (ps's STAT: S sleeping, T stopped) of the sandbox's process running `command`."""
        return self.run(sid, ["sh", "-c", f"ps -o stat= -p $(pgrep -xf '{command}')"])[1].strip()

    def stop(self) -> None:
        """Remove its sandboxes, end it, remove its state directory."""
        stop_private_daemon(self.state_dir)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
