"""The lab's seccomp filter on the real kernel: each call of topology.seccomp.LAB_REFUSED fails with
EPERM (or ENOSYS) from the student's shell and from a container, and the shell survives."""

from __future__ import annotations

import errno
import json
import subprocess
import sys

import pytest

from tests.topology.kit import docker, sh
from topology import seccomp

pytestmark = pytest.mark.kernel

# Each call with arguments that an unfiltered kernel answers with another errno where it can
# (EFAULT, EBADF, EINVAL, EOPNOTSUPP), so that EPERM shows the filter; module loading, kexec and
# open_by_handle_at need capabilities of the machine's root, so the kernel itself refuses them too.
PROBE = r"""
import ctypes, json
libc = ctypes.CDLL(None, use_errno=True)
calls = {
    "io_uring_setup": (425, 1, 0), "io_uring_enter": (426, -1, 0, 0, 0, 0, 0),
    "io_uring_register": (427, -1, 0, 0, 0), "userfaultfd": (323, 3), "keyctl": (250, 99999, 0, 0, 0, 0),
    "add_key": (248, 0, 0, 0, 0, 0), "request_key": (249, 0, 0, 0, 0), "bpf": (321, 9999, 0, 0),
    "perf_event_open": (298, 0, 0, -1, -1, 0), "kexec_load": (246, 0, 0, 0, 0),
    "kexec_file_load": (320, -1, -1, 0, 0, 0), "init_module": (175, 0, 0, 0), "finit_module": (313, -1, 0, 0),
    "delete_module": (176, 0, 0), "open_by_handle_at": (304, -1, 0, 0),
}
out = {}
for name, (nr, *args) in calls.items():
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    out[name] = ctypes.get_errno() if r == -1 else 0
print(json.dumps(out))
"""
REFUSED = {errno.EPERM, errno.ENOSYS}
# Calls an unfiltered kernel answers with another errno than EPERM (x86_64 numbers in PROBE).
TELLING = (
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "userfaultfd",
    "keyctl",
    "add_key",
    "perf_event_open",
)


def _results(text: str) -> dict[str, int]:
    return json.loads(text.strip().splitlines()[-1])


def test_probe_tells_a_filter_apart():
    """Outside any lab the same probe gets the kernel's other answers: the lab's EPERMs are the filter's."""
    assert set(seccomp.LAB_REFUSED) == set(_results(_run_outside()).keys())
    got = _results(_run_outside())
    assert all(got[name] not in REFUSED for name in TELLING), got


def _run_outside() -> str:
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout


def test_refused_from_the_host_shell(lab):
    r = sh(lab, f"python3 -c '{PROBE}'; grep -E '^Seccomp' /proc/self/status; echo shell alive")
    assert r.returncode == 0, r.stderr
    got = _results(r.stdout.split("Seccomp:")[0])
    assert {name: code for name, code in got.items() if code not in REFUSED} == {}
    assert "Seccomp:\t2" in r.stdout and r.stdout.rstrip().endswith("shell alive")


def test_refused_from_a_privileged_unconfined_container(lab):
    """Even without Docker's profile (--privileged), the lab's filter stays under the container."""
    assert docker(lab, "run -d --name box --privileged busybox sleep 600").returncode == 0
    r = docker(lab, f"exec box python3 -c '{PROBE}'")
    assert r.returncode == 0, r.stderr
    got = _results(r.stdout)
    assert {name: code for name, code in got.items() if code not in REFUSED} == {}
    status = docker(lab, "exec box grep -E '^(Seccomp|CapEff)' /proc/self/status").stdout
    assert "CapEff:\t0000003fffffffff" in status and "Seccomp:\t2" in status


def test_every_process_of_the_sandbox_has_the_filter(lab):
    """The keeper and what it started (the outside world's servers, the Docker host's init) too."""
    assert docker(lab, "run -d --name web nginx").returncode == 0
    r = lab.sandbox.run("router", ["sh", "-c", "grep -H Seccomp: /proc/[0-9]*/status"])
    lines = [line for line in r.stdout.decode().splitlines() if "/self/" not in line]
    assert len(lines) > 5 and all(line.endswith("\t2") for line in lines), lines
