"""Docker's names for containers run without --name: adjective_surname."""

from __future__ import annotations

import secrets

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
