"""A service manager for fault tests: runs a command as a child subreaper and reaps every orphan.

`python -m bench.reaper CMD...` starts CMD, starts it again on SIGUSR1 (a restart after
the test killed it), and exits on SIGTERM. As a subreaper it becomes the parent of what outlives a
killed daemon (sandbox holders, container and proxy launchers) and reaps them when they end, as an
init that reaps (systemd, `docker run --init`) does for a lab node in production.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36


SIGNALS = {signal.SIGUSR1, signal.SIGTERM, signal.SIGCHLD}


def start(command: list[str]) -> None:
    unblock = lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)  # noqa: E731
    subprocess.Popen(command, start_new_session=True, preexec_fn=unblock)  # noqa: PLW1509


def main() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    command = sys.argv[1:]
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    start(command)
    while True:
        sig = signal.sigwait(SIGNALS)
        if sig == signal.SIGTERM:
            return
        if sig == signal.SIGUSR1:
            start(command)
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break


if __name__ == "__main__":
    main()
