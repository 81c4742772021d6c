"""What `docker events` prints (docker/cli's cli/command/system/events.go) and how its CLI reads
--since and --until (moby's api/types/time GetTimestamp), in the same words for 19.03 and 28.

A line: the event's time in the CLI's local zone with nanoseconds, its type, action and actor id,
then its attributes sorted by key: `2026-12-05T15:20:00.123456789Z container create 5f2c… (image=nginx,
name=web)`. --format runs a Go template over moby's events.Message; `{{json .}}` gives its JSON
(the legacy status, id and from of container events, then Type, Action, Actor, scope, time, timeNano).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from topology.docker.clierrors import CliError
from topology.docker.eventlog import Message
from topology.docker.gotemplate import GoMap, execute
from topology.docker.gotemplate_parse import Template, TemplateError, parse_template
from topology.docker.gotext import go_quote
from topology.docker.model import Version

_DURATION_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9}
_DURATION_UNITS["h"] = 3600 * 10**9
_DURATION_PART = r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)"


def local_zone(tz: str | None) -> tzinfo:
    """Go's time.Local for the CLI's TZ: unset, the Docker host's (UTC); empty or unknown, UTC."""
    name = (tz or "").removeprefix(":")
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return UTC


def _go_time(nanos: int, zone: tzinfo) -> str:
    """Go's Format("2006-01-02T15:04:05.000000000Z07:00") of time.Unix(0, nanos) in `zone`."""
    t = datetime.fromtimestamp(nanos // 10**9, UTC).astimezone(zone)
    offset = t.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        suffix = "Z"
    else:
        minutes = int(offset.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        suffix = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos % 10**9:09d}" + suffix


def pretty(msg: Message, zone: tzinfo) -> str:
    """docker/cli's prettyPrintEvent (one line, with its newline)."""
    line = f"{_go_time(msg.time_nano, zone)} {msg.type} {msg.action} {msg.actor_id}"
    if msg.attributes:
        line += " (" + ", ".join(f"{k}={v}" for k, v in sorted(msg.attributes.items())) + ")"
    return line + "\n"


class GoStruct(Mapping):
    """A Go struct for templates: fields by their Go names in declaration order (what `{{.}}`
    prints), and the JSON encoding/json gives it (its tags, omitempty)."""

    def __init__(self, fields: dict[str, object], json: dict[str, object]) -> None:
        self._fields, self._json = fields, json

    def __getitem__(self, key: str) -> object:
        return self._fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def go_json(self) -> dict[str, object]:
        return self._json


def message_struct(msg: Message | None) -> GoStruct:
    """moby's events.Message as the CLI decodes it (None: the zero Message its makeTemplate runs)."""
    if msg is None:
        msg = Message("", "", "")
    legacy = msg.type == "container"  # Log fills the deprecated fields of container events
    status, cid, image = (msg.action, msg.actor_id, msg.attributes.get("image", "")) if legacy else ("",) * 3
    attributes = GoMap(sorted(msg.attributes.items()))
    actor = {"ID": msg.actor_id, "Attributes": attributes}
    scope = "local" if msg.type else ""
    seconds = msg.time_nano // 10**9
    fields = {
        **{"Status": status, "ID": cid, "From": image, "Type": msg.type, "Action": msg.action},
        **{"Actor": actor, "Scope": scope, "Time": seconds, "TimeNano": msg.time_nano},
    }
    tagged = {"status": status, "id": cid, "from": image}
    as_json = {k: v for k, v in tagged.items() if v}
    as_json |= {"Type": msg.type, "Action": msg.action}
    as_json["Actor"] = {"ID": msg.actor_id, "Attributes": dict(attributes) if msg.attributes else None}
    as_json |= {k: v for k, v in (("scope", scope), ("time", seconds), ("timeNano", msg.time_nano)) if v}
    return GoStruct(fields, as_json)


def template(fmt: str, version: Version) -> Template | None:
    """The CLI's makeTemplate: none for the default lines; 28's `json` is `{{json .}}`. A template
    that does not parse, or fails over an empty message, exits 64."""
    if not fmt:
        return None
    if fmt == "json" and version != "19.03":
        fmt = "{{json .}}"
    try:
        tmpl = parse_template(fmt)
        execute(tmpl, message_struct(None), "*events.Message")  # &events.Message{}
    except TemplateError as e:
        raise CliError("Error parsing format: " + e.detail, 64) from None
    return tmpl


def formatted(tmpl: Template, msg: Message) -> str:
    """formatEvent: the template's text and a newline; TemplateError if it fails on this event."""
    return execute(tmpl, message_struct(msg), "events.Message", prefix="") + "\n"


def timestamp(value: str, now_ns: int, zone: tzinfo) -> str:
    """GetTimestamp: the value of --since/--until as the CLI sends it ("" when not given): a Go
    duration before now (whole seconds), a date/time ("seconds.nanoseconds"; without a zone, in the
    CLI's), or Unix seconds as given. CliError with the CLI's text otherwise."""
    if not value:
        return ""
    m = re.fullmatch(rf"([-+]?)((?:{_DURATION_PART})+)", value)
    if m and value != "0":
        nanos = sum(round(float(n) * _DURATION_UNITS[u]) for n, u in re.findall(_DURATION_PART, m[2]))
        return str((now_ns - (-nanos if m[1] == "-" else nanos)) // 10**9)
    if value == "0" or re.fullmatch(r"[0-9]+(\.[0-9]+)?", value):
        return value
    try:
        t = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        if "-" in value:
            raise CliError(f"parsing time {go_quote(value)}: cannot parse {go_quote(value)}", 1) from None
        raise CliError(f"failed to parse value as time or duration: {go_quote(value)}", 1) from None
    if t.tzinfo is None:  # in the fixed zone of the CLI's local time now
        now = datetime.fromtimestamp(now_ns // 10**9, UTC).astimezone(zone)
        t = t.replace(tzinfo=timezone(now.utcoffset() or timedelta(0)))
    fraction = re.search(r"\.(\d+)", value)
    return f"{int(t.timestamp())}.{fraction[1][:9].ljust(9, '0') if fraction else '000000000'}"


def nanoseconds(sent: str) -> int | None:
    """The daemon's eventTime: None for "", else the time the "seconds[.fraction]" names."""
    if not sent:
        return None
    seconds, _, fraction = sent.partition(".")
    return int(seconds) * 10**9 + (int(fraction[:9].ljust(9, "0")) if fraction else 0)
