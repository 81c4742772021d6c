"""Errors at create versus at start, as Docker reports them.

The texts come from docker/cli (run.go: the id printed while the container starts, reportError in
19.03 without "See 'docker run --help'." at start, toStatusError in 28 with "Run 'docker run --help'")
and from moby (containerStart keeps the error in State.Error, exit code 128 and a Created container;
28's initializeCreatedTask prefixes "failed to set up container networking: "; the network and the
container of --net=container: are looked up at start). `docker exec`/`port`/`logs` inspect first:
19.03's client turns the 404 into "Error: No such container: X", 28's shows the daemon's text.
"""

from __future__ import annotations

import re

import pytest

from tests.topology.kit import docker

pytestmark = pytest.mark.kernel

HEX = "[0-9a-f]{64}"
STATE = "inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}'"


def created_id(r) -> str:
    """The id a failed `docker run -d` printed before its error (exit 125)."""
    assert r.returncode == 125, r.stderr
    assert re.fullmatch(f"{HEX}\n", r.stdout), r.stdout
    return r.stdout.strip()


def listed_all(lab) -> str:
    r = docker(lab, "ps -a --no-trunc --format '{{.ID}} {{.Status}}'")
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_1903_taken_port_leaves_a_created_container_with_its_error(lab):
    assert docker(lab, "run -d --name web -p 8080:80 nginx").returncode == 0
    r = docker(lab, "run -d --name second -p 8080:80 nginx")
    cid = created_id(r)
    message = (
        f"driver failed programming external connectivity on endpoint second \\({HEX}\\): "
        "Bind for 0.0.0.0:8080 failed: port is already allocated"
    )
    assert re.fullmatch(f"docker: Error response from daemon: {message}.\n", r.stderr), r.stderr
    assert f"{cid} Created\n" in listed_all(lab)
    state = docker(lab, f"{STATE} second").stdout
    assert re.fullmatch(f"created 128 {message}\n", state), state
    # Once the port is free the same container starts, and its error is gone.
    assert docker(lab, "rm -f web").returncode == 0
    assert docker(lab, "start second").stdout == "second\n"
    assert docker(lab, f"{STATE} second").stdout == "running 0 \n"


def test_28_taken_port_error_is_a_networking_setup_error(lab28):
    assert docker(lab28, "run -d -p 8080:80 nginx").returncode == 0
    r = docker(lab28, "run -d --name second -p 8080:80 nginx")
    created_id(r)
    message = (
        "failed to set up container networking: driver failed programming external connectivity on "
        f"endpoint second \\({HEX}\\): Bind for 0.0.0.0:8080 failed: port is already allocated"
    )
    help_line = "\n\nRun 'docker run --help' for more information\n"
    assert re.fullmatch(f"docker: Error response from daemon: {message}{re.escape(help_line)}", r.stderr)
    assert re.fullmatch(f"created 128 {message}\n", docker(lab28, f"{STATE} second").stdout)


@pytest.mark.parametrize(
    ("fixture", "message", "framing"),
    [
        ("lab", "network nosuchnet not found", "{}.\n"),
        ("lab28", "failed to set up container networking: network nosuchnet not found", "{}\n\nRUN_HELP"),
    ],
)
def test_missing_network_fails_at_start(request, fixture, message, framing):
    lab = request.getfixturevalue(fixture)
    expected = framing.format(f"docker: Error response from daemon: {message}").replace(
        "RUN_HELP", "Run 'docker run --help' for more information\n"
    )
    r = docker(lab, "run -d --name lost --net nosuchnet busybox sleep 300")
    cid = created_id(r)
    assert r.stderr == expected
    assert f"{cid} Created\n" in listed_all(lab)
    assert docker(lab, f"{STATE} lost").stdout == f"created 128 {message}\n"
    # --rm: the daemon removes it after the failed start.
    r = docker(lab, "run -d --rm --net nosuchnet busybox sleep 300")
    assert created_id(r) not in listed_all(lab)
    # docker create does not look the network up; start does, and succeeds once it exists.
    assert re.fullmatch(
        f"{HEX}\n", docker(lab, "create --name later --net nosuchnet busybox sleep 300").stdout
    )
    assert docker(lab, "network create nosuchnet").returncode == 0
    assert docker(lab, "start later").stdout == "later\n"
    assert docker(lab, "inspect -f '{{.State.Status}}' later").stdout == "running\n"


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_missing_container_to_join_fails_at_start(request, fixture):
    lab = request.getfixturevalue(fixture)
    message = "docker: Error response from daemon: No such container: nosuch"
    after = ".\n" if fixture == "lab" else "\n\nRun 'docker run --help' for more information\n"
    r = docker(lab, "run -d --name joiner --net=container:nosuch busybox sleep 300")
    cid = created_id(r)
    assert r.stderr == message + after
    assert f"{cid} Created\n" in listed_all(lab)
    # Attached: no id is printed, the container stays Created all the same.
    r = docker(lab, "run --name attached --net=container:nosuch busybox true")
    assert (r.returncode, r.stdout, r.stderr) == (125, "", message + after)
    assert docker(lab, "inspect -f '{{.State.Status}}' attached").stdout == "created\n"


@pytest.mark.parametrize(
    ("fixture", "text"),
    [
        ("lab", "Error: No such container: nosuch\n"),
        ("lab28", "Error response from daemon: No such container: nosuch\n"),
    ],
)
def test_commands_that_inspect_first_name_the_missing_container(request, fixture, text):
    lab = request.getfixturevalue(fixture)
    for command in ("exec nosuch ls", "port nosuch", "logs nosuch"):
        r = docker(lab, command)
        assert (r.returncode, r.stdout, r.stderr) == (1, "", text), command
