"""The stand-in daemons start processes for the lab's daemon only (topology/docker/spawner.py):
neither the student's shell nor a symlink of theirs can use or misdirect them."""

from __future__ import annotations

import os
import select
import socket
import tempfile

import pytest

from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel

# A request as the daemon sends it: FLAGS, fd targets, argv, "", environment.
STUDENT_REQUEST = r"""
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("/run/containerd/containerd.sock")
try:
    s.send(b"\0\0/bin/touch\0/tmp/spawned-for-student\0\0PATH=/bin\0")
    print("answer", s.recv(64) or "none")
except (BrokenPipeError, ConnectionResetError):  # closed at once
    print("answer none")
"""


def test_the_students_shell_gets_no_answer(lab):
    """Only a peer outside the sandbox's pid namespace is served: the connection just closes."""
    assert docker(lab, "run --rm busybox true").returncode == 0  # containerd listens
    r = sh(lab, f"python3 -c '{STUDENT_REQUEST}'")
    assert r.stdout == "answer none\n", r.stderr
    assert sh(lab, "ls /tmp/spawned-for-student").returncode != 0
    assert docker(lab, "run --rm busybox true").returncode == 0  # and still serves the daemon


def test_a_symlink_cannot_lead_the_daemon_out_of_the_sandbox(lab):
    """The student swaps containerd's socket for a symlink to a socket of the machine: the daemon
    resolves it inside the Docker host (where it leads nowhere), starts containerd again and the
    machine's socket is never connected to."""
    assert docker(lab, "run --rm busybox true").returncode == 0  # containerd listens
    with tempfile.TemporaryDirectory() as directory:
        bait_path = os.path.join(directory, "bait.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as bait:
            bait.bind(bait_path)
            bait.listen()
            path = "/run/containerd/containerd.sock"
            script = f"kill -KILL $(pidof containerd) && ln -sf {bait_path} {path} && test -L {path}"
            assert sh(lab, script).returncode == 0
            r = docker(lab, "run --rm busybox echo served")
            assert (r.returncode, r.stdout) == (0, "served\n"), r.stderr
            assert not select.select([bait], [], [], 0)[0]  # a connection would be waiting there
    assert sh(lab, "test -S /run/containerd/containerd.sock && pidof containerd").returncode == 0
