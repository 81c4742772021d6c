"""Bad and conflicting docker command lines: Docker's errors; engine and kernel stay consistent."""

from __future__ import annotations

import re
import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel

FLAGS = [
    "-d",
    "-it",
    "--rm",
    "-P",
    "--name web",
    "--name w2",
    "--name x",
    "--net=host",
    "--net=none",
    "--net=container:web",
    "--network mynet",
    "--network nosuch",
    "-p 8080:80",
    "-p 80",
    "-p 53/udp",
    "-p 127.0.0.1:8081:80",
    "-p 99999:80",
    "-p abc",
    "-p 8080:80/xyz",
    "--expose 443",
    "--expose x",
    "--ip 172.17.0.50",
    "--ip 10.0.0.1",
    "--ip nonsense",
    "--mac-address 02:42:ac:11:00:99",
    "--mac-address zz",
    "-h myhost",
    "--hostname",
    "--frobnicate",
    "-Z",
]
IMAGES = ["nginx", "busybox", "alpine", "httpd", "nosuchimage", "nginx:latest", ""]
COMMANDS = ["", "sleep 300", "top", "true", "false"]
OTHER = [
    "ps",
    "ps -a",
    "ps -q",
    "rm -f web",
    "rm web",
    "rm",
    "stop -t 0 web",
    "start web",
    "restart -t 0 web",
    "port web",
    "port web 80",
    "inspect web",
    "inspect -f '{{.State.Pid}}' web",
    "inspect -f '{{.Nope}}' web",
    "logs web",
    "network create mynet",
    "network create --subnet 10.9.0.0/24 net9",
    "network create --subnet bad net8",
    "network rm mynet",
    "network rm bridge",
    "network connect mynet web",
    "network disconnect mynet web",
    "network connect nosuch web",
    "network prune -f",
    "network ls",
    "network inspect mynet",
    "exec web true",
    "exec nosuch true",
    "frobnicate",
    "run",
    "network",
]

run_lines = st.builds(
    # Detached: an attached `docker run nginx` runs until interrupted, as with Docker.
    lambda flags, image, cmd: " ".join(["run", "-d", *flags, image, cmd]).strip(),
    st.lists(st.sampled_from(FLAGS), max_size=4),
    st.sampled_from(IMAGES),
    st.sampled_from(COMMANDS),
)
command_lines = st.lists(st.one_of(run_lines, st.sampled_from(OTHER)), min_size=1, max_size=4)


def host_state(lab) -> tuple[set[str], set[tuple[int, str]]]:
    """Veths on the Docker host and published (host port, container ip:port) pairs in the nat table."""
    out = sh(lab, "ip -o link; iptables-save -t nat").stdout
    veths = set(re.findall(r"^\d+: (veth[0-9a-f]{7})@", out, re.M))
    dnat = {(int(p), dest) for p, dest in re.findall(r"--dport (\d+) -j DNAT --to-destination (\S+)", out)}
    return veths, dnat


def assert_consistent(lab) -> None:
    engine = lab.engine
    with engine.lock:
        running = [c for c in engine.containers.values() if c.status == "running"]
        want_veths = {ep.host_veth for c in running for ep in c.endpoints}
        want_dnat = {
            (b.host_port, f"{c.endpoints[0].ip}:{b.container_port}")
            for c in running
            for b in c.ports
            if b.host_ip in ("0.0.0.0", "127.0.0.1")
        }
        stopped_with_state = [
            c.name for c in engine.containers.values() if c.status != "running" and (c.endpoints or c.ports)
        ]
    veths, dnat = host_state(lab)
    assert veths == want_veths
    assert dnat == want_dnat
    assert not stopped_with_state


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=command_lines)
def test_bad_input_keeps_engine_and_kernel_consistent(lab_for_hypothesis, lines):
    lab = lab_for_hypothesis
    for line in lines:
        r = docker(lab, line + " </dev/null", timeout=60)
        if r.returncode != 0:
            assert r.returncode in (1, 125, 126, 127), (line, r.returncode, r.stderr)
            assert r.stderr.strip(), (line, "an error must say why")
        assert "internal error" not in r.stderr, (line, r.stderr)
        assert "Traceback" not in r.stderr, (line, r.stderr)
        assert_consistent(lab)
    docker(lab, "rm -f $(docker ps -aq) >/dev/null 2>&1; docker network prune -f >/dev/null")
    assert_consistent(lab)


@pytest.fixture(scope="module")
def lab_for_hypothesis(daemon):
    lab = daemon.up("19.03")
    yield lab
    daemon.down(lab.sandbox.id)


@pytest.mark.parametrize(
    ("line", "code", "text"),
    [
        (
            "run -d --net=container:web -p 8080:80 nginx",
            125,
            "conflicting options: port publishing and the container type network mode",
        ),
        (
            "run -d --net=container:web --expose 80 nginx",
            125,
            "conflicting options: port exposing and the container type network mode",
        ),
        (
            "run -d --net=container:web -h other nginx",
            125,
            "conflicting options: hostname and the network mode",
        ),
        ("run -d -p 8080:80 nginx", 125, "Bind for 0.0.0.0:8080 failed: port is already allocated"),
        ("run -d nosuchimage", 125, "Unable to find image 'nosuchimage:latest' locally"),
        ("run -d --name web nginx", 125, 'Conflict. The container name "/web" is already in use'),
        ("run -d --network nosuch nginx", 125, "network nosuch not found"),
        ("network rm bridge", 1, "bridge is a pre-defined network and cannot be removed"),
        ("rm web", 1, "You cannot remove a running container"),
        ("frobnicate", 1, "docker: 'frobnicate' is not a docker command."),
        ("run --frobnicate nginx", 125, "unknown flag: --frobnicate"),
    ],
)
def test_docker_error_texts(lab_with_web, line, code, text):
    before = host_state(lab_with_web)
    r = docker(lab_with_web, line)
    assert r.returncode == code, r.stderr
    assert text in r.stderr
    assert host_state(lab_with_web) == before


@pytest.fixture(scope="module")
def lab_with_web(daemon):
    lab = daemon.up("19.03")
    assert docker(lab, "run -d --name web -p 8080:80 nginx").returncode == 0
    yield lab
    daemon.down(lab.sandbox.id)


def test_host_mode_publish_warns(lab):
    r = docker(lab, "run -d --net=host -p 8080:80 --name hostweb nginx")
    assert r.returncode == 0
    assert "WARNING: Published ports are discarded when using host network mode" in r.stderr
    assert host_state(lab)[1] == set()


def test_shlex_roundtrip_of_vocabulary():
    # Every generated line is valid shell, so failures come from docker, not from quoting.
    for line in OTHER + FLAGS:
        shlex.split(line)
