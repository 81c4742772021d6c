"""`docker run` attached without -t proxies the client's signals (docker/cli run.go --sig-proxy, default
true; signals.go ForwardAllSignals), on the real kernel: Ctrl-C on the student's terminal (script's pty)
becomes a `docker kill -s 2` of the container, whose main process decides. nginx stops and the client
returns its exit code; `sleep` as pid 1 has no handler, so the kernel drops it and the client waits on.
With --sig-proxy=false the client dies of it and the container runs on.
"""

from __future__ import annotations

import shlex

import pytest

from tests.topology.docker.test_container_dns import ok
from tests.topology.kit import sh

pytestmark = pytest.mark.kernel

# Until the client (the only `docker run` process) catches SIGINT: its "proxy" word has arrived.
CLIENT = "pgrep -f '^(/[^ ]*/)?docker run'"
CATCHING = f"until p=$({CLIENT}) && grep -q '^SigCgt:.*[2367abef]$' /proc/$p/status; do sleep 0.1; done"
RUNNING = "until [ \"$(docker inspect -f '{{.State.Status}}' sp 2>&1)\" = running ]; do sleep 0.1; done"
CTRL_C = "printf '\\003' >&3"  # in ctrl_c's shell text: typed on the terminal


def killed(count: int) -> str:
    """Until the engine logged `count` kill events of a proxied SIGINT."""
    replay = "docker events --since 1m --until $(date +%s.%N) -f event=kill"
    replay += " --format '{{.Actor.Attributes.signal}}'"
    return f"until [ $({replay} | grep -cx 2) = {count} ]; do sleep 0.1; done"


def ctrl_c(command: str, *, then: str = "", typing_first: str = "") -> str:
    """Shell text running `command` (then `echo status=$?`) under bash, which traps SIGINT, on a pty of
    its own (script's), typing Ctrl-C once the container runs (and, unless `typing_first` says when,
    the client catches it), then running `then` beside it (CTRL_C types another). Script's stdin stays
    open meanwhile; CRs show as "~"."""
    wait = typing_first or f"{RUNNING}; {CATCHING}"
    typing = (
        f"exec 3>&1; {{ {wait}; }} >/dev/null 2>&1; {CTRL_C}; {{ {then or ':'}; }} >/dev/null 2>&1; sleep 20"
    )
    line = shlex.quote(f"trap : INT; {command}; echo status=$?")  # bash would die of it with the client
    return f"{{ ({typing}) 2>/dev/null & }} | SHELL=/bin/bash script -qec {line} /dev/null | tr '\\r' '~'"


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_ctrl_c_stops_nginx_and_the_client_returns_its_exit_code(request, fixture):
    lab = request.getfixturevalue(fixture)
    r = sh(lab, ctrl_c("docker run --name sp nginx >/dev/null 2>&1"))
    assert r.stdout == "^Cstatus=0~\n", r  # the terminal echoes the Ctrl-C
    assert ok(lab, "inspect -f '{{.State.Status}} {{.State.ExitCode}}' sp") == "exited 0"
    replay = "events --since 1m --until $(date +%s.%N) -f container=sp -f event=kill"
    assert ok(lab, f"{replay} -f event=die --format '{{{{.Action}}}}'") == "kill\ndie"
    assert ok(lab, f"{replay} --format '{{{{.Actor.Attributes.signal}}}}'") == "2"


def test_ctrl_c_leaves_sleep_as_pid_1_running_and_the_client_waiting(lab):
    # Each proxied SIGINT is logged and dropped (a second Ctrl-C is forwarded too: the CLI does not
    # escalate); the client still waits, until a `docker kill` beside it: then it returns 137.
    alive = f"{CLIENT} >/dev/null && echo client=waiting >> /tmp/seen"
    inspect = "docker inspect -f '{{.State.Status}}' sp > /tmp/seen"
    then = f"{killed(1)}; {CTRL_C}; {killed(2)}; {inspect}; {alive}; docker kill sp"
    r = sh(lab, ctrl_c("docker run --name sp busybox sleep 100", then=then))
    assert r.stdout == "^C^Cstatus=137~\n", r
    assert sh(lab, "cat /tmp/seen").stdout == "running\nclient=waiting\n"
    signals = "{{.Actor.Attributes.signal}}"
    assert (
        ok(lab, f"events --since 1m --until $(date +%s.%N) -f event=kill --format '{signals}'") == "2\n2\n9"
    )


def test_without_sig_proxy_ctrl_c_ends_the_client_and_the_container_runs_on(lab):
    r = sh(lab, ctrl_c("docker run --sig-proxy=false --name sp busybox sleep 100", typing_first=RUNNING))
    assert r.stdout == "^Cstatus=130~\n", r
    assert ok(lab, "inspect -f '{{.State.Status}}' sp") == "running"
    assert ok(lab, "events --since 1m --until $(date +%s.%N) -f event=kill") == ""


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_with_a_tty_alone_ctrl_c_is_proxied_too(request, fixture):
    # docker/cli 19.03.5+ "Do not disable sig-proxy when using a TTY": the terminal stays cooked (no
    # -i), its Ctrl-C is the client's, which sends it on.
    lab = request.getfixturevalue(fixture)
    r = sh(lab, ctrl_c("docker run -t --name sp nginx >/dev/null 2>&1"))
    assert r.stdout == "^Cstatus=0~\n", r
    assert ok(lab, "inspect -f '{{.State.Status}} {{.State.ExitCode}}' sp") == "exited 0"
    replay = "events --since 1m --until $(date +%s.%N) -f container=sp -f event=kill"
    assert ok(lab, f"{replay} --format '{{{{.Actor.Attributes.signal}}}}'") == "2"
