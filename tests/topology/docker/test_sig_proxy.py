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
# Until the engine logged the kill event of the proxied SIGINT.
KILLED = (
    "until docker events --since 1m --until $(date +%s.%N) -f event=kill -f container=sp"
    " --format '{{.Actor.Attributes.signal}}' | grep -qx 2; do sleep 0.1; done"
)


def ctrl_c(command: str, *, then: str = "", typing_first: str = "") -> str:
    """Shell text running `command` (then `echo status=$?`) under bash, which traps SIGINT, on a pty of
    its own (script's), typing Ctrl-C once the container runs (and, unless `typing_first` says when,
    the client catches it), then running `then` beside it. Script's stdin stays open meanwhile; CRs
    show as "~"."""
    wait = typing_first or f"{RUNNING}; {CATCHING}"
    typing = f"{{ {wait}; }} >/dev/null 2>&1; printf '\\003'; {{ {then or ':'}; }} >/dev/null 2>&1; sleep 20"
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
    # The proxied SIGINT is logged and dropped; the client still waits (no process ended it), until a
    # `docker kill` from beside it: then it returns the container's 137.
    alive = f"{CLIENT} >/dev/null && echo client=waiting >> /tmp/seen"
    kill = f"{KILLED}; docker inspect -f '{{{{.State.Status}}}}' sp > /tmp/seen; {alive}; docker kill sp"
    r = sh(lab, ctrl_c("docker run --name sp busybox sleep 100", then=kill))
    assert r.stdout == "^Cstatus=137~\n", r
    assert sh(lab, "cat /tmp/seen").stdout == "running\nclient=waiting\n"
    signals = "{{.Actor.Attributes.signal}}"
    assert ok(lab, f"events --since 1m --until $(date +%s.%N) -f event=kill --format '{signals}'") == "2\n9"


def test_without_sig_proxy_ctrl_c_ends_the_client_and_the_container_runs_on(lab):
    r = sh(lab, ctrl_c("docker run --sig-proxy=false --name sp busybox sleep 100", typing_first=RUNNING))
    assert r.stdout == "^Cstatus=130~\n", r
    assert ok(lab, "inspect -f '{{.State.Status}}' sp") == "running"
    assert ok(lab, "events --since 1m --until $(date +%s.%N) -f event=kill") == ""
