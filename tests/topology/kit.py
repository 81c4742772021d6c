"""Helpers for kernel tests: run commands in a lab as the student would, and wait on state."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

from topology import guest
from topology import sandbox as sandbox_mod
from topology.daemon import LabHandle
from topology.namespaces import SANDBOX_NAMESPACES
from topology.sandbox import Sandbox

BARE_HOST_SCRIPT = (
    "echo 1 > /proc/sys/net/ipv4/ip_forward\nip link add docker0 type bridge\n"
    "ip addr add 172.17.0.1/16 dev docker0\nip link set docker0 up\n"
)


def bare_sandbox(name: str, uid_slot: int) -> Iterator[Sandbox]:
    """A sandbox without the emulated engine (docker0 only), destroyed when the generator ends.

    `uid_slot` picks a host uid range apart from the daemon fixtures' ranges.
    """
    sid = secrets.token_hex(4)
    directory = Path(f"/var/lib/nslab-test/{name}-{sid}")
    directory.mkdir(parents=True)
    os.chmod(directory.parent, 0o711)
    os.chmod(directory, 0o711)
    docker_sock = socket.socket(socket.AF_UNIX)
    docker_sock.bind(str(directory / "docker.sock"))
    box = sandbox_mod.create(
        sid,
        docker_version="19.03",
        host_script=BARE_HOST_SCRIPT,
        directory=directory,
        root_uid=1_000_000 + 65536 * uid_slot,
        map_range=65536,
        guest=guest.ensure_built(directory / "bin"),
    )
    try:
        yield box
    finally:
        box.destroy()
        os.waitpid(box.holder_pid, 0)
        docker_sock.close()
        shutil.rmtree(directory, ignore_errors=True)


def sh(lab: LabHandle, script: str, *, ns: str = "host", timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a shell script as the student would (text output)."""
    full = (
        lab.sandbox.nsenter_argv(ns, student=True)
        if ns in SANDBOX_NAMESPACES
        else lab.sandbox.nsenter_argv(ns, pid=lab.engine.host_pid(lab.engine.find_container(ns)))
    )
    proc = lab.sandbox.popen(
        [*full, "sh", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(script, proc.returncode, out, err)


def docker(lab: LabHandle, args: str, *, wrap: str = "", **kw) -> subprocess.CompletedProcess:
    """Run a docker command inside the sandbox, as the student types it (optionally under `wrap`)."""
    return sh(lab, f"{wrap} docker {args}".strip(), **kw)
