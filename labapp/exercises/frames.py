"""The exercise frames of the lab WebSocket (docs/web-lab.md), registered through labapp.labs.hooks."""

from __future__ import annotations

from labapp.labs.frames import frame_schema

# Server to browser: an attempt's grades, after a Check or when continuous grading saw a change.
ATTEMPT_GRADED = frame_schema(
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
                                # {language: {message, diagnoses}} for every language of the site
                                "translations": {
                                    "type": "object",
                                    "additionalProperties": {
                                        "type": "object",
                                        "required": ["message", "diagnoses"],
                                        "properties": {
                                            "message": {"type": "string"},
                                            "diagnoses": {"type": "array", "items": {"type": "string"}},
                                        },
                                    },
                                },
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
)

# Browser to server: answers {task_id: {check_index: value}}; a pick_rule value names a rule of the
# rules panel.
ATTEMPT_CHECK = {
    **frame_schema("attempt.check", {"answers": {"type": "object", "maxProperties": 100}}),
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
}
