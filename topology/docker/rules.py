"""Docker's iptables programs per version, as pure data (no kernel access).

A `Ruleset` is parsed `iptables-save` text (the parser and `Chain` of `topology.iptables_save`,
shared with the snapshots); a `Program` is what dockerd would run against it, recorded with Docker's
semantics ("add only if absent", "delete only if present", "ensure jump") and rendered as
`iptables-restore --noflush` input. Rule specs are kept in the canonical form `iptables-save` prints
(iptables 1.8.9, nft backend), without the leading `-A CHAIN`.
Only the default daemon options (iptables, ip-masq and userland proxy on; 28: ip6tables on) and
IPv4-only networks are modelled, so the only ip6tables program is 28's start-up skeleton
(`daemon_start6`, rendered as `ip6tables-restore --noflush` input).
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from topology.docker.model import VERSIONS, PortBinding
from topology.errors import UnsupportedVersion
from topology.iptables_save import BUILTIN_CHAINS, TABLE_ORDER, Chain, Rule, parse_iptables_save


def _user_chain(name: str) -> Chain:
    return Chain(name, None, 0, 0, ())


def _builtin_chain(name: str) -> Chain:
    return Chain(name, "ACCEPT", 0, 0, ())


class Ruleset:
    """Parsed iptables-save text: table -> chain -> Chain (compared by policies and rule specs)."""

    def __init__(self, tables: dict[str, dict[str, Chain]] | None = None) -> None:
        self.tables: dict[str, dict[str, Chain]] = tables if tables is not None else {}

    @classmethod
    def parse(cls, text: str) -> Ruleset:
        """Parse iptables-save output (strictly: ValueError on garbage); counters are left out of
        comparisons and rendering."""
        return cls(parse_iptables_save(text, strict=True))

    def render(self) -> str:
        """iptables-save-like text without counters: built-in chains first, then user chains sorted."""
        out: list[str] = []
        for name in _table_order(self.tables):
            chains = self.tables[name]
            order = _chain_order(name, chains)
            out.append(f"*{name}")
            out += [f":{c} {chains[c].policy or '-'}" for c in order]
            out += [f"-A {c} {rule.spec}".rstrip() for c in order for rule in chains[c].rules]
            out.append("COMMIT")
        return "".join(line + "\n" for line in out)

    def copy(self) -> Ruleset:
        """A copy whose tables can change without changing this one's (chains are immutable)."""
        return Ruleset({t: dict(cs) for t, cs in self.tables.items()})

    def has_chain(self, table: str, chain: str) -> bool:
        """Whether the chain exists."""
        return chain in self.tables.get(table, {})

    def rules(self, table: str, chain: str) -> list[str]:
        """The chain's rule specs (empty if the chain does not exist)."""
        ch = self.tables.get(table, {}).get(chain)
        return [r.spec for r in ch.rules] if ch else []

    def ensure_table(self, table: str) -> dict[str, Chain]:
        """The table, created with its built-in chains (policy ACCEPT) if missing."""
        if table not in self.tables:
            self.tables[table] = {c: _builtin_chain(c) for c in BUILTIN_CHAINS.get(table, ())}
        return self.tables[table]

    def _specs(self) -> dict[str, dict[str, tuple[str | None, list[str]]]]:
        return {
            t: {c: (ch.policy, [r.spec for r in ch.rules]) for c, ch in cs.items()}
            for t, cs in self.tables.items()
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ruleset) and self._specs() == other._specs()

    def __repr__(self) -> str:
        return f"Ruleset({self.render()!r})"


def _table_order(tables: dict[str, dict[str, Chain]]) -> list[str]:
    known = [t for t in TABLE_ORDER if t in tables]
    return known + sorted(t for t in tables if t not in TABLE_ORDER)


def _chain_order(table: str, chains: dict[str, Chain]) -> list[str]:
    builtin = [c for c in BUILTIN_CHAINS.get(table, ()) if c in chains]
    return builtin + sorted(c for c in chains if c not in builtin)


class Program:
    """Operations dockerd performs, applied to a private copy of a Ruleset as they are recorded."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset.copy()
        self.ops: list[tuple[str, str]] = []  # (table, "-A CHAIN spec") in execution order

    def _chain(self, table: str, chain: str) -> Chain:
        if chain in BUILTIN_CHAINS.get(table, ()):
            return self.ruleset.ensure_table(table).setdefault(chain, _builtin_chain(chain))
        ch = self.ruleset.tables.get(table, {}).get(chain)
        if ch is None:
            raise ValueError(f"no chain {chain} in table {table}")
        return ch

    def _set_rules(self, table: str, ch: Chain, rules: list[Rule]) -> None:
        numbered = tuple(r if r.number == i else replace(r, number=i) for i, r in enumerate(rules, 1))
        self.ruleset.tables[table][ch.name] = replace(ch, rules=numbered)

    def _record(self, table: str, line: str) -> None:
        self.ops.append((table, line))

    def new_chain(self, table: str, chain: str) -> None:
        """`iptables -t T -N C` unless the chain exists (Docker checks with `-L` first)."""
        if not self.ruleset.has_chain(table, chain):
            self.ruleset.ensure_table(table)[chain] = _user_chain(chain)
            self._record(table, f"-N {chain}")

    def append(self, table: str, chain: str, spec: str) -> None:
        """Append unless the rule already exists anywhere in the chain (`-C` check)."""
        ch = self._chain(table, chain)
        if spec not in (r.spec for r in ch.rules):
            self._set_rules(table, ch, [*ch.rules, Rule.from_line(f"-A {chain} {spec}")])
            self._record(table, f"-A {chain} {spec}")

    def insert(self, table: str, chain: str, spec: str, pos: int = 1) -> None:
        """Insert at pos (1-based) unless the rule already exists anywhere in the chain."""
        ch = self._chain(table, chain)
        if not 1 <= pos <= len(ch.rules) + 1:
            raise ValueError(f"insert position {pos} out of range for {table}/{chain}")
        if spec not in (r.spec for r in ch.rules):
            rules = list(ch.rules)
            rules.insert(pos - 1, Rule.from_line(f"-A {chain} {spec}"))
            self._set_rules(table, ch, rules)
            self._record(table, f"-I {chain} {spec}" if pos == 1 else f"-I {chain} {pos} {spec}")

    def delete(self, table: str, chain: str, spec: str) -> None:
        """Delete the first matching rule, only if present."""
        if not self.ruleset.has_chain(table, chain):
            return
        ch = self._chain(table, chain)
        specs = [r.spec for r in ch.rules]
        if spec in specs:
            rules = list(ch.rules)
            del rules[specs.index(spec)]
            self._set_rules(table, ch, rules)
            self._record(table, f"-D {chain} {spec}")

    def ensure_jump(self, table: str, chain: str, target: str) -> None:
        """Docker's EnsureJumpRule: delete `-j TARGET` if present, then insert it at position 1."""
        spec = f"-j {target}"
        self.delete(table, chain, spec)
        self.insert(table, chain, spec)

    def policy(self, table: str, chain: str, policy: str) -> None:
        """`iptables -P`; recorded only if it changes the policy."""
        if chain not in BUILTIN_CHAINS.get(table, ()):
            raise ValueError(f"{table}/{chain} is not a built-in chain")
        ch = self._chain(table, chain)
        if ch.policy != policy:
            self.ruleset.tables[table][chain] = replace(ch, policy=policy)
            self._record(table, f"-P {chain} {policy}")

    def flush(self, table: str, chain: str) -> None:
        """`iptables -F` (errors ignored): recorded only if the chain exists and has rules."""
        ch = self.ruleset.tables.get(table, {}).get(chain)
        if ch and ch.rules:
            self._set_rules(table, ch, [])
            self._record(table, f"-F {chain}")

    def delete_chain(self, table: str, chain: str) -> None:
        """`iptables -X` (errors ignored): only for an existing, empty, unreferenced user chain."""
        chains = self.ruleset.tables.get(table, {})
        ch = chains.get(chain)
        if ch is None or ch.rules or chain in BUILTIN_CHAINS.get(table, ()):
            return
        if any(rule.target == chain for other in chains.values() for rule in other.rules):
            return
        del chains[chain]
        self._record(table, f"-X {chain}")

    def render(self) -> str:
        """`iptables-restore --noflush` input: one `*table` ... `COMMIT` block per table touched."""
        blocks: dict[str, list[str]] = {}
        for table, line in self.ops:
            blocks.setdefault(table, []).append(line)
        return "".join(
            f"*{t}\n" + "".join(f"{line}\n" for line in lines) + "COMMIT\n" for t, lines in blocks.items()
        )

    def __len__(self) -> int:
        return len(self.ops)


# ---- rule specs (canonical iptables-save form) -------------------------------------------------

F, NAT, RAW, MANGLE = "filter", "nat", "raw", "mangle"
DOCKER, USER, FWD, BRIDGE, CT = "DOCKER", "DOCKER-USER", "DOCKER-FORWARD", "DOCKER-BRIDGE", "DOCKER-CT"
ISO1, ISO2, OLD_ISO = "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2", "DOCKER-ISOLATION"
PREROUTING_JUMP = "-m addrtype --dst-type LOCAL -j DOCKER"
OUTPUT_JUMP = "! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER"
OUTPUT_JUMP6 = "! -d ::1/128 -m addrtype --dst-type LOCAL -j DOCKER"
_CONNTRACK = "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"


def _net(subnet: str) -> str:
    return str(ipaddress.ip_network(subnet, strict=False))


def _host(ip: str) -> str:
    return f"{ipaddress.IPv4Address(ip)}/32"


def _proto(proto: str) -> str:
    if proto not in ("tcp", "udp", "sctp"):
        raise ValueError(f"unsupported protocol {proto!r}")
    return f"-p {proto} -m {proto}"


def _check(version: str) -> None:
    if version not in VERSIONS:
        raise UnsupportedVersion(f"Docker version {version!r} is not emulated (choose one of {VERSIONS})")


def _masq(br: str, subnet: str) -> str:
    return f"-s {_net(subnet)} ! -o {br} -j MASQUERADE"


def _icc(br: str, verdict: str) -> str:
    return f"-i {br} -o {br} -j {verdict}"


def _internal_drops(br: str, subnet: str) -> tuple[str, str]:
    return f"! -d {_net(subnet)} -i {br} -j DROP", f"! -s {_net(subnet)} -o {br} -j DROP"


def _inc(br: str) -> tuple[str, str]:
    return f"-i {br} ! -o {br} -j {ISO2}", f"-o {br} -j DROP"


def _remove_chains(p: Program, chains: tuple[tuple[str, str], ...], output_jump: str = OUTPUT_JUMP) -> None:
    """removeIPChains: drop the obsolete jump, the nat jumps, then -F/-X each chain."""
    p.delete(F, "FORWARD", f"-j {OLD_ISO}")
    for table, chain in chains:
        if table == NAT:
            p.delete(NAT, "PREROUTING", PREROUTING_JUMP)
            p.delete(NAT, "OUTPUT", output_jump)
            p.delete(NAT, "OUTPUT", PREROUTING_JUMP)
        p.flush(table, chain)
        p.delete_chain(table, chain)


# ---- 19.03 -------------------------------------------------------------------------------------


def _arrange_user_1903(p: Program) -> None:
    p.new_chain(F, USER)
    p.append(F, USER, "-j RETURN")
    p.ensure_jump(F, "FORWARD", USER)


def _icc_1903(p: Program, br: str, icc: bool, enable: bool = True) -> None:
    accept, drop = _icc(br, "ACCEPT"), _icc(br, "DROP")
    if not enable:
        p.delete(F, "FORWARD", accept if icc else drop)
    elif icc:
        p.delete(F, "FORWARD", drop)
        p.insert(F, "FORWARD", accept)
    else:
        p.delete(F, "FORWARD", accept)
        p.append(F, "FORWARD", drop)


def _bridge_1903(p: Program, br: str, subnet: str, internal: bool, icc: bool, masq: bool = True) -> None:
    if internal:
        for spec in _internal_drops(br, subnet):
            p.insert(F, ISO1, spec)
        _icc_1903(p, br, icc)
        p.ensure_jump(F, "FORWARD", ISO1)
        return
    if masq:  # setupIPTablesInternal: no MASQUERADE and no skip-DNAT RETURN without ip masquerade
        p.insert(NAT, "POSTROUTING", _masq(br, subnet))
        p.insert(NAT, DOCKER, f"-i {br} -j RETURN")
    _icc_1903(p, br, icc)
    p.insert(F, "FORWARD", f"-i {br} ! -o {br} -j ACCEPT")
    p.append(NAT, "PREROUTING", PREROUTING_JUMP)
    p.append(NAT, "OUTPUT", OUTPUT_JUMP)
    p.insert(F, "FORWARD", f"-o {br} -j {DOCKER}")
    p.insert(F, "FORWARD", f"-o {br} {_CONNTRACK}")
    p.ensure_jump(F, "FORWARD", ISO1)
    inc1, inc2 = _inc(br)
    p.insert(F, ISO1, inc1)
    p.insert(F, ISO2, inc2)


def _bridge_remove_1903(p: Program, br: str, subnet: str, internal: bool, icc: bool) -> None:
    if internal:
        for spec in _internal_drops(br, subnet):
            p.delete(F, ISO1, spec)
        _icc_1903(p, br, icc, enable=False)
        return
    inc1, inc2 = _inc(br)
    p.delete(F, ISO1, inc1)
    p.delete(F, ISO2, inc2)
    p.delete(NAT, "POSTROUTING", _masq(br, subnet))
    p.delete(NAT, DOCKER, f"-i {br} -j RETURN")
    _icc_1903(p, br, icc, enable=False)
    p.delete(F, "FORWARD", f"-i {br} ! -o {br} -j ACCEPT")
    p.delete(F, "FORWARD", f"-o {br} -j {DOCKER}")
    p.delete(F, "FORWARD", f"-o {br} {_CONNTRACK}")


# ---- 28 ----------------------------------------------------------------------------------------


def _icc_28(p: Program, br: str, icc: bool, internal: bool) -> None:
    accept, drop = _icc(br, "ACCEPT"), _icc(br, "DROP")
    (p.append if icc and internal else p.delete)(F, FWD, accept)
    (p.append if not icc else p.delete)(F, FWD, drop)
    p.delete(F, "FORWARD", accept)  # left behind by 28.0.0 or older
    p.delete(F, "FORWARD", drop)


def _bridge_28(p: Program, br: str, subnet: str, internal: bool, icc: bool, masq: bool = True) -> None:
    if internal:
        for spec in _internal_drops(br, subnet):
            p.insert(F, ISO1, spec)
        _icc_28(p, br, icc, internal=True)
        return
    if masq:  # setupNonInternalNetworkRules: both only with Masquerade
        p.insert(NAT, "POSTROUTING", _masq(br, subnet))
        p.insert(NAT, DOCKER, f"-i {br} -j RETURN")
    p.delete(NAT, "POSTROUTING", f"-o {br} -m addrtype --src-type LOCAL -j MASQUERADE")
    _icc_28(p, br, icc, internal=False)
    p.delete(F, "FORWARD", f"-i {br} ! -o {br} -j ACCEPT")
    if icc:
        p.append(F, FWD, f"-i {br} -j ACCEPT")
        p.delete(F, "FORWARD", f"-i {br} -j ACCEPT")
    else:
        p.append(F, FWD, f"-i {br} ! -o {br} -j ACCEPT")
    p.delete(F, "FORWARD", f"-o {br} -j {DOCKER}")  # 19.03-era rules (upgrade)
    p.delete(F, "FORWARD", f"-o {br} {_CONNTRACK}")
    p.append(F, DOCKER, f"! -i {br} -o {br} -j DROP")
    p.append(F, CT, f"-o {br} {_CONNTRACK}")
    p.append(F, BRIDGE, f"-o {br} -j {DOCKER}")
    inc1, inc2 = _inc(br)
    p.append(F, ISO1, inc1)
    p.insert(F, ISO2, inc2)


def _bridge_remove_28(p: Program, br: str, subnet: str, internal: bool, icc: bool) -> None:
    if internal:
        for spec in _internal_drops(br, subnet):
            p.delete(F, ISO1, spec)
        p.delete(F, FWD, _icc(br, "ACCEPT"))
        p.delete(F, FWD, _icc(br, "DROP"))
        return
    p.delete(NAT, "POSTROUTING", _masq(br, subnet))
    p.delete(NAT, DOCKER, f"-i {br} -j RETURN")
    p.delete(NAT, "POSTROUTING", f"-o {br} -m addrtype --src-type LOCAL -j MASQUERADE")
    p.delete(F, FWD, _icc(br, "ACCEPT"))
    p.delete(F, FWD, _icc(br, "DROP"))
    p.delete(F, FWD, f"-i {br} -j ACCEPT" if icc else f"-i {br} ! -o {br} -j ACCEPT")
    p.delete(F, DOCKER, f"! -i {br} -o {br} -j DROP")
    p.delete(F, CT, f"-o {br} {_CONNTRACK}")
    p.delete(F, BRIDGE, f"-o {br} -j {DOCKER}")
    inc1, inc2 = _inc(br)
    p.delete(F, ISO1, inc1)
    p.delete(F, ISO2, inc2)


_CHAINS_1903 = ((NAT, DOCKER), (F, DOCKER), (F, ISO1), (F, ISO2), (F, OLD_ISO))
_CHAINS_28 = ((NAT, DOCKER), (F, DOCKER), (F, FWD), (F, BRIDGE), (F, CT), (F, ISO1), (F, ISO2), (F, OLD_ISO))


def _driver_28(p: Program, family: int) -> None:
    """One family's bridge-driver init (removeIPChains, setupIPChains), then the controller's
    DOCKER-USER (no RETURN rule since 28.3). IPv6 differs only in the loopback and the ipset name."""
    output_jump = OUTPUT_JUMP if family == 4 else OUTPUT_JUMP6
    _remove_chains(p, _CHAINS_28, output_jump)
    for table, chain in _CHAINS_28[:7]:
        p.new_chain(table, chain)
    p.append(NAT, "PREROUTING", PREROUTING_JUMP)
    p.append(NAT, "OUTPUT", output_jump)
    p.ensure_jump(F, "FORWARD", FWD)
    for target in (BRIDGE, ISO1, CT):
        p.ensure_jump(F, FWD, target)
    ipset = f"-m set --match-set docker-ext-bridges-v{family} dst"  # 28.0.0 leftovers
    p.delete(F, "FORWARD", f"{ipset} -j {DOCKER}")
    p.delete(F, "FORWARD", f"-j {ISO1}")
    p.delete(F, "FORWARD", f"{ipset} {_CONNTRACK}")
    p.new_chain(F, USER)
    p.ensure_jump(F, "FORWARD", USER)


# ---- public programs ---------------------------------------------------------------------------


def daemon_start(
    version: str,
    rs: Ruleset,
    *,
    bridge: str = "docker0",
    subnet: str = "172.17.0.0/16",
    forward_was_off: bool = True,
    icc: bool = True,
) -> Program:
    """dockerd start, iptables side: stale-chain removal, driver chains, DOCKER-USER, then the
    default bridge's rules (see daemon_start6 for ip6tables).

    On a non-empty ruleset (a restart) Docker's chain clean-up runs first; user networks restored
    from Docker's store are not re-created here (follow with network_create for each).
    """
    _check(version)
    p = Program(rs)
    if version == "19.03":
        _remove_chains(p, _CHAINS_1903)
        for table, chain in _CHAINS_1903[:4]:
            p.new_chain(table, chain)
        p.append(F, ISO1, "-j RETURN")
        p.append(F, ISO2, "-j RETURN")
        if forward_was_off:
            p.policy(F, "FORWARD", "DROP")
        _arrange_user_1903(p)  # network "none"
        _arrange_user_1903(p)  # network "host"
        _bridge_1903(p, bridge, subnet, internal=False, icc=icc)
        _arrange_user_1903(p)  # network "bridge"
        return p
    _driver_28(p, 4)
    if forward_was_off:
        p.policy(F, "FORWARD", "DROP")
    _bridge_28(p, bridge, subnet, internal=False, icc=icc)
    return p


def daemon_start6(version: str, rs: Ruleset) -> Program:
    """dockerd start, ip6tables side (`rs` is the ip6tables-save state).

    28 (`--ip6tables` on by default since 27.0): the same driver chains, jumps and DOCKER-USER as
    IPv4, nothing else: no network has IPv6, so no per-network rules, and the ip6 FORWARD policy
    stays as it is (28.x sets it to DROP only when it turns IPv6 forwarding on, for an IPv6 network).
    Later IPv4-only network create/rm leave ip6tables alone (28.x only deletes ISOLATION rules that
    a 28.0.0 daemon may have left there, which this emulation never makes).
    19.03: nothing (no `--ip6tables`; it has no ip6tables rules for IPv4-only networks).
    """
    _check(version)
    p = Program(rs)
    if version != "19.03":
        _driver_28(p, 6)
    return p


def network_create(
    version: str,
    rs: Ruleset,
    *,
    bridge: str,
    subnet: str,
    internal: bool = False,
    icc: bool = True,
    masquerade: bool = True,
) -> Program:
    """`docker network create` of a bridge network (19.03 also re-arranges DOCKER-USER)."""
    _check(version)
    p = Program(rs)
    if version == "19.03":
        _bridge_1903(p, bridge, subnet, internal, icc, masquerade)
        _arrange_user_1903(p)
    else:
        _bridge_28(p, bridge, subnet, internal, icc, masquerade)
    return p


def network_remove(
    version: str, rs: Ruleset, *, bridge: str, subnet: str, internal: bool = False, icc: bool = True
) -> Program:
    """`docker network rm`: the network's rules go (each only if present: also without masquerade);
    the nat PREROUTING/OUTPUT jumps stay."""
    _check(version)
    p = Program(rs)
    (_bridge_remove_1903 if version == "19.03" else _bridge_remove_28)(p, bridge, subnet, internal, icc)
    return p


def _endpoint(version: str, rs: Ruleset, bridge: str, ip: str, internal: bool, enable: bool) -> Program:
    _check(version)
    p = Program(rs)
    if version == "28" and not internal:
        (p.append if enable else p.delete)(RAW, "PREROUTING", f"-d {_host(ip)} ! -i {bridge} -j DROP")
    return p


def endpoint_add(version: str, rs: Ruleset, *, bridge: str, ip: str, internal: bool = False) -> Program:
    """Container endpoint created: 28 drops direct access from outside the bridge (raw); 19.03 nothing."""
    return _endpoint(version, rs, bridge, ip, internal, True)


def endpoint_remove(version: str, rs: Ruleset, *, bridge: str, ip: str, internal: bool = False) -> Program:
    """Container endpoint deleted: undo endpoint_add."""
    return _endpoint(version, rs, bridge, ip, internal, False)


def _port_specs(bridge: str, container_ip: str, b: PortBinding) -> dict[str, str]:
    pm, br, cip, cport = _proto(b.proto), bridge, container_ip, b.container_port
    hip = b.host_ip or "0.0.0.0"
    dest = "" if ipaddress.IPv4Address(hip).is_unspecified else f"-d {_host(hip)} "
    return {
        "dnat": f"{dest}! -i {br} {pm} --dport {b.host_port} -j DNAT --to-destination {cip}:{cport}",
        "accept": f"-d {_host(cip)} ! -i {br} -o {br} {pm} --dport {cport} -j ACCEPT",
        "hairpin": f"-s {_host(cip)} -d {_host(cip)} {pm} --dport {cport} -j MASQUERADE",
        "sctp": f"{pm} --sport {cport} -j CHECKSUM --checksum-fill",
        "lo_drop": f"-d {_host(hip)} ! -i lo {pm} --dport {b.host_port} -j DROP",
        "lo_wsl": f"-d {_host(hip)} -i loopback0 {pm} --dport {b.host_port} -j ACCEPT",
    }


def _port(version: str, rs: Ruleset, enable: bool, bridge: str, container_ip: str, b: PortBinding) -> Program:
    _check(version)
    p = Program(rs)
    if ipaddress.ip_address(b.host_ip or "0.0.0.0").version != 4:
        return p  # served by docker-proxy only: no iptables rules for IPv6 host addresses
    s = _port_specs(bridge, container_ip, b)
    if version == "19.03":
        op = p.append if enable else p.delete
        op(NAT, DOCKER, s["dnat"])
        op(F, DOCKER, s["accept"])
        op(NAT, "POSTROUTING", s["hairpin"])
        if b.proto == "sctp":
            op(MANGLE, "POSTROUTING", s["sctp"])
        return p
    if ipaddress.IPv4Address(b.host_ip or "0.0.0.0").is_loopback:
        p.delete(RAW, "PREROUTING", s["lo_wsl"])  # WSL2 mirrored-mode rule: never wanted here
        (p.append if enable else p.delete)(RAW, "PREROUTING", s["lo_drop"])
    (p.append if enable else p.delete)(NAT, DOCKER, s["dnat"])
    p.delete(NAT, "POSTROUTING", s["hairpin"])  # proxy on: no hairpin rule
    (p.insert if enable else p.delete)(F, DOCKER, s["accept"])  # above every network's default DROP
    return p


def port_publish(
    version: str, rs: Ruleset, *, bridge: str, container_ip: str, binding: PortBinding
) -> Program:
    """Rules for one bound port (19.03: DNAT, ACCEPT, hairpin MASQUERADE appended; 28: spec 4.3)."""
    return _port(version, rs, True, bridge, container_ip, binding)


def port_unpublish(
    version: str, rs: Ruleset, *, bridge: str, container_ip: str, binding: PortBinding
) -> Program:
    """Delete the rules of one bound port (each only if present)."""
    return _port(version, rs, False, bridge, container_ip, binding)
