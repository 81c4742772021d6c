"""The programs nslab puts inside each sandbox (`docker`, `docker-proxy`, `init`, the images' web
servers, ...): one binary built from this folder's C files, an applet a file (guest.c picks one by
the name the binary runs under)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from topology.errors import TopologyError

FOLDER = Path(__file__).resolve().parent
SOURCES = sorted(FOLDER.glob("*.c"))
HEADERS = sorted(FOLDER.glob("*.h"))


class GuestBuildError(TopologyError):
    """The sandbox's programs could not be compiled (is a C compiler installed?)."""


def ensure_built(directory: Path) -> Path:
    """Compile the guest programs into `directory` unless an up-to-date binary is there; return its path."""
    binary = directory / "nslab-guest"
    newest = max(p.stat().st_mtime for p in (*SOURCES, *HEADERS))
    if binary.exists() and binary.stat().st_mtime >= newest:
        return binary
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise GuestBuildError("a C compiler (cc) is needed to build the sandbox's docker command")
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".nslab-guest.{os.getpid()}"
    argv = [cc, "-O2", "-Wall", "-Werror=implicit-function-declaration", "-o", str(tmp), *map(str, SOURCES)]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise GuestBuildError(f"building the guest programs in {FOLDER} failed:\n{r.stderr}")
    os.chmod(tmp, 0o755)
    tmp.replace(binary)
    return binary
