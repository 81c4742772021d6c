"""`--ip` as the daemon checks it (moby's validateNetworkingConfig in 19.03, at start and on
`network connect`; validateEndpointSettings in 28, at create): only on user networks that were given
a subnet. 19.03's CLI drops `--ip` without `--network`; 28's sends it for the default bridge."""

from __future__ import annotations

import pytest

from tests.topology.kit import docker

pytestmark = pytest.mark.kernel

ON_USER_NETWORKS = "user specified IP address is supported on user defined networks only"
WITH_SUBNETS = (
    "user specified IP address is supported only when connecting to networks with user configured subnets"
)
ADDRESS = "inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}'"


def ok(lab, args: str) -> str:
    r = docker(lab, args)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def failure(lab, args: str) -> tuple[int, str]:
    r = docker(lab, args)
    return r.returncode, r.stderr


def test_1903_checks_the_address_at_start(lab):
    ok(lab, "network create nosub")
    ok(lab, "network create --subnet 10.10.0.0/24 withsub")
    ok(lab, "run -d --name plain --ip 172.17.0.9 busybox sleep 300")  # no --network: --ip dropped
    assert ok(lab, f"{ADDRESS} plain") == "172.17.0.2"
    for name, network, text in (("onbridge", "bridge", ON_USER_NETWORKS), ("onnosub", "nosub", WITH_SUBNETS)):
        code, err = failure(
            lab, f"run -d --name {name} --network {network} --ip 172.18.0.9 busybox sleep 300"
        )
        assert (code, err) == (125, f"docker: Error response from daemon: {text}.\n")
        assert ok(lab, f"inspect -f '{{{{.State.Status}}}}' {name}") == "created"  # created, not started
    ok(lab, "run -d --name fixed --network withsub --ip 10.10.0.9 busybox sleep 300")
    assert ok(lab, f"{ADDRESS} fixed") == "10.10.0.9"
    for network, text in (("bridge", ON_USER_NETWORKS), ("nosub", WITH_SUBNETS)):
        code, err = failure(lab, f"network connect --ip 172.18.0.9 {network} fixed")
        assert (code, err) == (1, f"Error response from daemon: {text}\n")


def test_28_checks_the_address_at_create(lab28):
    ok(lab28, "network create nosub")
    ok(lab28, "network create --subnet 10.10.0.0/24 withsub")
    help_line = "\n\nRun 'docker run --help' for more information\n"
    both = f"* {ON_USER_NETWORKS}\n* {WITH_SUBNETS}"  # the default bridge has no static subnet either
    for network, key, text in (("", "bridge", both), ("--network nosub", "nosub", WITH_SUBNETS)):
        code, err = failure(lab28, f"run -d {network} --ip 172.18.0.9 busybox sleep 300")
        heading = f"invalid config for network {key}: invalid endpoint settings:\n"
        assert (code, err) == (125, f"docker: Error response from daemon: {heading}{text}{help_line}")
    assert ok(lab28, "ps -aq") == ""  # refused at create: no container
    ok(lab28, "run -d --name fixed --network withsub --ip 10.10.0.9 busybox sleep 300")
    assert ok(lab28, f"{ADDRESS} fixed") == "10.10.0.9"
    code, err = failure(lab28, "network connect --ip 172.18.0.9 nosub fixed")
    assert (code, err) == (1, f"Error response from daemon: invalid endpoint settings:\n{WITH_SUBNETS}\n")
