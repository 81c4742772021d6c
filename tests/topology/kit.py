"""Helpers for kernel tests: run commands in a lab as the student would, and wait on state."""

from __future__ import annotations

import subprocess
import time

from topology.daemon import Lab


def sh(lab: Lab, script: str, *, ns: str = "host", timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a shell script as the student would (text output)."""
    full = (
        lab.sandbox.nsenter_argv(ns, student=True)
        if ns in ("host", "router", "remote", "client")
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


def docker(lab: Lab, args: str, *, wrap: str = "", **kw) -> subprocess.CompletedProcess:
    """Run a docker command inside the sandbox, as the student types it (optionally under `wrap`)."""
    return sh(lab, f"{wrap} docker {args}".strip(), **kw)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll until predicate() is truthy; return its value or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
