"""The programs nslab puts inside each sandbox (`docker`, `docker-proxy`), built from guest.c."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from topology.errors import TopologyError

SOURCE = Path(__file__).resolve().parent / "guest.c"


class GuestBuildError(TopologyError):
    """The sandbox's programs could not be compiled (is a C compiler installed?)."""


def ensure_built(directory: Path) -> Path:
    """Compile guest.c into `directory` unless an up-to-date binary is there; return its path."""
    binary = directory / "nslab-guest"
    if binary.exists() and binary.stat().st_mtime >= SOURCE.stat().st_mtime:
        return binary
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise GuestBuildError("a C compiler (cc) is needed to build the sandbox's docker command")
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".nslab-guest.{os.getpid()}"
    r = subprocess.run([cc, "-O2", "-Wall", "-o", str(tmp), str(SOURCE)], capture_output=True, text=True)
    if r.returncode != 0:
        raise GuestBuildError(f"building {SOURCE.name} failed:\n{r.stderr}")
    os.chmod(tmp, 0o755)
    tmp.replace(binary)
    return binary
