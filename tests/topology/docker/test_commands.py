"""The command handlers: one per request type."""

from __future__ import annotations

from topology.docker import commands, requests


def test_every_request_type_has_a_handler():
    kinds = {
        kind
        for kind in vars(requests).values()
        if isinstance(kind, type) and issubclass(kind, requests.Request) and kind is not requests.Request
    }
    assert kinds == set(commands.HANDLERS)
