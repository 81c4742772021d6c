"""`--filter` of docker ps, images, network ls and network prune, as Docker's daemon applies them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.topology.kit import docker
from topology.docker import cli, filters
from topology.docker.clierrors import CliError

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def names(lab, args: str) -> list[str]:
    r = docker(lab, f"{args} --format '{{{{.Name{'s' if args.startswith('ps') else ''}}}}}'")
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def failure(lab, args: str) -> tuple[int, str]:
    r = docker(lab, args)
    return r.returncode, r.stderr.strip()


# -- pure: parsing -------------------------------------------------------------------------------


def test_a_filter_without_equals_is_a_flag_error():
    with pytest.raises(CliError) as info:
        cli.parse(["ps", "-f", "foo"])
    assert info.value.exit_code == 125
    assert info.value.message.startswith(
        'invalid argument "foo" for "-f, --filter" flag: bad format of filter (expected name=value)\n'
    )
    assert cli.parse(["network", "ls", "--filter", " Driver = bridge", "-f", ""]).filters == [
        " Driver = bridge",
        "",
    ]
    assert "  -f, --filter filter   Filter output" in cli.usage_text(["ps"])


def test_until_timestamps_like_docker():
    assert filters.timestamp("90m", NOW) == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    assert filters.timestamp("1h30m", NOW) == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    assert filters.timestamp("1714564800", NOW) == NOW
    assert filters.timestamp("2024-05-01T12:00:00Z", NOW) == NOW
    with pytest.raises(ValueError, match='failed to parse value as time or duration: "soon"'):
        filters.timestamp("soon", NOW)


# -- in a sandbox --------------------------------------------------------------------------------


@pytest.mark.kernel
def test_ps_filters(lab):
    for args in (
        "network create --label env=test mynet",
        "run -d --name web -p 8080:80 --label tier=front nginx",
        "run -d --name box --network mynet busybox sleep 300",
        "create --name idle alpine",
        "run --name done busybox sh -c 'exit 3'",
    ):
        r = docker(lab, args)
        assert r.returncode == (3 if "exit 3" in args else 0), (args, r.stderr)
    web = docker(lab, "inspect -f '{{.Id}}' web").stdout.strip()
    mynet = docker(lab, "network inspect -f '{{.Id}}' mynet").stdout.strip()

    assert names(lab, "ps") == ["box", "web"]
    assert names(lab, "ps -f name=^w") == ["web"]
    assert names(lab, "ps -a -f name=o") == ["done", "box"]  # a regexp search, newest first
    assert names(lab, f"ps -f id={web[:5]}") == ["web"]
    assert names(lab, "ps -f label=tier") == names(lab, "ps -f label=tier=front") == ["web"]
    assert names(lab, "ps -f label=tier=back") == []
    assert names(lab, "ps -f status=exited") == ["done"]  # a status filter lists stopped containers
    assert names(lab, "ps -f status=exited -f status=created") == ["done", "idle"]  # same key: OR
    assert names(lab, "ps -f status=running -f name=web") == ["web"]  # different keys: AND
    assert names(lab, "ps -f status=exited -f name=web") == []
    assert names(lab, "ps -a -f exited=3") == ["done"]
    assert names(lab, "ps -f exited=3") == []  # exited alone does not list stopped containers
    assert names(lab, "ps -a -f ancestor=busybox:latest") == ["done", "box"]
    assert names(lab, "ps -f ancestor=nginx") == ["web"]
    assert names(lab, "ps -f network=mynet") == names(lab, f"ps -f network={mynet[:12]}") == ["box"]
    assert names(lab, "ps -a -f network=bridge") == ["done", "idle", "web"]
    assert names(lab, "ps -f publish=8080") == names(lab, "ps -f publish=8000-8100/tcp") == ["web"]
    assert names(lab, "ps -f expose=80/tcp") == ["web"]
    assert names(lab, "ps -f publish=80") == names(lab, "ps -f expose=80/udp") == []
    assert names(lab, "ps -a -f before=box") == ["web"]
    assert names(lab, "ps -a -f since=box") == ["done", "idle"]
    assert names(lab, "ps -a -n 1 -f status=running") == ["box"]
    assert names(lab, "ps -l -f name=web") == ["web"]
    assert names(lab, "ps -f health=none -f is-task=false -f isolation=default") == ["box", "web"]
    assert names(lab, "ps -a -f volume=/data") == []
    assert docker(lab, "ps -q -f name=web").stdout == web[:12] + "\n"
    assert docker(lab, "ps -f label=tier --format '{{.Labels}}'").stdout == "tier=front\n"

    assert failure(lab, "ps -f foo=bar") == (1, "Error response from daemon: Invalid filter 'foo'")
    assert failure(lab, "ps -f status=sleeping") == (
        1,
        "Error response from daemon: Invalid filter 'status=sleeping'",
    )
    assert failure(lab, "ps -f exited=x") == (
        1,
        'Error response from daemon: strconv.Atoi: parsing "x": invalid syntax',
    )
    assert failure(lab, "ps -f before=nobody") == (1, "Error response from daemon: No such container: nobody")
    assert failure(lab, "ps -f publish=1:2") == (
        1,
        "Error response from daemon: filter for 'publish' should not contain ':': 1:2",
    )
    code, err = failure(lab, "ps -f foo")
    assert code == 125 and err.startswith('invalid argument "foo" for "-f, --filter" flag: bad format')


@pytest.mark.kernel
def test_network_ls_images_and_prune_filters(lab):
    for args in (
        "network create --label env=test mynet",
        "network create --label keep=yes spare1",
        "network create spare2",
        "run -d --name box --network mynet busybox sleep 300",
    ):
        assert docker(lab, args).returncode == 0, args
    mynet = docker(lab, "network inspect -f '{{.Id}}' mynet").stdout.strip()

    assert names(lab, "network ls") == ["bridge", "host", "mynet", "none", "spare1", "spare2"]
    assert names(lab, "network ls -f driver=bridge") == ["bridge", "mynet", "spare1", "spare2"]
    assert names(lab, "network ls -f driver=null -f driver=host") == ["host", "none"]
    assert names(lab, "network ls -f type=custom") == ["mynet", "spare1", "spare2"]
    assert names(lab, "network ls -f type=builtin") == ["bridge", "host", "none"]
    assert names(lab, "network ls -f name=spare") == ["spare1", "spare2"]
    assert names(lab, f"network ls -f id={mynet[:6]}") == ["mynet"]
    assert names(lab, "network ls -f label=env=test") == names(lab, "network ls -f label=env") == ["mynet"]
    assert names(lab, "network ls -f dangling=true") == ["spare1", "spare2"]
    assert names(lab, "network ls -f dangling=0") == ["bridge", "host", "mynet", "none"]
    assert names(lab, "network ls -f scope=local -f name=none") == ["none"]
    assert names(lab, "network ls -f scope=swarm") == []
    assert docker(lab, "network ls -q -f name=mynet").stdout == mynet[:12] + "\n"
    assert failure(lab, "network ls -f foo=1") == (1, "Error response from daemon: Invalid filter 'foo'")
    assert failure(lab, "network ls -f type=mine") == (
        1,
        "Error response from daemon: Invalid filter: 'type'='mine'",
    )
    assert failure(lab, "network ls -f dangling=maybe")[1].startswith(
        "Error response from daemon: invalid value for filter 'dangling'"
    )

    repos = lambda args: docker(lab, f"images {args} --format '{{{{.Repository}}}}'").stdout.split()  # noqa: E731
    assert repos("-f reference='n*'") == ["nginx"]
    assert repos("-f reference=busybox:latest -f reference=alpine") == ["alpine", "busybox"]
    assert repos("-f before=busybox") == ["nginx", "httpd"]
    assert repos("-f since=busybox") == ["alpine"]
    assert repos("-f dangling=false") == ["alpine", "busybox", "nginx", "httpd"]
    assert repos("-f dangling=true") == repos("-f label=maintainer") == []
    assert failure(lab, "images -f until=1h") == (1, "Error response from daemon: Invalid filter 'until'")
    assert failure(lab, "images -f before=nope") == (
        1,
        "Error response from daemon: No such image: nope:latest",
    )

    prune = docker(lab, "network prune -f --filter 'label!=keep'")
    assert prune.returncode == 0 and prune.stdout == "Deleted Networks:\nspare2\n\n"
    assert docker(lab, "network prune -f --filter until=1h").stdout == ""  # spare1 is newer than that
    assert failure(lab, "network prune -f --filter until=soon") == (
        1,
        'Error response from daemon: failed to parse value as time or duration: "soon"',
    )
    assert names(lab, "network ls -f type=custom") == ["mynet", "spare1"]
    assert docker(lab, "network prune -f --filter label=keep=yes").stdout == "Deleted Networks:\nspare1\n\n"


@pytest.mark.kernel
def test_28_filter_errors_and_until(lab28):
    assert docker(lab28, "run -d --name web nginx").returncode == 0
    assert names(lab28, "ps -f status=running -f ancestor=nginx:latest") == ["web"]
    assert failure(lab28, "ps -f foo=bar") == (1, "Error response from daemon: invalid filter 'foo'")
    assert failure(lab28, "network ls -f nope=1") == (1, "Error response from daemon: invalid filter 'nope'")
    assert (
        docker(lab28, "images -q -f until=2021-01-13T00:00:00Z -f reference=httpd").stdout == "683a7aad17d3\n"
    )
