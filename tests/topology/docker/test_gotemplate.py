"""Go templates (`-f/--format`) over inspect objects, with Go's texts and errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.topology.docker.objects import BRIDGE, NETWORKS, web
from topology.docker import inspect_json
from topology.docker.gotemplate import render_format
from topology.docker.gotemplate_parse import TemplateError


@pytest.fixture
def inspected() -> dict:
    return inspect_json.inspect_container(web(), NETWORKS)


@pytest.mark.parametrize(
    ("template", "output"),
    [
        ("{{.State.Pid}}", "4321"),
        ("{{.NetworkSettings.IPAddress}}", "172.17.0.2"),
        ("{{.Id}}", "w" * 64),
        ("{{.Name}}", "/web"),
        ("ip={{ .NetworkSettings.IPAddress }}!", "ip=172.17.0.2!"),
        ("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "172.17.0.2"),
        ("{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.Gateway}};{{end}}", "bridge=172.17.0.1;"),
        ("{{range $i, $a := .Args}}{{$i}}:{{$a}} {{end}}", "0:-g 1:daemon off; "),
        ('{{index .NetworkSettings.Ports "80/tcp"}}', "[{0.0.0.0 8080}]"),
        ('{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}', "8080"),
        ('{{index .NetworkSettings.Ports "81/tcp"}}', "[]"),
        ("{{.NetworkSettings.Networks.nope}}", "<no value>"),
        ("{{.Config.ExposedPorts}}", "map[80/tcp:{}]"),
        ("{{.Config.Labels}}", "map[]"),
        ("{{.Config.Entrypoint}}", "[]"),
        ("{{.HostConfig.RestartPolicy}}", "{no 0}"),
        ("{{.State.Running}} {{.State.Dead}}", "true false"),
        ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
        ("{{if not .State.Running}}down{{else if .State.Pid}}pid{{end}}", "pid"),
        ("{{with .NetworkSettings}}{{.SandboxKey}}{{end}}", "/var/run/docker/netns/0123456789ab"),
        ("{{$ip := .NetworkSettings.IPAddress}}{{$ip}}/{{$.State.Pid}}", "172.17.0.2/4321"),
        ('{{printf "%s has pid %d" .Name .State.Pid}}', "/web has pid 4321"),
        ('{{join .Args ","}} {{len .Args}} {{upper "x"}} {{lower "Y"}}', "-g,daemon off; 2 X y"),
        ('{{eq .State.Status "running"}} {{ne .State.Pid 0}}', "true true"),
        ('{{.Name | printf "%q"}}', '"/web"'),
        (
            "{{json .NetworkSettings.Ports}}",
            '{"443/tcp":[{"HostIp":"127.0.0.1","HostPort":"32768"}],"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}',
        ),
        ("{{json .Config.Entrypoint}}", "null"),
        ("a\n{{- .State.Pid -}}\nb", "a4321b"),
        ("{{/* a comment */}}x", "x"),
        ('{{range .Config.Cmd}}{{if eq . "-g"}}{{break}}{{end}}{{.}} {{end}}', "nginx "),
    ],
)
def test_render_format(inspected, template, output):
    assert render_format(template, inspected) == output


def test_render_format_networks_map_and_json(inspected):
    printed = render_format("{{.NetworkSettings.Networks}}", inspected)
    endpoint = inspected["NetworkSettings"]["Networks"]["bridge"]["EndpointID"]
    fields = f"<nil> [] [] {BRIDGE.id} {endpoint} 172.17.0.1 172.17.0.2 16   0 02:42:ac:11:00:02 map[]"
    assert printed == f"map[bridge:{{{fields}}}]"
    networks = json.loads(render_format("{{json .NetworkSettings.Networks}}", inspected))
    assert networks == inspected["NetworkSettings"]["Networks"]
    assert json.loads(render_format("{{json .}}", inspected)) == json.loads(json.dumps(inspected))
    assert render_format("{{json .Name}}", inspected) == '"/web"'


def test_render_format_over_a_json_round_trip(inspected):
    decoded = json.loads(inspect_json.format_inspect([inspected]))[0]
    assert render_format("{{.NetworkSettings.Networks}}", decoded) == render_format(
        "{{.NetworkSettings.Networks}}", inspected
    )


TEMPLATE_ERRORS = [
    ("{{.Foo}}", 'template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"'),
    ("{{ .State.Foo }}", 'template: :1:9: executing "" at <.State.Foo>: map has no entry for key "Foo"'),
    (
        "{{.NetworkSettings.IPAdress}}",
        'template: :1:18: executing "" at <.NetworkSettings.IPA...>: map has no entry for key "IPAdress"',
    ),
    ("x\n  {{.Nope}}", 'template: :2:4: executing "" at <.Nope>: map has no entry for key "Nope"'),
    (
        "{{.Name.First}}",
        'template: :1:7: executing "" at <.Name.First>: can\'t evaluate field First in type string',
    ),
    (
        "{{range .State}}{{end}}",
        'template: :1:8: executing "" at <{{range .State}}{{en...>: range can\'t iterate over '
        "{running true false false false false 4321 0  2024-05-01T11:59:57.5Z 0001-01-01T00:00:00Z}",
    ),
    (
        "{{index .Args 7}}",
        'template: :1:2: executing "" at <index .Args 7>: error calling index: index out of range: 7',
    ),
    ("{{join .Args}}", 'template: :1:2: executing "" at <join>: wrong number of args for join: want 2 got 1'),
    ("{{.Name 1}}", 'template: :1:2: executing "" at <.Name>: Name is not a method but has arguments'),
    ("{{.Foo", "template: :1: unclosed action"),
    ("{{if .Name}}x", "template: :1: unexpected EOF"),
    ("{{end}}", "template: :1: unexpected {{end}}"),
    ("{{else}}", "template: :1: unexpected {{else}}"),
    ("{{foo .Name}}", 'template: :1: function "foo" not defined'),
    ("{{$x}}", 'template: :1: undefined variable "$x"'),
    ("{{}}", "template: :1: missing value for command"),
    ("{{if}}{{end}}", "template: :1: missing value for if"),
    ('{{"abc}}', "template: :1: unterminated quoted string"),
    ("{{.Name !}}", 'template: :1: unexpected "!" in command'),
    ("{{(.Name}}", "template: :1: unclosed left paren"),
    ("{{break}}", "template: :1: {{break}} outside {{range}}"),
    ("{{/* x }}", "template: :1: unclosed comment"),
]


@pytest.mark.parametrize(("template", "detail"), TEMPLATE_ERRORS)
def test_render_format_errors(inspected, template, detail):
    with pytest.raises(TemplateError) as info:
        render_format(template, inspected)
    assert (info.value.message, info.value.exit_code) == ("Template parsing error: " + detail, 1)
    assert info.value.detail == detail


def test_render_format_on_network_inspect():
    d = inspect_json.inspect_network(BRIDGE, [web()])
    assert (
        render_format("{{range .IPAM.Config}}{{.Subnet}} via {{.Gateway}}{{end}}", d)
        == "172.17.0.0/16 via 172.17.0.1"
    )
    assert render_format('{{index .Options "com.docker.network.bridge.name"}}', d) == "docker0"
    assert render_format("{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", d) == "web 172.17.0.2/16"


TEMPLATE_PIECES = [
    "{{", "}}", "{{- ", " -}}", " ", ".", ".Name", ".State", ".Pid", ".NetworkSettings", ".Networks", "$",
    "$x", ":=", "=", ",", "|", "(", ")", "range", "if", "else", "end", "with", "break", "index", "len",
    "json", "printf", "eq", "and", "join", "pad", '"80/tcp"', '"%s %d %q %5.2s"', "`raw`", "'a'", "1", "-1",
    "1.5", "true", "nil", '"\\x4"', "/*", "*/", ".Args", ".Ports", "0", "7", "\n", "!", "}", "é", "$.Name",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TEMPLATE_PIECES), max_size=12))
def test_render_format_returns_text_or_a_template_error(pieces):
    try:
        assert isinstance(
            render_format("".join(pieces), inspect_json.inspect_container(web(), NETWORKS)), str
        )
    except TemplateError as e:
        assert e.message.startswith("Template parsing error: template: :") and e.exit_code == 1
