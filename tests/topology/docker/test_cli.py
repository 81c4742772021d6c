"""The docker CLI emulation: argv parsing into typed requests, with Docker's texts and exit codes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topology.docker import cli
from topology.docker.cli import parse
from topology.docker.clierrors import CliError
from topology.docker.gotext import GoError
from topology.docker.model import PortBinding, Privileges
from topology.docker.portspec import parse_publish
from topology.docker.requests import (
    ContainerSpec,
    CreateRequest,
    ExecRequest,
    HelpRequest,
    ImagesRequest,
    InfoRequest,
    InspectRequest,
    KillRequest,
    LogsRequest,
    NetworkConnectRequest,
    NetworkCreateRequest,
    NetworkDisconnectRequest,
    NetworkLsRequest,
    NetworkPruneRequest,
    NetworkRmRequest,
    PortRequest,
    PsRequest,
    RenameRequest,
    Request,
    RestartRequest,
    RmRequest,
    RunRequest,
    StartRequest,
    StopRequest,
    VersionRequest,
    WaitRequest,
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


# -- docker run / create ---------------------------------------------------------------------------


@BOTH
def test_run_minimal(version):
    req = parse(["run", "nginx"], version)
    assert req == RunRequest(ContainerSpec(image="nginx"))
    assert isinstance(req, Request)


@pytest.mark.parametrize(
    ("flags", "detach", "interactive", "tty"),
    [
        (["-d"], True, False, False),
        (["--detach"], True, False, False),
        (["-i"], False, True, False),
        (["-t"], False, False, True),
        (["-it"], False, True, True),
        (["-dit"], True, True, True),
        (["-ti", "-d"], True, True, True),
        (["--detach=false", "-i=true"], False, True, False),
        (["-d=0", "--tty=T"], False, False, True),
    ],
)
def test_run_boolean_flags(flags, detach, interactive, tty):
    req = parse(["run", *flags, "busybox"])
    assert isinstance(req, RunRequest)
    assert (req.detach, req.spec.interactive, req.spec.tty) == (detach, interactive, tty)


def test_run_command_and_flags_after_the_image_belong_to_the_container():
    spec = spec_of(["-d", "busybox", "sh", "-c", "echo hi; sleep 1", "--name", "x", "-p", "80"])
    assert spec.image == "busybox"
    assert spec.cmd == ["sh", "-c", "echo hi; sleep 1", "--name", "x", "-p", "80"]
    assert (spec.name, spec.ports) == ("", [])


def test_run_double_dash_ends_the_flags():
    assert spec_of(["--", "nginx", "-d"]).cmd == ["-d"]
    assert spec_of(["-d", "--", "-weird-image"]).image == "-weird-image"


@pytest.mark.parametrize("argv", [["--name", "web"], ["--name=web"], ["--name", "/web"]])
def test_run_name_forms(argv):
    assert spec_of([*argv, "nginx"]).name == "web"


@pytest.mark.parametrize(
    ("argv", "network"),
    [
        ([], "bridge"),
        (["--network", "bridge"], "bridge"),
        (["--net=none"], "none"),
        (["--net", "host"], "host"),
        (["--network=container:web"], "container:web"),
        (["--network", "mynet"], "mynet"),
        (["--network", "default"], "bridge"),
    ],
)
@BOTH
def test_run_network_modes(argv, network, version):
    assert spec_of([*argv, "nginx"], version).network == network


def test_run_network_last_value_wins_in_19_03_and_28_keeps_all_user_networks():
    assert spec_of(["--net", "a", "--net", "b", "nginx"], V19).network == "b"
    spec = spec_of(["--network", "a", "--network", "b", "nginx"], V28)
    assert (spec.network, spec.extra_networks) == ("a", ["b"])


def test_run_28_network_advanced_syntax():
    spec = spec_of(["--network", "name=mynet,alias=web1,ip=10.1.0.5", "nginx"], V28)
    assert (spec.network, spec.aliases, spec.ip) == ("mynet", ["web1"], "10.1.0.5")
    error = fails(["run", "--network", "name=mynet,colour=red", "nginx"], V28)
    assert error.message.startswith(
        'invalid argument "name=mynet,colour=red" for "--network" flag: invalid field key colour'
    )


@pytest.mark.parametrize(
    ("publish", "expected"),
    [
        ("8080:80", PortBinding(80, "tcp", "", 8080)),
        ("127.0.0.1:8080:80", PortBinding(80, "tcp", "127.0.0.1", 8080)),
        ("127.0.0.1::80", PortBinding(80, "tcp", "127.0.0.1", 0)),
        ("80", PortBinding(80, "tcp", "", 0)),
        ("53/udp", PortBinding(53, "udp", "", 0)),
        ("5353:53/UDP", PortBinding(53, "udp", "", 5353)),
        ("8080:80/tcp", PortBinding(80, "tcp", "", 8080)),
        ("0.0.0.0:8080:80/sctp", PortBinding(80, "sctp", "0.0.0.0", 8080)),
        ("[::1]:8080:80", PortBinding(80, "tcp", "::1", 8080)),
        ("8080:80/", PortBinding(80, "tcp", "", 8080)),
        ("published=8080,target=80", PortBinding(80, "tcp", "", 8080)),
        ("target=53,protocol=udp", PortBinding(53, "udp", "", 0)),
        ("08080:080", PortBinding(80, "tcp", "", 8080)),
        ("8000-8000:80", PortBinding(80, "tcp", "", 8000)),
    ],
)
@BOTH
def test_publish_forms(publish, expected, version):
    spec = spec_of(["-p", publish, "nginx"], version)
    assert spec.ports == [expected]


@BOTH
def test_publish_short_flag_forms(version):
    for argv in (["-p8080:80"], ["-p=8080:80"], ["--publish=8080:80"], ["-dp", "8080:80"]):
        assert spec_of([*argv, "nginx"], version).ports == [PortBinding(80, "tcp", "", 8080)]


def test_publish_several_and_publish_all():
    spec = spec_of(["-p", "80", "-p", "443:443", "-P", "nginx"])
    assert [p.container_port for p in spec.ports] == [80, 443]
    assert spec.publish_all
    assert spec_of(["--publish-all", "nginx"]).publish_all


def test_expose_forms():
    spec = spec_of(
        ["--expose", "80", "--expose", "53/udp", "--expose", "8000-8002", "--expose", "80", "nginx"]
    )
    assert spec.expose == ["80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp"]


def test_run_other_container_options():
    spec = spec_of(
        [
            "--network", "mynet", "--ip", "172.20.0.10",  # 19.03 drops --ip without --network
            "--mac-address", "02:42:ac:14:00:0a",
            "-h", "box",
            "--rm",
            "--dns", "1.1.1.1",
            "--add-host", "db:10.0.0.5",
            "--link", "db:database",
            "--network-alias", "www",
            "-e", "A=1",
            "-w", "/tmp",
            "-u", "nobody",
            "--entrypoint", "",
            "-v", "/x:/y",
            "--privileged",
            "nginx",
        ]
    )  # fmt: skip
    assert (spec.ip, spec.mac, spec.hostname, spec.auto_remove) == (
        "172.20.0.10",
        "02:42:ac:14:00:0a",
        "box",
        True,
    )
    assert (spec.dns, spec.add_hosts, spec.links, spec.aliases) == (
        ["1.1.1.1"],
        ["db:10.0.0.5"],
        ["db:database"],
        ["www"],
    )
    assert (spec.env, spec.workdir, spec.user, spec.entrypoint) == (["A=1"], "/tmp", "nobody", "")
    assert spec.unsupported == ["volume"]
    assert spec.privileges == Privileges(privileged=True)
    assert spec_of(["--hostname=box", "nginx"]).hostname == "box"
    assert spec_of(["nginx"]).entrypoint is None


def test_add_host_forms_per_version():
    assert spec_of(["--add-host", "gw:host-gateway", "nginx"], V28).add_hosts == ["gw:host-gateway"]
    # docker/cli 28 ValidateExtraHost sends the daemon NAME:IP, brackets stripped
    assert spec_of(["--add-host", "v6=[::1]", "nginx"], V28).add_hosts == ["v6:::1"]
    assert fails(["run", "--add-host", "gw:host-gateway", "nginx"], V19).exit_code == 125


@BOTH
def test_host_mode_publishing_is_a_warning(version):
    req = parse(["run", "-d", "--net=host", "-p", "80:80", "nginx"], version)
    assert isinstance(req, RunRequest)
    assert req.warnings == ["WARNING: Published ports are discarded when using host network mode"]
    assert req.spec.ports == [PortBinding(80, "tcp", "", 80)]
    quiet = parse(["run", "-d", "--net=host", "-P", "nginx"], version)
    assert isinstance(quiet, RunRequest) and quiet.warnings == []
    created = parse(["create", "--net=host", "-p", "80", "nginx"], version)
    assert isinstance(created, CreateRequest) and created.warnings == [cli.HOST_MODE_WARNING]


def test_container_mode_conflicts_come_in_the_spec_order():
    # 19.03's CLI refuses --link with any --network but a user-defined one before the daemon sees it
    linked = ["run", "--net=container:web", "-h", "x", "--link", "db", "nginx"]
    assert fails(linked, V19).message.startswith("docker: links are only supported for user-defined")
    assert "hostname and the network mode" in fails(linked, V28).message  # the daemon's order
    only_link = ["run", "--net=container:web", "--link", "db", "nginx"]
    assert "can't be used with links" in fails(only_link, V28).message
    argv = [
        "--net=container:web", "-h", "x", "--dns", "1.1.1.1", "--add-host", "a:1.2.3.4",
        "--mac-address", "02:42:ac:11:00:02", "-p", "80", "--expose", "81",
    ]  # fmt: skip
    order = [
        ("-h", 2, "hostname and the network mode"),
        ("--dns", 2, "dns and the network mode"),
        ("--add-host", 2, "custom host-to-IP mapping and the network mode"),
        ("--mac-address", 2, "mac-address and the network mode"),
        ("-p", 2, "port publishing and the container type network mode"),
        ("--expose", 2, "port exposing and the container type network mode"),
    ]
    for flag, width, text in order:
        assert text in fails(["run", *argv, "nginx"], V19).message
        i = argv.index(flag)
        del argv[i : i + width]
    assert spec_of([*argv, "nginx"], V19).network == "container:web"


def test_mac_address_with_container_mode_is_allowed_in_28():
    spec = spec_of(["--net=container:web", "--mac-address", "02:42:ac:11:00:02", "nginx"], V28)
    assert spec.mac == "02:42:ac:11:00:02"


@BOTH
def test_create(version):
    req = parse(["create", "-it", "--name", "c1", "-p", "80", "busybox", "sh"], version)
    assert isinstance(req, CreateRequest)
    assert (req.spec.name, req.spec.cmd, req.spec.interactive, req.spec.tty) == ("c1", ["sh"], True, True)
    assert fails(["create", "-d", "nginx"], version).exit_code == 125


def test_container_run_is_run():
    assert parse(["container", "run", "-d", "nginx"]) == parse(["run", "-d", "nginx"])


def test_parse_publish_gives_typed_bindings():
    assert parse_publish("127.0.0.1::80/udp", V19) == [PortBinding(80, "udp", "127.0.0.1", 0)]
    # go-connections ParsePortSpec: a mapping per container port of a range
    for version in (V19, V28):
        assert parse_publish("9000-9001:9000-9001", version) == [
            PortBinding(9000, "tcp", "", 9000),
            PortBinding(9001, "tcp", "", 9001),
        ]
        assert parse_publish("127.0.0.1::7000-7001/udp", version) == [
            PortBinding(7000, "udp", "127.0.0.1", 0),
            PortBinding(7001, "udp", "127.0.0.1", 0),
        ]
        # one container port, a host range: the host port is picked in the range
        assert parse_publish("8000-8010:80", version) == [PortBinding(80, "tcp", "", 8000, 8010)]
    with pytest.raises(GoError, match="Invalid containerPort: x"):
        parse_publish("x", V19)


# -- other container commands ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ps"], PsRequest()),
        (["ps", "-a"], PsRequest(all=True)),
        (["ps", "-aq"], PsRequest(all=True, quiet=True)),
        (["ps", "--no-trunc", "-q"], PsRequest(quiet=True, no_trunc=True)),
        (["ps", "-n", "2"], PsRequest(last=2)),
        (["ps", "-l", "-s"], PsRequest(latest=True, size=True)),
        (
            ["ps", "-f", "name=web", "--format", "{{.Names}}"],
            PsRequest(filters=["name=web"], format="{{.Names}}"),
        ),
        (["container", "ls", "-a"], PsRequest(all=True)),
        (["container", "list"], PsRequest()),
        (["container", "ps", "--all"], PsRequest(all=True)),
    ],
)
def test_ps(argv, expected):
    assert parse(argv) == expected


def test_port():
    assert parse(["port", "web"]) == PortRequest("web")
    assert parse(["port", "web", "80/tcp"]) == PortRequest("web", "80/tcp")
    assert parse(["container", "port", "web", "53/udp"]) == PortRequest("web", "53/udp")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["inspect", "web"], InspectRequest(["web"])),
        (
            ["inspect", "-f", "{{.State.Pid}}", "web", "db"],
            InspectRequest(["web", "db"], format="{{.State.Pid}}"),
        ),
        (["inspect", "--format={{.Id}}", "web"], InspectRequest(["web"], format="{{.Id}}")),
        (["inspect", "--type", "network", "bridge"], InspectRequest(["bridge"], kind="network")),
        (["container", "inspect", "-s", "web"], InspectRequest(["web"], kind="container", size=True)),
        (["network", "inspect", "-v", "bridge"], InspectRequest(["bridge"], kind="network", verbose=True)),
        (
            ["network", "inspect", "-f", "{{json .IPAM}}", "n1"],
            InspectRequest(["n1"], kind="network", format="{{json .IPAM}}"),
        ),
    ],
)
def test_inspect(argv, expected):
    assert parse(argv) == expected


def test_exec():
    assert parse(["exec", "-it", "web", "sh", "-c", "ls -l /"]) == ExecRequest(
        "web", ["sh", "-c", "ls -l /"], interactive=True, tty=True
    )
    assert parse(["exec", "-d", "-e", "A=1", "-u", "0", "-w", "/", "web", "touch", "/x"]) == ExecRequest(
        "web", ["touch", "/x"], detach=True, env=["A=1"], user="0", workdir="/"
    )
    assert parse(["exec", "web", "ls", "-la"]).cmd == ["ls", "-la"]  # type: ignore[attr-defined]


def test_lifecycle_commands():
    assert parse(["start", "-ai", "web"]) == StartRequest(["web"], attach=True, interactive=True)
    assert parse(["start", "a", "b"]) == StartRequest(["a", "b"])
    assert parse(["stop", "web"]) == StopRequest(["web"])
    assert parse(["stop", "-t", "3", "web", "db"]) == StopRequest(["web", "db"], timeout=3)
    assert parse(["stop", "--time=0x10", "web"]) == StopRequest(["web"], timeout=16)
    assert parse(["stop", "--timeout", "0", "-s", "KILL", "web"], V28) == StopRequest(
        ["web"], timeout=0, signal="KILL"
    )
    assert parse(["restart", "-t", "1", "web"]) == RestartRequest(["web"], timeout=1)
    assert parse(["rm", "-f", "web"]) == RmRequest(["web"], force=True)
    assert parse(["rm", "-fv", "a", "b"]) == RmRequest(["a", "b"], force=True, volumes=True)
    assert parse(["container", "remove", "web"]) == RmRequest(["web"])
    assert parse(["logs", "-f", "--tail", "10", "web"]) == LogsRequest("web", follow=True, tail="10")
    # kill: 19.03's CLI sends "KILL" unless told; 28's sends no signal (the daemon's SIGKILL)
    assert parse(["kill", "web", "db"]) == KillRequest(["web", "db"], signal="KILL")
    assert parse(["kill", "web"], V28) == KillRequest(["web"])
    assert parse(["container", "kill", "-s", "TERM", "web"], V28) == KillRequest(["web"], signal="TERM")
    assert parse(["kill", "--signal=9", "web"]) == KillRequest(["web"], signal="9")
    assert parse(["rename", "old", "new"]) == RenameRequest("old", "new")
    assert parse(["container", "rename", "old", "new"], V28) == RenameRequest("old", "new")
    assert parse(["wait", "a", "b"]) == WaitRequest(["a", "b"])
    assert parse(["container", "wait", "a"], V28) == WaitRequest(["a"])
    assert parse(["logs", "-n", "5", "-t", "web"], V28) == LogsRequest("web", timestamps=True, tail="5")
    assert fails(["logs", "-n", "5", "web"], V19).exit_code == 125


def test_images_version_info_help():
    assert parse(["images"]) == ImagesRequest()
    assert parse(["images", "-q", "nginx"]) == ImagesRequest("nginx", quiet=True)
    assert parse(["image", "ls", "--no-trunc"]) == ImagesRequest(no_trunc=True)
    assert parse(["version"]) == VersionRequest()
    assert parse(["version", "-f", "{{.Server.Version}}"]) == VersionRequest(format="{{.Server.Version}}")
    assert parse(["--version"]) == VersionRequest(short=True)
    assert parse(["-v"]) == VersionRequest(short=True)
    assert parse(["info"]) == InfoRequest()
    assert parse(["-D", "--log-level", "debug", "info"]) == InfoRequest()
    assert cli.short_version(V19) == "Docker version 19.03.15, build 99e3ed8"


@BOTH
def test_help(version):
    run_help = parse(["run", "--help"], version)
    assert isinstance(run_help, HelpRequest) and run_help.stream == "stdout"
    assert "docker run [OPTIONS] IMAGE [COMMAND] [ARG...]" in run_help.text
    assert "  -p, --publish list" in run_help.text and "--net " not in run_help.text
    network_help = parse(["network", "--help"], version)
    assert isinstance(network_help, HelpRequest)
    assert (
        "docker network COMMAND" in network_help.text
        and "  create      Create a network" in network_help.text
    )
    bare = parse(["network"], version)
    assert isinstance(bare, HelpRequest) and bare.stream == "stderr"
    assert parse([], version) == HelpRequest(cli.usage_text([], version), stream="stderr")
    assert parse(["--help"], version) == HelpRequest(cli.usage_text([], version))
    assert parse(["ps", "-h"], version) == HelpRequest(cli.usage_text(["ps"], version))
    assert parse(["help", "network", "ls"], version) == HelpRequest(
        cli.usage_text(["network", "ls"], version)
    )
    assert parse(["run", "-h", "box", "nginx"], version).spec.hostname == "box"  # type: ignore[attr-defined]
    assert parse(["run", "nginx", "--help"], version).spec.cmd == ["--help"]  # type: ignore[attr-defined]


# -- docker network ------------------------------------------------------------------------------


def test_network_create():
    assert parse(["network", "create", "n1"]) == NetworkCreateRequest("n1")
    req = parse(
        [
            "network", "create", "-d", "bridge", "--subnet", "172.30.0.0/16", "--gateway=172.30.0.254",
            "--internal", "-o", "com.docker.network.bridge.enable_icc=false",
            "--opt=com.docker.network.bridge.name=br-lab",
            "-o", "com.docker.network.bridge.enable_ip_masquerade=0",
            "-o", "com.docker.network.driver.mtu=1400", "--label", "lab=1", "n1",
        ]
    )  # fmt: skip
    assert req == NetworkCreateRequest(
        "n1",
        subnet="172.30.0.0/16",
        gateway="172.30.0.254",
        internal=True,
        options={
            "com.docker.network.bridge.enable_icc": "false",
            "com.docker.network.bridge.name": "br-lab",
            "com.docker.network.bridge.enable_ip_masquerade": "0",
            "com.docker.network.driver.mtu": "1400",
        },
        labels={"lab": "1"},
        bridge_name="br-lab",
        icc=False,
        masquerade=False,
        mtu=1400,
    )
    assert parse(["network", "create", "--subnet", "10.0.0.1/24", "n2"], V19).subnet == "10.0.0.0/24"  # type: ignore[attr-defined]


def test_network_other_commands():
    assert parse(["network", "ls"]) == NetworkLsRequest()
    assert parse(["network", "list", "-q", "--no-trunc"]) == NetworkLsRequest(quiet=True, no_trunc=True)
    assert parse(["network", "rm", "a", "b"]) == NetworkRmRequest(["a", "b"])
    assert parse(["network", "remove", "a"]) == NetworkRmRequest(["a"])
    assert parse(["network", "rm", "-f", "a"], V28) == NetworkRmRequest(["a"], force=True)
    assert parse(
        ["network", "connect", "--ip", "10.0.0.9", "--alias", "db", "n1", "web"]
    ) == NetworkConnectRequest("n1", "web", ip="10.0.0.9", aliases=["db"])
    assert parse(["network", "disconnect", "-f", "n1", "web"]) == NetworkDisconnectRequest(
        "n1", "web", force=True
    )
    assert parse(["network", "prune", "-f"]) == NetworkPruneRequest(force=True)
    assert parse(["network", "prune"]) == NetworkPruneRequest()


# -- property ------------------------------------------------------------------------------------

VOCABULARY = [
    "run", "create", "ps", "port", "inspect", "exec", "start", "stop", "restart", "rm", "logs", "images",
    "version", "info", "network", "container", "image", "ls", "list", "connect", "disconnect", "prune",
    "help", "-d", "-i", "-t", "-it", "-dit", "-p", "--publish", "-P", "--name", "--net", "--network",
    "container:", "container:web", "host", "none", "bridge", "-h", "--hostname", "--link", "--dns",
    "--add-host", "--mac-address", "--ip", "--expose", "--rm", "-f", "--format", "{{.Name}}", "{{",
    "{{end}}", "{{index . 1}}", "-a", "-q", "--no-trunc", "-n", "--", "-", "--help", "-o", "--opt",
    "com.docker.network.bridge.enable_icc=no", "--subnet", "--gateway", "10.0.0.0/24", "10.0.0.1",
    "8080:80", "127.0.0.1::80", "80/udp", "abc", "99999", "-x", "--foo", "=", "", "nginx", "web", "sh",
    "-c", "1.2.3.4", "::1", "[::1]:80:80", "02:42:ac:11:00:02", "a:b:c", "--time", "-t", "10", "0x1g",
    "-p=", "--name=", "--network=a,b=c", "name=x,alias=y", "1-65535", "published=80,target=", "--type",
    "volume", "-s", "--driver", "overlay", "--ipv6", "container:web:x", "é",
]  # fmt: skip
ARGV = st.lists(st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=12)), max_size=10)


@settings(max_examples=600, deadline=None)
@given(argv=ARGV, version=st.sampled_from([V19, V28]))
def test_parse_returns_a_request_or_a_docker_error(argv, version):
    try:
        result = parse(argv, version)
    except CliError as e:
        assert e.message and e.exit_code in (1, 125)
    else:
        assert isinstance(result, Request)
