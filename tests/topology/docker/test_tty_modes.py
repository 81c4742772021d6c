"""`docker exec`/`run` with -t, with and without -i, through a pty (script's), on the real kernel.

As Docker's CLI (hijack.go setupInput): only -i with -t makes the student's terminal raw and sends its
keys to the container; -t alone leaves it cooked (its own echo, its own CR before each LF: the
container's "\\r\\n" shows as "\\r\\r\\n") and keeps the keys, while the container's pty still follows
the terminal's size. Carriage returns show as "~" here.
"""

from __future__ import annotations

import shlex

import pytest

from tests.topology.docker.test_container_dns import ok
from tests.topology.docker.test_exec_options import NOT_FOUND
from tests.topology.kit import sh

pytestmark = pytest.mark.kernel


def on_a_terminal(command: str, keys: str = "") -> str:
    """Shell text running `command` on a pty of its own (script's) whose keys are `keys`, typed a
    second after it starts; the output with CRs as "~". Script's stdin stays open meanwhile (at its
    EOF, script would type the terminal's EOF character into the command's input)."""
    typing = f"sleep 1; printf {shlex.quote(keys)}; " if keys else ""
    return (
        f"{{ ({typing}sleep 12) 2>/dev/null & }} | script -qec {shlex.quote(command)} /dev/null"
        " | tr '\\r' '~'"
    )


def test_t_alone_keeps_the_terminal_cooked_and_it_makes_it_raw(lab):
    ok(lab, "run -d --name p1 busybox sleep 300")
    for flags, line_end in (("-t", "~~"), ("-it", "~")):
        r = sh(lab, on_a_terminal(f"stty -g; docker exec {flags} p1 echo hi; echo status=$?; stty -g"))
        before, hi, status, after, rest = r.stdout.split("\n")
        assert (hi, status, rest) == ("hi" + line_end, "status=0~", ""), r
        assert before == after, r  # the client gives the terminal back as it found it
        r = sh(lab, on_a_terminal(f"docker run --rm {flags} busybox echo hi; echo status=$?"))
        assert r.stdout == f"hi{line_end}\nstatus=0~\n", r


def test_keys_reach_the_container_only_with_it(lab):
    ok(lab, "run -d --name p1 busybox sleep 300")
    read = "docker exec {} p1 sh -c 'echo got=$(timeout --foreground 5 head -n 1)'; echo status=$?"
    # -t alone: the terminal echoes the keys itself and keeps them; the container's read times out
    alone = sh(lab, on_a_terminal(read.format("-t"), keys="typed\n"))
    assert alone.stdout == "typed~\ngot=~~\nstatus=0~\n", alone
    # -it: the container's terminal echoes them and its read gets them
    both = sh(lab, on_a_terminal(read.format("-it"), keys="typed\n"))
    assert both.stdout == "typed~\ngot=typed~\nstatus=0~\n", both
    status = sh(lab, on_a_terminal("docker exec -it p1 sh -c 'exit 3'; echo status=$?"))
    assert status.stdout == "status=3~\n", status


def test_t_alone_still_sizes_the_containers_terminal(lab):
    ok(lab, "run -d --name p1 busybox sleep 300")
    assert sh(lab, on_a_terminal("stty rows 33 cols 77; docker exec -t p1 stty size")).stdout == "33 77~~\n"
    # a change while it runs reaches the container's pty (SIGWINCH): it waits for it, up to 10 s
    wait = "i=0; while [ \"$(stty size)\" != '40 90' ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done"
    watch = "docker exec -t p1 sh -c " + shlex.quote(wait + "; stty size")
    resized = sh(lab, on_a_terminal(f"{watch} & sleep 1; stty rows 40 cols 90; wait"))
    assert resized.stdout == "40 90~~\n", resized


@pytest.mark.parametrize("version", ["19.03", "28"])
def test_an_exec_runc_cannot_start_prints_its_error_raw_with_it(daemon, version):
    """The daemon writes the error with "\\r\\n" on the attached stream: on a raw terminal with -it (the
    CLI set it raw before), through the cooked one with -t alone."""
    lab = daemon.up(version)
    try:
        ok(lab, "run -d --name p1 busybox sleep 300")
        text, code = NOT_FOUND[version]
        for flags, line_end in (("-t", "~~"), ("-it", "~")):
            r = sh(lab, on_a_terminal(f"docker exec {flags} p1 nosuch; echo status=$?"))
            assert r.stdout == f"{text}{line_end}\nstatus={code}~\n", r
    finally:
        daemon.down(lab.sandbox.id)
