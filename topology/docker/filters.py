"""`--filter` for `docker ps`, `docker images`, `docker network ls`, `docker network prune` and
`docker events`.

The CLI sends each `-f key=value` (key lowercased, both sides trimmed) and the daemon applies them
as moby's filters.Args: a key's values are a set, values of one key are alternatives (OR) and
different keys must all match (AND); `label` is the exception, every label value must match
(MatchKVList). `name` and `id` of networks, `name` of containers and `status` are Go regexp searches.
Unknown keys and bad values give the daemon's error texts (exit 1). Pure: the callers pass the
engine's containers and networks.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from topology.docker.clierrors import CliError, daemon_error
from topology.docker.eventlog import Message
from topology.docker.gotext import GoError, go_quote, parse_time
from topology.docker.images import IMAGES, image_id
from topology.docker.model import Container, Network, Version, is_running, network_names, port_entries
from topology.docker.portspec import port_range, split_proto_port

PREDEFINED = ("bridge", "host", "none", "default")
STATES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
HEALTH = ("starting", "healthy", "unhealthy", "none")  # a container without a healthcheck: "none"
PS_KEYS = (
    *("ancestor", "before", "exited", "expose", "health", "id", "is-task", "isolation", "label"),
    *("name", "network", "publish", "since", "status", "volume"),
)
NETWORK_KEYS = ("dangling", "driver", "id", "label", "name", "scope", "type")
PRUNE_KEYS = ("label", "label!", "until")
IMAGE_KEYS = {
    "19.03": ("before", "dangling", "label", "reference", "since"),
    "28": ("before", "dangling", "label", "reference", "since", "until"),
}


class Args:
    """moby's filters.Args built from the CLI's `key=value` strings."""

    def __init__(self, raw: Iterable[str], command: str, version: Version) -> None:
        self.fields: dict[str, dict[str, None]] = {}
        self.command, self.version = command, version
        for item in raw:
            if item:  # FilterOpt.Set ignores an empty value
                key, _, value = item.partition("=")
                self.fields.setdefault(key.strip().lower(), {})[value.strip()] = None

    def error(self, message: str) -> CliError:
        return daemon_error(self.command, message, self.version)

    def invalid(self, key: str, value: str | None = None) -> CliError:
        """The daemon's invalidFilter: "Invalid filter 'key=value'" (28: lower case)."""
        text = key if value is None else f"{key}={value}"
        return self.error(f"{'Invalid' if self.version == '19.03' else 'invalid'} filter '{text}'")

    def validate(self, accepted: Sequence[str]) -> Args:
        for key in self.fields:
            if key not in accepted:
                raise self.invalid(key)
        return self

    def get(self, key: str) -> list[str]:
        return list(self.fields.get(key, ()))

    def __contains__(self, key: str) -> bool:
        return key in self.fields

    def exact(self, key: str, source: str) -> bool:
        return not self.fields.get(key) or source in self.fields[key]

    def match(self, key: str, source: str) -> bool:
        """Exact, or any value as a regexp search (invalid patterns match nothing)."""
        if self.exact(key, source):
            return True
        for pattern in self.fields[key]:
            try:
                if re.search(pattern, source):
                    return True
            except re.error:
                continue
        return False

    def match_labels(self, key: str, labels: dict[str, str]) -> bool:
        """MatchKVList: every value (`k` or `k=v`) must be among the labels."""
        if not self.fields.get(key):
            return True
        for value in self.fields[key]:
            k, eq, v = value.partition("=")
            if k not in labels or (eq and labels[k] != v):
                return False
        return True

    def go_list(self, key: str) -> str:
        """How Go's %s prints the []string of a key's values."""
        return "[" + " ".join(self.get(key)) + "]"


# -- docker ps ----------------------------------------------------------------------------------


def _ports(args: Args, key: str) -> set[str]:
    """moby's portOp: `80`, `80/udp`, `8000-8010/tcp` as a set of "port/proto"."""
    ports: set[str] = set()
    for value in args.get(key):
        if ":" in value:
            raise args.error(f"filter for '{key}' should not contain ':': {value}")
        proto, port = split_proto_port(value, args.version)
        try:
            start, end = port_range(port, args.version)
        except GoError as e:
            raise args.error(f"error while looking up for {key} {value}: {e}") from None
        ports.update(f"{p}/{proto}" for p in range(start, end + 1))
    return ports


def _container_ref(args: Args, containers: Sequence[Container], ref: str) -> Container:
    """idOrNameFilter: a full id, else a name."""
    found = [c for c in containers if c.id == ref] or [c for c in containers if c.name == ref.lstrip("/")]
    if len(found) != 1:
        raise args.error(f"No such container: {ref}")
    return found[0]


def _image(ref: str) -> tuple | None:
    """The IMAGES row a reference (name, name:tag, docker.io/library/name, id prefix) names."""
    repo, _, tag = ref.removeprefix("docker.io/").removeprefix("library/").partition(":")
    for row in IMAGES:
        if repo == row[0] and tag in ("", row[1]):
            return row
    hexid = ref.removeprefix("sha256:")
    by_id = [
        row for row in IMAGES if re.fullmatch("[0-9a-f]+", hexid) and image_id(row[0])[7:].startswith(hexid)
    ]
    return by_id[0] if len(by_id) == 1 else None


def _exit_codes(args: Args) -> list[int]:
    codes = []
    for value in args.get("exited"):
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            raise args.error(f'strconv.Atoi: parsing "{value}": invalid syntax')
        codes.append(int(value))
    return codes


def _check_ps_values(args: Args) -> bool:
    """Reject what foldFilter rejects; returns whether `status` makes the listing include all."""
    for value in args.get("status"):
        if value not in STATES:
            raise args.invalid("status", value)
    if "is-task" in args and not (args.exact("is-task", "true") or args.exact("is-task", "false")):
        raise args.invalid("is-task", args.go_list("is-task"))
    for value in args.get("health"):
        if value not in HEALTH:
            raise args.error(f"Unrecognised filter value for health: {value}")
    return "status" in args


def list_containers(
    containers: Iterable[Container],
    raw: Sequence[str] = (),
    *,
    all: bool = False,
    limit: int = -1,
    networks: Iterable[Network] = (),
    version: Version = "19.03",
) -> list[Container]:
    """The daemon's reduceContainers: newest first, `all`, `limit` (-n/-l) and the filters."""
    args = Args(raw, "ps", version).validate(PS_KEYS)
    ordered = sorted(
        containers, key=lambda c: parse_time(c.created) or datetime.min.replace(tzinfo=UTC), reverse=True
    )
    exit_codes = _exit_codes(args)
    all = _check_ps_values(args) or all
    before = [_container_ref(args, ordered, v) for v in args.get("before")][-1:]
    since = [_container_ref(args, ordered, v) for v in args.get("since")][-1:]
    ancestors = {row[0] for row in map(_image, args.get("ancestor")) if row}
    publish, expose = _ports(args, "publish"), _ports(args, "expose")
    by_prefix = ([c.id for c in ordered if v and c.id.startswith(v)] for v in args.get("id"))
    ids = {found[0] for found in by_prefix if len(found) == 1}  # GetByPrefix: a unique id prefix
    net_ids = {n.name: n.id for n in networks}

    def wanted(c: Container) -> bool:
        nets = network_names(c)
        ports = port_entries(c)
        return (
            ("id" not in args or c.id in ids)
            and args.match("name", c.name)
            and not ("is-task" in args and args.exact("is-task", "true"))
            and args.match_labels("label", c.labels)
            and args.match("isolation", "default")
            and (
                not exit_codes
                or (not is_running(c) and parse_time(c.started_at) is not None and c.exit_code in exit_codes)
            )
            and args.match("status", c.status)
            and args.exact("health", "none")
            and "volume" not in args  # the lab's containers have no mounts
            and ("ancestor" not in args or c.image.split(":")[0] in ancestors)
            and (
                "network" not in args
                or any(
                    v in nets or any(net_ids.get(n, "").startswith(v) for n in nets)
                    for v in args.get("network")
                )
            )
            and (
                not (publish or expose)
                or any(
                    f"{pub}/{proto}" in publish or f"{priv}/{proto}" in expose
                    for _, priv, pub, proto in ports
                )
            )
        )

    chosen: list[Container] = []
    for c in ordered:
        if before:
            if c.id == before[0].id:
                before = []
            continue
        if since and c.id == since[0].id:
            break
        if not is_running(c) and not all and limit <= 0:
            continue
        if limit > 0 and len(chosen) == limit:
            break
        if wanted(c):
            chosen.append(c)
    return chosen


# -- docker network ls / network prune ---------------------------------------------------------


def list_networks(
    networks: Iterable[Network],
    raw: Sequence[str] = (),
    *,
    containers: Iterable[Container] = (),
    version: Version = "19.03",
) -> list[Network]:
    """The daemon's network list filters (libnetwork's FilterNetworks)."""
    args = Args(raw, "network ls", version).validate(NETWORK_KEYS)
    chosen = [
        n
        for n in networks
        if args.exact("driver", n.driver)
        and args.match("name", n.name)
        and args.match("id", n.id)
        and args.match_labels("label", n.labels)
        and args.exact("scope", "local")
    ]
    dangling = args.get("dangling")
    if len(dangling) > 1:
        raise args.error('got more than one value for filter key "dangling"')
    if dangling:
        if dangling[0] not in ("0", "false", "1", "true"):
            raise args.error(
                'invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")'
            )
        used = {ep.network for c in containers for ep in c.endpoints}
        only = dangling[0] in ("1", "true")
        chosen = [n for n in chosen if (n.name not in PREDEFINED and n.name not in used) == only]
    for kind in args.get("type"):
        if kind not in ("builtin", "custom"):
            raise args.error(f"{'Invalid' if version == '19.03' else 'invalid'} filter: 'type'='{kind}'")
    if "type" in args:
        chosen = [
            n for kind in args.get("type") for n in chosen if (n.name in PREDEFINED) == (kind == "builtin")
        ]
    return chosen


_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_DURATION_PART = r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)"


def timestamp(value: str, now: datetime) -> datetime:
    """Docker's GetTimestamp: a Go duration before `now`, a Unix time or an RFC 3339 date/time."""
    m = re.fullmatch(rf"([-+]?)((?:{_DURATION_PART})+)", value)
    if m:
        seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in re.findall(_DURATION_PART, m[2]))
        return now - timedelta(seconds=-seconds if m[1] == "-" else seconds)
    if re.fullmatch(r"[0-9]+(\.[0-9]{1,9})?", value):
        return datetime.fromtimestamp(float(value), UTC)
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"failed to parse value as time or duration: {go_quote(value)}") from None
    return t if t.tzinfo else t.astimezone()


def _until(args: Args, now: datetime) -> datetime | None:
    values = args.get("until")
    if len(values) > 1:
        raise args.error("more than one until filter specified")
    try:
        return timestamp(values[0], now) if values else None
    except ValueError as e:
        raise args.error(str(e)) from None


def prunable(raw: Sequence[str], *, now: datetime, version: Version = "19.03") -> Callable[[Network], bool]:
    """Which unused custom networks `docker network prune` may remove (until, label, label!)."""
    args = Args(raw, "network prune", version).validate(PRUNE_KEYS)
    until = _until(args, now)

    def ok(n: Network) -> bool:
        created = parse_time(n.created)
        return (
            not (until and created and created > until)
            and args.match_labels("label", n.labels)
            and not ("label!" in args and args.match_labels("label!", n.labels))
        )

    return ok


# -- docker images ------------------------------------------------------------------------------


def _dangling_only(args: Args) -> bool:
    """19.03: ExactMatch true/false; 28: GetBoolOrDefault (one value, true/1/false/0 in any case)."""
    values = args.get("dangling")
    if not values:
        return False
    if args.version == "19.03":
        if args.exact("dangling", "true"):
            return True
        if args.exact("dangling", "false"):
            return False
    elif len(values) == 1 and values[0].lower() in ("true", "1", "false", "0"):
        return values[0].lower() in ("true", "1")
    raise args.invalid("dangling", args.go_list("dangling"))


def list_images(
    raw: Sequence[str] = (), *, repository: str = "", now: datetime, version: Version = "19.03"
) -> list[tuple]:
    """The IMAGES rows `docker images [REPO[:TAG]]` lists: reference, dangling, label, before, since, until"""
    refs = [f"reference={repository}"] if repository else []  # as docker/cli: the argument is a filter
    args = Args([*raw, *refs], "images", version).validate(IMAGE_KEYS[version])
    if _dangling_only(args):
        return []  # every image of the lab is tagged

    def created(ref: str) -> datetime | None:
        row = _image(ref)
        if row is None:
            tagged = ref if ":" in ref or re.fullmatch("(sha256:)?[0-9a-f]+", ref) else f"{ref}:latest"
            raise args.error(f"No such image: {tagged}")
        return parse_time(row[3])

    before, since = [created(v) for v in args.get("before")], [created(v) for v in args.get("since")]
    until = _until(args, now)
    patterns = args.get("reference")
    return [
        row
        for row in IMAGES
        if (t := parse_time(row[3]))
        and args.match_labels("label", {})
        and all(b and t < b for b in before)
        and all(s and t > s for s in since)
        and not (until and t > until)
        and (
            not patterns
            or any(fnmatch.fnmatchcase(r, p) for p in patterns for r in (f"{row[0]}:{row[1]}", row[0]))
        )
    ]


# -- docker events ------------------------------------------------------------------------------

# The event types whose filter key matches an actor's id or name by prefix (fuzzyMatchName), on every
# event: `-f container=web` also leaves out the networks' events.
_NAMED_TYPES = ("daemon", "container", "plugin", "volume", "network", "node", "service", "secret", "config")
_FUZZY_ACTIONS = ("health_status", "exec_create", "exec_start")


def _fuzzy(args: Args, key: str, source: str) -> bool:
    """filters.Args.FuzzyMatch: no values, an exact one, or one that `source` starts with."""
    return args.exact(key, source) or any(source.startswith(v) for v in args.fields[key])


def _familiar(image: str) -> str:
    """reference.FamiliarName of a parsed image reference (tag and digest dropped); as given if it
    does not parse (a 64-hex id)."""
    if re.fullmatch(r"[a-f0-9]{64}", image) or not re.fullmatch(r"[a-z0-9._/:@-]+", image):
        return image
    name = image.split("@", 1)[0]
    head, slash, last = name.rpartition("/")
    name = head + slash + last.split(":", 1)[0]
    return name.removeprefix("docker.io/").removeprefix("library/")


def event_filter(raw: Sequence[str], version: Version) -> Callable[[Message], bool] | None:
    """moby's events Filter.Include (daemon/events/filter.go); None without filters. The daemon
    checks no key: one it does not know (`-f foo=bar`) leaves every event in."""
    args = Args(raw, "events", version)
    if not args.fields:
        return None

    def action(ev: Message) -> bool:
        if any(v in _FUZZY_ACTIONS for v in args.get("event")):  # moby #25798: `exec_start` etc.
            return _fuzzy(args, "event", ev.action)
        return args.exact("event", ev.action)

    def image(ev: Message) -> bool:
        name = ev.attributes.get("name" if ev.type == "image" else "image", "")
        names = (ev.actor_id, name, _familiar(ev.actor_id), _familiar(name))
        return any(args.exact("image", v) for v in names)

    def include(ev: Message) -> bool:
        return (
            action(ev)
            and args.exact("type", ev.type)
            and args.exact("scope", "local")
            and all(
                _fuzzy(args, key, ev.actor_id) or _fuzzy(args, key, ev.attributes.get("name", ""))
                for key in _NAMED_TYPES
            )
            and image(ev)
            and args.match_labels("label", ev.attributes)
        )

    return include
