"""JSON Schemas of the lab WebSocket frames (docs/web-lab.md); tests check every frame against them.

Other apps add theirs through `labapp.labs.hooks`."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator, ValidationError

TTY_INPUT_MAX = 64 * 1024
# Any valid frame is shorter (a tty.input of TTY_INPUT_MAX characters, each escaped as \\uXXXX, is
# 6 x 64 Ki); a longer one closes the socket with 1009 (message too big).
FRAME_MAX = 512 * 1024


def frame_schema(type_: str, properties: dict | None = None) -> dict:
    """The schema of a frame `{"type": type_, **properties}` (all required, no others)."""
    properties = properties or {}
    return {
        "type": "object",
        "properties": {"type": {"const": type_}, **properties},
        "required": ["type", *properties],
        "additionalProperties": False,
    }


# Other apps add the codes of their socket frames' errors (hooks.socket_frame_add).
ERROR_CODES = ["bad_frame", "not_ready", "failed"]
_COLS = {"type": "integer", "minimum": 1, "maximum": 500}  # a terminal's size
_ROWS = {"type": "integer", "minimum": 1, "maximum": 200}
_STATUS = ["preparing", "ready", "stopping", "stopped", "failed"]

SERVER_FRAMES = {
    "lab.status": frame_schema(
        "lab.status",
        {
            "status": {"enum": _STATUS},
            "error": {"type": "string"},
            "docker_version": {"type": "string"},
            "sandbox_id": {"type": "string"},
        },
    ),
    "lab.progress": frame_schema(
        "lab.progress",
        {
            "step": {"enum": ["queued", "creating", "starting", "setup", "ready"]},
            "percent": {"type": "integer", "minimum": 0, "maximum": 100},
        },
    ),
    "lab.state": frame_schema(
        "lab.state",
        {
            "seq": {"type": "integer", "minimum": 1},
            "snapshot": {"type": "object", "required": ["sandbox", "namespaces", "links"]},
            "changed_at": {"type": ["number", "null"]},
        },
    ),
    "lab.tty": frame_schema("lab.tty", {"data": {"type": "string"}}),
    # The packet walk the requesting socket asked for (topology.trace.Walk as JSON), or why not.
    "trace.walk": frame_schema(
        "trace.walk",
        {
            "walk": {"type": "object", "required": ["verdict", "reason", "steps", "path"]},
            "messages": {"type": "object"},  # the steps' templates, translated: {code: text}
        },
    ),
    "trace.failed": frame_schema("trace.failed", {"message": {"type": "string"}}),
    "lab.tty.reset": frame_schema("lab.tty.reset"),
    # Before a terminal's scrollback: the shell's size, and why the shell is new (null: nothing to say).
    "lab.tty.open": frame_schema(
        "lab.tty.open",
        {"notice": {"enum": [None, "hung_up", "restarted"]}, "cols": _COLS, "rows": _ROWS},
    ),
    # The student's page resized the shell (a watching page follows it).
    "lab.tty.size": frame_schema("lab.tty.size", {"cols": _COLS, "rows": _ROWS}),
    "error": frame_schema(
        "error",
        {
            "message": {"type": "string"},
            "code": {"enum": ERROR_CODES},
        },
    ),
}

CLIENT_FRAMES = {
    "tty.input": frame_schema("tty.input", {"data": {"type": "string", "maxLength": TTY_INPUT_MAX}}),
    "tty.resize": frame_schema(
        "tty.resize",
        {
            "cols": _COLS,
            "rows": _ROWS,
        },
    ),
    "lab.refresh": frame_schema("lab.refresh"),
    "trace.request": frame_schema(
        "trace.request",
        {
            "source": {"type": "string", "minLength": 1, "maxLength": 64},
            "to": {"type": "string", "pattern": r"^[0-9]{1,3}(\.[0-9]{1,3}){3}$"},
            "port": {"type": ["integer", "null"], "minimum": 1, "maximum": 65535},
            "proto": {"enum": ["tcp", "udp", "icmp"]},
            "language": {"type": "string", "maxLength": 16},  # of the steps' explanations
            "armed": {"type": "boolean"},  # send nothing: walk the student's next such packet
        },
    ),
}

_VALIDATORS: dict[str, Draft202012Validator] = {}


def frames_add(*, server: dict | None = None, client: dict | None = None, error_codes=()) -> None:
    """Add frames of another app (through labapp.labs.hooks)."""
    SERVER_FRAMES.update(server or {})
    CLIENT_FRAMES.update(client or {})
    ERROR_CODES.extend(code for code in error_codes if code not in ERROR_CODES)
    _VALIDATORS.clear()  # the error frame's schema may have changed


def frame_errors(frame: object, allowed: dict[str, dict]) -> str | None:
    """Why `frame` is not one of the `allowed` frames, or None when it is."""
    if not isinstance(frame, dict):
        return "a frame is a JSON object"
    type_ = frame.get("type")
    if not isinstance(type_, str) or type_ not in allowed:
        return f"unknown frame type (known: {', '.join(sorted(allowed))})"
    validator = _VALIDATORS.get(type_) or _VALIDATORS.setdefault(type_, Draft202012Validator(allowed[type_]))
    error = next(iter(validator.iter_errors(frame)), None)
    return None if error is None else f"{type_}: {_violation(error)}"


def _violation(error: ValidationError) -> str:
    """What is wrong, from the schema alone: the frame's values are never echoed back (jsonschema's own
    messages quote them, e.g. a whole oversized tty.input)."""
    where = "/".join(str(part) for part in error.absolute_path) or "the frame"
    rule, limit = error.validator, error.validator_value
    if rule in ("maxLength", "minLength") and isinstance(error.instance, str):
        bound = "limit" if rule == "maxLength" else "minimum"
        return f"{where} is {len(error.instance)} characters long; the {bound} is {limit}"
    if rule == "required":
        return f"{where} needs the fields {', '.join(limit)}"
    if rule == "additionalProperties":
        return f"{where} allows only the fields {', '.join(error.schema.get('properties', {}))}"
    return f"{where} fails {rule} {json.dumps(limit)}"
