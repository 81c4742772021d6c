"""`docker kill`, `docker rename` and `docker wait` on the real kernel, with Docker's texts per era
(docker/cli and moby at v19.03.15 and v28.5.2: daemon/kill.go, daemon/rename.go, the kill route).

- kill: the signal goes to the container's first process and the kernel decides (busybox `sleep`,
  pid 1 of its namespace, ignores SIGTERM; SIGKILL always ends it, recorded as 137); the exit tears
  down the network as any exit (ports released, rules gone) and removes a --rm container.
- rename: the embedded DNS answers for the new name only; the links naming the container follow
  (inspect, and /etc/hosts at the next start), files already written keep the old name.
- wait: blocks until the container stops, then prints its exit code.
"""

from __future__ import annotations

import pytest

from tests.polling import wait_for
from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel


def ok(lab, args: str) -> str:
    r = docker(lab, args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def state(lab, name: str) -> str:
    return ok(
        lab, f"inspect -f '{{{{.State.Status}}}} {{{{.State.Running}}}} {{{{.State.ExitCode}}}}' {name}"
    )


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_kill_sends_the_signal_and_sigkill_ends_the_container(request, fixture):
    lab = request.getfixturevalue(fixture)
    v19 = fixture == "lab"
    box = ok(lab, "run -d --name box busybox sleep 300").strip()
    assert ok(lab, "kill -s TERM box") == "box\n"  # pid 1 without a handler: the kernel drops it
    assert state(lab, "box") == "running true 0\n"
    assert ok(lab, "container kill --signal=SIGKILL box") == "box\n"
    assert state(lab, "box") == "exited false 137\n"
    assert "Exited (137)" in ok(lab, "ps -a --filter name=box")
    r = docker(lab, "kill box nosuch")
    framing = "Cannot kill container" if v19 else "cannot kill container"
    not_running = f"Container {box} is not running" if v19 else f"container {box} is not running"
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (
        f"Error response from daemon: {framing}: box: {not_running}\n"
        f"Error response from daemon: {framing}: nosuch: No such container: nosuch\n"
    )
    r = docker(lab, "kill -s FOO box")
    assert r.returncode == 1
    if v19:
        assert r.stderr == "Error response from daemon: Invalid signal: FOO\n"
    else:
        assert r.stderr == "Error response from daemon: cannot kill container: box: invalid signal: FOO\n"
    r = docker(lab, "kill -s 99 box")
    assert r.stderr.endswith(
        f"{framing}: box: {'T' if v19 else 't'}he linux daemon does not support signal 99\n"
    )


def test_kill_tears_down_the_network_and_removes_a_rm_container(lab):
    ok(lab, "run -d --name web -p 8080:80 nginx")
    ok(lab, "run -d --rm --name tmp busybox sleep 300")
    assert ":8080" in sh(lab, "ss -Hltn").stdout
    assert ok(lab, "kill web tmp") == "web\ntmp\n"
    assert ":8080" not in sh(lab, "ss -Hltn").stdout
    rules = sh(lab, "iptables-save").stdout
    assert "--dport 8080" not in rules and "172.17.0.2" not in rules
    wait_for(lambda: "tmp" not in ok(lab, "ps -a --format '{{.Names}}'"), what="tmp removed")
    ok(lab, "run -d --name web2 -p 8080:80 nginx")  # the port is free again
    ok(lab, "rm -f web2")
    ok(lab, "start web")  # and the killed container starts again
    assert state(lab, "web") == "running true 0\n"


def test_kill_with_a_signal_that_ends_the_process(lab28):
    ok(lab28, "run -d --name trap busybox sh -c 'trap \"exit 7\" USR1; while :; do sleep 1; done'")
    assert ok(lab28, "kill -s usr1 trap") == "trap\n"
    assert ok(lab28, "wait trap") == "7\n"


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_wait_blocks_until_the_container_stops(request, fixture):
    lab = request.getfixturevalue(fixture)
    ok(lab, "run -d --name quick busybox sh -c 'exit 3'")
    ok(lab, "create --name fresh busybox")
    ok(lab, "run -d --name long busybox sleep 300")
    script = (
        'f=$(mktemp); docker wait long > "$f" & sleep 1; cat "$f"; docker kill long; wait; cat "$f"; rm "$f"'
    )
    r = sh(lab, script)
    assert r.stdout == "long\n137\n"  # nothing printed before the kill
    r = docker(lab, "container wait quick nosuch fresh")
    assert (r.returncode, r.stdout) == (1, "3\n0\n")
    assert r.stderr == "Error response from daemon: No such container: nosuch\n"


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_rename_moves_dns_names_and_links(request, fixture):
    lab = request.getfixturevalue(fixture)
    ok(lab, "network create app")
    ok(lab, "run -d --name db --network app busybox sleep 300")
    front = ok(lab, "run -d --name front --network app busybox sleep 300").strip()
    assert sh(lab, "getent hosts db", ns="front").returncode == 0
    events: list[dict] = []
    unsubscribe = lab.engine.subscribe(events.append)
    assert ok(lab, "rename db database") == ""
    unsubscribe()
    netns = lab.engine.namespaces()["database"]  # the graph watches it under its new name
    assert events == [
        {"type": "container.changed", "name": "db", "action": "rename", "netns": ""},
        {"type": "container.changed", "name": "database", "action": "rename", "netns": netns},
    ]
    assert sh(lab, "getent hosts database", ns="front").stdout.split()[0] == "172.18.0.2"
    assert sh(lab, "getent hosts db", ns="front").returncode != 0
    assert ok(lab, "inspect -f '{{.Name}}' database") == "/database\n"
    # legacy links on the default bridge follow the new name; written files keep the old one
    ok(lab, "run -d --name src busybox sleep 300")
    ok(lab, "run -d --name par --link src:alias busybox sleep 300")
    ok(lab, "container rename src newsrc")
    assert ok(lab, "inspect -f '{{json .HostConfig.Links}}' par") == '["/newsrc:/par/alias"]\n'
    assert sh(lab, "cat /etc/hosts", ns="par").stdout.split("\n")[-3].endswith(" src")
    ok(lab, "restart -t 0 par")
    assert sh(lab, "cat /etc/hosts", ns="par").stdout.split("\n")[-3].endswith(" newsrc")
    # the daemon's refusals: stderr, then the CLI's own line; exit 1
    fail = "Error: failed to rename container named"
    conflict = (
        f'Conflict. The container name "/front" is already in use by container "{front}". You have to '
        "remove (or rename) that container to be able to reuse that name."
    )
    for args, err in (
        ("database database", "Renaming a container with the same name as its current name"),
        ("database 'a b'", "Error when allocating new name: Invalid container name (/a b), only "
         "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"),
        ("database front", "Error when allocating new name: " + conflict),
        ("nosuch x", "No such container: nosuch"),
    ):  # fmt: skip
        r = docker(lab, f"rename {args}")
        old = args.split()[0]
        assert (r.returncode, r.stderr) == (1, f"Error response from daemon: {err}\n{fail} {old}\n"), args
    r = docker(lab, "rename ' ' x")
    assert (r.returncode, r.stderr) == (1, "Error: Neither old nor new names may be empty\n")
