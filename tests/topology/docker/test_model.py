"""The engine's state types: a port is parsed once and keeps Docker's text where it is shown."""

from __future__ import annotations

import copy
import json
import pickle
from dataclasses import FrozenInstanceError, asdict

import pytest

from topology.docker.model import Container, ExposedPort, PortBinding


def test_exposed_port_is_docker_s_nat_port_text_with_its_parts():
    e = ExposedPort(53, "udp")
    assert (e, e.port, e.proto) == ("53/udp", 53, "udp")
    assert ExposedPort(80) == "80/tcp" and sorted([ExposedPort(80), ExposedPort(443)]) == [
        "443/tcp",
        "80/tcp",
    ]
    for twin in (copy.deepcopy(e), pickle.loads(pickle.dumps(e))):
        assert type(twin) is ExposedPort and (twin.port, twin.proto) == (53, "udp")


def test_a_binding_is_frozen_and_names_its_target():
    b = PortBinding(80, "tcp", "127.0.0.1", 8080)
    assert b.target == ExposedPort(80)
    with pytest.raises(FrozenInstanceError):
        b.host_port = 9090  # type: ignore[misc]


def test_a_container_serialises_its_ports_as_snapshots_show_them():
    c = Container(
        id="c" * 64,
        name="web",
        image="nginx",
        cmd=[],
        created="",
        network_mode="default",
        hostname="c" * 12,
        exposed=[ExposedPort(80)],
        ports=[PortBinding(80, "tcp", "0.0.0.0", 8080)],
    )
    shown = json.loads(json.dumps(asdict(c)))
    assert shown["exposed"] == ["80/tcp"]
    assert shown["ports"] == [
        {"container_port": 80, "proto": "tcp", "host_ip": "0.0.0.0", "host_port": 8080, "host_port_end": 0}
    ]
