"""Fixtures for kernel tests: an in-process lab-node daemon with a private state directory."""

from __future__ import annotations

import os
import secrets
import shutil
import threading
from pathlib import Path

import pytest

from tests.polling import wait_for
from topology.client import Client
from topology.daemon import Daemon


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="kernel tests run as root here (CI is root)")
    for item in items:
        if "kernel" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def daemon():
    state = Path(f"/var/lib/nslab-test/{os.getpid()}-{secrets.token_hex(2)}")
    state.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(state.parent, 0o711)
    d = Daemon(state)
    d.prepare()
    yield d
    for sid in [sid for sid, lab in d.labs.items() if lab]:
        d.down(sid)
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def client(daemon):
    """A Client of the session's test daemon, served on a socket in its state directory."""
    path = daemon.state / "daemon.sock"
    threading.Thread(target=daemon.serve, args=(path,), name="test-daemon-serve", daemon=True).start()
    c = Client(autostart=False)
    c.path = path
    wait_for(lambda: path.exists())
    return c


def _lab(daemon: Daemon, version: str):
    lab = daemon.up(version)
    yield lab
    if lab.sandbox.id in daemon.labs:
        daemon.down(lab.sandbox.id)


@pytest.fixture
def lab(daemon):
    yield from _lab(daemon, "19.03")


@pytest.fixture
def lab28(daemon):
    yield from _lab(daemon, "28")


@pytest.fixture
def other_lab(daemon):
    yield from _lab(daemon, "19.03")
