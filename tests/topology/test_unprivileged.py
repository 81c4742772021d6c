"""A sandbox made by an unprivileged user: same Docker host, same traffic, no root anywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

NOBODY = 65534
SCRIPT = """
import time
from pathlib import Path
from topology.daemon import Daemon
d = Daemon(Path(STATE))
d.prepare()
lab = d.up("19.03")
sb = lab.sandbox
try:
    print("uid", os.geteuid(), sb.root_uid)
    print("id", sb.run("host", ["id", "-u"], student=True).stdout.decode().strip())
    r = sb.run("host", ["docker", "run", "-d", "--name", "web", "-p", "8080:80", "nginx"], student=True)
    print("run", r.returncode, r.stderr.decode().strip())
    deadline, page = time.monotonic() + 15, ""
    while "Welcome to nginx!" not in page and time.monotonic() < deadline:  # the server may still start
        page = sb.run("client", ["curl", "-s", "-m", "3", "http://203.0.113.2:8080/"]).stdout.decode()
    print("served", "Welcome to nginx!" in page)
    # The embedded DNS's socket helper and the containers' sysfs work without root too.
    net = "docker network create app; for c in a1 a2; do docker run -d --net app --name $c busybox top; done"
    r = sb.run("host", ["sh", "-c", net], student=True)
    print("network", r.returncode, r.stderr.decode().strip())
    r = sb.run("host", ["docker", "exec", "a1", "getent", "hosts", "a2"], student=True)
    print("dns", (r.stdout.decode().split() or ["none"])[0])
    r = sb.run("host", ["docker", "exec", "a1", "ls", "/sys/class/net"], student=True)
    print("sys", " ".join(r.stdout.decode().split()))
    # Another daemon process, as after a restart, re-adopts the sandbox (docker.sock from its holder).
    import subprocess, sys
    adopt = (
        "from pathlib import Path; from topology.daemon import Daemon; "
        f"d = Daemon(Path({STATE!r})); d.prepare(); lab = d.labs[{sb.id!r}]; "
        "print(','.join(sorted(c.name for c in lab.engine.containers.values())), lab.listener.getsockname())"
    )
    r = subprocess.run([sys.executable, "-c", adopt], capture_output=True, text=True, timeout=60)
    print("adopted", r.stdout.strip() or r.stderr.strip()[-300:].replace(chr(10), " "))
finally:
    d.down(sb.id)
"""


def test_unprivileged_user_builds_a_working_sandbox():
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    work = Path(tempfile.mkdtemp(prefix="nslab-unpriv-"))
    try:
        # The project tree may sit where an unprivileged user cannot read it: use a readable copy.
        shutil.copytree(Path(__file__).resolve().parents[2] / "topology", work / "topology")
        state = work / "state"
        state.mkdir()
        os.chown(state, NOBODY, NOBODY)
        for path in [work, *work.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.chown(state, NOBODY, NOBODY)
        code = "import os\nSTATE = " + repr(str(state / "s")) + SCRIPT
        r = subprocess.run(
            [
                "setpriv",
                f"--reuid={NOBODY}",
                f"--regid={NOBODY}",
                "--clear-groups",
                "/usr/bin/python3",
                "-c",
                code,
            ],
            env={"PATH": os.environ["PATH"], "PYTHONPATH": str(work), "HOME": str(state)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
        assert lines.get("uid") == f"{NOBODY} {NOBODY}", r.stdout + r.stderr
        assert lines.get("id") == "0"  # root inside, nobody outside
        assert lines.get("run", "").startswith("0"), r.stdout + r.stderr
        assert lines.get("served") == "True", r.stdout + r.stderr
        assert lines.get("network", "").startswith("0"), r.stdout + r.stderr
        assert lines.get("dns") == "172.18.0.3", r.stdout + r.stderr
        assert lines.get("sys") == "eth0 lo", r.stdout + r.stderr
        assert lines.get("adopted", "").startswith("a1,a2,web ") and "docker.sock" in lines["adopted"], (
            r.stdout
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
