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


@pytest.mark.parametrize(
    ("fixture", "shim", "shim_parent"),
    [
        ("lab", "containerd-shim -namespace moby -workdir ", "containerd"),
        # containerd 1.7 runs the v2 shim by its path; it daemonizes: a child of init
        ("lab28", "/usr/local/bin/containerd-shim-runc-v2 -namespace moby -id ", "/usr/local/sbin/init"),
    ],
)
def test_daemons_and_a_shim_per_container(request, fixture, shim, shim_parent):
    """dockerd and containerd under init, docker-proxy under dockerd, the image's command right
    under its shim (no bwrap between them: runc is gone once the container runs), and so is a
    `docker exec`'s process."""
    lab = request.getfixturevalue(fixture)
    assert docker(lab, "run -d --name box -p 8080:80 busybox sleep 600").returncode == 0
    assert docker(lab, "exec -d box sleep 700").returncode == 0
    cid = docker(lab, "inspect -f '{{.Id}}' box").stdout.strip()
    pid = int(docker(lab, "inspect -f '{{.State.Pid}}' box").stdout)
    procs = _ps(lab)
    by_args = {args: p for p, (_, args) in procs.items()}
    dockerd = by_args["dockerd -H fd:// --containerd=/run/containerd/containerd.sock"]
    assert procs[dockerd][0] == procs[by_args["containerd"]][0] == 1
    assert procs[pid][1] == "sleep 600"  # the image's command, at the Pid inspect names
    shim_pid = procs[pid][0]
    shim_ppid, shim_args = procs[shim_pid]
    assert shim_args.startswith(shim) and cid in shim_args
    assert (
        shim_args.endswith("-address /run/containerd/containerd.sock")
        or "-address /run/containerd/containerd.sock " in shim_args
    )
    assert procs[shim_ppid][1] == shim_parent
    # docker exec's process: the shim's child too, as runc exec leaves it
    assert [ppid for ppid, args in procs.values() if args == "sleep 700"] == [shim_pid]
    proxies = {args: ppid for ppid, args in procs.values() if "docker-proxy" in args}
    line = "/usr/local/bin/docker-proxy -proto tcp -host-ip {} -host-port 8080 -container-ip 172.17.0.2"
    line += " -container-port 80"
    if fixture == "lab":
        assert proxies == {line.format("0.0.0.0"): dockerd}
    else:  # 28: a binding on 0.0.0.0 and one on ::, the socket passed by the daemon (moby's StartProxy)
        assert proxies == {line.format(ip) + " -use-listen-fd": dockerd for ip in ("0.0.0.0", "::")}
    assert not [args for _, args in procs.values() if args.startswith("bwrap")]
    assert sh(
        lab, "kill -TERM $(pidof dockerd) 2>&1; pidof dockerd"
    ).stdout.strip()  # signals other than KILL do nothing


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_a_killed_daemon_is_started_again(request, fixture):
    """`kill -9` of containerd or dockerd: the next `docker run` starts it again (as systemd would),
    a child of init again, and running containers keep running."""
    lab = request.getfixturevalue(fixture)
    assert docker(lab, "run -d --name first busybox sleep 600").returncode == 0
    assert sh(lab, "kill -KILL $(pidof containerd) $(pidof dockerd)").returncode == 0
    assert docker(lab, "run -d --name second -p 8081:80 busybox sleep 600").returncode == 0
    procs = _ps(lab)
    parents = {args: ppid for ppid, args in procs.values()}
    assert (
        parents["containerd"] == parents["dockerd -H fd:// --containerd=/run/containerd/containerd.sock"] == 1
    )
    second = int(docker(lab, "inspect -f '{{.State.Pid}}' second").stdout)
    assert procs[procs[procs[second][0]][0]][1] == (
        "containerd" if fixture == "lab" else "/usr/local/sbin/init"
    )
    assert docker(lab, "inspect -f '{{.State.Running}}' first").stdout.strip() == "true"


def test_exit_status_comes_from_the_shim(lab):
    """The daemon is not the shim's parent: the shim reports its container's status."""
    assert docker(lab, "run --name seven busybox sh -c 'exit 7'").returncode == 7
    assert docker(lab, "inspect -f '{{.State.ExitCode}}' seven").stdout.strip() == "7"
    assert docker(lab, "run -d --name killed busybox sleep 600").returncode == 0
    assert docker(lab, "kill killed").returncode == 0
    assert docker(lab, "inspect -f '{{.State.ExitCode}}' killed").stdout.strip() == "137"


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
