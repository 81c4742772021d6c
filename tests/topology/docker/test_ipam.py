"""Docker's IPAM: default pools, per-version subnet choice, addresses and their errors, MACs."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topology.docker import ipam as I
from topology.docker.ipam import ON_USER_NETWORKS_ONLY, USER_SUBNETS_ONLY, static_address_error
from topology.docker.model import Network
from topology.errors import UnsupportedVersion


def daemon(version: str) -> I.Ipam:
    """An IPAM with docker0 on its usual 172.17.0.0/16."""
    ipam = I.Ipam(version)
    assert ipam.default_bridge_pool().subnet == "172.17.0.0/16"
    return ipam


def test_default_pools_are_docker_31_in_order():
    pools = I.DEFAULT_POOLS
    assert len(pools) == 31 == len(set(pools))
    assert pools[:5] == ("172.17.0.0/16", "172.18.0.0/16", "172.19.0.0/16", "172.20.0.0/16", "172.21.0.0/16")
    assert pools[14] == "172.31.0.0/16"
    assert pools[15:18] == ("192.168.0.0/20", "192.168.16.0/20", "192.168.32.0/20")
    assert pools[-1] == "192.168.240.0/20"


def test_1903_start_index_rotates_past_released_pools():
    ipam = daemon("19.03")
    first = ipam.allocate_pool()
    assert first.subnet == "172.18.0.0/16"
    ipam.release_pool(first.subnet)
    assert ipam.allocate_pool().subnet == "172.19.0.0/16"  # spec 1.5: not 172.18 again


def test_28_takes_the_lowest_free_pool():
    ipam = daemon("28")
    first = ipam.allocate_pool()
    assert first.subnet == "172.18.0.0/16"
    ipam.release_pool(first.subnet)
    assert ipam.allocate_pool().subnet == "172.18.0.0/16"


def test_1903_rotation_wraps_to_lower_free_pools():
    ipam = daemon("19.03")
    subnets = [ipam.allocate_pool().subnet for _ in range(30)]
    assert subnets == list(I.DEFAULT_POOLS[1:])
    assert ipam.start_index == 0  # moved past the end of the list
    ipam.release_pool("172.21.0.0/16")
    ipam.release_pool("172.19.0.0/16")
    assert ipam.allocate_pool().subnet == "172.19.0.0/16"
    assert ipam.start_index == 3
    assert ipam.allocate_pool().subnet == "172.21.0.0/16"


def test_1903_start_index_resets_to_zero_when_it_runs_past_the_end():
    ipam = daemon("19.03")
    ipam.request_subnet("192.168.240.0/20")  # the last pool, taken without rotating
    for _ in range(29):
        ipam.allocate_pool()
    assert ipam.start_index == 30
    ipam.release_pool("172.19.0.0/16")
    assert ipam.allocate_pool().subnet == "172.19.0.0/16"  # found after wrapping: 30 + 3 + 1 -> 0
    assert ipam.start_index == 0
    ipam.release_pool("172.18.0.0/16")
    ipam.release_pool("172.21.0.0/16")
    assert ipam.allocate_pool().subnet == "172.18.0.0/16"


def test_1903_host_route_overlap_skips_and_still_advances():
    ipam = daemon("19.03")
    routes = ["172.18.5.0/24", ("172.19.0.0/16", "universe"), "default", "0.0.0.0/0"]
    assert ipam.allocate_pool(host_routes=routes).subnet == "172.20.0.0/16"
    assert "172.18.0.0/16" not in ipam.pools and "172.19.0.0/16" not in ipam.pools  # held pools released
    assert ipam.allocate_pool().subnet == "172.21.0.0/16"


def test_28_only_on_link_routes_and_nameservers_block_pools():
    ipam = daemon("28")
    routes = [("172.18.0.0/16", "universe"), ("172.19.0.0/24", "link")]
    assert ipam.allocate_pool(host_routes=routes).subnet == "172.18.0.0/16"
    assert (
        ipam.allocate_pool(host_routes=routes, nameservers=["172.20.0.53", "::1"]).subnet == "172.21.0.0/16"
    )


def test_nameservers_and_taken_subnets_block_pools_in_1903():
    ipam = daemon("19.03")
    assert (
        ipam.allocate_pool(nameservers=["172.18.1.1"], taken_subnets=["172.19.0.0/24"]).subnet
        == "172.20.0.0/16"
    )


@pytest.mark.parametrize("version", ["19.03", "28"])
def test_pool_exhaustion_error_text(version):
    ipam = daemon(version)
    for _ in range(30):
        ipam.allocate_pool()
    with pytest.raises(I.IpamError) as e:
        ipam.allocate_pool()
    assert e.value.kind == "pools_exhausted"
    assert str(e.value) == EXHAUSTED[version]


EXHAUSTED = {
    "19.03": "could not find an available, non-overlapping IPv4 address pool among the defaults "
    "to assign to the network",
    "28": "all predefined address pools have been fully subnetted",
}


def test_1903_exhaustion_releases_held_pools():
    ipam = daemon("19.03")
    for _ in range(29):
        ipam.allocate_pool()
    with pytest.raises(I.IpamError):
        ipam.allocate_pool(host_routes=["192.168.240.0/20"])
    assert "192.168.240.0/20" not in ipam.pools
    assert ipam.allocate_pool().subnet == "192.168.240.0/20"


@pytest.mark.parametrize("version", ["19.03", "28"])
def test_requested_subnet_overlap_error(version):
    ipam = daemon(version)
    assert ipam.request_subnet("10.1.0.0/16").subnet == "10.1.0.0/16"
    for clash in ("10.1.2.0/24", "10.0.0.0/8", "172.17.0.0/24"):
        with pytest.raises(I.IpamError, match="^Pool overlaps with other one on this address space$"):
            ipam.request_subnet(clash)
    assert ipam.request_subnet("10.2.0.0/16", gateway="10.2.0.254").gateway == "10.2.0.254"


def test_identical_subnet_is_shared_in_1903_and_refused_in_28():
    old = daemon("19.03")
    a = old.request_subnet("10.1.0.0/16")
    assert old.request_subnet("10.1.0.0/16") is a and a.refcount == 2
    old.release_pool("10.1.0.0/16")
    assert "10.1.0.0/16" in old.pools
    assert I.bridge_conflict_message("n2", "br-n2", "n1", "br-n1") == (
        "cannot create network n2 (br-n2): conflicts with network n1 (br-n1): networks have overlapping IPv4"
    )
    new = daemon("28")
    new.request_subnet("10.1.0.0/16")
    with pytest.raises(I.IpamError, match="Pool overlaps"):
        new.request_subnet("10.1.0.0/16")


def test_requested_subnet_ignores_host_routes_and_does_not_rotate():
    ipam = daemon("19.03")
    ipam.request_subnet("172.19.0.0/16")
    assert ipam.start_index == 0
    assert ipam.allocate_pool().subnet == "172.18.0.0/16"
    assert ipam.allocate_pool().subnet == "172.20.0.0/16"


@pytest.mark.parametrize("version", ["19.03", "28"])
def test_addresses_gateway_first_then_lowest_free_and_reuse(version):
    pool = daemon(version).allocate_pool()
    assert pool.gateway == "172.18.0.1"
    assert [pool.request_address() for _ in range(3)] == ["172.18.0.2", "172.18.0.3", "172.18.0.4"]
    pool.release_address("172.18.0.3")
    assert pool.request_address() == "172.18.0.3"
    assert pool.request_address("172.18.200.7") == "172.18.200.7"
    assert pool.request_address() == "172.18.0.5"
    assert pool.used() == [
        "172.18.0.1",
        "172.18.0.2",
        "172.18.0.3",
        "172.18.0.4",
        "172.18.0.5",
        "172.18.200.7",
    ]


def test_custom_gateway_leaves_dot_one_for_containers():
    pool = daemon("28").request_subnet("10.9.0.0/24", gateway="10.9.0.254")
    assert pool.request_address() == "10.9.0.1"


def test_address_errors_have_docker_texts():
    pool = daemon("19.03").request_subnet("10.9.0.0/24")
    pool.request_address("10.9.0.10")
    for ip in ("10.9.0.10", "10.9.0.1", "10.9.0.0", "10.9.0.255"):
        with pytest.raises(I.IpamError, match="^Address already in use$"):
            pool.request_address(ip)
    with pytest.raises(I.IpamError) as e:
        pool.request_address("10.10.0.5")
    assert str(e.value) == "Invalid address 10.10.0.5: It does not belong to any of this network's subnets"


def test_full_pool_errors():
    pool = daemon("28").request_subnet("10.9.0.0/30")
    assert pool.gateway == "10.9.0.1" and pool.request_address() == "10.9.0.2"
    with pytest.raises(I.IpamError) as e:
        pool.request_address(network="mynet", network_id="abc123")
    assert str(e.value) == "no available IPv4 addresses on this network's address pools: mynet (abc123)"
    with pytest.raises(I.IpamError, match="^No available addresses on this pool$"):
        pool.request_address("10.9.0.2")  # libnetwork checks fullness before the address itself


def test_slash_31_differs_between_versions():
    assert daemon("28").request_subnet("10.9.0.0/31").gateway == "10.9.0.0"
    with pytest.raises(I.IpamError) as e:
        daemon("19.03").request_subnet("10.9.0.0/31")
    assert str(e.value) == "failed to allocate gateway (): No available addresses on this pool"


def test_gateway_errors_release_the_pool():
    ipam = daemon("28")
    with pytest.raises(I.IpamError) as e:
        ipam.request_subnet("10.9.0.0/24", gateway="10.8.0.1")
    assert str(e.value) == "failed to allocate gateway (10.8.0.1): requested address is out of range"
    with pytest.raises(
        I.IpamError, match=r"^failed to allocate gateway \(10\.9\.0\.0\): Address already in use$"
    ):
        ipam.request_subnet("10.9.0.0/24", gateway="10.9.0.0")
    assert "10.9.0.0/24" not in ipam.pools
    assert ipam.request_subnet("10.9.0.0/24").gateway == "10.9.0.1"


def test_default_bridge_pool_bip_and_host_routes():
    assert I.Ipam("19.03").default_bridge_pool(bip="10.200.0.1/24").gateway == "10.200.0.1"
    assert I.Ipam("28").default_bridge_pool(bip="10.200.0.0/24").gateway == "10.200.0.1"
    assert (
        I.Ipam("19.03").default_bridge_pool(host_routes=[("172.17.0.0/16", "universe")]).subnet
        == "172.18.0.0/16"
    )
    assert (
        I.Ipam("28").default_bridge_pool(host_routes=[("172.17.0.0/16", "universe")]).subnet
        == "172.17.0.0/16"
    )
    ipam = I.Ipam("19.03")
    ipam.default_bridge_pool(host_routes=["172.17.0.0/16"])
    assert ipam.start_index == 0 and ipam.allocate_pool().subnet == "172.17.0.0/16"


def test_unknown_version():
    with pytest.raises(UnsupportedVersion):
        I.Ipam("29")
    with pytest.raises(UnsupportedVersion):
        I.mac_for("18.09", "172.17.0.2")


def test_1903_macs():
    assert I.mac_for("19.03", "172.17.0.2") == "02:42:ac:11:00:02"
    assert I.mac_for("19.03", "192.168.16.254") == "02:42:c0:a8:10:fe"
    mac = I.bridge_mac("19.03", random.Random(1))
    assert re.fullmatch(r"02:42(:[0-9a-f]{2}){4}", mac)
    assert mac != I.bridge_mac("19.03", random.Random(2))


@given(seed=st.integers(0, 2**32))
def test_28_macs_are_random_locally_administered_unicast(seed):
    for mac in (I.mac_for("28", "172.17.0.2", random.Random(seed)), I.bridge_mac("28", random.Random(seed))):
        assert re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", mac)
        first = int(mac[:2], 16)
        assert first & 0x01 == 0 and first & 0x02 == 2


def test_28_macs_differ_between_calls():
    macs = {I.mac_for("28", "172.17.0.2") for _ in range(20)}
    assert len(macs) == 20
    assert I.mac_for("28", "172.17.0.2", random.Random(7)) == I.mac_for("28", "172.17.0.3", random.Random(7))


@given(ops=st.lists(st.tuples(st.booleans(), st.integers(0, 5)), max_size=40))
def test_address_allocation_is_lowest_free(ops):
    pool = daemon("28").request_subnet("10.0.0.0/28")
    held: set[int] = {1}
    for take, n in ops:
        if take and len(held) < 14:
            got = int(pool.request_address().rsplit(".", 1)[1])
            assert got == min(set(range(1, 15)) - held)
            held.add(got)
        elif held - {1}:
            victim = sorted(held - {1})[n % len(held - {1})]
            pool.release_address(f"10.0.0.{victim}")
            held.discard(victim)
    assert pool.used() == [f"10.0.0.{i}" for i in sorted(held)]


def test_static_address_rules_per_version():
    def net(name: str, user_subnet: bool) -> Network:
        return Network(
            id="0" * 64, name=name, driver="bridge", created="", subnet="10.9.0.0/24", user_subnet=user_subnet
        )

    bridge, nosub, withsub = net("bridge", False), net("nosub", False), net("withsub", True)
    assert static_address_error("19.03", "", "bridge", bridge) == ""
    assert static_address_error("19.03", "10.9.0.5", "default", bridge) == ON_USER_NETWORKS_ONLY
    assert static_address_error("19.03", "10.9.0.5", "host", None) == ON_USER_NETWORKS_ONLY
    assert static_address_error("19.03", "10.9.0.5", "nosub", nosub) == USER_SUBNETS_ONLY
    assert static_address_error("19.03", "10.9.0.5", "withsub", withsub) == ""
    assert static_address_error("19.03", "10.9.0.5", "container:abc", None) == ""
    heading = "invalid endpoint settings:\n"
    assert (
        static_address_error("28", "10.9.0.5", "bridge", bridge)
        == f"{heading}* {ON_USER_NETWORKS_ONLY}\n* {USER_SUBNETS_ONLY}"
    )
    assert static_address_error("28", "abc", "none", None) == (
        f"{heading}* {ON_USER_NETWORKS_ONLY}\n* invalid IPv4 address: abc\n* {USER_SUBNETS_ONLY}"
    )
    assert static_address_error("28", "10.9.0.5", "nosub", nosub) == heading + USER_SUBNETS_ONLY
    assert static_address_error("28", "10.9.0.5", "withsub", withsub) == ""
    assert static_address_error("28", "10.8.0.5", "withsub", withsub) == (
        heading + "no configured subnet or ip-range contain the IP address 10.8.0.5"
    )
    assert static_address_error("28", "0.0.0.0", "withsub", withsub) == (
        f"{heading}* invalid IPv4 address: 0.0.0.0\n"
        "* no configured subnet or ip-range contain the IP address 0.0.0.0"
    )


@pytest.mark.parametrize("version", ["19.03", "28"])
def test_ip_range_gives_gateway_and_addresses_from_the_range(version):
    """libnetwork's sub-pool: getAddress's SetAnyInRange from the range's first address (its .0 too,
    docker/for-linux#170), the gateway as well unless given; --ip may still pick outside the range."""
    ipam = I.Ipam(version)
    pool = ipam.request_subnet("172.20.0.0/16", ip_range="172.20.10.0/24")
    assert pool.gateway == "172.20.10.0"
    assert [pool.request_address() for _ in range(2)] == ["172.20.10.1", "172.20.10.2"]
    assert pool.request_address("172.20.0.5") == "172.20.0.5"
    other = ipam.request_subnet("172.21.0.0/16", gateway="172.21.0.1", ip_range="172.21.255.252/30")
    assert [other.request_address() for _ in range(3)] == [
        "172.21.255.252",
        "172.21.255.253",
        "172.21.255.254",
    ]
    with pytest.raises(I.IpamError):  # the range's last address is the subnet's broadcast
        other.request_address()
