"""JSON Schemas of the dashboard WebSocket's frames (server to browser only: the socket is read-only)."""

from __future__ import annotations

from labapp.labs.frames import frame_schema

_ID = {"type": "integer", "minimum": 1}
_WHEN = {"type": ["string", "null"]}  # ISO 8601

CELL = {
    "type": "object",
    "properties": {
        "student_id": _ID,
        "exercise_id": _ID,
        "state": {"enum": ["not_started", "working", "passed", "failed"]},
        "score": {"type": "number", "minimum": 0},
        "max_score": {"type": "number", "minimum": 0},
        "tasks_passed": {"type": "integer", "minimum": 0},
        "tasks": {"type": "integer", "minimum": 0},
        "attempt_id": {"type": ["integer", "null"]},
        "started_at": _WHEN,
        "passed_at": _WHEN,
    },
    "required": ["student_id", "exercise_id", "state", "score", "max_score", "tasks_passed", "tasks"],
    "additionalProperties": False,
}

PRESENCE = {
    "type": "object",
    "properties": {
        "student_id": _ID,
        "online": {"type": "boolean"},
        "exercise_id": {"type": ["integer", "null"]},
        "since": _WHEN,
        "lab_id": {"type": ["integer", "null"]},
    },
    "required": ["student_id", "online", "exercise_id", "since", "lab_id"],
    "additionalProperties": False,
}

SERVER_FRAMES = {
    "classroom.grid": frame_schema(
        "classroom.grid",
        {"cells": {"type": "array", "items": CELL}, "presence": {"type": "array", "items": PRESENCE}},
    ),
    "classroom.cell": frame_schema("classroom.cell", {"cell": CELL}),
    "classroom.presence": frame_schema("classroom.presence", {"presence": PRESENCE}),
    # The cohort's students changed: the browser fetches the page's rows again.
    "classroom.roster": frame_schema("classroom.roster"),
}

# Frames of a lab's group that the student's lab page (and the watch view) get, through
# labapp.labs.hooks.group_frame_add: who watches the lab now, and an instructor's message.
LAB_FRAMES = {
    "classroom.watchers": frame_schema(
        "classroom.watchers", {"watchers": {"type": "array", "items": {"type": "string"}}}
    ),
    "classroom.message": frame_schema(
        "classroom.message",
        {
            "id": _ID,
            "sender": {"type": "string"},
            "text": {"type": "string", "maxLength": 500},
            "sent_at": {"type": "string"},
        },
    ),
}

# What the watch socket (/ws/teach/<cohort>/labs/<lab>/) takes from the browser: nothing but asking
# for fresh counters. Terminal input, resizes and checks are refused (`bad_frame`).
WATCH_CLIENT_FRAMES = {"lab.refresh": frame_schema("lab.refresh")}
