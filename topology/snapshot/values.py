"""Helpers shared by the parsers: JSON arrays of `ip -j`, integers that may be missing."""

from __future__ import annotations

import json


def json_list(data: str | list | None) -> list:
    """The JSON array a tool printed (empty when it printed nothing); a list passes through."""
    if data is None:
        return []
    if isinstance(data, str):
        data = data.strip()
        return json.loads(data) if data else []
    return data


def int_or_none(s: str) -> int | None:
    """The integer written in `s`, or None when it is not one."""
    try:
        return int(s)
    except ValueError:
        return None
