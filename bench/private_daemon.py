"""A lab-node daemon of its own, for a test or a benchmark: a private state directory under
/var/lib/nslab-test, a client of its socket, commands run in its sandboxes as the student would.
`bench.restartable.RestartableDaemon` and the tests' `BackgroundDaemon` start it each their way."""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

from bench.labserver import ROOT
from topology.client import Client


class PrivateDaemon:
    """The state directory, client and log of a daemon that `spawn` starts; `stop` is the subclass's."""

    def __init__(self, name: str):
        self.state_dir = Path(f"/var/lib/nslab-test/{name}-{os.getpid()}-{secrets.token_hex(2)}")
        self.state_dir.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir.parent, 0o711)
        self.state_dir.mkdir()
        self.client = Client(autostart=False)
        self.client.path = self.state_dir / "daemon.sock"

    def spawn(self, argv: list[str], cwd: str | Path = ROOT) -> subprocess.Popen:
        """Start `argv` (a daemon, or what runs one) on the state directory, logging to daemon.log, in a
        session of its own; from `cwd`, whose packages `python -m` imports first."""
        env = {**os.environ, "NSLAB_STATE_DIR": str(self.state_dir), "PYTHONUNBUFFERED": "1"}
        with open(self.state_dir / "daemon.log", "ab") as log:
            return subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def log_tail(self) -> str:
        return (self.state_dir / "daemon.log").read_text()[-2000:]

    def run(self, sid: str, argv: list[str], *, ns: str = "host") -> tuple[int, str]:
        """Run a command in the sandbox as the student would (no terminal); its exit code and output
        (both streams)."""
        read, write = os.pipe()
        with open(os.devnull, "rb") as null:
            try:
                code = self.client.exec(sid, argv, ns=ns, stdio=(null.fileno(), write, write))
            finally:
                os.close(write)
        with os.fdopen(read, "rb") as out:
            return code, out.read().decode(errors="replace")
