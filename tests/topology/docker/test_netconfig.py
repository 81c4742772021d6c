"""A container's NetworkSettings.Networks: the order a start joins them, its gateway endpoint, and
inspect's entries of `docker network connect` (the kernel side: test_connect_stopped.py)."""

from __future__ import annotations

import pytest

from tests.topology.docker.objects import LAB, NETWORKS, V19, V28, container, network
from topology.docker import inspect_json, netconfig
from topology.docker.ipam import ALIASES_ON_USER_NETWORKS_ONLY, static_address_error
from topology.docker.model import NetworkConfig, configured_networks, network_names


def test_a_container_not_changed_has_its_network_modes_network():
    c = container("box", network_mode="default", requested_ip="172.18.0.9", aliases=["db"])
    assert configured_networks(c) == [NetworkConfig("bridge", "172.18.0.9", ["db"])]
    assert configured_networks(container("side", network_mode="container:" + "a" * 64)) == []
    assert network_names(c) == ["bridge"] and c.networks is None


@pytest.mark.parametrize(
    ("version", "order"), [(V19, ["bridge", "zeta", "alpha"]), (V28, ["zeta", "bridge", "alpha"])]
)
def test_join_order(version, order):
    """allocateNetwork: 19.03 joins the default bridge first, then the others (the order they were
    added, Go's map order mostly); 28 all in that order."""
    c = container("box")
    c.networks = [NetworkConfig("zeta"), NetworkConfig("bridge"), NetworkConfig("alpha")]
    assert [cfg.name for cfg in netconfig.join_order(version, c)] == order


@pytest.mark.parametrize(("version", "joined"), [(V19, ["bridge"]), (V28, [])])
def test_with_no_network_left_1903_joins_its_modes_network_again(version, joined):
    c = container("box", network_mode="default")
    c.networks = []
    assert [cfg.name for cfg in netconfig.join_order(version, c)] == joined


def test_gateway_network_sorts_by_internal_then_name():
    web, backend = network("web"), network("backend")
    hidden = network("aaa", internal=True)
    assert netconfig.gateway_network(V19, [web, backend, hidden]) is backend
    assert netconfig.gateway_network(V19, [hidden]) is hidden  # 19.03's internal networks have a gateway
    assert netconfig.gateway_network(V28, [hidden]) is None
    assert netconfig.gateway_network(V28, []) is None


@pytest.mark.parametrize("version", [V19, V28])
def test_aliases_only_on_user_networks(version):
    prefix = "" if version == V19 else "invalid endpoint settings:\n"
    err = static_address_error(version, "", "bridge", NETWORKS[0], aliases=True)
    assert err == prefix + ALIASES_ON_USER_NETWORKS_ONLY
    assert static_address_error(version, "", "lab", LAB, aliases=True) == ""


@pytest.mark.parametrize("version", [V19, V28])
def test_inspect_of_an_entry_network_connect_made(version):
    """docker/cli sends IPAMConfig, Aliases and DriverOpts even empty; NetworkID comes at the join."""
    c = container("box", status="created")
    c.networks = [NetworkConfig("bridge"), NetworkConfig("lab", connected=True)]
    entries = inspect_json.inspect_container(c, NETWORKS, version=version)["NetworkSettings"]["Networks"]
    lab = entries["lab"]
    assert (lab["IPAMConfig"], lab["DriverOpts"], lab["NetworkID"], lab["IPAddress"]) == ({}, {}, "", "")
    assert lab["Aliases"] == (["bbbbbbbbbbbb"] if version == V19 else [])
    assert entries["bridge"]["IPAMConfig"] is None and entries["bridge"]["DriverOpts"] is None
    c.networks[1] = NetworkConfig("lab", "172.18.0.50", ["db"], network_id=LAB.id, connected=True)
    lab = inspect_json.inspect_container(c, NETWORKS, version=version)["NetworkSettings"]["Networks"]["lab"]
    assert (lab["IPAMConfig"], lab["NetworkID"]) == ({"IPv4Address": "172.18.0.50"}, LAB.id)
