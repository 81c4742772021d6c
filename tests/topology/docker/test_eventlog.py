"""The engine's event log (moby's daemon/events: 256 kept, 1024 queued per subscriber), moby's event
filter and docker/cli's event lines, without a sandbox."""

from __future__ import annotations

import threading

import pytest

from topology.docker import cli, eventlog, eventtext
from topology.docker.clierrors import CliError
from topology.docker.envfile import ClientSide
from topology.docker.eventlog import EventLog, Message
from topology.docker.filters import event_filter
from topology.docker.requests import EventsRequest

CID = "5f2c" + "0" * 60
NID = "ab" * 32


def container(action: str, **attributes: str) -> Message:
    return Message(
        "container", action, CID, {"image": "nginx", "name": "web", **attributes}, 1_796_484_000_123_456_789
    )


def test_the_log_keeps_the_last_256_and_replays_between_since_and_until():
    log = EventLog()
    for i in range(300):
        log.log("network", "create", NID, {"name": f"n{i}", "type": "bridge"})
    replay, sub = log.subscribe(0, None, None)
    assert [m.attributes["name"] for m in replay] == [f"n{i}" for i in range(44, 300)]
    middle = replay[100].time_nano
    replay, _ = log.subscribe(middle, replay[102].time_nano, None)
    assert [m.attributes["name"] for m in replay] == ["n144", "n145", "n146"]
    assert log.subscribe(None, None, None)[0] == []  # neither: live events only
    assert log.subscribers() == 3
    log.unsubscribe(sub)
    assert log.subscribers() == 2 and sub.closed


def test_a_subscriber_that_does_not_read_loses_events_but_holds_nothing_up():
    log = EventLog()
    _, slow = log.subscribe(None, None, None)
    _, fast = log.subscribe(None, None, lambda m: m.action == "start")
    got = []
    reader = threading.Thread(target=lambda: got.extend(iter(lambda: fast.get(1), None)))
    reader.start()
    for i in range(eventlog.QUEUE + 10):
        log.log("container", "start" if i % 2 else "create", CID, {"name": "web"})
    reader.join()
    assert slow.dropped == 10 and len(got) == (eventlog.QUEUE + 10) // 2
    log.close()
    assert slow.closed and slow.get(0) is not None  # what was queued can still be read


def test_moby_filter_include():
    network = Message("network", "connect", NID, {"container": CID, "name": "bridge", "type": "bridge"})
    exec_start = container("exec_start: sh -c ls", execID="e" * 64)
    cases = {
        ("container=web",): [True, False, True],
        ("container=5f2c",): [True, False, True],  # an id's prefix
        ("container=we",): [True, False, True],  # a name's prefix too (FuzzyMatch)
        ("network=bridge",): [False, True, False],
        ("type=network",): [False, True, False],
        ("event=create",): [True, False, False],
        ("event=exec_start",): [False, False, True],  # moby #25798: a prefix of "exec_start: ..."
        ("event=create", "event=connect"): [True, True, False],
        ("image=nginx",): [True, False, True],
        ("image=nginx:latest",): [False, False, False],
        ("label=name=web",): [True, False, True],  # labels match every attribute
        ("label=type",): [False, True, False],
        ("scope=local",): [True, True, True],
        ("scope=swarm",): [False, False, False],
        ("volume=x",): [False, False, False],
        ("foo=bar",): [True, True, True],  # the daemon checks no key
    }
    for raw, expected in cases.items():
        include = event_filter(list(raw), "28")
        assert include is not None
        assert [include(m) for m in (container("create"), network, exec_start)] == expected, raw
    assert event_filter([], "19.03") is None


def test_the_cli_line_and_templates():
    utc = eventtext.local_zone(None)
    line = eventtext.pretty(container("kill", signal="15", maintainer="NGINX <x@nginx.com>"), utc)
    assert line == (
        f"2026-12-05T15:20:00.123456789Z container kill {CID} "
        "(image=nginx, maintainer=NGINX <x@nginx.com>, name=web, signal=15)\n"
    )
    paris = eventtext.local_zone("Europe/Paris")
    assert eventtext.pretty(container("start"), paris).startswith("2026-12-05T16:20:00.123456789+01:00 ")
    assert eventtext.pretty(container("start"), eventtext.local_zone("Nowhere/Else")).startswith(
        "2026-12-05T15:20"
    )
    tmpl = eventtext.template("{{.Status}} {{.From}} {{.Time}} {{.Actor.Attributes}}", "19.03")
    assert tmpl is not None
    assert eventtext.formatted(tmpl, container("die", exitCode="0")) == (
        "die nginx 1796484000 map[exitCode:0 image:nginx name:web]\n"
    )
    assert eventtext.template("", "28") is None
    with pytest.raises(CliError) as err:
        eventtext.template("{{.Nope}}", "28")
    assert err.value.exit_code == 64


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("10m", "1796483400"),
        ("1h30m", "1796478600"),
        ("0", "0"),
        ("1796484000.5", "1796484000.5"),
        ("2026-12-05T15:20:00.123456789Z", "1796484000.123456789"),
        ("2026-12-05T16:20:00+01:00", "1796484000.000000000"),
        ("2026-12-05", "1796428800.000000000"),
    ],
)
def test_since_and_until_as_the_cli_sends_them(value, sent):
    now_ns = 1_796_484_000_900_000_000
    assert eventtext.timestamp(value, now_ns, eventtext.local_zone(None)) == sent
    assert eventtext.nanoseconds(sent) is not None


def test_a_bad_since_is_the_cli_error():
    with pytest.raises(CliError, match='failed to parse value as time or duration: "soon"'):
        eventtext.timestamp("soon", 0, eventtext.local_zone(None))


@pytest.mark.parametrize("version", ["19.03", "28"])
def test_docker_events_and_docker_system_events_parse_alike(version):
    client = ClientSide({"TZ": "Asia/Shanghai"})
    argv = ["--since", "10m", "-f", "Container= web ", "--filter", "event=die", "--format", "{{.ID}}"]
    want = EventsRequest("10m", "", ["Container= web ", "event=die"], "{{.ID}}", "Asia/Shanghai")
    assert cli.parse(["events", *argv], version, client) == want
    assert cli.parse(["system", "events", *argv], version, client) == want
    assert cli.parse(["events"], version) == EventsRequest()
    assert "  events      Get real time events from the server" in cli.usage_text([], version)
