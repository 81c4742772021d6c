"""Live-restore: a daemon killed (SIGKILL) or stopped (SIGTERM) with labs running leaves them running,
and the next daemon on the same state directory serves them again as they were."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading

import pytest

from bench.restartable import RestartableDaemon, cgroup_left, sandbox_processes
from bench.restore import cycles, daemon_usage
from tests.polling import wait_for
from topology.client import DaemonError
from topology.fdwait import readable
from topology.sandbox import Sandbox

pytestmark = pytest.mark.kernel


@pytest.fixture
def node():
    d = RestartableDaemon("restore")
    yield d
    d.stop()


PS = "docker ps --no-trunc --format '{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.Ports}} {{.Networks}}'"


def _rules(d: RestartableDaemon, sid: str) -> str:
    """The Docker host's ruleset without its timestamps and counters."""
    text = d.sh(sid, "iptables-save")
    return "\n".join(
        re.sub(r"\[\d+:\d+\]", "", line) for line in text.splitlines() if not line.startswith("#")
    )


class InFlight:
    """A command run in the sandbox through the daemon, in a thread, its output in a pipe."""

    def __init__(self, d: RestartableDaemon, sid: str, argv: list[str]):
        self.read, write = os.pipe()
        self.error = ""
        self.thread = threading.Thread(target=self._run, args=(d, sid, argv, write))
        self.thread.start()

    def _run(self, d, sid, argv, write) -> None:
        try:
            d.client.exec(sid, argv, stdio=(write, write, write))
        except DaemonError as exc:
            self.error = str(exc)
        finally:
            os.close(write)

    def said(self) -> str:
        """What it printed once the daemon went away (its process may run on with the pipe open:
        read what came, not to its end)."""
        self.thread.join(timeout=15)
        assert self.error, "the daemon answered"  # its answer never came
        got = b""
        while b"unexpected EOF" not in got and readable([self.read], 10):
            chunk = os.read(self.read, 4096)
            if not chunk:
                break
            got += chunk
        os.close(self.read)
        return got.decode(errors="replace")


def _page(d: RestartableDaemon, sid: str, port: int) -> str:
    return d.run(sid, ["curl", "-s", "-m", "3", f"http://203.0.113.2:{port}/"], ns="client")[1]


def _served(d: RestartableDaemon, sid: str, port: int, name: str) -> bool:
    return f"Served by container {name} " in _page(d, sid, port)


def test_labs_survive_daemon_kill_and_stop(node):
    d = node
    info = d.client.up()
    sid, box = info["id"], Sandbox.from_dict(info)
    d.sh(
        sid,
        "docker run -d --name web -p 8080:80 nginx && docker run -d -p 80 --name dyn nginx && "
        "docker network create app && docker run -d --net app --name a1 busybox top && "
        "docker run -d --net app --name a2 busybox top && iptables -A FORWARD -s 10.9.9.9 -j DROP",
    )
    wait_for(lambda: _served(d, sid, 8080, "web"), timeout=15, what="web served")
    first_dynamic = d.sh(sid, "docker port dyn 80").split(":")[-1].strip()

    # A container run attached when the daemon first dies (it runs on, adopted like the others).
    slow = InFlight(d, sid, ["docker", "run", "--name", "slow", "busybox", "sleep", "600"])
    wait_for(lambda: "slow" in d.sh(sid, "docker ps --format '{{.Names}}'"), timeout=15, what="slow running")
    before = {"rules": _rules(d, sid), "ps": d.sh(sid, PS), "net": d.sh(sid, "docker network ls")}

    for sig in (signal.SIGKILL, signal.SIGTERM):
        old = d.pid
        # A command in flight when the daemon goes: its client says so, the daemon's answer is lost.
        command = f"sleep {600 + sig}"
        execed = InFlight(d, sid, ["docker", "exec", "a1", *command.split()])
        wait_for(lambda c=command: d.run(sid, ["pgrep", "-xf", c])[0] == 0, timeout=15, what="exec running")
        d.kill(sig)
        for flight in (execed, slow) if sig == signal.SIGKILL else (execed,):
            assert "error during connect: unexpected EOF from the Docker daemon" in flight.said()
        # Meanwhile the lab runs on: its published port is still served (asked without a daemon).
        page = box.run("client", ["curl", "-s", "-m", "3", "http://203.0.113.2:8080/"]).stdout.decode()
        assert "Served by container web " in page
        # A docker command typed meanwhile waits on the docker.sock (still listening, held by the
        # sandbox) and is answered by the next daemon.
        waiting = box.popen(
            [*box.nsenter_argv("host", student=True), "docker", "ps", "--format", "{{.Names}}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert d.start() != old
        out, err = waiting.communicate(timeout=30)
        assert waiting.returncode == 0 and "web" in out.decode().split(), err
        assert [s["id"] for s in d.client.ls()] == [sid]
        assert d.sh(sid, PS) == before["ps"]
        assert d.sh(sid, "docker network ls") == before["net"]
        assert _rules(d, sid) == before["rules"]
        assert _served(d, sid, 8080, "web")
        assert d.sh(sid, "docker exec a1 getent hosts a2").split()[0].startswith("172.")
        assert d.sh(sid, "docker exec web hostname").strip()

    # Allocation continues where it was: the next address, the next dynamic port.
    d.sh(sid, "docker run -d --name web2 -p 8081:80 nginx && docker run -d -p 80 --name dyn2 nginx")
    ips = {
        name: d.sh(sid, f"docker inspect -f '{{{{.NetworkSettings.IPAddress}}}}' {name}").strip()
        for name in ("web", "dyn", "slow", "web2")
    }
    assert len(set(ips.values())) == 4, ips
    assert int(d.sh(sid, "docker port dyn2 80").split(":")[-1]) == int(first_dynamic) + 1
    wait_for(lambda: _served(d, sid, 8081, "web2"), timeout=15, what="web2 served")

    # An adopted container is watched again: it stops, and its port is freed.
    d.sh(sid, "docker stop -t 1 web")
    assert "Exited" in d.sh(sid, "docker ps -a --filter name=^web$ --format '{{.Status}}'")
    assert not _page(d, sid, 8080)
    d.sh(sid, "docker rm -f slow")


def test_sandboxes_that_died_meanwhile_are_reaped_and_nothing_leaks(node):
    d = node
    kept = d.client.up()
    lost = d.client.up()
    for s in (kept, lost):
        d.sh(s["id"], "docker run -d -p 8080:80 --name web nginx")
    d.kill(signal.SIGKILL)
    os.kill(lost["keeper_pid"], signal.SIGKILL)
    d.start()
    assert [s["id"] for s in d.client.ls()] == [kept["id"]]
    reaped = d.client.request({"op": "ls"})["reaped"]
    assert [r["id"] for r in reaped] == [lost["id"]] and "keeper" in reaped[0]["reason"]
    wait_for(lambda: not sandbox_processes(lost), timeout=10, what="the lost sandbox's processes gone")
    assert not cgroup_left(lost)
    assert not (d.state_dir / "sandboxes" / lost["id"]).exists()
    # `down --all` still clears the node, adopted sandboxes included.
    d.client.down_all(wait=True)
    assert not d.client.ls()
    assert not sandbox_processes(kept)
    assert not cgroup_left(kept)
    # The uid slots are free again: a new sandbox takes the first.
    assert d.client.up()["root_uid"] == kept["root_uid"]


@pytest.mark.slow
def test_create_destroy_cycles_leave_nothing_behind(node):
    # `make bench` runs 1000 (bench/restore.py); 100 here keep the suite's time.
    found = cycles(node, 100)
    assert found["left"] == [] and found["directories"] == [] and found["mounts"] == []
    assert found["first_uid"] == min(found["uids"])  # every uid slot is free again
    before = found["before"]
    # The daemon does not grow: no thread, descriptor or memory left per sandbox.
    wait_for(lambda: daemon_usage(node.pid)["threads"] <= before["threads"], timeout=10, what="threads back")
    after = daemon_usage(node.pid)
    assert after["fds"] <= before["fds"], (before, after)
    assert after["rss_kib"] < before["rss_kib"] + 16 * 1024, (before, after)


def test_containers_that_ended_meanwhile_are_cleaned_up_as_an_exit_would(node):
    d = node
    info = d.client.up()
    sid, box = info["id"], Sandbox.from_dict(info)
    d.sh(
        sid, "docker run -d --name gone busybox sleep 1000 && docker run -d --rm --name tmp -p 8082:80 nginx"
    )
    ip = d.sh(sid, "docker inspect -f '{{.NetworkSettings.IPAddress}}' tmp").strip()
    pids = d.sh(sid, "docker inspect -f '{{.State.Pid}}' gone tmp").split()
    assert f"{ip}/32" in d.sh(sid, "iptables-save -t nat")
    d.sh(sid, "docker run -d --name kept -p 8083:80 nginx")
    d.kill(signal.SIGKILL)
    assert box.run("host", ["kill", "-9", *pids], student=True).returncode == 0  # no daemon watches
    # A docker-proxy that died meanwhile is started again: the port is served.
    assert (
        box.run("host", ["pkill", "-9", "-f", "docker-proxy .*-host-port 8083"], student=True).returncode == 0
    )
    d.start()
    wait_for(lambda: _served(d, sid, 8083, "kept"), timeout=15, what="kept served")
    listed = [
        line.split()[:3] for line in d.sh(sid, "docker ps -a --format '{{.Names}} {{.Status}}'").splitlines()
    ]
    assert listed[0][:2] == ["kept", "Up"] and listed[1] == ["gone", "Exited", "(255)"], listed
    assert f"{ip}/32" not in d.sh(sid, "iptables-save -t nat")  # its port's rules are gone
    assert not _page(d, sid, 8082)
    # Its host port is free again (its docker-proxy was stopped).
    d.sh(sid, "docker run -d --name again -p 8082:80 nginx")
    wait_for(lambda: _served(d, sid, 8082, "again"), timeout=15, what="again served")


def test_a_container_ending_after_a_restart_keeps_its_exit_status(node):
    """The new daemon takes the shim's status pipe back: `docker kill` after a restart says 137 and a
    plain exit its own code, not the 255 of a status nobody could read; `docker exec` still works."""
    d = node
    sid = d.client.up()["id"]
    d.sh(sid, "docker run -d --name killed busybox sleep 1000")
    d.sh(sid, "docker run -d --name three busybox sh -c 'until [ -e /tmp/go ]; do sleep 0.05; done; exit 3'")
    d.kill(signal.SIGKILL)
    d.start()
    d.sh(sid, "docker exec three touch /tmp/go && docker kill killed")
    assert d.sh(sid, "docker wait three killed").split() == ["3", "137"]
    assert d.sh(sid, "docker inspect -f '{{.State.ExitCode}}' three killed").split() == ["3", "137"]
