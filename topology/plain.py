"""Plain JSON data (dicts, lists, str, int, float, bool, None) from typed dataclasses."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

__all__ = ["PlainData", "plain"]


def plain(obj: Any) -> Any:
    """JSON data from dataclasses, tuples and dicts (tuples become lists)."""
    if isinstance(obj, (str, int, float)) or obj is None:
        return obj
    if isinstance(obj, (list, tuple)):
        return [plain(x) for x in obj]
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if is_dataclass(obj):
        return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)}
    return obj


class PlainData:
    """Mixin: `to_dict()` for dataclasses of kernel state: plain JSON data (tuples become lists)."""

    def to_dict(self) -> dict[str, Any]:
        """This dataclass as plain JSON data."""
        return plain(self)
