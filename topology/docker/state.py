"""The emulated engine's state on disk, as dockerd keeps its own, for the next daemon to re-adopt.

One generic JSON form for the model's objects (dataclasses, the IPAM pools, the port allocator):
every attribute of an object is written, so a field added to the model is kept without a change
here, and a dataclass field added since a file was written (an upgrade) reads as its default.
Objects are tagged with their class, which is looked up again only in this package (and
`ipaddress`), never imported from an arbitrary name. Files are replaced atomically (temp + rename).
"""

from __future__ import annotations

import dataclasses
import importlib
import ipaddress
import json
import os
from pathlib import Path

SCHEMA = 1
# The engine's attributes that are its state (what `docker ps`, `network ls`, IPAM and ports show),
# and those that are the running daemon's (rebuilt by liverestore from what still runs). An
# attribute in neither fails tests/topology/docker/test_state.py: say which it is. A dotted name is
# an attribute's attribute (the publisher's port allocator is state, its proxies are runtime).
ENGINE_STATE = ("version", "containers", "networks", "ipam", "ifindex", "publisher.ports")
ENGINE_RUNTIME = ("sb", "lock", "procs", "publisher", "stopped", "detached", "dns", "_subscribers", "events")
_FROM_TEXT = (ipaddress.IPv4Network, ipaddress.IPv6Network, ipaddress.IPv4Address, ipaddress.IPv6Address)
_TRUSTED = ("topology.docker.", "ipaddress")


class StateError(Exception):
    """A state file that cannot be read back."""


def encode(value):
    """`value` as JSON data, tagged where JSON alone would lose its type."""
    if value is None or isinstance(value, (bool, int, float)) or type(value) is str:
        return value
    if isinstance(value, (*_FROM_TEXT, str)):
        return {"~text": _name(type(value)), "v": str(value)}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"~tuple": [encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"~set": [encode(v) for v in value]}
    if isinstance(value, dict):
        if all(type(k) is str and not k.startswith("~") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"~dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if hasattr(value, "__dict__"):
        return {"~obj": _name(type(value)), **{k: encode(v) for k, v in vars(value).items()}}
    raise TypeError(f"cannot store {type(value).__name__}")


def decode(data):
    """The value `encode` wrote."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "~text" in data:
        cls = _class(data["~text"])
        return cls(data["v"]) if cls in _FROM_TEXT else str.__new__(cls, data["v"])
    if "~tuple" in data:
        return tuple(decode(v) for v in data["~tuple"])
    if "~set" in data:
        return {decode(v) for v in data["~set"]}
    if "~dict" in data:
        return {decode(k): decode(v) for k, v in data["~dict"]}
    if "~obj" in data:
        cls = _class(data["~obj"])
        obj = cls.__new__(cls)
        obj.__dict__.update({k: decode(v) for k, v in data.items() if k != "~obj"})  # frozen ones too
        if dataclasses.is_dataclass(cls):  # a field added since the file was written: its default
            for f in dataclasses.fields(cls):
                if f.name not in obj.__dict__ and f.default is not dataclasses.MISSING:
                    obj.__dict__[f.name] = f.default
                elif f.name not in obj.__dict__ and f.default_factory is not dataclasses.MISSING:
                    obj.__dict__[f.name] = f.default_factory()
        return obj
    return {k: decode(v) for k, v in data.items()}


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _class(name: str) -> type:
    module, _, qualname = name.partition(":")
    if not (module == "ipaddress" or module.startswith(_TRUSTED[0])):
        raise StateError(f"refusing class {name}")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise StateError(f"{name} is not a class")
    return obj


def write_atomically(path: Path, data: dict) -> None:
    """Replace `path` with `data` as JSON: a reader sees the old file or the new one, never half."""
    write_text_atomically(path, json.dumps(data, separators=(",", ":")))


def write_text_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` (no fsync: a daemon that dies loses nothing it wrote; a machine
    that stops loses its sandboxes with it)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read(path: Path) -> dict:
    """A state file's JSON; StateError when it is missing or damaged."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise StateError(f"{path.name}: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise StateError(f"{path.name}: unknown schema")
    return data


def engine_data(engine, runtime: dict) -> dict:
    """The engine's state and the host processes it holds (`runtime`), as one JSON document."""
    return {
        "schema": SCHEMA,
        "engine": {name: encode(_get(engine, name)) for name in ENGINE_STATE},
        "runtime": runtime,
    }


def _get(obj, dotted: str):
    for name in dotted.split("."):
        obj = getattr(obj, name)
    return obj


def assign(engine, dotted: str, value) -> None:
    """Set one of ENGINE_STATE's (maybe dotted) attributes of `engine`."""
    owner, _, name = dotted.rpartition(".")
    setattr(_get(engine, owner) if owner else engine, name, value)


def engine_state(data: dict) -> dict:
    """The engine's attributes from `engine_data`'s document."""
    try:
        return {name: decode(data["engine"][name]) for name in ENGINE_STATE}
    except (KeyError, TypeError, AttributeError, ImportError) as exc:
        raise StateError(f"engine state: {exc}") from None
