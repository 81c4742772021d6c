"""What `ps` shows on the Docker host (issue 12 item 8): Docker's daemons, a containerd shim per
container with the container's id, and the image's command below it."""

from __future__ import annotations

import pytest

from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel


def _ps(lab) -> dict[int, tuple[int, str]]:
    out = sh(lab, "ps -eo pid=,ppid=,args=").stdout
    rows = (line.split(None, 2) for line in out.splitlines())
    return {int(pid): (int(ppid), args) for pid, ppid, args in rows}


def _ancestors(procs: dict[int, tuple[int, str]], pid: int) -> list[str]:
    chain = []
    while pid in procs:
        pid, args = procs[pid]
        if pid in procs:
            chain.append(procs[pid][1])
    return chain


@pytest.mark.parametrize(
    ("fixture", "shim"),
    [
        ("lab", "containerd-shim -namespace moby -workdir "),
        ("lab28", "containerd-shim-runc-v2 -namespace moby -id "),
    ],
)
def test_daemons_and_a_shim_per_container(request, fixture, shim):
    lab = request.getfixturevalue(fixture)
    assert docker(lab, "run -d --name box busybox sleep 600").returncode == 0
    cid = docker(lab, "inspect -f '{{.Id}}' box").stdout.strip()
    pid = int(docker(lab, "inspect -f '{{.State.Pid}}' box").stdout)
    procs = _ps(lab)
    commands = [args for _, args in procs.values()]
    assert "dockerd -H fd:// --containerd=/run/containerd/containerd.sock" in commands
    assert "containerd" in commands
    assert procs[pid][1] == "sleep 600"  # the image's command, at the Pid inspect names
    shims = [a for a in _ancestors(procs, pid) if a.startswith(shim)]
    assert len(shims) == 1 and cid in shims[0] and "-address /run/containerd/containerd.sock" in shims[0]
    assert sh(
        lab, "kill -TERM $(pidof dockerd) 2>&1; pidof dockerd"
    ).stdout.strip()  # signals other than KILL do nothing


def test_docker_top_lists_the_containers_processes(lab):
    assert docker(lab, "run -d --name box busybox sleep 600").returncode == 0
    assert docker(lab, "run -d --name other busybox sleep 601").returncode == 0
    assert docker(lab, "exec -d box sleep 602").returncode == 0
    pid = docker(lab, "inspect -f '{{.State.Pid}}' box").stdout.strip()
    r = docker(lab, "top box")
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert lines[0].startswith("UID                 PID                 PPID")  # tabwriter: minwidth 20
    rows = {line.split()[1]: line.split(None, 7)[7] for line in lines[1:]}
    assert rows[pid] == "sleep 600" and "sleep 602" in rows.values()
    assert "sleep 601" not in r.stdout
    assert docker(lab, "top box -o pid,comm").stdout.splitlines()[0].split() == ["PID", "COMMAND"]
    r = docker(lab, "top box -o ppid=PID")
    assert r.stderr == 'Error response from daemon: specifying "ppid=PID" is not allowed\n'


def test_busybox_applets_run_under_their_own_names(lab):
    """The busybox and alpine images' /bin/sleep, /usr/bin/top are busybox under those names."""
    assert docker(lab, "run -d --name box busybox sleep 600").returncode == 0
    assert docker(lab, "run -d --name tops alpine top").returncode == 0
    for name, command in (("box", "sleep 600"), ("tops", "top")):
        pid = int(docker(lab, f"inspect -f '{{{{.State.Pid}}}}' {name}").stdout)
        assert _ps(lab)[pid][1] == command
        assert sh(lab, f"ps -o comm= -p {pid}").stdout.strip() == command.split()[0]  # pstree's name
        assert docker(lab, f"exec {name} cat /proc/1/cmdline").stdout == command.replace(" ", "\0") + "\0"
