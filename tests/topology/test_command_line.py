"""`python -m topology` from a shell: up, exec, snapshot, events, ls, down (with a daemon of its own)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.polling import wait_for

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def cli_env():
    state = Path(f"/var/lib/nslab-test/cli-{os.getpid()}-{secrets.token_hex(2)}")
    state.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NSLAB_STATE_DIR": str(state)}
    yield env
    # The first command started the daemon; stop it by the pid it reports, then clean up.
    try:
        down = topo(env, "down", "--all", "--wait")
        assert down.returncode == 0 and down.stdout.endswith("sandboxes removed\n"), down
        # --wait answered once every sandbox was destroyed: nothing of them is left.
        assert not list((state / "sandboxes").iterdir())
        pid = _ping(env)
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), timeout=10)
    finally:
        shutil.rmtree(state, ignore_errors=True)


def _ls(env) -> list:
    return json.loads(topo(env, "ls", "--json").stdout)


def _zombie(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _ping(env) -> int:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from topology.client import Client; "
            "print(Client(autostart=False).request({'op': 'ping'})['pid'])",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def topo(env, *args, input=None, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "topology", *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_up_exec_ls_down(cli_env):
    r = topo(cli_env, "up", "--json")
    assert r.returncode == 0, r.stderr
    sandbox = json.loads(r.stdout)
    sid = sandbox["id"]
    assert sandbox["docker_version"] == "19.03"
    # stdout, stderr, stdin and the exit status pass through.
    r = topo(
        cli_env, "exec", sid, "--", "sh", "-c", "hostname; cat; echo oops >&2; exit 3", input="from stdin\n"
    )
    assert (r.returncode, r.stdout, r.stderr) == (3, "docker-host\nfrom stdin\n", "oops\n")
    r = topo(cli_env, "exec", sid, "--ns", "client", "--", "ip", "-o", "-4", "addr", "show", "eth0")
    assert "192.0.2.50/24" in r.stdout
    r = topo(cli_env, "exec", sid, "--", "docker", "run", "-d", "--name", "web", "nginx")
    assert r.returncode == 0, r.stderr
    r = topo(cli_env, "exec", sid, "--ns", "web", "--", "cat", "/etc/hostname")
    assert r.stdout.strip() == r.stdout.strip()[:12] and len(r.stdout.strip()) == 12
    r = topo(cli_env, "exec", sid, "--ns", "nothere", "--", "true")
    assert r.returncode == 1 and "nothere" in r.stderr
    assert sid in [s["id"] for s in json.loads(topo(cli_env, "ls", "--json").stdout)]
    row = next(line for line in topo(cli_env, "ls").stdout.splitlines() if line.startswith(sid))
    assert row.split()[1:] == ["19.03", "1", *row.split()[3:]] and row.endswith(" ago"), row
    r = topo(cli_env, "down", sid)
    assert r.returncode == 0, r.stderr
    assert sid not in topo(cli_env, "ls").stdout
    r = topo(cli_env, "down", sid)
    assert r.returncode == 1 and "no sandbox" in r.stderr


def test_docker_28_and_bad_input(cli_env):
    r = topo(cli_env, "up", "--docker", "28")
    assert r.returncode == 0, r.stderr
    sid = r.stdout.strip()
    r = topo(cli_env, "exec", sid, "--", "iptables-save")
    assert "-A FORWARD -j DOCKER-FORWARD" in r.stdout
    r = topo(cli_env, "up", "--docker", "17.06")
    assert r.returncode == 2 and "invalid choice" in r.stderr
    r = topo(cli_env, "exec", "nosuchid", "--", "true")
    assert r.returncode == 1 and "no sandbox" in r.stderr
    r = topo(cli_env, "exec", sid)
    assert r.returncode == 2 and "no command" in r.stderr
    assert topo(cli_env, "down", sid).returncode == 0


def test_snapshot_and_events(cli_env):
    sid = topo(cli_env, "up").stdout.strip()
    snap = json.loads(topo(cli_env, "snapshot", sid, "--json").stdout)
    assert snap["sandbox"] == sid
    events = subprocess.Popen(
        [sys.executable, "-m", "topology", "events", sid, "--json"],
        env=cli_env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # Once the stream is up, a change in the sandbox arrives as one JSON line.
        lines = []

        def changed():
            topo(cli_env, "exec", sid, "--", "ip", "link", "add", f"br{len(lines)}", "type", "bridge")
            lines.append(json.loads(events.stdout.readline()))
            return any(e["type"] == "kernel.changed" and "link" in e["kinds"] for e in lines)

        wait_for(changed, timeout=20)
        event = next(e for e in lines if e["type"] == "kernel.changed" and "link" in e["kinds"])
        assert "host" in event["namespaces"]
    finally:
        events.terminate()
        events.wait()
    assert topo(cli_env, "down", sid).returncode == 0


def test_exec_ends_with_its_client(cli_env):
    # A client that goes away (Ctrl-C, a closed terminal) takes its command with it, not just nsenter.
    sid = topo(cli_env, "up").stdout.strip()
    marker = f"sleep {300 + secrets.randbelow(600)}"
    client = subprocess.Popen(
        [sys.executable, "-m", "topology", "exec", sid, "--", "sh", "-c", f"{marker}; true"],
        env=cli_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )

    def running() -> bool:
        return marker in topo(cli_env, "exec", sid, "--", "ps", "-e", "-o", "args=").stdout

    try:
        wait_for(running, timeout=20)
        client.kill()
        client.wait()
        wait_for(lambda: not running(), timeout=10)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
        assert topo(cli_env, "down", sid).returncode == 0


def test_one_daemon_per_state_directory(tmp_path):
    # Clients that find no daemon each start one: only the first may serve the state directory.
    env = {**os.environ, "NSLAB_STATE_DIR": str(tmp_path / "state")}
    argv = [sys.executable, "-m", "topology", "daemon"]
    daemons = [
        subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(3)
    ]
    try:
        wait_for(lambda: sum(d.poll() is not None for d in daemons) == 2, timeout=30)
        (serving,) = [d for d in daemons if d.poll() is None]
        assert all(d.returncode == 0 for d in daemons if d is not serving)
        wait_for(lambda: (tmp_path / "state" / "daemon.sock").exists(), timeout=30)
        assert _ping(env) == serving.pid
    finally:
        for d in daemons:
            if d.poll() is None:
                d.terminate()
                d.wait()
