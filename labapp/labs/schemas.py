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
            "step": {"enum": ["queued", "creating", "starting", "setup", "ready"]},
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
    "attempt.graded": _frame(
        "attempt.graded",
        {
            "attempt_id": {"type": "integer"},
            "tasks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "passed", "score", "points", "results"],
                    "properties": {
                        "id": {"type": "string"},
                        "passed": {"type": "boolean"},
                        "score": {"type": "number"},
                        "points": {"type": "number"},
                        "results": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["kind", "ok", "message", "diagnoses"],
                                "properties": {
                                    "ok": {"type": ["boolean", "null"]},
                                    "message": {"type": "string"},
                                    "diagnoses": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        },
                    },
                },
            },
            "score": {"type": "number"},
            "max_score": {"type": "number"},
            "kind": {"enum": ["check", "continuous"]},
        },
    ),
    "error": _frame(
        "error",
        {
            "message": {"type": "string"},
            "code": {"enum": ["bad_frame", "not_ready", "failed", "no_attempt"]},
        },
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
    # answers: {task_id: {check_index: value}}; a pick_rule value names a rule of the rules panel.
    "attempt.check": {
        **_frame("attempt.check", {"answers": {"type": "object", "maxProperties": 100}}),
        "properties": {
            "type": {"const": "attempt.check"},
            "language": {"enum": ["en", "zh-hans"]},
            "answers": {
                "type": "object",
                "maxProperties": 100,
                "propertyNames": {"maxLength": 100},
                "additionalProperties": {
                    "type": "object",
                    "maxProperties": 50,
                    "propertyNames": {"pattern": "^[0-9]{1,3}$"},
                    "additionalProperties": {
                        "anyOf": [
                            {"type": "string", "maxLength": 1000},
                            {
                                "type": "object",
                                "required": ["ns", "table", "chain", "number"],
                                "additionalProperties": False,
                                "properties": {
                                    "ns": {"type": "string", "maxLength": 100},
                                    "table": {"type": "string", "maxLength": 32},
                                    "chain": {"type": "string", "maxLength": 100},
                                    "number": {"type": "integer", "minimum": 1},
                                },
                            },
                        ]
                    },
                },
            },
        },
    },
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
