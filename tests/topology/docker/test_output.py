"""Docker's output tables and texts: ps, network ls, images, port, version, info."""

from __future__ import annotations

import pytest

from tests.topology.docker.objects import BRIDGE, HOST, LAB, NONE, NOW, V19, V28, exited, fresh, web
from topology.docker import filters, gotext, images, output
from topology.docker.clierrors import CliError
from topology.docker.gotemplate_parse import TemplateError
from topology.docker.model import ExposedPort, PortBinding


def ps(containers, *, all=False, last=-1, latest=False, version=V19, **kw) -> str:
    """`docker ps` as the command runs it: the daemon's choice, then the table."""
    limit = 1 if latest and last == -1 else last
    return output.format_ps(
        filters.list_containers(containers, all=all, limit=limit, version=version), version=version, **kw
    )


def images_table(*, repository: str = "", version: str = V19, **kw) -> str:
    """`docker images [REPOSITORY]` as the command runs it."""
    rows = filters.list_images(repository=repository, now=gotext.parse_time(NOW), version=version)
    return output.format_images(rows, now=NOW, version=version, **kw)


PS_19_03 = (
    "CONTAINER ID        IMAGE               COMMAND                  CREATED              STATUS"
    "                       PORTS                                            NAMES\n"
    'wwwwwwwwwwww        nginx               "nginx -g \'daemon of…"   About a minute ago   Up 2 seconds'
    "                 0.0.0.0:8080->80/tcp, 127.0.0.1:32768->443/tcp   web\n"
    'dddddddddddd        busybox             "sh"                     10 minutes ago       Exited (137) 2 '
    "minutes ago"
    "                                                    db\n"
    'nnnnnnnnnnnn        alpine              "/bin/sh"                2 hours ago          Created'
    "                                                                       new\n"
)
PS_28 = (
    "CONTAINER ID   IMAGE     COMMAND                  CREATED              STATUS         PORTS"
    "                                            NAMES\n"
    'wwwwwwwwwwww   nginx     "nginx -g \'daemon of…"   About a minute ago   Up 2 seconds   '
    "0.0.0.0:8080->80/tcp, 127.0.0.1:32768->443/tcp   web\n"
)


def test_ps_table_19_03():
    assert ps([fresh(), exited(), web()], all=True, now=NOW, version=V19) == PS_19_03


def test_ps_table_28_running_only():
    assert ps([fresh(), exited(), web()], now=NOW, version=V28) == PS_28


def test_ps_empty_quiet_no_trunc_last():
    assert (
        ps([], now=NOW, version=V28)
        == "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
    )
    assert ps([fresh(), exited(), web()], quiet=True, now=NOW) == "wwwwwwwwwwww\n"
    assert ps([fresh(), exited(), web()], all=True, quiet=True, no_trunc=True, now=NOW) == (
        "w" * 64 + "\n" + "d" * 64 + "\n" + "n" * 64 + "\n"
    )
    assert ps([fresh(), exited(), web()], last=2, quiet=True, now=NOW) == "wwwwwwwwwwww\ndddddddddddd\n"
    assert ps([fresh(), exited(), web()], latest=True, quiet=True, now=NOW) == "wwwwwwwwwwww\n"
    full = ps([web()], no_trunc=True, now=NOW, version=V28)
    assert "\"nginx -g 'daemon off;'\"" in full


def test_ps_custom_formats():
    cs = [exited(), web()]
    assert ps(cs, all=True, template="{{.Names}}: {{.Status}}", now=NOW) == (
        "web: Up 2 seconds\ndb: Exited (137) 2 minutes ago\n"
    )
    assert ps(cs, template="table {{.Names}}\\t{{.Networks}}", now=NOW, version=V28) == (
        "NAMES     NETWORKS\nweb       bridge\n"
    )
    with pytest.raises(TemplateError) as info:
        ps(cs, template="{{.Nope}}", now=NOW)
    assert info.value.message == (
        'Template parsing error: template: :1:2: executing "" at <.Nope>: '
        "can't evaluate field Nope in type *formatter.ContainerContext"
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "Less than a second"),
        (1, "1 second"),
        (5, "5 seconds"),
        (59.9, "59 seconds"),
        (60, "About a minute"),
        (119, "About a minute"),
        (120, "2 minutes"),
        (3599, "59 minutes"),
        (3600, "About an hour"),
        (5399, "About an hour"),
        (5400, "2 hours"),
        (47 * 3600, "47 hours"),
        (48 * 3600, "2 days"),
        (15 * 86400, "2 weeks"),
        (61 * 86400, "2 months"),
        (800 * 86400, "2 years"),
    ],
)
def test_human_duration(seconds, text):
    assert gotext.human_duration(seconds) == text


def test_status_strings():
    assert output.container_status(web(), NOW) == "Up 2 seconds"
    assert output.container_status(exited(), NOW) == "Exited (137) 2 minutes ago"
    assert output.container_status(fresh(), NOW) == "Created"
    paused = web()
    paused.status = "paused"
    assert output.container_status(paused, NOW) == "Up 2 seconds (Paused)"


def test_display_ports_groups_like_docker():
    c = web()
    c.exposed = [ExposedPort(p) for p in (80, 8000, 8001, 8002)] + [ExposedPort(53, "udp")]
    c.ports = [
        PortBinding(80, "tcp", "0.0.0.0", 32768),
        PortBinding(90, "tcp", "0.0.0.0", 90),
        PortBinding(91, "tcp", "0.0.0.0", 91),
    ]
    assert output.display_ports(c) == "53/udp, 0.0.0.0:90-91->90-91/tcp, 8000-8002/tcp, 0.0.0.0:32768->80/tcp"
    c.ports = [PortBinding(80, "tcp", "0.0.0.0", 8080), PortBinding(80, "tcp", "::", 8080)]
    c.exposed = [ExposedPort(80)]
    assert output.display_ports(c, V19) == "0.0.0.0:8080->80/tcp, :::8080->80/tcp"
    assert output.display_ports(c, V28) == "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"
    c.network_mode = "host"
    c.ports = []
    assert output.display_ports(c) == ""
    assert output.display_ports(exited()) == ""


def test_network_ls():
    expected_19 = (
        "NETWORK ID          NAME                DRIVER              SCOPE\n"
        "1a1a1a1a1a1a        bridge              bridge              local\n"
        "2b2b2b2b2b2b        host                host                local\n"
        "4d4d4d4d4d4d        lab                 bridge              local\n"
        "3c3c3c3c3c3c        none                null                local\n"
    )
    assert output.format_network_ls([LAB, NONE, HOST, BRIDGE], version=V19) == expected_19
    assert output.format_network_ls([HOST, BRIDGE], version=V28).splitlines() == [
        "NETWORK ID     NAME      DRIVER    SCOPE",
        "1a1a1a1a1a1a   bridge    bridge    local",
        "2b2b2b2b2b2b   host      host      local",
    ]
    assert output.format_network_ls([BRIDGE], quiet=True, no_trunc=True) == BRIDGE.id + "\n"
    assert output.format_network_ls([LAB], template="{{.Name}} {{.Labels}}") == "lab lab=1\n"


def test_images_and_version():
    table = images_table(version=V28).splitlines()
    assert table[0] == "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE"
    assert [line.split()[0] for line in table[1:]] == ["alpine", "busybox", "nginx", "httpd"]
    assert images_table(repository="nginx", quiet=True) == "f6d0b4767a6c\n"
    assert images.image_id("nginx").startswith("sha256:f6d0b4767a6c") and len(images.image_id("nginx")) == 71
    assert " Version:           19.03.15\n" in output.format_version(V19)
    assert "  API version:      1.51 (minimum version 1.24)\n" in output.format_version(V28)
    assert " Containers: 3\n  Running: 1\n  Paused: 0\n  Stopped: 2\n" in output.format_info(
        [web(), exited(), fresh()]
    )


def test_format_port():
    c = web()
    assert output.format_port(c) == "80/tcp -> 0.0.0.0:8080\n443/tcp -> 127.0.0.1:32768\n"
    assert output.format_port(c, "80") == "0.0.0.0:8080\n"
    assert output.format_port(c, "443/tcp") == "127.0.0.1:32768\n"
    c.ports.append(PortBinding(80, "tcp", "::", 8080))
    assert output.format_port(c, "80") == "0.0.0.0:8080\n[::]:8080\n"
    assert output.format_port(exited()) == ""


PORT_ERRORS = [
    (V19, "81", "Error: No public port '81/tcp' published for web", 1),
    (V28, "81", "Error: No public port '81' published for web", 1),
    (V19, "80/udp", "Error: No public port '80/udp' published for web", 1),
    (V19, "abc", 'strconv.ParseUint: parsing "abc": invalid syntax', 1),
    (V28, "abc", 'Error: invalid port (abc): strconv.ParseUint: parsing "abc": invalid syntax', 1),
    (V28, "70000", 'Error: invalid port (70000): strconv.ParseUint: parsing "70000": value out of range', 1),
]


@pytest.mark.parametrize(("version", "port", "message", "code"), PORT_ERRORS)
def test_format_port_errors(version, port, message, code):
    with pytest.raises(CliError) as info:
        output.format_port(web(), port, version=version)
    assert (info.value.message, info.value.exit_code) == (message, code)


def test_tabwriter_matches_go():
    assert gotext.tabwrite("a\tbb\tc\nccc\td\te\n", 1, 3) == "a     bb   c\nccc   d    e\n"
    assert gotext.tabwrite("x\ty\nlonger\n\tz\n", 10, 3) == "x         y\nlonger\n          z\n"


def test_format_top_keeps_the_containers_lines_and_their_threads():
    ps = (
        "UID          PID    PPID  C STIME TTY          TIME CMD\n"
        "root          12       0  0 10:00 ?        00:00:00 sh -c  sleep  600\n"
        "root           -       -  0 10:00 -        00:00:00 -\n"
        "root          13       0  0 10:00 ?        00:00:00 other\n"
        "root           -       -  0 10:00 -        00:00:00 -\n"
    )
    assert output.format_top(ps, {12}) == (
        "UID                 PID                 PPID                C                   STIME               "
        "TTY                 TIME                CMD\n"
        "root                12                  0                   0                   10:00               "
        "?                   00:00:00            sh -c sleep 600\n"
        "root                -                   -                   0                   10:00               "
        "-                   00:00:00            -\n"
    )
