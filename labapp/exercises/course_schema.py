"""The JSON Schema of an exercise file and of a course.yaml (docs/exercises.md).

Argument values that are numbers or booleans may also be a `{{param}}` placeholder (a string): the
placeholder is replaced by the parameter's value, with its type, when the exercise is templated.
"""

from __future__ import annotations

from jsonschema import Draft202012Validator

SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
PLACEHOLDER = r"^\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}$"
LANGUAGES = ("en", "zh-hans")

_TEXT = {"type": "string", "minLength": 1}
LOCALISED = {
    "type": "object",
    "properties": {lang: _TEXT for lang in LANGUAGES},
    "required": list(LANGUAGES),
    "additionalProperties": False,
}
_PARAM_REF = {"type": "string", "pattern": PLACEHOLDER}
_INT = {"anyOf": [{"type": "integer"}, _PARAM_REF]}
_PORT = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, _PARAM_REF]}
_BOOL = {"anyOf": [{"type": "boolean"}, _PARAM_REF]}
_STR = {"type": "string"}
_SCALAR = {"type": ["string", "integer"]}
_NS = _STR
_PROTO = {"enum": ["tcp", "udp"]}
_STR_LIST = {"type": "array", "items": _STR}


def _args(required: list[str], **properties) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_PUBLISHED = {
    "type": "array",
    "items": _args(["port"], port=_PORT, proto=_PROTO, host_port=_PORT, host_ip=_STR),
}

STATE_CHECKS = {
    "container": _args(["name"], name=_STR, running=_BOOL, network=_STR, published=_PUBLISHED, present=_BOOL),
    "network": _args(["name"], name=_STR, subnet=_STR, internal=_BOOL, bridge=_STR, present=_BOOL),
    "link": {
        **_args(
            [],
            ns=_NS,
            name=_STR,
            name_pattern=_STR,
            kind=_STR,
            master=_STR,
            state={"enum": ["UP", "DOWN"]},
            peer_ns=_NS,
            peer_name=_STR,
            mac=_STR,
            mtu=_INT,
            present=_BOOL,
        ),
        "oneOf": [{"required": ["name"]}, {"required": ["name_pattern"]}],
    },
    "links": _args([], ns=_NS, exactly=_STR_LIST, include=_STR_LIST, exclude=_STR_LIST),
    "address": _args(["address"], ns=_NS, address=_STR, ifname=_STR, present=_BOOL),
    "route": _args(
        ["destination"], ns=_NS, destination=_STR, gateway=_STR, dev=_STR, flags=_STR, present=_BOOL
    ),
    "sysctl": _args(["name", "value"], ns=_NS, name=_STR, value=_SCALAR),
    "rule": _args(
        ["chain", "rule"],
        ns=_NS,
        table=_STR,
        chain=_STR,
        rule=_STR,
        present=_BOOL,
        effective=_BOOL,
    ),
    "policy": _args(["chain", "policy"], ns=_NS, table=_STR, chain=_STR, policy=_STR),
    "conntrack": _args(
        [],
        ns=_NS,
        proto=_PROTO,
        orig_src=_STR,
        orig_dst=_STR,
        orig_dport=_PORT,
        reply_src=_STR,
        reply_sport=_PORT,
        nat={"enum": ["dnat", "snat", "both"]},
        present=_BOOL,
    ),
    "listening": _args(["port"], ns=_NS, port=_PORT, proto=_PROTO, address=_STR, process=_STR, present=_BOOL),
}

PROBES = {
    "http": _args(
        ["from", "url"],
        **{"from": _NS},
        url=_STR,
        status=_INT,
        contains=_STR,
        expect={"enum": ["ok", "fail"]},
    ),
    "ping": _args(["from", "to"], **{"from": _NS}, to=_STR, expect={"enum": ["ok", "fail"]}),
    "tcp": _args(
        ["from", "to", "port"], **{"from": _NS}, to=_STR, port=_PORT, expect={"enum": ["open", "closed"]}
    ),
    "remote_saw": _args(["from", "source"], **{"from": _NS}, source=_STR),
    "trace": _args(
        ["from", "to"],
        **{"from": _NS},
        to=_STR,
        port=_PORT,
        proto={"enum": ["tcp", "udp", "icmp"]},
        verdict={"enum": ["delivered", "dropped"]},
        reason=_STR,
        dnat_to=_STR,
        snat_to=_STR,
        accepted_in=_STR,
        dropped_in=_STR,
    ),
}


def _one_of_keys(schemas: dict[str, dict]) -> dict:
    """A mapping with exactly one key, one of `schemas`, whose value follows that key's schema."""
    return {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "propertyNames": {"enum": sorted(schemas)},
        "properties": schemas,
    }


_EXPECT = _one_of_keys(
    {
        "value": _SCALAR,
        "host_port": _args(["container", "port"], container=_STR, port=_PORT, proto=_PROTO),
        "container_ip": _STR,
        "container_pid": _STR,
        "mac": _args(["ns", "link"], ns=_NS, link=_STR),
        "veth_of": _STR,
    }
)

QUESTIONS = {
    "answer": _args(["prompt", "expect"], prompt=LOCALISED, expect=_EXPECT),
    "pick_rule": _args(
        ["prompt", "probe", "target"],
        prompt=LOCALISED,
        probe=_one_of_keys(PROBES),
        table=_STR,
        target={"type": "array", "items": _STR, "minItems": 1},
    ),
}

CHECKS = {**STATE_CHECKS, **PROBES, **QUESTIONS}

_STEP = {
    "type": "object",
    "properties": {"docker": _TEXT, "sh": _TEXT, "ns": _NS},
    "additionalProperties": False,
    "oneOf": [
        {"required": ["docker"], "not": {"required": ["sh"]}},
        {"required": ["sh"], "not": {"required": ["docker"]}},
    ],
}
_STEPS = {"type": "array", "items": _STEP}

_PARAM = _one_of_keys(
    {
        "choice": {"type": "array", "items": _SCALAR, "minItems": 1},
        "range": {
            "type": "array",
            "items": {"type": "integer"},
            "minItems": 2,
            "maxItems": 2,
        },
        "subnet": _TEXT,
    }
)

_TASK = _args(
    ["id", "title", "checks"],
    id={"type": "string", "pattern": SLUG},
    title=LOCALISED,
    text=LOCALISED,
    points={"type": "integer", "minimum": 1},
    checks={"type": "array", "items": _one_of_keys(CHECKS), "minItems": 1},
    hints={"type": "array", "items": LOCALISED},
    solution=_STEPS,
)

EXERCISE = _args(
    ["slug", "course", "order", "docker", "title", "summary", "text", "tasks"],
    slug={"type": "string", "pattern": SLUG},
    course={"type": "string", "pattern": SLUG},
    order={"type": "integer", "minimum": 0},
    docker={"enum": ["19.03", "28"]},
    title=LOCALISED,
    summary=LOCALISED,
    text=LOCALISED,
    params={
        "type": "object",
        "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
        "additionalProperties": _PARAM,
    },
    setup=_STEPS,
    tasks={"type": "array", "items": _TASK, "minItems": 1},
)

COURSE = {
    "type": "object",
    "properties": {"title": LOCALISED, "summary": LOCALISED, "text": LOCALISED, "order": {"type": "integer"}},
    "required": ["title"],
}

exercise_validator = Draft202012Validator(EXERCISE)
course_validator = Draft202012Validator(COURSE)
