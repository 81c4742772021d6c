"""Fixtures of the labapp tests (labs and exercises): a private topology daemon, users, sandbox cleanup."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from bench.labserver import stop_private_daemon
from topology.client import Client
from topology.errors import TopologyError

# Every Client of this test session (and the worker processes it starts) talks to a daemon of its
# own: the node agent reaps sandboxes it does not know, and must never see anyone else's.
STATE_DIR = Path(f"/var/lib/nslab-test/labapp-{os.getpid()}-{secrets.token_hex(2)}")
os.environ["NSLAB_STATE_DIR"] = str(STATE_DIR)


@pytest.fixture(scope="session", autouse=True)
def private_daemon():
    """At the end, remove the private daemon's sandboxes and stop the daemon our Clients started."""
    yield
    stop_private_daemon(STATE_DIR)


@pytest.fixture
def sandboxes_cleaned():
    """Remove every sandbox the test left on the private daemon."""
    before = {s["id"] for s in Client().ls()}
    yield
    for sandbox in Client().ls():
        if sandbox["id"] not in before:
            try:
                Client().down(sandbox["id"])
            except TopologyError:
                pass


@pytest.fixture
def user_factory(db):
    def make(username: str):
        return get_user_model().objects.create_user(username=username, password="pw-for-tests")

    return make
