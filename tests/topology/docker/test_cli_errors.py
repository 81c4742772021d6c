"""Every error text and exit code the docker command line parser produces, per Docker era."""

from __future__ import annotations

import pytest

from topology.docker.cli import parse
from topology.docker.clierrors import CliError, daemon_error
from topology.docker.requests import (
    ContainerSpec,
    RunRequest,
)

V19, V28 = "19.03", "28"
BOTH = pytest.mark.parametrize("version", [V19, V28])
NOW = "2024-05-01T12:00:00Z"


def spec_of(argv: list[str], version: str = V19) -> ContainerSpec:
    req = parse(["run", *argv], version)
    assert isinstance(req, RunRequest)
    return req.spec


def fails(argv: list[str], version: str = V19) -> CliError:
    with pytest.raises(CliError) as info:
        parse(argv, version)
    return info.value


# -- every error text the parser produces ----------------------------------------------------------

RUN_USAGE = "Usage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]"
SEE_RUN = "See 'docker run --help'."
MORE_RUN = "Run 'docker run --help' for more information"

PARSE_ERRORS = [
    (V19, ["run", "--foo", "nginx"], f"unknown flag: --foo\n{SEE_RUN}", 125),
    (V28, ["run", "--foo", "nginx"], f"unknown flag: --foo\n\n{RUN_USAGE}\n\n{MORE_RUN}", 125),
    (V19, ["run", "-z", "nginx"], f"unknown shorthand flag: 'z' in -z\n{SEE_RUN}", 125),
    (V19, ["run", "-dz", "nginx"], f"unknown shorthand flag: 'z' in -z\n{SEE_RUN}", 125),
    (V28, ["run", "-itz", "nginx"], f"unknown shorthand flag: 'z' in -z\n\n{RUN_USAGE}\n\n{MORE_RUN}", 125),
    (V19, ["run", "---x", "nginx"], f"bad flag syntax: ---x\n{SEE_RUN}", 125),
    (V19, ["run", "-p"], f"flag needs an argument: 'p' in -p\n{SEE_RUN}", 125),
    (V19, ["run", "--name"], f"flag needs an argument: --name\n{SEE_RUN}", 125),
    (
        V19,
        ["run", "-d=maybe", "nginx"],
        'invalid argument "maybe" for "-d, --detach" flag: strconv.ParseBool: parsing "maybe": invalid '
        "syntax\n" + SEE_RUN,
        125,
    ),
    (
        V19,
        ["run", "--dns", "abc", "nginx"],
        f'invalid argument "abc" for "--dns" flag: abc is not an ip address\n{SEE_RUN}',
        125,
    ),
    (
        V19,
        ["run", "--add-host", "abc", "nginx"],
        f'invalid argument "abc" for "--add-host" flag: bad format for add-host: "abc"\n{SEE_RUN}',
        125,
    ),
    (
        V19,
        ["run", "--add-host", "db:x", "nginx"],
        f'invalid argument "db:x" for "--add-host" flag: invalid IP address in add-host: "x"\n{SEE_RUN}',
        125,
    ),
    (
        V19,
        ["run", "--link", "a:b:c", "nginx"],
        f'invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c\n{SEE_RUN}',
        125,
    ),
    (
        V19,
        ["stop", "-t", "x", "web"],
        'invalid argument "x" for "-t, --time" flag: strconv.ParseInt: parsing "x": invalid syntax\n'
        "See 'docker stop --help'.",
        125,
    ),
    (
        V28,
        ["stop", "-t", "x", "web"],
        'invalid argument "x" for "-t, --timeout" flag: strconv.ParseInt: parsing "x": invalid syntax\n\n'
        "Usage:  docker stop [OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'docker stop --help' for more "
        "information",
        125,
    ),
    (
        V19,
        ["run"],
        '"docker run" requires at least 1 argument.\n'
        f"{SEE_RUN}\n\n{RUN_USAGE}\n\nRun a command in a new container",
        1,
    ),
    (
        V28,
        ["run"],
        f"docker: 'docker run' requires at least 1 argument\n\n{RUN_USAGE}\n\nSee 'docker run --help' for "
        "more information",
        1,
    ),
    (
        V19,
        ["exec", "web"],
        "\"docker exec\" requires at least 2 arguments.\nSee 'docker exec --help'.\n\n"
        "Usage:  docker exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\nRun a command in a running container",
        1,
    ),
    (
        V19,
        ["ps", "x"],
        "\"docker ps\" accepts no arguments.\nSee 'docker ps --help'.\n\nUsage:  docker ps [OPTIONS]\n\nList "
        "containers",
        1,
    ),
    (
        V28,
        ["ps", "x"],
        "docker: 'docker ps' accepts no arguments\n\nUsage:  docker ps [OPTIONS]\n\n"
        "Run 'docker ps --help' for more information",
        1,
    ),
    (
        V19,
        ["port"],
        "\"docker port\" requires at least 1 and at most 2 arguments.\nSee 'docker port --help'.\n\n"
        "Usage:  docker port CONTAINER [PRIVATE_PORT[/PROTO]]\n\n"
        "List port mappings or a specific mapping for the container",
        1,
    ),
    (
        V19,
        ["network", "connect", "net1"],
        "\"docker network connect\" requires exactly 2 arguments.\nSee 'docker network connect --help'.\n\n"
        "Usage:  docker network connect [OPTIONS] NETWORK CONTAINER\n\nConnect a container to a network",
        1,
    ),
    (
        V19,
        ["rename", "web"],
        "\"docker rename\" requires exactly 2 arguments.\nSee 'docker rename --help'.\n\n"
        "Usage:  docker rename CONTAINER NEW_NAME\n\nRename a container",
        1,
    ),
    (
        V28,
        ["kill"],
        "docker: 'docker kill' requires at least 1 argument\n\n"
        "Usage:  docker kill [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'docker kill --help' for more "
        "information",
        1,
    ),
    (
        V19,
        ["container", "wait"],
        "\"docker container wait\" requires at least 1 argument.\nSee 'docker container wait --help'.\n\n"
        "Usage:  docker container wait CONTAINER [CONTAINER...]\n\n"
        "Block until one or more containers stop, then print their exit codes",
        1,
    ),
    (
        V28,
        ["network", "create"],
        "docker: 'docker network create' requires 1 argument\n\n"
        "Usage:  docker network create [OPTIONS] NETWORK\n\nRun 'docker network create --help' for more "
        "information",
        1,
    ),
    (
        V19,
        ["images", "a", "b"],
        "\"docker images\" requires at most 1 argument.\nSee 'docker images --help'.\n\n"
        "Usage:  docker images [OPTIONS] [REPOSITORY[:TAG]]\n\nList images",
        1,
    ),
    (V19, ["foo"], "docker: 'foo' is not a docker command.\nSee 'docker --help'", 1),
    (V28, ["foo"], "docker: unknown command: docker foo\n\nRun 'docker --help' for more information", 1),
    (
        V28,
        ["network", "foo"],
        "docker: unknown command: docker network foo\n\nUsage:  docker network\n\n"
        "Run 'docker network --help' for more information",
        1,
    ),
    (
        V28,
        ["--foo"],
        "unknown flag: --foo\n\nUsage:  docker [OPTIONS] COMMAND [ARG...]\n\nRun 'docker --help' for more "
        "information",
        125,
    ),
    (V19, ["run", "-p", "abc", "nginx"], f"docker: Invalid containerPort: abc.\n{SEE_RUN}", 125),
    (V28, ["run", "-p", "abc", "nginx"], f"docker: invalid containerPort: abc\n\n{MORE_RUN}", 125),
    (V19, ["run", "-p", "99999:80", "nginx"], f"docker: Invalid hostPort: 99999.\n{SEE_RUN}", 125),
    (V28, ["run", "-p", "99999:80", "nginx"], f"docker: invalid hostPort: 99999\n\n{MORE_RUN}", 125),
    (V19, ["run", "-p", "8080:80/foo", "nginx"], f"docker: Invalid proto: foo.\n{SEE_RUN}", 125),
    (V28, ["run", "-p", "8080:80/FOO", "nginx"], f"docker: invalid proto: foo\n\n{MORE_RUN}", 125),
    (V19, ["run", "-p", "1.2.3:80:80", "nginx"], f"docker: Invalid ip address: 1.2.3.\n{SEE_RUN}", 125),
    (V28, ["run", "-p", "1.2.3:80:80", "nginx"], f"docker: invalid IP address: 1.2.3\n\n{MORE_RUN}", 125),
    (
        V19,
        ["run", "-p", "::1:8080:80", "nginx"],
        f"docker: Invalid ip address ::1: address ::1:: too many colons in address.\n{SEE_RUN}",
        125,
    ),
    (
        V28,
        ["run", "-p", "[::1:8080:80", "nginx"],
        f"docker: invalid IP address [::1: address [::1:: missing ']' in address\n\n{MORE_RUN}",
        125,
    ),
    (V19, ["run", "-p", "/udp", "nginx"], f"docker: No port specified: /udp<empty>.\n{SEE_RUN}", 125),
    (V28, ["run", "-p", ":", "nginx"], f"docker: no port specified: :<empty>\n\n{MORE_RUN}", 125),
    (  # go-connections ParsePortSpec: a container range needs a host range of the same size
        V19,
        ["run", "-p", "8000-8002:80-81", "nginx"],
        f"docker: Invalid ranges specified for container and host Ports: 80-81 and 8000-8002.\n{SEE_RUN}",
        125,
    ),
    (
        V28,
        ["run", "-p", "8000-8002:80-81", "nginx"],
        f"docker: invalid ranges specified for container and host Ports: 80-81 and 8000-8002\n\n{MORE_RUN}",
        125,
    ),
    (
        V19,
        ["run", "-p", "8000-8001:80-85", "nginx"],
        f"docker: Invalid ranges specified for container and host Ports: 80-85 and 8000-8001.\n{SEE_RUN}",
        125,
    ),
    (
        V19,
        ["run", "-p", "target=80,bogus", "nginx"],
        f"docker: invalid publish opts format (should be name=value but got 'bogus').\n{SEE_RUN}",
        125,
    ),
    (
        V19,
        ["run", "--expose", "80:80", "nginx"],
        f"docker: invalid port format for --expose: 80:80.\n{SEE_RUN}",
        125,
    ),
    (
        V19,
        ["run", "--expose", "abc", "nginx"],
        'docker: invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid '
        f"syntax.\n{SEE_RUN}",
        125,
    ),
    (V19, ["run", "--mac-address", "zz", "nginx"], f"docker: zz is not a valid mac address.\n{SEE_RUN}", 125),
    (
        V28,
        ["run", "--mac-address", "zz", "nginx"],
        f"docker: zz is not a valid mac address\n\n{MORE_RUN}",
        125,
    ),
    (
        V19,
        ["run", "--rm", "--restart", "always", "nginx"],
        f"docker: Conflicting options: --restart and --rm.\n{SEE_RUN}",
        125,
    ),
    # docker/cli's parseNetworkAttachmentOpt: aliases (and in 19.03, links) on a user network only;
    # 19.03 checks only a network given with --network, 28 also the default one
    (
        V19,
        ["run", "--network", "bridge", "--network-alias", "x", "nginx"],
        f"docker: network-scoped aliases are only supported for user-defined networks.\n{SEE_RUN}",
        125,
    ),
    (
        V28,
        ["run", "--network-alias", "x", "nginx"],
        f"docker: network-scoped aliases are only supported for user-defined networks\n\n{MORE_RUN}",
        125,
    ),
    (
        V19,
        ["run", "--net", "bridge", "--link", "db", "nginx"],
        f"docker: links are only supported for user-defined networks.\n{SEE_RUN}",
        125,
    ),
    (
        V28,
        ["run", "--rm", "--restart", "always", "nginx"],
        f"docker: conflicting options: cannot specify both --restart and --rm\n\n{MORE_RUN}",
        125,
    ),
    (
        V19,
        ["create", "-p", "abc", "nginx"],
        "docker: Invalid containerPort: abc.\nSee 'docker create --help'.",
        125,
    ),
    (
        V19,
        ["run", "--net", "container:", "nginx"],
        "docker: Error response from daemon: Invalid network mode: invalid container format "
        "container:<name|id>.\n" + SEE_RUN,
        125,
    ),
    (
        V19,
        ["run", "--net", "container:web", "-p", "80", "nginx"],
        "docker: Error response from daemon: conflicting options: port publishing and the container type "
        "network mode.\n" + SEE_RUN,
        125,
    ),
    (
        V28,
        ["run", "--net", "container:web", "-p", "80", "nginx"],
        "docker: Error response from daemon: conflicting options: port publishing and the container type "
        "network mode"
        f"\n\n{MORE_RUN}",
        125,
    ),
    (
        V19,
        ["run", "--net", "container:web", "-P", "nginx"],
        "docker: Error response from daemon: conflicting options: port publishing and the container type "
        "network mode.\n" + SEE_RUN,
        125,
    ),
    (
        V19,
        ["run", "--net", "container:web", "--expose", "80", "nginx"],
        "docker: Error response from daemon: conflicting options: port exposing and the container type "
        "network mode.\n" + SEE_RUN,
        125,
    ),
    (
        V19,
        ["run", "--net", "container:web", "-h", "x", "nginx"],
        f"docker: Error response from daemon: conflicting options: hostname and the network mode.\n{SEE_RUN}",
        125,
    ),
    (  # 19.03's CLI sets --link on the network given (fixed in 28): its own error first
        V19,
        ["run", "--net", "container:web", "--link", "db", "nginx"],
        f"docker: links are only supported for user-defined networks.\n{SEE_RUN}",
        125,
    ),
    (
        V28,
        ["run", "--net", "container:web", "--link", "db", "nginx"],
        "docker: Error response from daemon: conflicting options: container type network can't be used "
        f"with links. This would result in undefined behavior\n\n{MORE_RUN}",
        125,
    ),
    (
        V19,
        ["run", "--net", "container:web", "--dns", "1.1.1.1", "nginx"],
        f"docker: Error response from daemon: conflicting options: dns and the network mode.\n{SEE_RUN}",
        125,
    ),
    (
        V19,
        ["run", "--net", "container:web", "--add-host", "db:1.2.3.4", "nginx"],
        "docker: Error response from daemon: conflicting options: custom host-to-IP mapping and the network "
        "mode.\n" + SEE_RUN,
        125,
    ),
    (
        V19,
        ["run", "--net", "host", "--mac-address", "02:42:ac:11:00:02", "nginx"],
        "docker: Error response from daemon: conflicting options: mac-address and the network "
        f"mode.\n{SEE_RUN}",
        125,
    ),
    (  # 19.03's CLI sets --link on the network given (fixed in 28): its own error first
        V19,
        ["run", "--net", "host", "--link", "db", "nginx"],
        f"docker: links are only supported for user-defined networks.\n{SEE_RUN}",
        125,
    ),
    (
        V28,
        ["run", "--net", "host", "--link", "db", "nginx"],
        "docker: Error response from daemon: conflicting options: host type networking can't be used "
        f"with links. This would result in undefined behavior\n\n{MORE_RUN}",
        125,
    ),
    (
        V19,
        ["create", "--net", "container:web", "-p", "80", "nginx"],
        "Error response from daemon: conflicting options: port publishing and the container type network "
        "mode",
        1,
    ),
    (
        V19,
        ["run", "--network", "mynet", "--ip", "abc", "nginx"],  # without --network, 19.03 drops --ip
        f"docker: Error response from daemon: invalid IPv4 address: abc.\n{SEE_RUN}",
        125,
    ),
    (
        V19,
        ["run", "--name", "-bad", "nginx"],
        "docker: Error response from daemon: Invalid container name (-bad), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
        "are allowed.\n" + SEE_RUN,
        125,
    ),
    (
        V28,
        ["run", "--network", "net1", "--network", "host", "nginx"],
        "docker: conflicting options: cannot attach both user-defined and non-user-defined network-modes"
        f"\n\n{MORE_RUN}",
        125,
    ),
    (
        V28,
        ["run", "--network", "a", "--network", "a", "nginx"],
        f'docker: network "a" is specified multiple times\n\n{MORE_RUN}',
        125,
    ),
    (
        V19,
        ["network", "create", "--gateway", "10.0.0.1", "n1"],
        "every ip-range or gateway must have a corresponding subnet",
        1,
    ),
    (
        V19,
        ["network", "create", "--subnet", "10.0.0.0/24", "--gateway", "10.1.0.1", "n1"],
        "no matching subnet for gateway 10.1.0.1",
        1,
    ),
    (
        V19,
        ["network", "create", "--subnet", "foo", "--gateway", "10.0.0.1", "n1"],
        "invalid subnet: invalid CIDR address: foo",
        1,
    ),
    (
        V19,
        ["network", "create", "--subnet", "10.0.0.0/16", "--subnet", "10.0.1.0/24", "n1"],
        "multiple overlapping subnet configuration is not supported",
        1,
    ),
    (
        V19,
        ["network", "create", "--subnet", "foo", "n1"],
        "Error response from daemon: invalid CIDR address: foo",
        1,
    ),
    (
        V28,
        ["network", "create", "--subnet", "foo", "n1"],
        "Error response from daemon: invalid network config:\ninvalid subnet foo: invalid CIDR block "
        "notation",
        1,
    ),
    (
        V28,
        ["network", "create", "--subnet", "10.0.0.1/24", "n1"],
        "Error response from daemon: invalid network config:\ninvalid subnet 10.0.0.1/24: it should be "
        "10.0.0.0/24",
        1,
    ),
    (
        V28,  # moby 28 api/types/network validateIPRange
        ["network", "create", "--subnet", "10.0.0.0/16", "--ip-range", "10.0.5.1/24", "n1"],
        "Error response from daemon: invalid network config:\ninvalid ip-range 10.0.5.1/24: it should be "
        "10.0.5.0/24",
        1,
    ),
    (
        V19,
        ["network", "create", "bridge"],
        "Error response from daemon: bridge is a pre-defined network and cannot be created",
        1,
    ),
    (
        V19,
        ["network", "create", "-d", "host", "h2"],
        'Error response from daemon: only one instance of "host" network is allowed',
        1,
    ),
    (V19, ["network", "create", "-d", "foo", "n1"], 'Error response from daemon: plugin "foo" not found', 1),
    (
        V19,
        ["network", "create", "-d", "macvlan", "n1"],
        'network driver "macvlan" is not supported in this lab; use "bridge"',
        1,
    ),
    (
        V19,
        ["network", "create", "--ipv6", "n1"],
        "this lab supports one IPv4 --subnet per network (no --ipv6)",
        1,
    ),
    (
        V19,
        ["network", "create", "-o", "com.docker.network.bridge.enable_icc=x", "n1"],
        "Error response from daemon: failed to parse com.docker.network.bridge.enable_icc value: x "
        '(strconv.ParseBool: parsing "x": invalid syntax)',
        1,
    ),
    (
        V19,
        ["network", "create", "-o", "com.docker.network.driver.mtu=big", "n1"],
        "Error response from daemon: failed to parse com.docker.network.driver.mtu value: big "
        '(strconv.Atoi: parsing "big": invalid syntax)',
        1,
    ),
    (
        V19,
        ["network", "create", "-o", "com.docker.network.bridge.host_binding_ipv4=x", "n1"],
        "Error response from daemon: failed to parse com.docker.network.bridge.host_binding_ipv4 value: x "
        "(nil ip)",
        1,
    ),
    (V19, ["inspect", "--type", "foo", "web"], '"foo" is not a valid value for --type', 1),
    (V19, ["inspect", "-f", "{{.Foo", "web"], "Template parsing error: template: :1: unclosed action", 1),
    (V28, ["ps", "--format", "table {{.Names"], "Template parsing error: template: :1: unclosed action", 1),
    (
        V19,
        ["network", "ls", "--format", "{{end}}"],
        "Template parsing error: template: :1: unexpected {{end}}",
        1,
    ),
    (V19, ["help", "nope"], "unknown help topic: nope", 1),
]


@pytest.mark.parametrize(("version", "argv", "message", "code"), PARSE_ERRORS)
def test_error_texts(version, argv, message, code):
    error = fails(argv, version)
    assert (error.message, error.exit_code) == (message, code)


def test_19_03_errors_of_management_commands_print_their_usage():
    error = fails(["network", "foo"], V19)
    assert error.exit_code == 1
    assert error.message.startswith("\nUsage:\tdocker network COMMAND\n\nManage networks\n\nCommands:\n")
    assert "  connect     Connect a container to a network\n" in error.message
    flag = fails(["--foo"], V19)
    assert flag.exit_code == 125
    assert flag.message.startswith(
        "unknown flag: --foo\nSee 'docker --help'.\n\nUsage:\tdocker [OPTIONS] COMMAND\n"
    )


def test_daemon_error_framing():
    msg = 'Conflict. The container name "/web" is already in use'
    assert daemon_error("run", msg, V19).message == f"docker: Error response from daemon: {msg}.\n{SEE_RUN}"
    assert daemon_error("run", msg, V28).message == f"docker: Error response from daemon: {msg}\n\n{MORE_RUN}"
    late = daemon_error("run", "driver failed programming external connectivity", V19, at_start=True)
    assert (
        late.message == "docker: Error response from daemon: driver failed programming external connectivity."
    )
    missing = daemon_error("run", 'exec: "nope": executable file not found in $PATH', V19, at_start=True)
    assert missing.exit_code == 127
    assert daemon_error("create", msg).message == f"Error response from daemon: {msg}"
    assert daemon_error("start", msg).exit_code == 1


def test_ip_without_network_is_dropped_by_1903s_cli_only():
    assert spec_of(["--ip", "172.17.0.9", "busybox"], V19).ip == ""
    assert spec_of(["--ip", "abc", "busybox"], V19).ip == ""  # not even checked
    assert spec_of(["--net", "bridge", "--ip", "172.17.0.9", "busybox"], V19).ip == "172.17.0.9"
    assert spec_of(["--ip", "172.17.0.9", "busybox"], V28).ip == "172.17.0.9"  # sent for "default"


def test_endpoint_options_the_cli_lets_through():
    """19.03 drops --network-alias without --network (no endpoint config); 28 keeps a legacy
    --link on the default bridge, given or not; a user network takes both."""
    assert spec_of(["--network-alias", "x", "busybox"], V19).aliases == ["x"]  # sent nowhere
    assert spec_of(["--net", "bridge", "--link", "db", "busybox"], V28).links == ["db"]
    assert spec_of(["--link", "db", "busybox"], V19).links == ["db"]
    app = spec_of(["--net", "app", "--network-alias", "x", "--link", "db", "busybox"], V19)
    assert (app.aliases, app.links) == (["x"], ["db"])
