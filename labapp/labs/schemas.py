"""JSON Schemas of the lab WebSocket frames (docs/web-lab.md); tests check every frame against them."""

from __future__ import annotations

from jsonschema import Draft202012Validator

TTY_INPUT_MAX = 64 * 1024


def _frame(type_: str, properties: dict | None = None) -> dict:
    properties = properties or {}
    return {
        "type": "object",
        "properties": {"type": {"const": type_}, **properties},
        "required": ["type", *properties],
        "additionalProperties": False,
    }


_STATUS = ["preparing", "ready", "stopping", "stopped", "failed"]

SERVER_FRAMES = {
    "lab.status": _frame(
        "lab.status",
        {
            "status": {"enum": _STATUS},
            "error": {"type": "string"},
            "docker_version": {"type": "string"},
            "sandbox_id": {"type": "string"},
        },
    ),
    "lab.progress": _frame(
        "lab.progress",
        {
            "step": {"enum": ["queued", "creating", "starting", "ready"]},
            "percent": {"type": "integer", "minimum": 0, "maximum": 100},
        },
    ),
    "lab.state": _frame(
        "lab.state",
        {
            "seq": {"type": "integer", "minimum": 1},
            "snapshot": {"type": "object", "required": ["sandbox", "namespaces", "links"]},
            "changed_at": {"type": ["number", "null"]},
        },
    ),
    "lab.tty": _frame("lab.tty", {"data": {"type": "string"}}),
    "lab.tty.reset": _frame("lab.tty.reset"),
    "error": _frame(
        "error",
        {"message": {"type": "string"}, "code": {"enum": ["bad_frame", "not_ready", "failed"]}},
    ),
}

CLIENT_FRAMES = {
    "tty.input": _frame("tty.input", {"data": {"type": "string", "maxLength": TTY_INPUT_MAX}}),
    "tty.resize": _frame(
        "tty.resize",
        {
            "cols": {"type": "integer", "minimum": 1, "maximum": 500},
            "rows": {"type": "integer", "minimum": 1, "maximum": 200},
        },
    ),
    "lab.refresh": _frame("lab.refresh"),
}

_VALIDATORS = {
    name: Draft202012Validator(schema) for name, schema in {**SERVER_FRAMES, **CLIENT_FRAMES}.items()
}


def frame_errors(frame: object, allowed: dict[str, dict]) -> str | None:
    """Why `frame` is not one of the `allowed` frames, or None when it is."""
    if not isinstance(frame, dict):
        return "a frame is a JSON object"
    type_ = frame.get("type")
    if not isinstance(type_, str) or type_ not in allowed:
        return f"unknown frame type {type_!r}"
    error = next(iter(_VALIDATORS[type_].iter_errors(frame)), None)
    return None if error is None else f"{type_}: {error.message}"
