"""`docker events` on the real kernel, as a student watches it in a second terminal, per era
(moby and docker/cli at v19.03.15 and v28.5.2: daemon/events, daemon/monitor.go, daemon/kill.go,
daemon/stop.go, daemon/delete.go, daemon/container_operations.go, cli/command/system/events.go).

- the events of what the commands do, in moby's order: 19.03 logs `die` before the network
  cleanup's disconnects, 28 after them (with execDuration); 19.03 logs a `network disconnect` of a
  running container twice; stop is kill 15, kill 9 after the timeout, die, stop.
- the line format: local time with nanoseconds, type, action, id, attributes sorted by key.
- --since/--until replay the recent events (moby keeps 256) and --until ends the stream.
- --filter is moby's Filter.Include; --format a Go template over events.Message (`{{json .}}`).
- the stream ends when its client is killed (^C): the daemon drops its subscription.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import threading
import time

import pytest

from tests.polling import wait_for
from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel

LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(?:Z|[+-]\d\d:\d\d)) (.*)")


def ok(lab, args: str) -> str:
    r = docker(lab, args)
    assert r.returncode == 0, r.stderr
    return r.stdout


class Watcher:
    """`docker events ARGS` running in the Docker host, its lines collected as they come."""

    def __init__(self, lab, args: str = "") -> None:
        self.lab = lab
        before = lab.engine.events.subscribers()
        argv = [
            *lab.sandbox.nsenter_argv("host", student=True),
            "sh",
            "-c",
            f"echo $$; exec docker events {args}",
        ]
        self.proc = lab.sandbox.popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.pid = int(self.proc.stdout.readline())  # the client's pid in the Docker host
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        wait_for(lambda: lab.engine.events.subscribers() > before, what="subscribed")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait(self, count: int) -> list[str]:
        wait_for(lambda: len(self.lines) >= count, what=f"{count} events")
        return list(self.lines)

    def interrupt(self) -> int:
        """^C: SIGINT to the client; returns the shell's status of it."""
        sh(self.lab, f"kill -INT {self.pid}")
        return self.proc.wait(10)


def readable(lines: list[str], names: dict[str, str]) -> list[str]:
    """The lines without their times, ids replaced by `<name>` and execDuration by `N`."""
    out = []
    for line in lines:
        m = LINE.fullmatch(line)
        assert m, line
        text = m[2]
        for ident, name in names.items():
            text = text.replace(ident, f"<{name}>")
        out.append(re.sub(r"execDuration=\d+", "execDuration=N", text))
    return out


def now() -> str:
    """A --until of the present: the events logged so far, then the command ends."""
    return f"{time.time():.6f}"


def ids(lab) -> dict[str, str]:
    found = {n.id: n.name for n in lab.engine.networks.values()}
    found |= {c.id: c.name for c in lab.engine.containers.values()}
    return found


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_events_of_a_container_and_a_network_in_docker_order(request, fixture):
    lab = request.getfixturevalue(fixture)
    v19 = fixture == "lab"
    watcher = Watcher(lab)
    ok(lab, "network create net1")
    web = ok(lab, "run -d --name web --network net1 busybox sleep 300").strip()
    ok(lab, "network connect bridge web")
    ok(lab, "network disconnect bridge web")
    ok(lab, "rename web web2")
    ok(lab, "exec web2 true")
    names = ids(lab) | {web: "web"}
    ok(lab, "stop -t 1 web2")  # busybox's sleep, pid 1, ignores SIGTERM: SIGKILL after 1 s
    ok(lab, "rm web2")
    net1 = next(i for i, n in names.items() if n == "net1")
    ok(lab, "network rm net1")
    bridge = "(container=<web>, name=bridge, type=bridge)"
    on_net1 = "(container=<web>, name=net1, type=bridge)"
    die = "container die <web> (exitCode=137, image=busybox, name=web2)"
    if not v19:
        die = "container die <web> (execDuration=N, exitCode=137, image=busybox, name=web2)"
    expected = [
        "network create <net1> (name=net1, type=bridge)",
        "container create <web> (image=busybox, name=web)",
        f"network connect <net1> {on_net1}",
        "container start <web> (image=busybox, name=web)",
        f"network connect <bridge> {bridge}",
        *[f"network disconnect <bridge> {bridge}"] * (2 if v19 else 1),
        "container rename <web> (image=busybox, name=web2, oldName=/web)",
        "container exec_create: true  <web> (execID=<exec>, image=busybox, name=web2)",
        "container exec_start: true  <web> (execID=<exec>, image=busybox, name=web2)",
        "container exec_die <web> (execID=<exec>, exitCode=0, image=busybox, name=web2)",
        "container kill <web> (image=busybox, name=web2, signal=15)",
        "container kill <web> (image=busybox, name=web2, signal=9)",
        *(
            [die, f"network disconnect <net1> {on_net1}"]
            if v19
            else [f"network disconnect <net1> {on_net1}", die]
        ),
        "container stop <web> (image=busybox, name=web2)",
        "container destroy <web> (image=busybox, name=web2)",
        "network destroy <net1> (name=net1, type=bridge)",
    ]
    lines = watcher.wait(len(expected))
    exec_id = re.search(r"execID=([0-9a-f]{64})", "\n".join(lines))
    assert exec_id
    assert readable(lines, names | {net1: "net1", exec_id[1]: "exec"}) == expected
    times = [LINE.fullmatch(line)[1] for line in lines]  # type: ignore[index]
    assert times == sorted(times) and all(t.endswith("Z") for t in times)  # the sandbox's TZ: UTC
    assert watcher.interrupt() in (-2, 130)  # ^C ends it (SIGINT; nsenter passes it on)
    wait_for(lambda: lab.engine.events.subscribers() == 0, what="subscription dropped")


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_a_foreground_run_with_rm_and_a_forced_rm(request, fixture):
    lab = request.getfixturevalue(fixture)
    v19 = fixture == "lab"
    watcher = Watcher(lab, "--filter type=container --format '{{.Action}} {{.Actor.Attributes.name}}'")
    assert docker(lab, "run --rm --name once busybox sh -c 'exit 3'").returncode == 3
    ok(lab, "run -d --name long busybox sleep 300")
    ok(lab, "top long")
    ok(lab, "restart -t 0 long")
    ok(lab, "rm -f long")
    expected = ["create once", "attach once", "start once", "die once", "destroy once"]
    expected += ["create long", "start long", "top long"]
    expected += ["kill long", "kill long", "die long", "stop long", "start long", "restart long"]
    expected += ["kill long", "die long", "destroy long"]
    assert watcher.wait(len(expected)) == expected
    watcher.interrupt()
    # the networks' side of the same story, replayed from the recent events
    fmt = "--format '{{.Action}} {{.Actor.Attributes.name}}'"
    replay = ok(lab, f"events --since 1m --until {now()} --filter type=network {fmt}")
    assert replay.splitlines() == ["connect bridge", "disconnect bridge"] * 3
    r = ok(lab, f"events --since 1m --until {now()} --filter container=once --filter event=die")
    die = r"\S+ container die [0-9a-f]{64} \((execDuration=\d+, )?exitCode=3, image=busybox, name=once\)\n"
    assert re.fullmatch(die, r)
    assert ("execDuration" in r) != v19
    r = ok(
        lab, f"events --since 1m --until {now()} -f event=kill --format '{{{{.Actor.Attributes.signal}}}}'"
    )
    assert r.split() == ["15", "9", "9"]  # restart -t 0: TERM, then KILL; rm -f: moby's Kill, KILL only


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_since_until_replay_and_an_until_that_ends_the_stream(request, fixture):
    lab = request.getfixturevalue(fixture)
    start = time.time()
    ok(lab, "network create alpha")
    ok(lab, "network create beta --label tier=back")
    ok(lab, "network rm alpha")
    fmt = "--format '{{.Action}} {{.Actor.Attributes.name}}'"
    t0 = time.monotonic()
    r = docker(lab, f"events --since {int(start)} --until {time.time() + 1:.3f} {fmt}")
    assert time.monotonic() - t0 >= 0.5  # it went on until --until, then ended
    assert (r.returncode, r.stdout, r.stderr) == (0, "create alpha\ncreate beta\ndestroy alpha\n", "")
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start - 1)) + "Z"
    assert (
        ok(lab, f"events --since {iso} --until {now()} -f event=create {fmt}")
        == "create alpha\ncreate beta\n"
    )
    # a network event's attributes are its name and type: its labels are not among them
    assert ok(lab, f"events --since {iso} --until {now()} -f label=tier=back") == ""
    r = ok(lab, f"events --since 0 --until {now()} -f network=alpha --format '{{{{.Action}}}}'")
    assert r.split() == ["create", "destroy"]
    assert ok(lab, f"events --since 10m --until {now()} -f type=volume") == ""
    r = docker(lab, "events --since 1000 --until 999")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "Error response from daemon: `since` time (1000) cannot be after `until` time (999)\n"
    r = docker(lab, "events --since yesterday")
    assert (r.returncode, r.stderr) == (1, 'failed to parse value as time or duration: "yesterday"\n')


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_format_json_and_template_errors(request, fixture):
    lab = request.getfixturevalue(fixture)
    v19 = fixture == "lab"
    web = ok(lab, "run -d --name web --label tier=front busybox sleep 300").strip()
    window = f"--since 1m --until {now()}"
    out = ok(lab, f"events {window} --filter container=web --filter event=create --format '{{{{json .}}}}'")
    event = json.loads(out)
    assert list(event) == ["status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano"]
    assert event["Actor"] == {"ID": web, "Attributes": {"image": "busybox", "name": "web", "tier": "front"}}
    assert (event["status"], event["id"], event["from"], event["scope"]) == (
        "create",
        web,
        "busybox",
        "local",
    )
    assert event["time"] == event["timeNano"] // 10**9
    out = ok(lab, f"events {window} -f type=network -f event=connect --format '{{{{json .}}}}'")
    assert list(json.loads(out)) == ["Type", "Action", "Actor", "scope", "time", "timeNano"]
    out = ok(lab, f"events {window} -f label=tier=front -f event=start --format json")
    if v19:  # 19.03's CLI knows no `json` format: a template without actions
        assert out == "json\n"
    else:
        assert json.loads(out)["Action"] == "start"
    out = ok(lab, f"events {window} -f image=busybox -f event=start --format '{{{{.}}}}'")
    head = f"{{start {web} busybox container start {{{web} map[image:busybox name:web tier:front]}} local "
    assert out.startswith(head)
    # the event's image loses its tag for the comparison, the filter's value keeps it
    assert ok(lab, f"events {window} -f image=busybox:latest") == ""
    r = docker(lab, "events --format '{{.Foo}}'")
    assert (r.returncode, r.stdout) == (64, "")
    assert r.stderr == (
        'Error parsing format: template: :1:2: executing "" at <.Foo>: '
        "can't evaluate field Foo in type *events.Message\n"
    )
    r = docker(lab, "events --format '{{.Type'")
    assert r.returncode == 64 and r.stderr.startswith("Error parsing format: template: :1: ")
    r = docker(lab, "events --filter container")
    assert r.returncode == 125 and "bad format of filter (expected name=value)" in r.stderr
    r = docker(lab, "events extra")
    assert r.returncode == 1 and "docker events' accepts no arguments" in r.stderr.replace('"', "'")


def test_a_reader_that_does_not_read_stalls_nothing_and_its_stream_ends_with_its_client(lab):
    """The events of a client whose stdout is full wait in its own bounded queue: the commands go on;
    once the client is killed, its subscription goes."""
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4096)  # full after ~25 lines
    argv = [*lab.sandbox.nsenter_argv("host", student=True), "sh", "-c", "echo $$ >&2; exec docker events"]
    proc = lab.sandbox.popen(argv, stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.PIPE, text=True)
    os.close(w)
    try:
        assert proc.stderr is not None
        pid = int(proc.stderr.readline())
        wait_for(lambda: lab.engine.events.subscribers() == 1, what="subscribed")
        script = "for i in $(seq 40); do docker create --name c$i busybox >/dev/null || exit 1; done"
        assert sh(lab, script, timeout=60).returncode == 0
        assert len(ok(lab, "ps -aq").split()) == 40
        sh(lab, f"kill -INT {pid}")
        proc.wait(10)
        wait_for(lambda: lab.engine.events.subscribers() == 0, what="subscription dropped")
    finally:
        os.close(r)
