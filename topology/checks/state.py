"""The state check kinds (`STATE`): container, network, link(s), address, route, sysctl, rule, policy,
conntrack, listening; `check` runs one."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from topology.checks.lookup import (
    as_bool,
    as_ip,
    as_net,
    find_container,
    missing_ns,
    ns_arg,
    route_net,
    sysctl_value,
    wants_present,
    wrong_ns,
)
from topology.checks.messages import diagnosis, result
from topology.checks.rule_matching import blocked_by, chain_of, find_rule, rule_spec, spec_key


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
        code = "container.missing" if wants_present(args) else "container.ok"
        return result("container", not wants_present(args), code, name=name)
    if not wants_present(args):
        return result("container", False, "container.unexpected", name=name)
    running = c.get("status") == "running"
    if "running" in args and as_bool(args["running"]) != running:
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
            "network",
            not wants_present(args),
            "network.missing" if wants_present(args) else "network.ok",
            name=name,
        )
    if not wants_present(args):
        return result("network", False, "network.unexpected", name=name)
    for field, actual, expected, same in (
        ("subnet", n.get("subnet"), args.get("subnet"), lambda a, e: as_net(a) == as_net(e)),
        ("internal", n.get("internal"), args.get("internal"), lambda a, e: bool(a) == as_bool(e)),
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
    ns = ns_arg(args)
    if err := missing_ns("link", snap, ns):
        return err
    pattern = args.get("name_pattern")
    name = str(args.get("name") or pattern or "")

    def named(link: Mapping) -> bool:
        if pattern:
            return re.fullmatch(str(pattern), str(link.get("name", ""))) is not None
        return link.get("name") == name

    candidates = [x for x in snap["links"][ns] if named(x)]
    if not wants_present(args):
        bad = [x for x in candidates if _link_mismatch(x, args) is None]
        if bad:
            return result("link", False, "link.unexpected", name=bad[0]["name"], ns=ns)
        return result("link", True, "link.ok", name=name, ns=ns)
    if not candidates:
        diags = wrong_ns(
            snap,
            "links",
            ns,
            diagnosis("part.link", name=name),
            lambda x: named(x) and _link_mismatch(x, args) is None,
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
    ns = ns_arg(args)
    if err := missing_ns("links", snap, ns):
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
    ns = ns_arg(args)
    if err := missing_ns("address", snap, ns):
        return err
    text = str(args["address"])
    ip = as_ip(text)
    plen = int(text.split("/", 1)[1]) if "/" in text else None
    ifname = args.get("ifname")
    same_ip = [a for a in snap["addresses"].get(ns, ()) if as_ip(a.get("address", "")) == ip]
    if not wants_present(args):
        bad = [a for a in same_ip if not ifname or a.get("ifname") == ifname]
        if bad:
            return result("address", False, "address.unexpected", address=text, ns=ns)
        return result("address", True, "address.ok", address=text, ns=ns)
    if not same_ip:
        diags = wrong_ns(
            snap,
            "addresses",
            ns,
            diagnosis("part.address", address=text),
            lambda a: as_ip(a.get("address", "")) == ip,
        )
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


def check_route(args: Mapping, snap: Mapping) -> dict:
    ns = ns_arg(args)
    if err := missing_ns("route", snap, ns):
        return err
    dest = str(args.get("destination") or "default")
    net = as_net(dest)
    table = str(args.get("table") or "main")
    same = [
        r
        for r in snap["routes"].get(ns, ())
        if r.get("table") == table
        and r.get("family") == ("inet6" if net and net.version == 6 else "inet")
        and route_net(r) == net
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

    if not wants_present(args):
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


def check_sysctl(args: Mapping, snap: Mapping) -> dict:
    ns, name = ns_arg(args), str(args["name"])
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


def check_rule(args: Mapping, snap: Mapping) -> dict:
    ns, table, chain = ns_arg(args), str(args.get("table") or "filter"), str(args["chain"])
    spec = str(args["rule"])
    key = spec_key(spec)
    p = {"rule": spec, "table": table, "chain": chain, "ns": ns}
    if key is None or not key[1]:
        return result("rule", False, "rule.bad_spec", rule=spec)
    c = chain_of(snap, ns, table, chain)
    if c is None:
        if not wants_present(args):
            return result("rule", True, "rule.absent_ok", **p)
        return result("rule", False, "chain.missing", table=table, chain=chain, ns=ns)
    found = find_rule(snap, ns, table, chain, spec)
    if not wants_present(args):
        if found:
            return result("rule", False, "rule.unexpected", number=found[1]["number"], **p)
        return result("rule", True, "rule.absent_ok", **p)
    if found is None:
        diags = [
            diagnosis("wrong_namespace", what=diagnosis("part.rule", rule=spec), found=others, expected=ns)
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
        if blocker is not None and as_bool(args["effective"]):
            diags = []
            if blocker.get("target") in ("DROP", "REJECT"):
                diags.append(
                    diagnosis(
                        "rule_after_drop",
                        chain=chain,
                        number=blocker["number"],
                        rule=rule_spec(blocker),
                        after=rule["number"],
                        after_rule=rule_spec(rule),
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
                by_rule=rule_spec(blocker),
            )
        if blocker is None and not as_bool(args["effective"]):
            return result("rule", False, "rule.effective", rule=spec, number=rule["number"], chain=chain)
    return result("rule", True, "rule.ok", number=rule["number"], **p)


def check_policy(args: Mapping, snap: Mapping) -> dict:
    ns, table, chain = ns_arg(args), str(args.get("table") or "filter"), str(args["chain"])
    c = chain_of(snap, ns, table, chain)
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
    ns = ns_arg(args)
    want = {k: args[k] for k in (*_CT_FIELDS, "nat") if k in args and args[k] is not None}
    criteria = " ".join(f"{k}={v}" for k, v in want.items()) or "*"

    def matches(e: Mapping) -> bool:
        for k, v in want.items():
            if k == "nat":
                if not (e.get("nat") == v or (e.get("nat") == "both" and v in ("dnat", "snat"))):
                    return False
            elif k in ("orig_src", "orig_dst", "reply_src"):
                if as_ip(e.get(k) or "") != as_ip(str(v)):
                    return False
            elif str(e.get(k)) != str(v):
                return False
        return True

    hit = any(matches(e) for e in (snap.get("conntrack") or {}).get(ns) or ())
    if wants_present(args):
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
    ns, port, proto = ns_arg(args), int(args["port"]), str(args.get("proto") or "tcp")
    if err := missing_ns("listening", snap, ns):
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
    if not wants_present(args):
        if good:
            return result("listening", False, "listening.unexpected", process=_holder(snap, ns, good[0]), **p)
        return result("listening", True, "listening.absent_ok", **p)
    if good:
        return result("listening", True, "listening.ok", process=_holder(snap, ns, good[0]), **p)
    if not socks:
        diags = wrong_ns(
            snap,
            "sockets",
            ns,
            diagnosis("part.port", proto=proto, port=port),
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
