"""Where the lab node keeps its state, and the per-sandbox host uid ranges."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SCRIPTS_DIR = PACKAGE_DIR / "scripts"

# Root gives each sandbox its own range of host uids; an unprivileged owner has only its own uid.
UID_BASE = 1_000_000
UID_RANGE = 65_536


def state_dir() -> Path:
    """The daemon's state directory (NSLAB_STATE_DIR overrides)."""
    if env := os.environ.get("NSLAB_STATE_DIR"):
        return Path(env)
    # Not under /run: each sandbox's keeper mounts a private tmpfs there.
    if os.geteuid() == 0:
        return Path("/var/lib/nslab")
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(state) / "nslab"


def daemon_socket() -> Path:
    """The daemon's control socket."""
    return state_dir() / "daemon.sock"
