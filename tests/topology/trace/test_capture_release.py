"""A trace's started commands (monitors, the sender) are closed only once the thread reading their
output is done with it: a file closed under a reading thread frees its number, and that thread's next
read lands on whatever reuses the number (a CI run lost a snapshot's answer so)."""

from __future__ import annotations

import os
import socket
import threading

from topology.client import Spawned
from topology.trace.capture import _Drained


def started() -> tuple[Spawned, socket.socket, int]:
    """A Spawned on real pipes and a real connection; the test holds the command's side of each."""
    ours, daemon_side = socket.socketpair()
    out_r, out_w = os.pipe()
    in_r, in_w = os.pipe()
    os.close(in_r)
    return (
        Spawned(ours, os.fdopen(out_r, "rb", buffering=0), os.fdopen(in_w, "wb", buffering=0)),
        daemon_side,
        out_w,
    )


def test_release_leaves_a_reading_thread_its_file_and_that_thread_closes_it():
    spawned, daemon_side, out_w = started()
    chunks: list[bytes] = []
    ended = threading.Event()
    reader = _Drained(spawned, "test-reader", chunks.append, ended.set)
    os.write(out_w, b"first")

    reader.release(0.2)  # the command's output has not ended (a child still holds it)

    assert daemon_side.recv(16) == b""  # hung up: the daemon sees the end of the connection
    assert not spawned.output.closed and spawned.sock.fileno() >= 0  # still the reader's
    assert spawned.input.closed  # the command's input ends (a monitor shell ends on it)
    os.write(out_w, b" second")
    os.close(out_w)
    assert ended.wait(5)
    reader._thread.join(5)
    assert b"".join(chunks) == b"first second"
    assert spawned.output.closed and spawned.sock.fileno() == -1 and spawned.input.closed
    daemon_side.close()


def test_release_closes_at_once_when_the_output_has_ended():
    spawned, daemon_side, out_w = started()
    ended = threading.Event()
    reader = _Drained(spawned, "test-reader", lambda chunk: None, ended.set)
    os.close(out_w)
    assert ended.wait(5)

    reader.release(5)

    assert spawned.output.closed and spawned.sock.fileno() == -1 and spawned.input.closed
    daemon_side.close()
