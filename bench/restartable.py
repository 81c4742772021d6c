"""A lab-node daemon that fault tests and benchmarks kill and start again, under bench/reaper.py."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from bench.labserver import stop_private_daemon, wait_for
from bench.private_daemon import PrivateDaemon
from topology import limits
from topology.errors import TopologyError


class RestartableDaemon(PrivateDaemon):
    """`python -m topology daemon` on a private state directory, as a service manager runs it."""

    def __init__(self, name: str):
        super().__init__(name)
        self.reaper = self.spawn(
            [sys.executable, "-m", "bench.reaper", sys.executable, "-m", "topology", "daemon"]
        )
        self.pid = 0
        try:
            self.pid = self.wait_up()
        except BaseException:
            self.stop()
            raise

    def ping(self) -> int:
        """The serving daemon's pid (0 while none answers)."""
        try:
            return self.client.request({"op": "ping"})["pid"]
        except (TopologyError, OSError):  # none yet, or one going away
            return 0

    def wait_up(self, old: int = 0) -> int:
        """Wait until a daemon other than `old` answers; its pid."""
        if self.reaper.poll() is not None:
            raise RuntimeError(f"the reaper exited: {self.log_tail()}")
        return wait_for(lambda: (pid := self.ping()) != old and pid, timeout=60, what="the daemon")

    def kill(self, sig: int) -> None:
        """Send `sig` to the daemon and wait until it is gone (its sandboxes are not)."""
        os.kill(self.pid, sig)
        wait_for(lambda: not _alive(self.pid), timeout=30, what="the daemon's exit")

    def start(self) -> int:
        """Start a new daemon on the same state directory; its pid once it answers."""
        os.kill(self.reaper.pid, signal.SIGUSR1)
        self.pid = self.wait_up(self.pid)
        return self.pid

    def sh(self, sid: str, script: str, *, ns: str = "host") -> str:
        """A shell script's output; fails the test when it fails."""
        code, out = self.run(sid, ["sh", "-c", script], ns=ns)
        assert code == 0, out
        return out

    def stop(self) -> None:
        """Remove its sandboxes, end the daemon and the reaper, remove the state directory."""
        if not self.ping() and self.reaper.poll() is None:  # a test ended between kill and start:
            try:  # a daemon must adopt the sandboxes to remove them
                self.start()
            except (TimeoutError, RuntimeError):
                pass
        stop_private_daemon(self.state_dir)
        if self.pid:
            wait_for(lambda: not _alive(self.pid), timeout=15, what="the daemon's exit")
        self.reaper.terminate()
        self.reaper.wait(timeout=15)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def sandbox_processes(sandbox: dict) -> list[int]:
    """The pids of live processes in the sandbox's cgroup (each of its processes joins it)."""
    assert sandbox["cgroup"], "the daemon applies no cgroups here"
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and sandbox["cgroup"] in (entry / "cgroup").read_text()
                and _alive(entry.name)
            ):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def cgroup_left(sandbox: dict) -> bool:
    """Whether the sandbox's cgroup still exists."""
    return bool(sandbox["cgroup"]) and sandbox["cgroup"] in set(limits.leftovers())
