"""`docker exec` on the real kernel: -w/--workdir, and a working directory runc cannot enter (moby's
exec start path: the error on the exec's stdout stream, its exit status per version); exec and top of
a container that is not running."""

from __future__ import annotations

import shlex

import pytest

from tests.topology.docker.test_container_dns import ok
from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel

NO_CWD = {  # runc 1.0-rc (19.03) and 1.2/1.3 (28) through containerd and the daemon
    "19.03": (
        "OCI runtime exec failed: exec failed: container_linux.go:349: starting container process caused "
        '"chdir to cwd (\\"/nosuch\\") set in config.json failed: no such file or directory": unknown'
    ),
    "28": (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        'chdir to cwd ("/nosuch") set in config.json failed: no such file or directory: unknown'
    ),
}


def on_a_terminal(command: str) -> str:
    """Shell text running `command` on a terminal of its own (script's pty). Its stdin stays open
    without data while the command runs: at an EOF there, script types the terminal's EOF character
    (NUL on this pty) into the command's input."""
    return f"{{ sleep 10 >/dev/null 2>&1 & }} | script -qec {shlex.quote(command)} /dev/null"


@pytest.mark.parametrize("version", ["19.03", "28"])
def test_exec_workdir(daemon, version):
    lab = daemon.up(version)
    try:
        ok(lab, "run -d --name w1 busybox sleep 300")
        assert ok(lab, "exec w1 pwd") == "/"
        assert ok(lab, "exec -w /tmp w1 pwd") == "/tmp"
        assert ok(lab, "exec --workdir=/etc w1 sh -c 'pwd; cat hostname'").splitlines()[0] == "/etc"
        missing = docker(lab, "exec -w /nosuch w1 pwd")
        assert (missing.stdout, missing.stderr) == (NO_CWD[version] + "\n", "")
        assert missing.returncode == (126 if version == "19.03" else 127)
        # the daemon ends it with "\r\n" (text mode reads that as "\n")
        assert docker(lab, "exec -w /nosuch w1 pwd | tr '\\r' '~'").stdout.endswith("unknown~\n")
        detached = docker(lab, "exec -d -w /nosuch w1 pwd")
        assert (detached.returncode, detached.stdout) == (1, "")
        assert detached.stderr == f"Error response from daemon: {NO_CWD[version]}\n"
        file = docker(lab, "exec -w /etc/hostname w1 pwd")  # not a directory: the daemon's mount hint
        assert file.stdout.endswith(
            ("not a directory: unknown" if version == "28" else 'not a directory": unknown')
            + ": Are you trying to mount a directory onto a file (or vice-versa)? "
            "Check if the specified host path exists and is the expected type\n"
        )
        assert file.returncode == (126 if version == "19.03" else 127)
    finally:
        daemon.down(lab.sandbox.id)


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_exec_and_top_of_a_container_not_running(request, fixture):
    lab = request.getfixturevalue(fixture)
    cid = ok(lab, "create --name s1 busybox sleep 300")
    # 19.03's errNotRunning; 28's (exec) and container.GetRunningTask's (top): lower case
    container = "Container" if fixture == "lab" else "container"
    for command in ("exec s1 true", "top s1"):
        r = docker(lab, command)
        assert (r.returncode, r.stdout) == (1, "")
        assert r.stderr == f"Error response from daemon: {container} {cid} is not running\n"


NOT_FOUND = {  # `docker exec p1 nosuch`: runc's LookPath error, the daemon's exit status
    "19.03": (
        "OCI runtime exec failed: exec failed: container_linux.go:349: starting container process caused "
        '"exec: \\"nosuch\\": executable file not found in $PATH": unknown',
        126,
    ),
    "28": (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        'exec: "nosuch": executable file not found in $PATH: unknown',
        127,
    ),
}


@pytest.mark.parametrize("version", ["19.03", "28"])
def test_exec_of_a_command_runc_cannot_start(daemon, version):
    lab = daemon.up(version)
    v19 = version == "19.03"
    try:
        ok(lab, "run -d --name p1 busybox sleep 300")
        text, code = NOT_FOUND[version]
        r = docker(lab, "exec p1 nosuch")
        assert (r.returncode, r.stdout, r.stderr) == (code, text + "\n", "")
        on_tty = sh(lab, on_a_terminal("docker exec -t p1 nosuch"))  # the terminal's own CR too
        assert (on_tty.returncode, on_tty.stdout.rstrip("\n")) == (code, text)
        # a command's own exit status 127 is no error of the runtime's
        own = docker(lab, "exec p1 sh -c 'exit 127'")
        assert (own.returncode, own.stdout, own.stderr) == (127, "", "")
        directory = docker(lab, "exec p1 /etc")  # Go 1.13's LookPath: EACCES; 1.20's: EISDIR
        assert directory.returncode == 126
        assert directory.stdout.endswith(
            'caused "exec: \\"/etc\\": permission denied": unknown\n'
            if v19
            else 'exec: "/etc": is a directory: unknown: permission denied\n'
        )
        missing = docker(lab, "exec p1 /nosuch/x")
        assert missing.returncode == (126 if v19 else 127)
        assert "stat /nosuch/x: no such file or directory" in missing.stdout
        # with -t the command has the terminal as its controlling one (tty_nr in its stat)
        ctty = sh(lab, on_a_terminal("docker exec -t p1 awk '{print $7}' /proc/self/stat"))
        assert ctty.returncode == 0 and int(ctty.stdout.split()[0]) != 0, ctty
    finally:
        daemon.down(lab.sandbox.id)


def test_run_workdir(lab):
    """`docker run -w`: the process starts there (made when missing, as moby does), inspect's
    Config.WorkingDir says it, `docker exec` starts there too; a relative one is refused at create."""
    assert ok(lab, "run --rm -w /srv/app busybox pwd") == "/srv/app"
    ok(lab, "run -d --name wd -w /tmp/work busybox sleep 300")
    assert ok(lab, "inspect -f '{{.Config.WorkingDir}}' wd") == "/tmp/work"
    assert ok(lab, "exec wd pwd") == "/tmp/work"
    assert ok(lab, "inspect -f '{{.Config.WorkingDir}}' $(docker create busybox)") == ""
    r = docker(lab, "run -w relative busybox pwd")
    assert (r.returncode, r.stdout) == (125, "")
    assert r.stderr.startswith(
        "docker: Error response from daemon: the working directory 'relative' is invalid, "
        "it needs to be an absolute path.\n"
    )
