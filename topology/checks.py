"""Exercise checks: pure functions over a snapshot dict (`Snapshot.to_dict()`) returning results.

A result is `{"kind", "ok", "message": {"code", "params"}, "diagnoses": [{"code", "params"}]}`; a failed
check is data, never an exception. `MESSAGES` holds the English templates of every code (the web
translates them: `gettext(template).format(**params)`).

State primitives: `container`, `network`, `link`, `links`, `address`, `route`, `sysctl`, `rule`,
`policy`, `conntrack`, `listening` (see `STATE`; `check(kind, args, snapshot)` runs one). Probe results
are judged by `topology.probes`; `diagnose_traffic` explains a failed probe from the snapshot.

Netfilter rules are compared by meaning (`rule_key`): `-p tcp --dport 80` = `-p tcp -m tcp --dport 80`,
`-s 10.0.0.1` = `-s 10.0.0.1/32`, `--destination-port` = `--dport`, `-m state --state` =
`-m conntrack --ctstate`, option order free, comments ignored. A rule is *effective* when no earlier
rule of its chain catches a superset of its packets (`covers`) with a target that ends their
traversal differently. "Superset" is proved, never guessed: each option of the earlier rule must be
implied by the later rule's options (same option; a wider -s/-d network; a negated -s/-d disjoint from
the later one's; an interface wildcard `eth+`; a port range holding the later one's; a --ctstate set
holding the later one's; a negated interface name other than the later one's). Anything else counts as
"not a superset", so an earlier rule never wrongly hides a later one; rules in other chains (reached
through jumps) are not considered.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from topology.snapshot import parse_iptables_rule

__all__ = [
    "MESSAGES",
    "STATE",
    "check",
    "covers",
    "diagnose_traffic",
    "diagnosis",
    "find_container",
    "find_rule",
    "result",
    "rule_key",
]


def gettext_noop(message: str) -> str:
    """Mark a string for translation without translating it (Django's makemessages finds it)."""
    return message


MESSAGES: dict[str, str] = {
    # general
    "check.skipped": gettext_noop("Checked only when you press Check."),
    "check.error": gettext_noop("This check could not run: {error}."),
    "check.unknown": gettext_noop("Unknown check {kind}."),
    "snapshot.missing": gettext_noop("The state of namespace {ns} could not be read."),
    # container
    "container.ok": gettext_noop("Container {name} is as expected."),
    "container.missing": gettext_noop("There is no container named {name}."),
    "container.unexpected": gettext_noop("Container {name} should not exist."),
    "container.not_running": gettext_noop("Container {name} is not running (status {status})."),
    "container.running": gettext_noop("Container {name} should not be running."),
    "container.network": gettext_noop("Container {name} uses network {actual}, expected {expected}."),
    "container.not_published": gettext_noop(
        "Container {name} does not publish port {port}/{proto} as asked; it publishes: {published}."
    ),
    # network
    "network.ok": gettext_noop("Network {name} is as expected."),
    "network.missing": gettext_noop("There is no Docker network named {name}."),
    "network.unexpected": gettext_noop("Docker network {name} should not exist."),
    "network.mismatch": gettext_noop("Network {name}: {field} is {actual}, expected {expected}."),
    # link, links
    "link.ok": gettext_noop("Link {name} in {ns} is as expected."),
    "link.missing": gettext_noop("There is no link {name} in {ns}."),
    "link.unexpected": gettext_noop("Link {name} should not exist in {ns}."),
    "link.mismatch": gettext_noop("Link {name} in {ns}: {field} is {actual}, expected {expected}."),
    "links.ok": gettext_noop("The links of {ns} are as expected."),
    "links.not_exactly": gettext_noop("The links of {ns} are {actual}; expected exactly {expected}."),
    "links.missing": gettext_noop("{ns} lacks the links {missing}."),
    "links.extra": gettext_noop("{ns} should not have the links {extra}."),
    # address
    "address.ok": gettext_noop("Address {address} in {ns} is as expected."),
    "address.missing": gettext_noop("There is no address {address} in {ns}."),
    "address.wrong_link": gettext_noop("Address {address} in {ns} is on {actual}, expected on {expected}."),
    "address.prefix": gettext_noop(
        "Address {address} in {ns} has prefix length {actual}, expected {expected}."
    ),
    "address.unexpected": gettext_noop("Address {address} should not be in {ns}."),
    # route
    "route.ok": gettext_noop("The route to {destination} in {ns} is as expected."),
    "route.missing": gettext_noop("There is no route to {destination} in {ns}."),
    "route.mismatch": gettext_noop(
        "The route to {destination} in {ns}: {field} is {actual}, expected {expected}."
    ),
    "route.unexpected": gettext_noop("There should be no route to {destination} in {ns}."),
    # sysctl
    "sysctl.ok": gettext_noop("{name} in {ns} is {actual}."),
    "sysctl.mismatch": gettext_noop("{name} in {ns} is {actual}, expected {expected}."),
    "sysctl.unknown": gettext_noop("{name} cannot be read in {ns}."),
    # rule, policy
    "rule.ok": gettext_noop("The rule {rule} is in {table}/{chain} of {ns} (number {number})."),
    "rule.absent_ok": gettext_noop("The rule {rule} is not in {table}/{chain} of {ns}."),
    "rule.missing": gettext_noop("There is no rule {rule} in {table}/{chain} of {ns}."),
    "rule.unexpected": gettext_noop(
        "The rule {rule} (number {number} in {table}/{chain} of {ns}) should not be there."
    ),
    "rule.not_effective": gettext_noop(
        "The rule {rule} (number {number} in {chain}) never sees its packets: rule {by_number} "
        "({by_rule}) before it takes them all."
    ),
    "rule.effective": gettext_noop(
        "The rule {rule} (number {number} in {chain}) still sees packets; no earlier rule takes them all."
    ),
    "rule.bad_spec": gettext_noop("The rule {rule} of this check cannot be read."),
    "chain.missing": gettext_noop("There is no chain {chain} in table {table} of {ns}."),
    "policy.ok": gettext_noop("The policy of {table}/{chain} in {ns} is {actual}."),
    "policy.mismatch": gettext_noop(
        "The policy of {table}/{chain} in {ns} is {actual}, expected {expected}."
    ),
    # conntrack
    "conntrack.ok": gettext_noop("{ns} tracks a connection matching {criteria}."),
    "conntrack.absent_ok": gettext_noop("{ns} tracks no connection matching {criteria}."),
    "conntrack.missing": gettext_noop("{ns} tracks no connection matching {criteria}."),
    "conntrack.unexpected": gettext_noop("{ns} tracks a connection matching {criteria}; none should."),
    # listening
    "listening.ok": gettext_noop("{process} listens on {proto} port {port} in {ns}."),
    "listening.absent_ok": gettext_noop("Nothing listens on {proto} port {port} in {ns}."),
    "listening.missing": gettext_noop("Nothing listens on {proto} port {port} in {ns}."),
    "listening.wrong_address": gettext_noop(
        "{proto} port {port} in {ns} listens on {actual}, expected {expected}."
    ),
    "listening.wrong_process": gettext_noop(
        "{proto} port {port} in {ns} is held by {actual}, not {expected}."
    ),
    "listening.unexpected": gettext_noop("{process} listens on {proto} port {port} in {ns}; nothing should."),
    # probes
    "http.ok": gettext_noop("{url} answered {status} to {from}."),
    "http.failed": gettext_noop("{url} did not answer {from} ({error})."),
    "http.status": gettext_noop("{url} answered {actual} to {from}, expected {expected}."),
    "http.body": gettext_noop("The page {url} (seen from {from}) does not contain {contains}."),
    "http.fail_ok": gettext_noop("{url} does not answer {from}, as expected."),
    "http.unexpected": gettext_noop("{url} answered {status} to {from}; it should not answer."),
    "ping.ok": gettext_noop("{to} answers pings from {from}."),
    "ping.failed": gettext_noop("{to} does not answer pings from {from}."),
    "ping.fail_ok": gettext_noop("{to} does not answer pings from {from}, as expected."),
    "ping.unexpected": gettext_noop("{to} answers pings from {from}; it should not."),
    "tcp.open": gettext_noop("TCP port {port} of {to} accepts connections from {from}."),
    "tcp.closed_ok": gettext_noop("TCP port {port} of {to} is closed to {from}, as expected."),
    "tcp.closed": gettext_noop("TCP port {port} of {to} does not accept connections from {from}."),
    "tcp.unexpected_open": gettext_noop(
        "TCP port {port} of {to} accepts connections from {from}; it should not."
    ),
    "remote_saw.ok": gettext_noop("The remote server saw the request from {from} coming from {actual}."),
    "remote_saw.mismatch": gettext_noop(
        "The remote server saw the request from {from} coming from {actual}, expected {expected}."
    ),
    "remote_saw.no_request": gettext_noop(
        "The request from {from} never reached the remote server ({error})."
    ),
    "probe.error": gettext_noop("The test traffic from {from} could not be sent: {error}."),
    # questions
    "answer.ok": gettext_noop("Right."),
    "answer.missing": gettext_noop("Answer the question first."),
    "answer.wrong": gettext_noop("{answer} is not right."),
    "answer.unknown": gettext_noop("The right answer cannot be read from your lab now: {reason}."),
    "pick_rule.ok": gettext_noop("Right: rule {number} of {table}/{chain} in {ns} handled the test traffic."),
    "pick_rule.missing": gettext_noop("Pick a rule in the rules panel first."),
    "pick_rule.no_rule": gettext_noop("There is no rule {number} in {table}/{chain} of {ns}."),
    "pick_rule.wrong_target": gettext_noop(
        "The rule you picked jumps to {actual}; expected one of {expected}."
    ),
    "pick_rule.not_hit": gettext_noop(
        "The rule you picked (rule {number} of {table}/{chain} in {ns}) saw none of the test traffic."
    ),
    # diagnoses
    "ip_forward_off": gettext_noop("IP forwarding is off on the host (net.ipv4.ip_forward = 0)."),
    "forward_drop_no_accept": gettext_noop(
        "The FORWARD chain's policy is DROP and no rule accepts these packets ({src} to {dst})."
    ),
    "rule_after_drop": gettext_noop(
        "Rule {after} of {chain} ({after_rule}) would let these packets through, but rule {number} "
        "({rule}) before it drops them first."
    ),
    "no_route_back": gettext_noop("{ns} has no route back to {address}."),
    "port_in_use": gettext_noop("{proto} port {port} in {ns} is already held by {process}."),
    "wrong_namespace": gettext_noop("{what} exists in {found}, not in {expected}."),
}


def result(kind: str, ok: bool | None, code: str, diagnoses: Iterable[dict] = (), /, **params: Any) -> dict:
    """A check result; `code` must be a key of MESSAGES."""
    return {
        "kind": kind,
        "ok": ok,
        "message": {"code": code, "params": {k: _param(v) for k, v in params.items()}},
        "diagnoses": list(diagnoses),
    }


def diagnosis(code: str, /, **params: Any) -> dict:
    return {"code": code, "params": {k: _param(v) for k, v in params.items()}}


def _param(v: Any) -> Any:
    if isinstance(v, (list, tuple, set, frozenset)):
        return ", ".join(str(x) for x in v) if v else "-"
    return "-" if v is None else v


# -- helpers over the snapshot -----------------------------------------------------------------


def _ns(args: Mapping) -> str:
    return str(args.get("ns") or "host")


def _present(args: Mapping) -> bool:
    return bool(args.get("present", True))


def _missing_ns(kind: str, snap: Mapping, ns: str) -> dict | None:
    if ns not in snap.get("links", {}):
        return result(kind, False, "snapshot.missing", ns=ns)
    return None


def _containers(snap: Mapping) -> list[dict]:
    return list((snap.get("docker") or {}).get("containers") or [])


def find_container(snap: Mapping, ref: str) -> dict | None:
    cs = _containers(snap)
    for c in cs:
        if c.get("name") == ref or c.get("id") == ref:
            return c
    found = [c for c in cs if ref and str(c.get("id", "")).startswith(ref)]
    return found[0] if len(found) == 1 else None


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(str(value).split("/")[0].split("%")[0].strip("[]"))
    except ValueError:
        return None


def _net(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network("0.0.0.0/0" if value == "default" else str(value), strict=False)
    except ValueError:
        return None


def _bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "on")
    return bool(v)


def _other_namespaces(snap: Mapping, section: str, ns: str, pred: Callable[[dict], bool]) -> list[str]:
    return [n for n, items in (snap.get(section) or {}).items() if n != ns and any(pred(x) for x in items)]


def _wrong_ns(snap: Mapping, section: str, ns: str, what: str, pred: Callable[[dict], bool]) -> list[dict]:
    found = _other_namespaces(snap, section, ns, pred)
    return [diagnosis("wrong_namespace", what=what, found=found, expected=ns)] if found else []


# -- container, network -------------------------------------------------------------------------


def _network_of(c: Mapping, snap: Mapping) -> str:
    mode = str(c.get("network_mode") or "default")
    if mode == "default":
        return "bridge"
    if mode.startswith("container:"):
        other = find_container(snap, mode.split(":", 1)[1])
        return f"container:{other['name']}" if other else mode
    return mode


def check_container(args: Mapping, snap: Mapping) -> dict:
    name = str(args["name"])
    c = find_container(snap, name)
    if c is None:
        code = "container.missing" if _present(args) else "container.ok"
        return result("container", not _present(args), code, name=name)
    if not _present(args):
        return result("container", False, "container.unexpected", name=name)
    running = c.get("status") == "running"
    if "running" in args and _bool(args["running"]) != running:
        if running:
            return result("container", False, "container.running", name=name)
        return result("container", False, "container.not_running", name=name, status=c.get("status"))
    if args.get("network"):
        want = str(args["network"])
        actual = _network_of(c, snap)
        nets = {e.get("network") for e in c.get("endpoints") or ()}
        if want.startswith("container:"):
            other = find_container(snap, want.split(":", 1)[1])
            ok = other is not None and actual == f"container:{other['name']}"
        elif want in ("none", "host"):
            ok = actual == want
        else:
            ok = want == actual or want in nets
        if not ok:
            return result("container", False, "container.network", name=name, actual=actual, expected=want)
    published = [_published(p) for p in c.get("ports") or ()]
    for want in args.get("published") or ():
        port, proto = int(want["port"]), str(want.get("proto") or "tcp")
        if not any(
            p["container_port"] == port
            and p["proto"] == proto
            and ("host_port" not in want or p["host_port"] == int(want["host_port"]))
            and ("host_ip" not in want or _same_host_ip(p["host_ip"], str(want["host_ip"])))
            for p in published
        ):
            shown = [
                f"{p['host_ip']}:{p['host_port']}->{p['container_port']}/{p['proto']}" for p in published
            ]
            return result(
                "container",
                False,
                "container.not_published",
                name=name,
                port=port,
                proto=proto,
                published=shown,
            )
    return result("container", True, "container.ok", name=name)


def _published(p: Mapping) -> dict:
    return {
        "container_port": int(p.get("container_port") or 0),
        "proto": str(p.get("proto") or "tcp"),
        "host_port": int(p.get("host_port") or 0),
        "host_ip": str(p.get("host_ip") or "0.0.0.0"),
    }


def _same_host_ip(a: str, b: str) -> bool:
    wild = {"", "0.0.0.0", "::", "*"}
    return a == b or (a in wild and b in wild)


def check_network(args: Mapping, snap: Mapping) -> dict:
    name = str(args["name"])
    nets = (snap.get("docker") or {}).get("networks") or []
    n = next((x for x in nets if x.get("name") == name or x.get("id") == name), None)
    if n is None:
        return result(
            "network", not _present(args), "network.missing" if _present(args) else "network.ok", name=name
        )
    if not _present(args):
        return result("network", False, "network.unexpected", name=name)
    for field, actual, expected, same in (
        ("subnet", n.get("subnet"), args.get("subnet"), lambda a, e: _net(a) == _net(e)),
        ("internal", n.get("internal"), args.get("internal"), lambda a, e: bool(a) == _bool(e)),
        ("bridge", n.get("bridge"), args.get("bridge"), lambda a, e: a == e),
    ):
        if field in args and not same(actual, expected):
            return result(
                "network", False, "network.mismatch", name=name, field=field, actual=actual, expected=expected
            )
    return result("network", True, "network.ok", name=name)


# -- links, addresses, routes, sysctls -------------------------------------------------------------


_LINK_FIELDS = (
    ("kind", "kind", lambda a, e: a == e),
    ("master", "master", lambda a, e: (a or "") == ("" if e in (None, "none") else e)),
    ("state", "state", lambda a, e: str(a).upper() == str(e).upper()),
    ("peer_ns", "peer_namespace", lambda a, e: a == e),
    ("peer_name", "peer_name", lambda a, e: a == e),
    ("mac", "mac", lambda a, e: str(a).lower() == str(e).lower()),
    ("mtu", "mtu", lambda a, e: int(a or 0) == int(e)),
)


def _link_mismatch(link: Mapping, args: Mapping) -> tuple[str, Any, Any] | None:
    for arg, key, same in _LINK_FIELDS:
        if arg in args and not same(link.get(key), args[arg]):
            return arg, link.get(key), args[arg]
    return None


def check_link(args: Mapping, snap: Mapping) -> dict:
    ns = _ns(args)
    if err := _missing_ns("link", snap, ns):
        return err
    pattern = args.get("name_pattern")
    name = str(args.get("name") or pattern or "")

    def named(link: Mapping) -> bool:
        if pattern:
            return re.fullmatch(str(pattern), str(link.get("name", ""))) is not None
        return link.get("name") == name

    candidates = [x for x in snap["links"][ns] if named(x)]
    if not _present(args):
        bad = [x for x in candidates if _link_mismatch(x, args) is None]
        if bad:
            return result("link", False, "link.unexpected", name=bad[0]["name"], ns=ns)
        return result("link", True, "link.ok", name=name, ns=ns)
    if not candidates:
        diags = _wrong_ns(
            snap, "links", ns, f"link {name}", lambda x: named(x) and _link_mismatch(x, args) is None
        )
        return result("link", False, "link.missing", diags, name=name, ns=ns)
    for link in candidates:
        if _link_mismatch(link, args) is None:
            return result("link", True, "link.ok", name=link["name"], ns=ns)
    field, actual, expected = _link_mismatch(candidates[0], args) or ("", None, None)
    return result(
        "link",
        False,
        "link.mismatch",
        name=candidates[0]["name"],
        ns=ns,
        field=field,
        actual=actual,
        expected=expected,
    )


def check_links(args: Mapping, snap: Mapping) -> dict:
    ns = _ns(args)
    if err := _missing_ns("links", snap, ns):
        return err
    names = {x["name"] for x in snap["links"][ns]}
    if "exactly" in args and names != set(args["exactly"] or ()):
        return result(
            "links",
            False,
            "links.not_exactly",
            ns=ns,
            actual=sorted(names),
            expected=sorted(args["exactly"] or ()),
        )
    missing = [n for n in args.get("include") or () if n not in names]
    if missing:
        return result("links", False, "links.missing", ns=ns, missing=missing)
    extra = [n for n in args.get("exclude") or () if n in names]
    if extra:
        return result("links", False, "links.extra", ns=ns, extra=extra)
    return result("links", True, "links.ok", ns=ns)


def check_address(args: Mapping, snap: Mapping) -> dict:
    ns = _ns(args)
    if err := _missing_ns("address", snap, ns):
        return err
    text = str(args["address"])
    ip = _ip(text)
    plen = int(text.split("/", 1)[1]) if "/" in text else None
    ifname = args.get("ifname")
    same_ip = [a for a in snap["addresses"].get(ns, ()) if _ip(a.get("address", "")) == ip]
    if not _present(args):
        bad = [a for a in same_ip if not ifname or a.get("ifname") == ifname]
        if bad:
            return result("address", False, "address.unexpected", address=text, ns=ns)
        return result("address", True, "address.ok", address=text, ns=ns)
    if not same_ip:
        diags = _wrong_ns(snap, "addresses", ns, f"address {text}", lambda a: _ip(a.get("address", "")) == ip)
        return result("address", False, "address.missing", diags, address=text, ns=ns)
    on = [a for a in same_ip if not ifname or a.get("ifname") == ifname]
    if not on:
        return result(
            "address",
            False,
            "address.wrong_link",
            address=text,
            ns=ns,
            actual=[a.get("ifname") for a in same_ip],
            expected=ifname,
        )
    if plen is not None and not any(a.get("prefixlen") == plen for a in on):
        return result(
            "address",
            False,
            "address.prefix",
            address=text,
            ns=ns,
            actual=on[0].get("prefixlen"),
            expected=plen,
        )
    return result("address", True, "address.ok", address=text, ns=ns)


def _route_net(r: Mapping):
    return _net(f"{r.get('destination')}/{r.get('prefixlen')}")


def check_route(args: Mapping, snap: Mapping) -> dict:
    ns = _ns(args)
    if err := _missing_ns("route", snap, ns):
        return err
    dest = str(args.get("destination") or "default")
    net = _net(dest)
    table = str(args.get("table") or "main")
    same = [
        r
        for r in snap["routes"].get(ns, ())
        if r.get("table") == table
        and r.get("family") == ("inet6" if net and net.version == 6 else "inet")
        and _route_net(r) == net
    ]

    def mismatch(r: Mapping) -> tuple[str, Any, Any] | None:
        if "gateway" in args and (r.get("via") or "") != (
            "" if args["gateway"] in (None, "", "0.0.0.0") else str(args["gateway"])
        ):
            return "gateway", r.get("via"), args["gateway"]
        if "dev" in args and r.get("dev") != args["dev"]:
            return "dev", r.get("dev"), args["dev"]
        if "flags" in args and set(str(r.get("flags", ""))) != set(str(args["flags"])):
            return "flags", r.get("flags"), args["flags"]
        return None

    if not _present(args):
        if any(mismatch(r) is None for r in same):
            return result("route", False, "route.unexpected", destination=dest, ns=ns)
        return result("route", True, "route.ok", destination=dest, ns=ns)
    if not same:
        return result("route", False, "route.missing", destination=dest, ns=ns)
    if any(mismatch(r) is None for r in same):
        return result("route", True, "route.ok", destination=dest, ns=ns)
    field, actual, expected = mismatch(same[0]) or ("", None, None)
    return result(
        "route",
        False,
        "route.mismatch",
        destination=dest,
        ns=ns,
        field=field,
        actual=actual,
        expected=expected,
    )


def sysctl_value(snap: Mapping, ns: str, name: str) -> Any:
    """The value of `ip_forward`, `rp_filter.eth0`, ... in a namespace; None when unknown."""
    values = (snap.get("sysctls") or {}).get(ns) or {}
    key, _, sub = name.partition(".")
    value = values.get(key)
    if sub:
        return value.get(sub) if isinstance(value, dict) else None
    return value


def check_sysctl(args: Mapping, snap: Mapping) -> dict:
    ns, name = _ns(args), str(args["name"])
    actual = sysctl_value(snap, ns, name)
    if actual is None:
        return result("sysctl", False, "sysctl.unknown", name=name, ns=ns)
    expected = args.get("value")
    ok = str(actual) == str(expected).strip()
    return result(
        "sysctl",
        ok,
        "sysctl.ok" if ok else "sysctl.mismatch",
        name=name,
        ns=ns,
        actual=actual,
        expected=expected,
    )


# -- netfilter rules ------------------------------------------------------------------------------


_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "132": "sctp", "58": "ipv6-icmp"}
_SERVICES = {"http": "80", "https": "443", "ssh": "22", "domain": "53", "www": "80"}
_ICMP_TYPES = {
    "any": "any",
    "echo-reply": "0",
    "pong": "0",
    "destination-unreachable": "3",
    "echo-request": "8",
    "ping": "8",
    "time-exceeded": "11",
    "port-unreachable": "3/3",
    "host-unreachable": "3/1",
}
_OPTION_ALIASES = {
    "--destination-port": "--dport",
    "--source-port": "--sport",
    "--destination-ports": "--dports",
    "--source-ports": "--sports",
    "--state": "--ctstate",
}
_PORT_OPTIONS = frozenset({"--dport", "--sport", "--tcp-flags", "--syn", "--tcp-option"})
_ADDRESS_OPTIONS = frozenset({"-s", "-d", "--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst"})
_IGNORED_MODULES = frozenset({"comment"})
TERMINAL = frozenset(
    {"ACCEPT", "DROP", "REJECT", "RETURN", "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"}
)

MatchKey = tuple[str, str, bool, str]  # (module or "", option, negated, value)
RuleKey = tuple[frozenset, str, frozenset, bool]  # (matches, target, target options, goto)


def _addr_value(v: str) -> str:
    parts = []
    for x in v.split(","):
        n = _net(x.strip())
        parts.append(str(n) if n is not None else x.strip())
    return ",".join(sorted(parts))


def _port_value(v: str) -> str:
    def one(p: str) -> str:
        lo, sep, hi = p.partition(":")
        lo, hi = _SERVICES.get(lo, lo), _SERVICES.get(hi, hi)
        if sep and lo == hi:
            return lo
        return f"{lo}{sep}{hi}"

    return ",".join(sorted((one(p.strip()) for p in v.split(",")), key=lambda s: (len(s), s)))


def _match_key(module: str | None, option: str, negated: bool, value: str, proto: str) -> MatchKey | None:
    module = module or ""
    if module == "state":
        module = "conntrack"
    option = _OPTION_ALIASES.get(option, option)
    if module in _IGNORED_MODULES and option != "--comment":
        module = ""  # the parser credits options to the last -m; a comment takes only --comment
    if module in _IGNORED_MODULES or not option:
        return None  # a bare `-m tcp`: implied by -p; comments carry no meaning
    if option == "-p":
        value = _PROTOCOLS.get(value.lower(), value.lower())
        if value == "all" and not negated:
            return None
    elif option in _ADDRESS_OPTIONS:
        value = _addr_value(value)
    elif option in ("--dport", "--sport", "--dports", "--sports", "--ports"):
        value = _port_value(value)
    elif option in ("--ctstate", "--ctstatus", "--dst-type", "--src-type"):
        value = ",".join(sorted(s.strip().upper() for s in value.split(",")))
    elif option == "--icmp-type":
        value = _ICMP_TYPES.get(value, value)
    if option in _PORT_OPTIONS:
        module = proto or module  # `-p tcp --dport 80` means `-p tcp -m tcp --dport 80`
    if option == "--icmp-type" and not module:
        module = "icmp"
    return (module, option, negated, value)


def _target_options(target: str | None, opts: Iterable) -> frozenset:
    out = set()
    for m in opts:
        option, value = _field(m, "option"), str(_field(m, "value"))
        if option == "--to":
            option = {"DNAT": "--to-destination", "SNAT": "--to-source"}.get(target or "", option)
        if option in ("--to-destination", "--to-source"):
            value = ",".join(sorted(value.split(",")))
        out.add((option, bool(_field(m, "negated")), value))
    if target == "REJECT" and not any(o == "--reject-with" for o, _, _ in out):
        out.add(("--reject-with", False, "icmp-port-unreachable"))
    return frozenset(out)


def _field(m: Any, name: str) -> Any:
    return m.get(name) if isinstance(m, Mapping) else getattr(m, name)


def rule_key(
    matches: Iterable, target: str | None, target_options: Iterable = (), goto: bool = False
) -> RuleKey:
    """A rule's meaning as a comparable value (see the module's docstring)."""
    matches = list(matches)
    proto = next(
        (str(_field(m, "value")).lower() for m in matches if _field(m, "option") in ("-p", "--protocol")), ""
    )
    proto = _PROTOCOLS.get(proto, proto)
    keys = set()
    for m in matches:
        k = _match_key(
            _field(m, "module"),
            _field(m, "option"),
            bool(_field(m, "negated")),
            str(_field(m, "value")),
            proto,
        )
        if k is not None:
            keys.add(k)
    return frozenset(keys), str(target or ""), _target_options(target, target_options), bool(goto)


def spec_key(spec: str) -> RuleKey | None:
    """The meaning of a rule written as in a check (`-p tcp --dport 80 -j ACCEPT`); None if unreadable."""
    spec = spec.strip()
    if not spec:
        return None
    try:
        words = shlex.split(spec)  # the shell's quoting, as the student would type the rule
        line = " ".join(f'"{w}"' if not w or any(c.isspace() for c in w) else w for w in words)
        _, matches, target, topts, goto = parse_iptables_rule(line)
    except (ValueError, IndexError):
        return None
    return rule_key(matches, target, topts, goto)


def snapshot_rule_key(rule: Mapping) -> RuleKey:
    return rule_key(
        rule.get("matches") or (),
        rule.get("target"),
        rule.get("target_options") or (),
        bool(rule.get("goto")),
    )


def _port_range(value: str) -> tuple[int, int] | None:
    if "," in value:
        return None
    lo, sep, hi = value.partition(":")
    try:
        return (int(lo or 0), int(hi or 65535)) if sep else (int(lo), int(lo))
    except ValueError:
        return None


def _implied(m: MatchKey, by: frozenset) -> bool:
    """True when every packet that matches all of `by` also matches `m`."""
    if m in by:
        return True
    module, option, negated, value = m
    for om, oo, on, ov in by:
        if oo != option or om != module or on:
            continue
        if option in _ADDRESS_OPTIONS:
            a, b = _net(value), _net(ov)
            if a is None or b is None or a.version != b.version:
                continue
            if (not negated and b.subnet_of(a)) or (negated and not a.overlaps(b)):
                return True
        elif option in ("-i", "-o"):
            if not negated and value.endswith("+") and ov.startswith(value[:-1]):
                return True
            if negated and not value.endswith("+") and not ov.endswith("+") and ov != value:
                return True
        elif option in ("--dport", "--sport") and not negated:
            a, b = _port_range(value), _port_range(ov)
            if a and b and a[0] <= b[0] and b[1] <= a[1]:
                return True
        elif option == "--ctstate" and not negated and set(ov.split(",")) <= set(value.split(",")):
            return True
    return False


def covers(earlier: RuleKey, later: RuleKey) -> bool:
    """True when `earlier` provably matches every packet `later` matches."""
    return all(_implied(m, later[0]) for m in earlier[0])


def blocked_by(rules: list[Mapping], index: int) -> Mapping | None:
    """The earlier rule of the chain that takes all of rule `index`'s packets elsewhere, if any."""
    key = snapshot_rule_key(rules[index])
    for r in rules[:index]:
        if r.get("goto") or r.get("target") not in TERMINAL:
            continue
        rk = snapshot_rule_key(r)
        if (rk[1], rk[2]) == (key[1], key[2]) and not key[3]:
            continue  # same verdict: the later rule's outcome happens anyway
        if covers(rk, key):
            return r
    return None


BUILTIN_CHAINS = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "raw": ("PREROUTING", "OUTPUT"),
}


def _chain(snap: Mapping, ns: str, table: str, chain: str) -> Mapping | None:
    """A chain of a namespace's table; a built-in chain of a table never used there is empty (ACCEPT)."""
    nf = (snap.get("netfilter") or {}).get(ns)
    if nf is None:
        return None
    tables = nf.get("tables") or {}
    if table not in tables and chain in BUILTIN_CHAINS.get(table, ()):
        return {"name": chain, "policy": "ACCEPT", "packets": 0, "bytes": 0, "rules": []}
    return tables.get(table, {}).get(chain)


def find_rule(snap: Mapping, ns: str, table: str, chain: str, spec: str) -> tuple[int, Mapping] | None:
    """The first rule of a chain that means the same as `spec`, with its index."""
    key = spec_key(spec)
    c = _chain(snap, ns, table, chain)
    if key is None or c is None:
        return None
    for i, r in enumerate(c.get("rules") or ()):
        if snapshot_rule_key(r) == key:
            return i, r
    return None


def check_rule(args: Mapping, snap: Mapping) -> dict:
    ns, table, chain = _ns(args), str(args.get("table") or "filter"), str(args["chain"])
    spec = str(args["rule"])
    key = spec_key(spec)
    p = {"rule": spec, "table": table, "chain": chain, "ns": ns}
    if key is None or not key[1]:
        return result("rule", False, "rule.bad_spec", rule=spec)
    c = _chain(snap, ns, table, chain)
    if c is None:
        if not _present(args):
            return result("rule", True, "rule.absent_ok", **p)
        return result("rule", False, "chain.missing", table=table, chain=chain, ns=ns)
    found = find_rule(snap, ns, table, chain, spec)
    if not _present(args):
        if found:
            return result("rule", False, "rule.unexpected", number=found[1]["number"], **p)
        return result("rule", True, "rule.absent_ok", **p)
    if found is None:
        diags = [
            diagnosis("wrong_namespace", what=f"rule {spec}", found=others, expected=ns)
            for others in [
                [
                    n
                    for n in (snap.get("netfilter") or {})
                    if n != ns and find_rule(snap, n, table, chain, spec)
                ]
            ]
            if others
        ]
        return result("rule", False, "rule.missing", diags, **p)
    index, rule = found
    if "effective" in args:
        rules = list(c.get("rules") or ())
        blocker = blocked_by(rules, index)
        if blocker is not None and _bool(args["effective"]):
            diags = []
            if blocker.get("target") in ("DROP", "REJECT"):
                diags.append(
                    diagnosis(
                        "rule_after_drop",
                        chain=chain,
                        number=blocker["number"],
                        rule=_line(blocker),
                        after=rule["number"],
                        after_rule=_line(rule),
                    )
                )
            return result(
                "rule",
                False,
                "rule.not_effective",
                diags,
                rule=spec,
                number=rule["number"],
                chain=chain,
                by_number=blocker["number"],
                by_rule=_line(blocker),
            )
        if blocker is None and not _bool(args["effective"]):
            return result("rule", False, "rule.effective", rule=spec, number=rule["number"], chain=chain)
    return result("rule", True, "rule.ok", number=rule["number"], **p)


def _line(rule: Mapping) -> str:
    line = str(rule.get("line", ""))
    return line.split(" ", 2)[2] if line.startswith("-A ") and line.count(" ") >= 2 else line


def check_policy(args: Mapping, snap: Mapping) -> dict:
    ns, table, chain = _ns(args), str(args.get("table") or "filter"), str(args["chain"])
    c = _chain(snap, ns, table, chain)
    if c is None:
        return result("policy", False, "chain.missing", table=table, chain=chain, ns=ns)
    actual, expected = c.get("policy"), str(args["policy"]).upper()
    ok = actual == expected
    return result(
        "policy",
        ok,
        "policy.ok" if ok else "policy.mismatch",
        table=table,
        chain=chain,
        ns=ns,
        actual=actual,
        expected=expected,
    )


# -- conntrack, sockets -------------------------------------------------------------------------------


_CT_FIELDS = ("proto", "orig_src", "orig_dst", "orig_dport", "reply_src", "reply_sport")


def check_conntrack(args: Mapping, snap: Mapping) -> dict:
    ns = _ns(args)
    want = {k: args[k] for k in (*_CT_FIELDS, "nat") if k in args and args[k] is not None}
    criteria = " ".join(f"{k}={v}" for k, v in want.items()) or "*"

    def matches(e: Mapping) -> bool:
        for k, v in want.items():
            if k == "nat":
                if not (e.get("nat") == v or (e.get("nat") == "both" and v in ("dnat", "snat"))):
                    return False
            elif k in ("orig_src", "orig_dst", "reply_src"):
                if _ip(e.get(k) or "") != _ip(str(v)):
                    return False
            elif str(e.get(k)) != str(v):
                return False
        return True

    hit = any(matches(e) for e in (snap.get("conntrack") or {}).get(ns) or ())
    if _present(args):
        return result(
            "conntrack", hit, "conntrack.ok" if hit else "conntrack.missing", ns=ns, criteria=criteria
        )
    return result(
        "conntrack",
        not hit,
        "conntrack.unexpected" if hit else "conntrack.absent_ok",
        ns=ns,
        criteria=criteria,
    )


_WILD = frozenset({"*", "0.0.0.0", "::", "[::]"})


def _socket_commands(snap: Mapping, ns: str, sock: Mapping) -> list[str]:
    procs = {p.get("pid"): p.get("command", "") for p in (snap.get("processes") or {}).get(ns) or ()}
    return [procs.get(u.get("pid")) or u.get("name", "") for u in sock.get("processes") or ()]


def _holder(snap: Mapping, ns: str, sock: Mapping) -> str:
    users = sock.get("processes") or ()
    return ", ".join(f"{u.get('name')} (pid {u.get('pid')})" for u in users) or "?"


def check_listening(args: Mapping, snap: Mapping) -> dict:
    ns, port, proto = _ns(args), int(args["port"]), str(args.get("proto") or "tcp")
    if err := _missing_ns("listening", snap, ns):
        return err
    address, process = args.get("address"), args.get("process")
    p = {"ns": ns, "port": port, "proto": proto}

    def addr_ok(s: Mapping) -> bool:
        a = str(s.get("address"))
        return address is None or a == str(address) or (a in _WILD and str(address) in _WILD)

    def proc_ok(s: Mapping) -> bool:
        return process is None or any(str(process) in cmd for cmd in _socket_commands(snap, ns, s))

    socks = [s for s in snap["sockets"].get(ns, ()) if s.get("port") == port and s.get("proto") == proto]
    good = [s for s in socks if addr_ok(s) and proc_ok(s)]
    if not _present(args):
        if good:
            return result("listening", False, "listening.unexpected", process=_holder(snap, ns, good[0]), **p)
        return result("listening", True, "listening.absent_ok", **p)
    if good:
        return result("listening", True, "listening.ok", process=_holder(snap, ns, good[0]), **p)
    if not socks:
        diags = _wrong_ns(
            snap,
            "sockets",
            ns,
            f"{proto} port {port}",
            lambda s: s.get("port") == port and s.get("proto") == proto,
        )
        return result("listening", False, "listening.missing", diags, **p)
    if not any(addr_ok(s) for s in socks):
        return result(
            "listening",
            False,
            "listening.wrong_address",
            actual=[s.get("address") for s in socks],
            expected=address,
            **p,
        )
    holder = _holder(snap, ns, socks[0])
    return result(
        "listening",
        False,
        "listening.wrong_process",
        [diagnosis("port_in_use", process=holder, **p)],
        actual=holder,
        expected=process,
        **p,
    )


STATE: dict[str, Callable[[Mapping, Mapping], dict]] = {
    "container": check_container,
    "network": check_network,
    "link": check_link,
    "links": check_links,
    "address": check_address,
    "route": check_route,
    "sysctl": check_sysctl,
    "rule": check_rule,
    "policy": check_policy,
    "conntrack": check_conntrack,
    "listening": check_listening,
}


def check(kind: str, args: Mapping, snap: Mapping) -> dict:
    """Run one state check; a malformed check gives a failed result, never an exception."""
    fn = STATE.get(kind)
    if fn is None:
        return result(kind, False, "check.unknown", kind=kind)
    try:
        return fn(args or {}, snap)
    except (KeyError, TypeError, ValueError, AttributeError, re.error) as exc:
        return result(kind, False, "check.error", error=f"{type(exc).__name__}: {exc}")


# -- diagnosing traffic ---------------------------------------------------------------------------


def owner(snap: Mapping, ip: Any) -> str | None:
    """The namespace that holds address `ip` (None when none does)."""
    for ns, addrs in (snap.get("addresses") or {}).items():
        if any(_ip(a.get("address", "")) == ip for a in addrs):
            return ns
    return None


def route_lookup(snap: Mapping, ns: str, ip: Any) -> Mapping | None:
    """The main-table route namespace `ns` uses to reach `ip` (longest prefix); None when there is none or
    the best one rejects the packet."""
    best, best_len = None, -1
    for r in (snap.get("routes") or {}).get(ns) or ():
        if r.get("table") != "main" or r.get("family") != "inet":
            continue
        net = _route_net(r)
        if net is not None and ip in net and net.prefixlen > best_len:
            best, best_len = r, net.prefixlen
    if best is None or best.get("type") not in ("unicast", None):
        return None
    return best


def _source_ip(snap: Mapping, ns: str, dst: Any) -> Any:
    r = route_lookup(snap, ns, dst)
    if r is not None and r.get("prefsrc"):
        return _ip(r["prefsrc"])
    addrs = [
        a
        for a in (snap.get("addresses") or {}).get(ns) or ()
        if a.get("family") == "inet" and a.get("scope") == "global"
    ]
    if r is not None:
        on = [a for a in addrs if a.get("ifname") == r.get("dev")]
        addrs = on or addrs
    return _ip(addrs[0]["address"]) if addrs else None


def _side(snap: Mapping, ns: str | None) -> str | None:
    """ "host" for the Docker host and its containers; the namespace itself for the outside world."""
    if ns is None:
        return None
    kinds = {n.get("name"): n.get("kind") for n in snap.get("namespaces") or ()}
    return "host" if kinds.get(ns, "container") in ("host", "container") else ns


class _Packet:
    def __init__(
        self, src, dst, proto: str, dport: int | None, in_if: str | None, out_if: str | None, local: set
    ):
        self.src, self.dst, self.proto, self.dport = src, dst, proto, dport
        self.in_if, self.out_if, self.local = in_if, out_if, local


def _match_one(m: MatchKey, pkt: _Packet) -> bool | None:
    module, option, negated, value = m
    if option in ("-s", "-d"):
        ip = pkt.src if option == "-s" else pkt.dst
        nets = [_net(v) for v in value.split(",")]
        if ip is None or any(n is None for n in nets):
            return None
        hit = any(ip in n for n in nets)
    elif option == "-p":
        hit = value == pkt.proto
    elif option in ("-i", "-o"):
        name = pkt.in_if if option == "-i" else pkt.out_if
        if name is None:
            return None
        hit = name.startswith(value[:-1]) if value.endswith("+") else name == value
    elif option in ("--dport", "--dports") and pkt.dport is not None:
        hit = False
        for part in value.split(","):
            rng = _port_range(part)
            hit = hit or (rng is not None and rng[0] <= pkt.dport <= rng[1])
    elif option == "--ctstate":
        hit = "NEW" in value.split(",")
    elif option == "--dst-type":
        hit = ("LOCAL" in value.split(",")) == (pkt.dst in pkt.local)
    else:
        return None
    return hit != negated


def _rule_matches(rule: Mapping, pkt: _Packet) -> bool | None:
    unknown = False
    for m in snapshot_rule_key(rule)[0]:
        hit = _match_one(m, pkt)
        if hit is False:
            return False
        unknown = unknown or hit is None
    return None if unknown else True


def walk(
    snap: Mapping, ns: str, table: str, chain: str, pkt: _Packet, depth: int = 0
) -> tuple[str | None, Mapping | None]:
    """Where a NEW packet ends in a chain: (verdict, rule) — verdict ACCEPT, DROP, REJECT, DNAT, ...,
    "RETURN" (fell off a user chain), or None when a rule's match could not be decided."""
    c = _chain(snap, ns, table, chain)
    if c is None or depth > 8:
        return None, None
    for r in c.get("rules") or ():
        hit = _rule_matches(r, pkt)
        if hit is False:
            continue
        target = r.get("target") or ""
        if hit is None and (target in TERMINAL or _chain(snap, ns, table, target) is not None):
            return None, r
        if hit is None:
            continue
        if target in TERMINAL:
            return target, r
        if _chain(snap, ns, table, target) is not None:
            verdict, rule = walk(snap, ns, table, target, pkt, depth + 1)
            if verdict != "RETURN":
                return verdict, rule
            if r.get("goto"):
                return "RETURN", r
    return (c.get("policy") or "RETURN"), None


def diagnose_traffic(snap: Mapping, src_ns: str, dst: str, proto: str, dport: int | None) -> list[dict]:
    """Diagnoses for traffic from namespace `src_ns` to address `dst` that did not get through:
    ip_forward_off, forward_drop_no_accept, rule_after_drop, no_route_back."""
    dst_ip = _ip(dst)
    if dst_ip is None or dst_ip.version != 4 or src_ns not in (snap.get("links") or {}):
        return []
    src_ip = _source_ip(snap, src_ns, dst_ip)
    host_local = {_ip(a.get("address", "")) for a in (snap.get("addresses") or {}).get("host") or ()}
    diags: list[dict] = []
    src_side = _side(snap, src_ns)
    real_dst = dst_ip
    dst_owner = owner(snap, dst_ip)
    host_route_in = route_lookup(snap, "host", src_ip) if src_ip is not None else None
    in_if = host_route_in.get("dev") if host_route_in else None
    if src_ns != "host" and dst_owner == "host":
        verdict, rule = walk(
            snap, "host", "nat", "PREROUTING", _Packet(src_ip, dst_ip, proto, dport, in_if, None, host_local)
        )
        if verdict == "DNAT" and rule is not None:
            to = next((v for o, _, v in snapshot_rule_key(rule)[2] if o == "--to-destination"), "")
            addr, _, port = to.partition(":")
            real_dst = _ip(addr.split("-")[0]) or dst_ip
            if port and port.split("-")[0].isdigit():
                dport = int(port.split("-")[0])
            dst_owner = owner(snap, real_dst)
    dst_side = _side(snap, dst_owner)
    out_route = route_lookup(snap, "host", real_dst)
    out_if = out_route.get("dev") if out_route else None
    through_host = (
        src_ns != "host"
        and dst_owner not in ("host", src_ns)
        and "host" in (src_side, dst_side)
        and (src_side != dst_side or in_if != out_if)
    )
    routed = through_host and in_if != out_if
    bridged_nf = sysctl_value(snap, "host", "bridge_nf_call_iptables") == 1
    if routed and sysctl_value(snap, "host", "ip_forward") == 0:
        diags.append(diagnosis("ip_forward_off"))
    if through_host and (routed or bridged_nf):
        pkt = _Packet(src_ip, real_dst, proto, dport, in_if, out_if, host_local)
        verdict, rule = walk(snap, "host", "filter", "FORWARD", pkt)
        if verdict == "DROP" and rule is None:
            diags.append(diagnosis("forward_drop_no_accept", src=src_ip, dst=real_dst))
        elif verdict in ("DROP", "REJECT") and rule is not None:
            chain = _chain(snap, "host", "filter", rule["chain"]) or {}
            for later in (chain.get("rules") or ())[rule["number"] :]:
                if later.get("target") == "ACCEPT" and _rule_matches(later, pkt):
                    diags.append(
                        diagnosis(
                            "rule_after_drop",
                            chain=rule["chain"],
                            number=rule["number"],
                            rule=_line(rule),
                            after=later["number"],
                            after_rule=_line(later),
                        )
                    )
                    break
    # no route back: the answering namespace, and the router when the traffic crosses it
    seen_src = src_ip
    if routed and out_if is not None and src_ip is not None:
        verdict, rule = walk(
            snap,
            "host",
            "nat",
            "POSTROUTING",
            _Packet(src_ip, real_dst, proto, dport, in_if, out_if, host_local),
        )
        if verdict == "MASQUERADE":
            seen_src = _source_ip(snap, "host", real_dst) or seen_src
        elif verdict == "SNAT" and rule is not None:
            to = next((v for o, _, v in snapshot_rule_key(rule)[2] if o == "--to-source"), "")
            seen_src = _ip(to.split(":")[0].split("-")[0]) or seen_src
    if seen_src is not None and dst_owner is not None:
        answering = [dst_owner]
        if src_side != dst_side and "router" not in (src_ns, dst_owner):
            answering.append("router")
        for ns in answering:
            if route_lookup(snap, ns, seen_src) is None:
                diags.append(diagnosis("no_route_back", ns=ns, address=seen_src))
                break
    return [{"code": d["code"], "params": {k: str(v) for k, v in d["params"].items()}} for d in diags]
