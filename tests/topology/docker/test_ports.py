"""Docker's host-port allocator and binding order, per version."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topology.docker.model import ExposedPort, PortBinding
from topology.docker.ports import (
    FALLBACK_RANGE,
    PortAllocator,
    PortError,
    parse_port_range,
    sort_bindings,
)
from topology.errors import UnsupportedVersion

VERSIONS = ("19.03", "28")


def test_parse_port_range():
    assert parse_port_range("32768\t60999\n") == (32768, 60999)
    assert parse_port_range("1024 2048") == (1024, 2048)
    assert parse_port_range(None) == FALLBACK_RANGE == (49153, 65535)
    assert parse_port_range("garbage") == FALLBACK_RANGE
    assert parse_port_range("32768") == FALLBACK_RANGE


@pytest.mark.parametrize("version", VERSIONS)
def test_dynamic_ports_are_sequential_from_range_start_and_not_reused(version):
    pa = PortAllocator(version)
    assert [pa.request("0.0.0.0", "tcp") for _ in range(3)] == [32768, 32769, 32770]
    pa.release("0.0.0.0", "tcp", 32768)
    assert pa.request("0.0.0.0", "tcp") == 32771  # the "last port" pointer is kept
    assert pa.request("0.0.0.0", "udp") == 32768  # per protocol
    assert pa.allocated("0.0.0.0", "tcp") == [32769, 32770, 32771]


@pytest.mark.parametrize("version", VERSIONS)
def test_dynamic_search_wraps_and_exhausts(version):
    pa = PortAllocator(version, "100\t102")
    assert pa.request("0.0.0.0", "tcp", 101) == 101
    assert [pa.request("0.0.0.0", "tcp") for _ in range(2)] == [100, 102]
    with pytest.raises(PortError, match="^all ports are allocated$"):
        pa.request("0.0.0.0", "tcp")
    pa.release("0.0.0.0", "tcp", 100)
    assert pa.request("0.0.0.0", "tcp") == 100  # wrapped around after 102


@pytest.mark.parametrize("version", VERSIONS)
def test_explicit_port_conflict_message(version):
    pa = PortAllocator(version)
    assert pa.request("0.0.0.0", "tcp", 8080) == 8080
    with pytest.raises(PortError) as e:
        pa.request("0.0.0.0", "tcp", 8080)
    assert str(e.value) == "Bind for 0.0.0.0:8080 failed: port is already allocated"
    assert pa.request("0.0.0.0", "udp", 8080) == 8080
    pa.release("0.0.0.0", "tcp", 8080)
    assert pa.request("", "tcp", 8080) == 8080  # "" is the default binding IP 0.0.0.0


def test_1903_host_ips_do_not_conflict_in_the_allocator():
    pa = PortAllocator("19.03")
    pa.request("0.0.0.0", "tcp", 8080)
    assert pa.request("127.0.0.1", "tcp", 8080) == 8080
    assert pa.request("127.0.0.1", "tcp") == 32768
    assert pa.request("0.0.0.0", "tcp") == 32768
    with pytest.raises(PortError, match=r"^Bind for 127\.0\.0\.1:8080 failed: port is already allocated$"):
        pa.request("127.0.0.1", "tcp", 8080)


def test_28_unspecified_address_conflicts_with_specific_ones():
    pa = PortAllocator("28")
    pa.request("0.0.0.0", "tcp", 8080)
    with pytest.raises(PortError, match=r"^Bind for 0\.0\.0\.0:8080 failed: port is already allocated$"):
        pa.request("127.0.0.1", "tcp", 8080)
    pa.request("127.0.0.1", "tcp", 9090)
    with pytest.raises(PortError, match=r"^Bind for 127\.0\.0\.1:9090 failed"):
        pa.request("0.0.0.0", "tcp", 9090)
    assert pa.request("::", "tcp", 9090) == 9090  # other family
    assert pa.request("192.0.2.1", "tcp", 9090) == 9090  # two specific addresses do not conflict
    assert pa.request("127.0.0.1", "tcp") == 32768
    assert pa.request("0.0.0.0", "tcp") == 32769  # 32768 is held by 127.0.0.1


def test_28_several_host_ips_share_one_port():
    pa = PortAllocator("28")
    assert pa.request(["0.0.0.0", "::"], "tcp") == 32768
    assert pa.request(["0.0.0.0", "::"], "tcp", 8080) == 8080
    assert pa.allocated("::", "tcp") == [8080, 32768]
    pa.release(["0.0.0.0", "::"], "tcp", 8080)
    assert pa.allocated("0.0.0.0", "tcp") == [32768]
    with pytest.raises(ValueError):
        PortAllocator("19.03").request(["0.0.0.0", "::"], "tcp")


@pytest.mark.parametrize("version", VERSIONS)
def test_explicit_ranges_have_their_own_last_pointer(version):
    pa = PortAllocator(version)
    assert pa.request("0.0.0.0", "tcp", 8000, 8002) == 8000
    assert pa.request("0.0.0.0", "tcp", 8000, 8002) == 8001
    assert pa.request("0.0.0.0", "tcp") == 32768
    pa.request("0.0.0.0", "tcp", 8002)
    with pytest.raises(PortError, match="all ports are allocated"):
        pa.request("0.0.0.0", "tcp", 8000, 8002)


def test_protocol_and_range_validation():
    for version in VERSIONS:
        with pytest.raises(PortError, match="^unknown protocol$"):
            PortAllocator(version).request("0.0.0.0", "icmp")
    with pytest.raises(PortError, match=r"^invalid port range: 9000-8000$"):
        PortAllocator("28").request("0.0.0.0", "tcp", 9000, 8000)
    with pytest.raises(PortError, match="all ports are allocated"):
        PortAllocator("19.03").request("0.0.0.0", "tcp", 9000, 8000)
    with pytest.raises(UnsupportedVersion):
        PortAllocator("17.06")


def test_unreadable_range_falls_back():
    assert PortAllocator("28", None).request("0.0.0.0", "tcp") == 49153
    assert PortAllocator("19.03", "").request("0.0.0.0", "tcp") == 49153


# ---- binding order -----------------------------------------------------------------------------


def ports_of(bindings):
    return [(b.container_port, b.proto, b.host_port) for b in bindings]


def test_expose_80_443_with_P_gets_opposite_orders():
    both = [PortBinding(80), PortBinding(443)]
    assert ports_of(sort_bindings("19.03", both)) == [(443, "tcp", 0), (80, "tcp", 0)]
    assert ports_of(sort_bindings("28", both)) == [(80, "tcp", 0), (443, "tcp", 0)]
    pa = PortAllocator("19.03")
    assigned = {b.container_port: pa.request("0.0.0.0", b.proto) for b in sort_bindings("19.03", both)}
    assert assigned == {443: 32768, 80: 32769}  # spec 3.4


def test_1903_tcp_before_udp_and_grouped_per_port():
    got = sort_bindings(
        "19.03",
        [
            PortBinding(53, "udp", host_port=5353),
            PortBinding(53, "tcp"),
            PortBinding(80, host_port=8080),
            PortBinding(80, host_port=8081),
        ],
    )
    assert ports_of(got) == [(80, "tcp", 8081), (80, "tcp", 8080), (53, "tcp", 0), (53, "udp", 5353)]


def test_1903_order_follows_go_sort_of_a_non_transitive_comparison():
    # Less() says both "80 with host port 8080" < "443" and "443" < "80 with host port 8080":
    # the result depends on the input order, exactly as Go's insertion sort leaves it.
    a, b = PortBinding(80, host_port=8080), PortBinding(443)
    assert ports_of(sort_bindings("19.03", [a, b])) == [(443, "tcp", 0), (80, "tcp", 8080)]
    assert ports_of(sort_bindings("19.03", [b, a])) == [(80, "tcp", 8080), (443, "tcp", 0)]
    # The exposed-port order (Go map order in Docker) decides; an unpublished port changes it too.
    assert ports_of(sort_bindings("19.03", [a, b], exposed=[ExposedPort(443), ExposedPort(80)])) == [
        (80, "tcp", 8080),
        (443, "tcp", 0),
    ]
    exposed = [ExposedPort(8443), ExposedPort(80), ExposedPort(443)]
    assert ports_of(sort_bindings("19.03", [a, b], exposed=exposed)) == [(80, "tcp", 8080), (443, "tcp", 0)]
    assert ports_of(sort_bindings("19.03", [a, b], exposed=exposed[1:])) == [
        (443, "tcp", 0),
        (80, "tcp", 8080),
    ]


def test_1903_many_exposed_ports_descend():
    got = sort_bindings("19.03", [PortBinding(p) for p in (1, 2, 3, 4, 5, 6, 7, 8)])
    assert [b.container_port for b in got] == [8, 7, 6, 5, 4, 3, 2, 1]


def test_28_order_exact_ports_first_then_port_proto_hostport_hostip():
    got = sort_bindings(
        "28",
        [
            PortBinding(80, "udp"),
            PortBinding(443, host_port=8443),
            PortBinding(80, host_ip="::", host_port=8080),
            PortBinding(80, host_ip="0.0.0.0", host_port=8080),
            PortBinding(80, "sctp", host_port=8080),
            PortBinding(22, host_port=2000, host_port_end=2010),
            PortBinding(80, "udp", host_port=8080),
        ],
    )
    assert [(b.container_port, b.proto, b.host_ip, b.host_port, b.host_port_end) for b in got] == [
        (80, "tcp", "0.0.0.0", 8080, 8080),
        (80, "tcp", "::", 8080, 8080),
        (80, "udp", "", 8080, 8080),
        (80, "sctp", "", 8080, 8080),
        (443, "tcp", "", 8443, 8443),
        (22, "tcp", "", 2000, 2010),
        (80, "udp", "", 0, 0),
    ]


binding_st = st.builds(
    PortBinding,
    container_port=st.integers(1, 6),
    proto=st.sampled_from(["tcp", "udp", "sctp"]),
    host_ip=st.sampled_from(["", "0.0.0.0", "::", "127.0.0.1"]),
    host_port=st.sampled_from([0, 8080, 8081]),
)


@given(st.lists(binding_st, max_size=10, unique=True), st.randoms(use_true_random=False))
def test_sort_is_a_permutation_and_28_ignores_input_order(bindings, rnd):
    shuffled = list(bindings)
    rnd.shuffle(shuffled)
    assert sorted(map(repr, sort_bindings("19.03", bindings))) == sorted(map(repr, bindings))
    assert sort_bindings("28", bindings) == sort_bindings("28", shuffled)
    assert len(sort_bindings("28", bindings)) == len(bindings)
