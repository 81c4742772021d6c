"""A lab's shell: a pty whose slave the topology daemon hands to a login shell in the sandbox.

`nslab-pty` (topology/guest/pty.c) allocates a second pty inside the sandbox (its own devpts), so
`tty` names a terminal there; `setsid -c` makes our pty the controlling terminal of `nslab-pty`, which
passes window size changes on and hangs the shell up when ours closes.
"""

from __future__ import annotations

import asyncio
import codecs
import fcntl
import logging
import os
import struct
import termios
import threading
import time
from collections import deque
from collections.abc import Callable

from topology.client import Client
from topology.errors import TopologyError

log = logging.getLogger(__name__)

SHELL_ARGV = ["setsid", "-c", "nslab-pty", "bash", "-l"]
SCROLLBACK = 256 * 1024
READ_SIZE = 64 * 1024


class Shell:
    """Output goes to `on_output(text)` (UTF-8 decoded) and a ring buffer; `on_exit(shell)` once it ends."""

    def __init__(
        self,
        sandbox_id: str,
        loop: asyncio.AbstractEventLoop,
        on_output: Callable[[str], None],
        on_exit: Callable[[Shell], None],
        size: tuple[int, int] = (80, 24),
    ):
        self.loop, self.on_output, self.on_exit = loop, on_output, on_exit
        self.closed = False
        self.started = time.monotonic()
        self.lived = 0.0
        self._scrollback = bytearray()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        # Input not yet in the pty (it takes what the shell reads): bounded by the consumers' windows.
        self._input = bytearray()
        self._typed = self._written = 0  # bytes ever given to write(), and written into the pty
        self._when_written: deque[tuple[int, Callable[[], None]]] = deque()
        self.master, slave = os.openpty()
        os.set_blocking(self.master, False)
        self.resize(*size)  # before nslab-pty starts and reads it
        loop.add_reader(self.master, self._readable)
        threading.Thread(
            target=self._run, args=(sandbox_id, slave), name=f"shell-{sandbox_id}", daemon=True
        ).start()

    @staticmethod
    def _run(sandbox_id: str, slave: int) -> None:
        try:
            Client().exec(sandbox_id, SHELL_ARGV, stdio=(slave, slave, slave))
        except TopologyError as exc:
            log.info("shell in sandbox %s: %s", sandbox_id, exc)
        finally:
            os.close(slave)  # the master reads EOF once the shell's copies are gone too

    def scrollback_text(self) -> str:
        """The ring buffer as text, without a character cut at either end."""
        pending = len(self._decoder.getstate()[0])
        data = bytes(self._scrollback[: len(self._scrollback) - pending])
        start = 0
        while start < min(len(data), 3) and 0x80 <= data[start] < 0xC0:
            start += 1
        return data[start:].decode("utf-8", errors="replace")

    def write(self, text: str, on_written: Callable[[], None] | None = None) -> None:
        """Type `text`, all of it and in order; `on_written()` once it is in the pty (or the shell ended)."""
        if self.closed:
            if on_written:
                on_written()
            return
        data = text.encode(errors="replace")  # a lone surrogate from the browser's JSON
        self._input += data
        self._typed += len(data)
        if on_written:
            self._when_written.append((self._typed, on_written))
        self._flush()

    def resize(self, cols: int, rows: int) -> None:
        """The pty's window size (the shell gets SIGWINCH through nslab-pty)."""
        self.size = (cols, rows)  # the newest the browser sent; a shell after `exit` starts at it
        if not self.closed:
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def pause(self) -> None:
        if not self.closed:
            self.loop.remove_reader(self.master)

    def resume(self) -> None:
        if not self.closed:
            self.loop.add_reader(self.master, self._readable)

    def close(self) -> None:
        """Hang up: the shell gets SIGHUP."""
        if self.closed:
            return
        self.closed = True
        self.lived = time.monotonic() - self.started
        self.loop.remove_reader(self.master)
        self.loop.remove_writer(self.master)
        os.close(self.master)
        self._input.clear()
        while self._when_written:  # what was never typed will not be: its senders stop waiting
            self._when_written.popleft()[1]()

    def _readable(self) -> None:
        try:
            data = os.read(self.master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: every slave is closed
            data = b""
        if not data:
            self.close()
            self.on_exit(self)
            return
        self._scrollback += data
        if len(self._scrollback) > SCROLLBACK:
            del self._scrollback[: len(self._scrollback) - SCROLLBACK]
        text = self._decoder.decode(data)
        if text:
            self.on_output(text)

    def _flush(self) -> None:
        try:
            written = os.write(self.master, self._input)
        except BlockingIOError:
            written = 0
        except OSError:
            return
        del self._input[:written]
        self._written += written
        while self._when_written and self._when_written[0][0] <= self._written:
            self._when_written.popleft()[1]()
        if self._input:
            self.loop.add_writer(self.master, self._flush)
        else:
            self.loop.remove_writer(self.master)
