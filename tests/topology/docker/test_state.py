"""The engine's state file: what a restarted daemon reads back is what the engine held."""

from __future__ import annotations

import json

import pytest

from topology.docker import state
from topology.docker.engine import Engine
from topology.docker.model import Container, Endpoint, ExposedPort, PortBinding
from topology.docker.ports import PortAllocator


def _busy_engine() -> Engine:
    engine = Engine("28")
    c = Container(
        id="a" * 64,
        name="web",
        image="nginx",
        cmd=["nginx", "-g", "daemon off;"],
        created="2026-01-01T00:00:00.000000Z",
        network_mode="default",
        hostname="aaaaaaaaaaaa",
        status="running",
        exposed=[ExposedPort(80), ExposedPort(53, "udp")],
        published=[PortBinding(80, host_port=8080)],
        ports=[PortBinding(80, "tcp", "0.0.0.0", 8080)],
        endpoints=[
            Endpoint("bridge", "172.17.0.2", 16, "172.17.0.1", "02:42:ac:11:00:02", "eth0", "veth1234567")
        ],
        labels={"tier": "front"},
        links=[("db", "database")],
    )
    engine.containers[c.id] = c
    engine.ipam.pool("172.17.0.0/16").request_address("172.17.0.2")
    engine.ipam.allocate_pool(host_routes=[])
    engine.publisher.ports = PortAllocator("28", "32768 60999")
    engine.publisher.ports.request(["0.0.0.0", "::"], "tcp", 8080)
    engine.publisher.ports.request(["0.0.0.0", "::"], "tcp", 0)
    return engine


def _restored(engine: Engine) -> dict:
    text = json.dumps(state.engine_data(engine, {}))  # through text, as on disk
    return state.engine_state(json.loads(text))


def test_the_engine_reads_back_what_it_held():
    engine = _busy_engine()
    back = _restored(engine)
    assert back["version"] == "28"
    assert back["containers"] == engine.containers  # dataclasses compare field by field
    c = back["containers"]["a" * 64]
    assert type(c.exposed[0]) is ExposedPort and c.exposed[0].port == 80
    assert c.links == [("db", "database")] and c.ports[0].host_port == 8080
    assert back["networks"] == engine.networks
    # Allocation continues where it was: the next address and the next dynamic port.
    assert back["ipam"].pool("172.17.0.0/16").request_address() == "172.17.0.3"
    assert engine.ipam.pool("172.17.0.0/16").request_address() == "172.17.0.3"
    assert back["publisher.ports"].request(["0.0.0.0", "::"], "tcp", 0) == engine.publisher.ports.request(
        ["0.0.0.0", "::"], "tcp", 0
    )
    assert (
        back["ipam"].allocate_pool(host_routes=[]).subnet == engine.ipam.allocate_pool(host_routes=[]).subnet
    )


def test_new_fields_are_kept_without_a_change():
    engine = _busy_engine()
    c = engine.containers["a" * 64]
    c.cap_add = {("NET_ADMIN", 1): {"x"}}  # a field this module has never heard of
    assert _restored(engine)["containers"][c.id].cap_add == {("NET_ADMIN", 1): {"x"}}


def test_a_state_file_names_no_class_outside_the_engine():
    forged = {"~obj": "os:_wrap_close"}
    with pytest.raises(state.StateError):
        state.decode(forged)


def test_a_damaged_file_is_an_error(tmp_path):
    path = tmp_path / "engine.json"
    path.write_text('{"schema": 1, "eng')
    with pytest.raises(state.StateError):
        state.read(path)
    state.write_atomically(path, {"schema": 1})
    assert state.read(path) == {"schema": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["engine.json"]  # no temporary file left


def test_a_field_added_by_an_upgrade_reads_as_its_default():
    data = json.loads(json.dumps(state.engine_data(_busy_engine(), {})))
    del data["engine"]["containers"]["a" * 64]["labels"]  # written before `labels` existed
    del data["engine"]["containers"]["a" * 64]["exit_code"]
    c = state.engine_state(data)["containers"]["a" * 64]
    assert c.labels == {} and c.exit_code == 0


def test_every_engine_attribute_is_either_state_or_runtime():
    named = {name.split(".")[0] for name in (*state.ENGINE_STATE, *state.ENGINE_RUNTIME)}
    assert set(vars(Engine("19.03"))) == named
