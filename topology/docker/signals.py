"""Signal names and numbers as the daemon reads them (`docker kill -s`, moby's pkg/signal ParseSignal)."""

from __future__ import annotations

import re

from topology.docker.model import Version

# moby's SignalMap for Linux (amd64 numbers), SIGRTMIN 34 and SIGRTMAX 64 as Go has them.
SIGNALS = {
    **dict(
        ABRT=6, ALRM=14, BUS=7, CHLD=17, CLD=17, CONT=18, FPE=8, HUP=1, ILL=4, INT=2, IO=29, IOT=6,
        KILL=9, PIPE=13, POLL=29, PROF=27, PWR=30, QUIT=3, SEGV=11, STKFLT=16, STOP=19, SYS=31,
        TERM=15, TRAP=5, TSTP=20, TTIN=21, TTOU=22, URG=23, USR1=10, USR2=12, VTALRM=26, WINCH=28,
        XCPU=24, XFSZ=25, RTMIN=34, RTMAX=64,
    ),
    **{f"RTMIN+{n}": 34 + n for n in range(1, 16)},
    **{f"RTMAX-{n}": 64 - n for n in range(1, 15)},
}  # fmt: skip
_INT64 = 2**63


class SignalError(Exception):
    """The daemon refused the signal; the text is the daemon's."""


def parse_signal(raw: str, version: Version) -> int:
    """ParseSignal: a number (Go's Atoi; 0 refused) or a name with or without SIG, any case."""
    invalid = f"{'Invalid' if version == '19.03' else 'invalid'} signal: {raw}"
    if re.fullmatch(r"[+-]?[0-9]+", raw):
        number = int(raw)
        if number == 0 or not -_INT64 <= number < _INT64:
            raise SignalError(invalid)
        return number
    name = raw.upper().removeprefix("SIG")
    if name not in SIGNALS:
        raise SignalError(invalid)
    return SIGNALS[name]


def check_platform(number: int, version: Version) -> None:
    """ValidSignalForPlatform: only the numbers of the table (19.03 shows the number as a uint64)."""
    if number not in SIGNALS.values():
        if version == "19.03":
            raise SignalError(f"The linux daemon does not support signal {number % 2**64}")
        raise SignalError(f"the linux daemon does not support signal {number}")
