"""Docker's iptables programs: golden listings (spec sections 3 and 4), semantics, kernel replay."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.topology.listings import (
    G28_START,
    G28_START6,
    G28_USERNET,
    G1903_START,
    G1903_USERNET,
    TEACHING_RULES,
    normalize,
)
from topology.docker import rules as R
from topology.docker.model import PortBinding
from topology.errors import UnsupportedVersion

# ---- golden listings (iptables-save, copied from the spec) -------------------------------------


def rule_lines(rs: R.Ruleset) -> set[tuple[str, str]]:
    """(table, "-A CHAIN spec") for every rule."""
    return {(t, f"-A {c} {spec}") for t, cs in rs.tables.items() for c in cs for spec in rs.rules(t, c)}


def meaningful(rs: R.Ruleset) -> R.Ruleset:
    """The ruleset without tables that hold nothing (the kernel keeps a table once created)."""
    out = rs.copy()
    for t in list(out.tables):
        chains = out.tables[t]
        pristine = set(chains) == set(R.BUILTIN_CHAINS.get(t, ())) and all(
            c.policy == "ACCEPT" and not c.rules for c in chains.values()
        )
        if pristine:
            del out.tables[t]
    return out


def publish(version, rs, bridge, cip, hport, cport=80, proto="tcp", host_ip="0.0.0.0"):
    binding = PortBinding(cport, proto, host_ip, hport)
    return R.port_publish(version, rs, bridge=bridge, container_ip=cip, binding=binding)


def unpublish(version, rs, bridge, cip, hport, cport=80, proto="tcp", host_ip="0.0.0.0"):
    binding = PortBinding(cport, proto, host_ip, hport)
    return R.port_unpublish(version, rs, bridge=bridge, container_ip=cip, binding=binding)


def scenario_1903_usernet() -> list[R.Program]:
    """Spec 3.3: docker0 + br-0123456789ab, one published port on each."""
    progs = [R.daemon_start("19.03", R.Ruleset())]
    progs.append(
        R.network_create("19.03", progs[-1].ruleset, bridge="br-0123456789ab", subnet="172.18.0.0/16")
    )
    progs.append(publish("19.03", progs[-1].ruleset, "docker0", "172.17.0.2", 8080))
    progs.append(publish("19.03", progs[-1].ruleset, "br-0123456789ab", "172.18.0.2", 32768))
    return progs


def scenario_28_usernet() -> list[R.Program]:
    """Spec 4.3: bridge1 192.0.2.0/24, container 192.0.2.2 with -p 8080:80."""
    progs = [R.daemon_start("28", R.Ruleset())]
    progs.append(R.network_create("28", progs[-1].ruleset, bridge="bridge1", subnet="192.0.2.0/24"))
    progs.append(R.endpoint_add("28", progs[-1].ruleset, bridge="bridge1", ip="192.0.2.2"))
    progs.append(publish("28", progs[-1].ruleset, "bridge1", "192.0.2.2", 8080))
    return progs


# ---- goldens (pure) ----------------------------------------------------------------------------


def test_1903_daemon_start_is_spec_3_2():
    assert R.daemon_start("19.03", R.Ruleset()).ruleset.render() == normalize(G1903_START)


def test_1903_publish_adds_exactly_the_three_teaching_rules():
    before = R.daemon_start("19.03", R.Ruleset()).ruleset
    after = publish("19.03", before, "docker0", "172.17.0.2", 32768).ruleset
    added = rule_lines(after) - rule_lines(before)
    assert rule_lines(before) <= rule_lines(after)
    assert {(t, line.replace("--dport 32768", "--dport 32769")) for t, line in added} == TEACHING_RULES


def test_1903_user_network_with_ports_is_spec_3_3():
    assert scenario_1903_usernet()[-1].ruleset.render() == normalize(G1903_USERNET)


def test_28_daemon_start_is_spec_4_2():
    assert R.daemon_start("28", R.Ruleset()).ruleset.render() == normalize(G28_START)


def test_28_user_network_endpoint_port_is_spec_4_3():
    assert scenario_28_usernet()[-1].ruleset.render() == normalize(G28_USERNET)


def test_forward_policy_untouched_when_forwarding_was_on():
    for version in R.VERSIONS:
        rs = R.daemon_start(version, R.Ruleset(), forward_was_off=False).ruleset
        assert rs.tables["filter"]["FORWARD"].policy == "ACCEPT"


def test_28_ip6_start_is_the_ipv4_skeleton_without_network_rules():
    """Spec 4.2 note: with ip6tables (default in 28) the same chains and jumps, no per-network rules."""
    v6 = R.daemon_start6("28", R.Ruleset()).ruleset
    assert v6.render() == normalize(G28_START6)
    v4 = R.Ruleset.parse(G28_START)
    assert set(v6.tables) == set(v4.tables)
    for table, chains in v4.tables.items():
        assert set(v6.tables[table]) == set(chains)
        for name in chains:
            jumps = [r for r in v4.rules(table, name) if "docker0" not in r and "172.17." not in r]
            assert v6.rules(table, name) == [r.replace("127.0.0.0/8", "::1/128") for r in jumps]
    assert v6.tables["filter"]["FORWARD"].policy == "ACCEPT"  # no IPv6 forwarding turned on


def test_1903_has_no_ip6tables_program():
    assert len(R.daemon_start6("19.03", R.Ruleset())) == 0
    with pytest.raises(UnsupportedVersion):
        R.daemon_start6("27", R.Ruleset())


def test_28_ip6_restart_rebuilds_the_skeleton_and_keeps_docker_user_rules():
    fresh = R.daemon_start6("28", R.Ruleset()).ruleset
    mine = R.Program(fresh)
    mine.append("filter", "DOCKER-USER", "-s 2001:db8::/32 -j DROP")
    p = R.daemon_start6("28", mine.ruleset)
    assert ("filter", "-F DOCKER-FORWARD") in p.ops and ("nat", "-X DOCKER") in p.ops
    assert p.ruleset == mine.ruleset
    assert R.daemon_start6("28", p.ruleset).ruleset == p.ruleset


def test_28_ip6_start_removes_the_28_0_0_ipset_layout():
    old = R.Ruleset.parse(
        "*filter\n:INPUT ACCEPT\n:FORWARD DROP\n:OUTPUT ACCEPT\n:DOCKER -\n"
        ":DOCKER-ISOLATION-STAGE-1 -\n:DOCKER-ISOLATION-STAGE-2 -\n:DOCKER-USER -\n"
        "-A FORWARD -j DOCKER-USER\n"
        "-A FORWARD -m set --match-set docker-ext-bridges-v6 dst"
        " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
        "-A FORWARD -j DOCKER-ISOLATION-STAGE-1\n"
        "-A FORWARD -m set --match-set docker-ext-bridges-v6 dst -j DOCKER\nCOMMIT\n"
    )
    rs = R.daemon_start6("28", old).ruleset
    assert rs.rules("filter", "FORWARD") == ["-j DOCKER-USER", "-j DOCKER-FORWARD"]
    assert rs.tables["filter"]["FORWARD"].policy == "DROP"  # a policy once set is left alone


# ---- Ruleset / Program semantics ---------------------------------------------------------------


def test_parse_ignores_counters_and_comments_and_render_orders_chains():
    text = (
        "# Generated by iptables-save v1.8.9 (nf_tables)\n"
        "*nat\n:POSTROUTING ACCEPT [5:300]\n:PREROUTING ACCEPT [1:2]\n"
        ":ZED - [0:0]\n:ABC - [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
        '[3:180] -A ZED -j RETURN\n-A ABC -m comment --comment "x y" -j RETURN\nCOMMIT\n'
        "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT DROP [0:0]\nCOMMIT\n# Completed\n"
    )
    rs = R.Ruleset.parse(text)
    assert rs.rules("nat", "ZED") == ["-j RETURN"]
    assert rs.rules("nat", "ABC") == ['-m comment --comment "x y" -j RETURN']
    assert rs.tables["raw"]["OUTPUT"].policy == "DROP"
    assert rs.render() == (
        "*raw\n:PREROUTING ACCEPT\n:OUTPUT DROP\nCOMMIT\n"
        "*nat\n:PREROUTING ACCEPT\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n:POSTROUTING ACCEPT\n:ABC -\n:ZED -\n"
        '-A ABC -m comment --comment "x y" -j RETURN\n-A ZED -j RETURN\nCOMMIT\n'
    )
    assert R.Ruleset.parse(rs.render()) == rs


def test_parse_rejects_garbage():
    with pytest.raises(ValueError):
        R.Ruleset.parse("*filter\n-A NOPE -j ACCEPT\nCOMMIT\n")
    with pytest.raises(ValueError):
        R.Ruleset.parse("iptables: permission denied\n")


def test_program_records_only_effective_operations():
    p = R.Program(R.Ruleset())
    assert p.render() == "" and len(p) == 0
    p.new_chain("filter", "X")
    p.new_chain("filter", "X")
    p.append("filter", "X", "-j RETURN")
    p.append("filter", "X", "-j RETURN")
    p.insert("filter", "X", "-s 10.0.0.0/8 -j DROP")
    p.insert("filter", "X", "-j RETURN")  # exists anywhere in the chain: no-op
    p.insert("filter", "X", "-d 10.0.0.1/32 -j ACCEPT", pos=2)
    p.delete("filter", "X", "-j ACCEPT")  # absent: no-op
    p.delete("nat", "POSTROUTING", "-j MASQUERADE")  # absent table: no-op, no table created
    p.policy("filter", "FORWARD", "ACCEPT")  # unchanged: no-op
    p.policy("filter", "FORWARD", "DROP")
    assert p.ruleset.rules("filter", "X") == [
        "-s 10.0.0.0/8 -j DROP",
        "-d 10.0.0.1/32 -j ACCEPT",
        "-j RETURN",
    ]
    assert "nat" not in p.ruleset.tables
    assert p.render() == (
        "*filter\n-N X\n-A X -j RETURN\n-I X -s 10.0.0.0/8 -j DROP\n-I X 2 -d 10.0.0.1/32 -j ACCEPT\n"
        "-P FORWARD DROP\nCOMMIT\n"
    )


def test_program_never_declares_chains_with_colon_lines():
    programs = scenario_1903_usernet() + scenario_28_usernet()
    programs.append(R.daemon_start("19.03", scenario_1903_usernet()[-1].ruleset))  # restart: -F/-X
    text = "".join(prog.render() for prog in programs)
    assert "-N DOCKER\n" in text and "-X " in text
    assert [line for line in text.splitlines() if not re.match(r"(\*\w+|COMMIT|-[AIDNPFX] \S)", line)] == []


def test_ensure_jump_moves_the_jump_to_the_top():
    rs = R.Ruleset.parse(
        "*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n:U -\n"
        "-A FORWARD -j ACCEPT\n-A FORWARD -j U\nCOMMIT\n"
    )
    p = R.Program(rs)
    p.ensure_jump("filter", "FORWARD", "U")
    assert p.ruleset.rules("filter", "FORWARD") == ["-j U", "-j ACCEPT"]
    assert p.ops == [("filter", "-D FORWARD -j U"), ("filter", "-I FORWARD -j U")]
    assert rs.rules("filter", "FORWARD") == ["-j ACCEPT", "-j U"]  # the input is not modified


def test_insert_position_and_missing_chain_are_errors():
    p = R.Program(R.Ruleset())
    with pytest.raises(ValueError):
        p.append("filter", "NOPE", "-j RETURN")
    with pytest.raises(ValueError):
        p.insert("filter", "FORWARD", "-j RETURN", pos=3)
    with pytest.raises(ValueError):
        p.policy("filter", "NOPE", "DROP")


def test_delete_chain_only_when_empty_and_unreferenced():
    rs = R.Ruleset.parse(
        "*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n:A -\n:B -\n:C -\n"
        "-A FORWARD -j A\n-A A -j B\nCOMMIT\n"
    )
    p = R.Program(rs)
    for chain in ("A", "B", "C", "FORWARD", "MISSING"):
        p.delete_chain("filter", chain)
    assert p.ops == [("filter", "-X C")]
    p.flush("filter", "A")
    p.flush("filter", "C")  # gone: no-op
    p.delete_chain("filter", "B")
    assert p.ops[1:] == [("filter", "-F A"), ("filter", "-X B")]


def test_unknown_version_is_refused():
    with pytest.raises(UnsupportedVersion):
        R.daemon_start("20.10", R.Ruleset())
    with pytest.raises(UnsupportedVersion):
        R.endpoint_add("29", R.Ruleset(), bridge="docker0", ip="172.17.0.2")


# ---- variants ----------------------------------------------------------------------------------


def test_1903_endpoints_leave_no_trace_and_28_adds_raw_drop():
    base = R.daemon_start("19.03", R.Ruleset()).ruleset
    assert len(R.endpoint_add("19.03", base, bridge="docker0", ip="172.17.0.2")) == 0
    base28 = R.daemon_start("28", R.Ruleset()).ruleset
    p = R.endpoint_add("28", base28, bridge="docker0", ip="172.17.0.2")
    assert p.render() == "*raw\n-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP\nCOMMIT\n"
    assert len(R.endpoint_add("28", base28, bridge="docker0", ip="172.17.0.2", internal=True)) == 0


def test_28_loopback_publish_matches_spec_4_5():
    rs = R.daemon_start("28", R.Ruleset()).ruleset
    rs = R.endpoint_add("28", rs, bridge="docker0", ip="172.17.0.2").ruleset
    rs = publish("28", rs, "docker0", "172.17.0.2", 8080, host_ip="127.0.0.1").ruleset
    assert rs.rules("raw", "PREROUTING") == [
        "-d 172.17.0.2/32 ! -i docker0 -j DROP",
        "-d 127.0.0.1/32 ! -i lo -p tcp -m tcp --dport 8080 -j DROP",
    ]
    assert rs.rules("nat", "DOCKER")[-1] == (
        "-d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80"
    )


def test_28_accept_rules_are_inserted_above_every_default_drop():
    progs = scenario_28_usernet()
    rs = publish("28", progs[-1].ruleset, "docker0", "172.17.0.2", 9090, cport=443, proto="udp").ruleset
    assert rs.rules("filter", "DOCKER")[:2] == [
        "-d 172.17.0.2/32 ! -i docker0 -o docker0 -p udp -m udp --dport 443 -j ACCEPT",
        "-d 192.0.2.2/32 ! -i bridge1 -o bridge1 -p tcp -m tcp --dport 80 -j ACCEPT",
    ]
    assert not any("MASQUERADE" in r and "/32" in r for r in rs.rules("nat", "POSTROUTING"))


def test_28_icc_off_matches_spec_4_5():
    rs = R.daemon_start("28", R.Ruleset(), icc=False).ruleset
    assert rs.rules("filter", "DOCKER-FORWARD")[3:] == [
        "-i docker0 -o docker0 -j DROP",
        "-i docker0 ! -o docker0 -j ACCEPT",
    ]


def test_28_internal_networks_match_spec_4_5():
    rs = R.daemon_start("28", R.Ruleset()).ruleset
    rs = R.network_create("28", rs, bridge="bridgeICC", subnet="192.0.2.0/24", internal=True).ruleset
    rs = R.network_create(
        "28", rs, bridge="bridgeNoICC", subnet="198.51.100.0/24", internal=True, icc=False
    ).ruleset
    assert rs.rules("filter", "DOCKER-FORWARD")[-2:] == [
        "-i bridgeICC -o bridgeICC -j ACCEPT",
        "-i bridgeNoICC -o bridgeNoICC -j DROP",
    ]
    assert rs.rules("filter", "DOCKER-ISOLATION-STAGE-1") == [
        "! -s 198.51.100.0/24 -o bridgeNoICC -j DROP",
        "! -d 198.51.100.0/24 -i bridgeNoICC -j DROP",
        "! -s 192.0.2.0/24 -o bridgeICC -j DROP",
        "! -d 192.0.2.0/24 -i bridgeICC -j DROP",
        "-i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
    ]
    assert "bridgeICC" not in R.Ruleset.render(rs).split("*nat")[1]


def test_1903_internal_and_icc_off_match_spec_3_5():
    rs = R.daemon_start("19.03", R.Ruleset(), icc=False).ruleset
    assert rs.rules("filter", "FORWARD")[-1] == "-i docker0 -o docker0 -j DROP"
    rs = R.network_create("19.03", rs, bridge="br-int", subnet="172.18.0.0/16", internal=True).ruleset
    assert rs.rules("filter", "DOCKER-ISOLATION-STAGE-1")[:2] == [
        "! -s 172.18.0.0/16 -o br-int -j DROP",
        "! -d 172.18.0.0/16 -i br-int -j DROP",
    ]
    assert rs.rules("filter", "FORWARD")[:3] == [
        "-j DOCKER-USER",
        "-j DOCKER-ISOLATION-STAGE-1",
        "-i br-int -o br-int -j ACCEPT",
    ]
    assert not any("br-int" in r for r in rs.rules("nat", "POSTROUTING") + rs.rules("nat", "DOCKER"))


def test_1903_sctp_adds_the_checksum_rule_and_udp_uses_udp_match():
    rs = R.daemon_start("19.03", R.Ruleset()).ruleset
    p = publish("19.03", rs, "docker0", "172.17.0.2", 5000, cport=5000, proto="sctp")
    assert p.ruleset.rules("mangle", "POSTROUTING") == [
        "-p sctp -m sctp --sport 5000 -j CHECKSUM --checksum-fill"
    ]
    u = publish("19.03", rs, "docker0", "172.17.0.2", 53, cport=53, proto="udp", host_ip="192.0.2.7")
    assert u.ruleset.rules("nat", "DOCKER")[-1] == (
        "-d 192.0.2.7/32 ! -i docker0 -p udp -m udp --dport 53 -j DNAT --to-destination 172.17.0.2:53"
    )


def test_ipv6_host_address_gets_no_rules():
    for version in R.VERSIONS:
        rs = R.daemon_start(version, R.Ruleset()).ruleset
        assert len(publish(version, rs, "docker0", "172.17.0.2", 8080, host_ip="::")) == 0


def test_1903_second_binding_to_same_container_port_shares_and_loses_rules():
    """Docker 19.03 quirk: two host ports for one container port share the ACCEPT/MASQUERADE rules."""
    rs = R.daemon_start("19.03", R.Ruleset()).ruleset
    rs = publish("19.03", rs, "docker0", "172.17.0.2", 8080).ruleset
    p = publish("19.03", rs, "docker0", "172.17.0.2", 8081)
    assert [op[1].split(" ")[1] for op in p.ops] == ["DOCKER"]  # only the DNAT is new
    rs = unpublish("19.03", p.ruleset, "docker0", "172.17.0.2", 8080).ruleset
    assert rs.rules("filter", "DOCKER") == []
    assert len(rs.rules("nat", "DOCKER")) == 2  # RETURN and the 8081 DNAT


# ---- removal brings the state back -------------------------------------------------------------


@pytest.mark.parametrize("version", R.VERSIONS)
@pytest.mark.parametrize("internal,icc", [(False, True), (False, False), (True, True), (True, False)])
def test_network_remove_undoes_network_create(version, internal, icc):
    base = R.daemon_start(version, R.Ruleset()).ruleset
    kw = {"bridge": "br-0123456789ab", "subnet": "172.18.0.0/16", "internal": internal, "icc": icc}
    created = R.network_create(version, base, **kw).ruleset
    assert created != base
    assert R.network_remove(version, created, **kw).ruleset == base


@pytest.mark.parametrize("version", R.VERSIONS)
@pytest.mark.parametrize("host_ip,proto", [("0.0.0.0", "tcp"), ("127.0.0.1", "udp"), ("192.0.2.9", "sctp")])
def test_unpublish_and_endpoint_remove_undo_their_adds(version, host_ip, proto):
    base = R.daemon_start(version, R.Ruleset()).ruleset
    ep = R.endpoint_add(version, base, bridge="docker0", ip="172.17.0.2").ruleset
    pub = publish(version, ep, "docker0", "172.17.0.2", 8080, proto=proto, host_ip=host_ip).ruleset
    assert pub != ep
    back = unpublish(version, pub, "docker0", "172.17.0.2", 8080, proto=proto, host_ip=host_ip).ruleset
    assert meaningful(back) == meaningful(ep)
    assert meaningful(
        R.endpoint_remove(version, back, bridge="docker0", ip="172.17.0.2").ruleset
    ) == meaningful(base)


NETS = [(f"br-{i:012x}", f"172.{18 + i}.0.0/16", i % 3 == 2, i % 2 == 0) for i in range(6)]


@settings(max_examples=40, deadline=None)
@given(
    version=st.sampled_from(R.VERSIONS),
    picked=st.lists(st.sampled_from(NETS), min_size=1, max_size=6, unique=True),
    data=st.data(),
)
def test_networks_removed_in_any_order_restore_daemon_state(version, picked, data):
    base = R.daemon_start(version, R.Ruleset()).ruleset
    rs = base
    for br, subnet, internal, icc in picked:
        rs = R.network_create(version, rs, bridge=br, subnet=subnet, internal=internal, icc=icc).ruleset
    for br, subnet, internal, icc in data.draw(st.permutations(picked)):
        rs = R.network_remove(version, rs, bridge=br, subnet=subnet, internal=internal, icc=icc).ruleset
    assert rs == base


def test_1903_restart_flushes_docker_chain_but_keeps_forward_rules():
    rs = scenario_1903_usernet()[-1].ruleset
    p = R.daemon_start("19.03", rs, forward_was_off=False)
    assert ("filter", "-F DOCKER") in p.ops and ("nat", "-X DOCKER") in p.ops
    assert ("filter", "-X DOCKER") not in p.ops  # still referenced from FORWARD
    after = p.ruleset
    assert after.rules("filter", "DOCKER") == []
    assert after.rules("nat", "DOCKER") == ["-i docker0 -j RETURN"]
    assert "-o br-0123456789ab -j DOCKER" in after.rules("filter", "FORWARD")


# ---- kernel replay -----------------------------------------------------------------------------

REPLAY = r"""
mount -t tmpfs none /run || exit 1
i=0
while [ -f "$1/p$i" ]; do
  "$2-restore" --noflush < "$1/p$i" || { echo "program p$i failed" >&2; exit 2; }
  "$2-save" > "$1/s$i"
  i=$((i+1))
done
"""

kernel_ok = os.geteuid() == 0 and all(
    shutil.which(t)
    for t in ("unshare", "iptables-restore", "iptables-save", "ip6tables-restore", "ip6tables-save")
)


def replay(programs: list[R.Program], tmp_path: Path, tool: str = "iptables") -> list[str]:
    """Apply each program in a throw-away network namespace; `tool`-save after each one."""
    for i, prog in enumerate(programs):
        (tmp_path / f"p{i}").write_text(prog.render())
    res = subprocess.run(
        ["unshare", "--net", "--mount", "sh", "-c", REPLAY, "sh", str(tmp_path), tool],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    return [(tmp_path / f"s{i}").read_text() for i in range(len(programs))]


def assert_model_matches_kernel(
    programs: list[R.Program], tmp_path: Path, tool: str = "iptables"
) -> list[str]:
    saves = replay(programs, tmp_path, tool)
    for i, (prog, save) in enumerate(zip(programs, saves, strict=True)):
        assert R.Ruleset.parse(save) == prog.ruleset, f"after program {i}:\n{prog.render()}"
        assert normalize(save) == prog.ruleset.render()
    return saves


@pytest.mark.kernel
@pytest.mark.skipif(not kernel_ok, reason="needs root, unshare and iptables")
def test_kernel_1903_daemon_start_and_publish(tmp_path):
    start = R.daemon_start("19.03", R.Ruleset())
    pub = publish("19.03", start.ruleset, "docker0", "172.17.0.2", 32768)
    saves = assert_model_matches_kernel([start, pub], tmp_path)
    assert normalize(saves[0]) == normalize(G1903_START)
    before, after = (R.Ruleset.parse(s) for s in saves)
    added = {
        (t, line.replace("--dport 32768", "--dport 32769"))
        for t, line in rule_lines(after) - rule_lines(before)
    }
    assert added == TEACHING_RULES


@pytest.mark.kernel
@pytest.mark.skipif(not kernel_ok, reason="needs root, unshare and iptables")
def test_kernel_1903_user_network_is_spec_3_3(tmp_path):
    saves = assert_model_matches_kernel(scenario_1903_usernet(), tmp_path)
    assert normalize(saves[-1]) == normalize(G1903_USERNET)


@pytest.mark.kernel
@pytest.mark.skipif(not kernel_ok, reason="needs root, unshare and iptables")
def test_kernel_28_start_and_user_network_are_spec_4_2_and_4_3(tmp_path):
    saves = assert_model_matches_kernel(scenario_28_usernet(), tmp_path)
    assert normalize(saves[0]) == normalize(G28_START)
    assert normalize(saves[-1]) == normalize(G28_USERNET)


@pytest.mark.kernel
@pytest.mark.skipif(not kernel_ok, reason="needs root, unshare and iptables")
def test_kernel_28_ip6_start_and_restart(tmp_path):
    progs = [R.daemon_start6("28", R.Ruleset())]
    user = R.Program(progs[-1].ruleset)
    user.append("filter", "DOCKER-USER", "-s 2001:db8::/32 -j DROP")
    progs += [user, R.daemon_start6("28", user.ruleset)]  # a restart keeps the user's rule
    saves = assert_model_matches_kernel(progs, tmp_path, "ip6tables")
    assert normalize(saves[0]) == normalize(G28_START6)
    assert normalize(saves[2]) == normalize(saves[1])


@pytest.mark.kernel
@pytest.mark.skipif(not kernel_ok, reason="needs root, unshare and iptables")
@pytest.mark.parametrize("version", R.VERSIONS)
def test_kernel_removals_restore_previous_state_and_restart(version, tmp_path):
    """A long scenario; the model must equal the kernel after every step, removals undo adds."""
    progs = [R.daemon_start(version, R.Ruleset())]

    def step(fn, *args, **kw):
        progs.append(fn(version, progs[-1].ruleset, *args, **kw))

    net = {"bridge": "br-aaaaaaaaaaaa", "subnet": "172.18.0.0/16"}
    internal = {"bridge": "br-bbbbbbbbbbbb", "subnet": "172.19.0.0/16", "internal": True, "icc": False}
    step(R.network_create, **net)
    mark_net = len(progs) - 1
    step(R.network_create, **internal)
    step(R.endpoint_add, bridge=net["bridge"], ip="172.18.0.2")
    mark_ep = len(progs) - 1
    ports = [("0.0.0.0", 32768, "tcp"), ("127.0.0.1", 8080, "udp"), ("192.0.2.1", 9000, "sctp")]
    for host_ip, hport, proto in ports:
        progs.append(
            publish(version, progs[-1].ruleset, net["bridge"], "172.18.0.2", hport, 80, proto, host_ip)
        )
    for host_ip, hport, proto in reversed(ports):
        progs.append(
            unpublish(version, progs[-1].ruleset, net["bridge"], "172.18.0.2", hport, 80, proto, host_ip)
        )
    mark_unpub = len(progs) - 1
    step(R.endpoint_remove, bridge=net["bridge"], ip="172.18.0.2")
    mark_ep_rm = len(progs) - 1
    step(R.network_remove, **internal)
    mark_int_rm = len(progs) - 1
    step(R.network_create, **internal)
    progs.append(publish(version, progs[-1].ruleset, "docker0", "172.17.0.2", 8080))
    progs.append(R.daemon_start(version, progs[-1].ruleset, forward_was_off=False))  # restart
    saves = [R.Ruleset.parse(s) for s in assert_model_matches_kernel(progs, tmp_path)]
    assert meaningful(saves[mark_unpub]) == meaningful(saves[mark_ep])
    assert meaningful(saves[mark_ep_rm]) == meaningful(saves[mark_ep - 1])
    assert meaningful(saves[mark_int_rm]) == meaningful(saves[mark_net])
    assert saves[-1].rules("filter", "DOCKER") == (
        [] if version == "19.03" else ["! -i docker0 -o docker0 -j DROP"]
    )


@pytest.mark.parametrize("version", R.VERSIONS)
def test_network_without_ip_masquerade_has_no_masquerade_nor_skip_dnat(version):
    """-o com.docker.network.bridge.enable_ip_masquerade=false: libnetwork programs neither the
    MASQUERADE rule nor the DOCKER `-i br -j RETURN` (19.03 setupIPTablesInternal, 28
    setupNonInternalNetworkRules; moby 28's iptabler golden `masq=false` has neither)."""
    start = R.daemon_start(version, R.Ruleset())
    br, subnet = "br-0123456789ab", "172.18.0.0/16"
    with_masq = R.network_create(version, start.ruleset, bridge=br, subnet=subnet)
    without = R.network_create(version, start.ruleset, bridge=br, subnet=subnet, masquerade=False)
    assert rule_lines(with_masq.ruleset) - rule_lines(without.ruleset) == {
        ("nat", f"-A POSTROUTING -s {subnet} ! -o {br} -j MASQUERADE"),
        ("nat", f"-A DOCKER -i {br} -j RETURN"),
    }
    assert rule_lines(without.ruleset) - rule_lines(with_masq.ruleset) == set()
    # a published port keeps its DNAT and ACCEPT (19.03 also its hairpin MASQUERADE)
    pub = publish(version, without.ruleset, br, "172.18.0.2", 8080)
    assert any("DNAT --to-destination 172.18.0.2:80" in line for _t, line in rule_lines(pub.ruleset))
    removed = R.network_remove(version, without.ruleset, bridge=br, subnet=subnet)
    assert (
        removed.ruleset.render()
        == R.network_remove(version, with_masq.ruleset, bridge=br, subnet=subnet).ruleset.render()
    )


@pytest.mark.kernel
@pytest.mark.skipif(not kernel_ok, reason="needs root, unshare and iptables")
@pytest.mark.parametrize("version", R.VERSIONS)
def test_kernel_network_without_ip_masquerade(version, tmp_path):
    progs = [R.daemon_start(version, R.Ruleset())]
    net = {"bridge": "br-0123456789ab", "subnet": "172.18.0.0/16"}
    progs.append(R.network_create(version, progs[-1].ruleset, **net, masquerade=False))
    progs.append(R.network_remove(version, progs[-1].ruleset, **net))
    saves = assert_model_matches_kernel(progs, tmp_path)
    nat = [line for line in saves[1].splitlines() if "br-0123456789ab" in line and "MASQUERADE" in line]
    assert nat == [] and "-A DOCKER -i br-0123456789ab -j RETURN" not in saves[1]
    assert "br-0123456789ab" not in saves[2]
