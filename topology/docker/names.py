"""Docker's container names: which are valid; those given without --name (adjective_surname)."""

from __future__ import annotations

import re
import secrets

VALID_CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]"  # moby's RestrictedNameChars
_VALID = re.compile(VALID_CHARS + "+")


def valid_name(name: str) -> bool:
    """The daemon's check of a container name (one leading "/" allowed)."""
    return bool(_VALID.fullmatch(name.removeprefix("/")))


_ADJECTIVES = (
    "admiring",
    "brave",
    "clever",
    "eager",
    "focused",
    "gallant",
    "happy",
    "jolly",
    "keen",
    "lucid",
    "nifty",
    "quirky",
    "serene",
    "vibrant",
    "wizardly",
    "zealous",
)
_NAMES = (
    "babbage",
    "curie",
    "dijkstra",
    "einstein",
    "feynman",
    "hopper",
    "knuth",
    "lovelace",
    "noether",
    "ritchie",
    "shannon",
    "thompson",
    "torvalds",
    "turing",
    "wozniak",
    "yalow",
)


def random_name(taken: set[str]) -> str:
    """A name like Docker's: adjective_surname."""
    while True:
        name = f"{secrets.choice(_ADJECTIVES)}_{secrets.choice(_NAMES)}"
        if name not in taken:
            return name
