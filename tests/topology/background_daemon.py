"""A lab-node daemon started the way a background start leaves a server: some signals ignored, some
blocked (`nohup make run &` ignores SIGHUP, SIGINT and SIGQUIT; service managers block others).

What it starts inside a sandbox must see none of that (see nslab-enter in topology/guest/guest.c).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from contextlib import contextmanager

from bench.labserver import stop_private_daemon
from bench.private_daemon import PrivateDaemon
from tests.polling import wait_for
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


class BackgroundDaemon(PrivateDaemon):
    """`python -m topology daemon` on a private state directory, started under background_dispositions."""

    def __init__(self, name: str):
        super().__init__(name)
        with background_dispositions():
            self.process = self.spawn([sys.executable, "-m", "topology", "daemon"])
        try:
            wait_for(self._answers, timeout=30, what="the daemon")
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the daemon exited: {self.log_tail()}")
        try:
            return self.client.request({"op": "ping"})["pid"] == self.process.pid
        except TopologyError:
            return False

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
