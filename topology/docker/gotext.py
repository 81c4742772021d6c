"""Go's value syntax and formatting as Docker's Go code applies it: quoting, ints, IPs, times, tabwriter."""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import UTC, datetime, timedelta, timezone


class GoError(Exception):
    """A value Go code rejects; the text is Go's error string."""


_GO_ESCAPES = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t", "\v": r"\v"}


def go_quote(s: str) -> str:
    """Go's strconv.Quote (what `%q` prints for a string)."""
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out) + '"'


def go_quote_byte(ch: str) -> str:
    """`%q` of the byte pflag reads from a shorthand group (the first UTF-8 byte of `ch`)."""
    b = ch.encode("utf-8", "surrogateescape")[0]
    if b == 0x27:
        return r"'\''"
    if chr(b).isprintable():
        return f"'{chr(b)}'"
    if b < 0x80:
        return "'" + _GO_ESCAPES.get(chr(b), f"\\x{b:02x}") + "'"
    return f"'\\u{b:04x}'"


def go_errno(errno: int) -> str:
    """Go's text of an errno (syscall.Errno.Error(): the C library's, lower-case first)."""
    text = os.strerror(errno)
    return text[:1].lower() + text[1:]


def go_bytes(data: bytes) -> str:
    """A []byte as Go's %v prints it: "[104 105]"."""
    return "[" + " ".join(str(b) for b in data) + "]"


def go_bool(s: str) -> bool:
    """strconv.ParseBool."""
    if s in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if s in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise GoError(f"strconv.ParseBool: parsing {go_quote(s)}: invalid syntax")


_INT_DIGITS = {16: "0-9a-fA-F", 8: "0-7", 2: "01", 10: "0-9"}


def go_int(s: str) -> int:
    """strconv.ParseInt(s, 0, 64): sign, 0x/0o/0b prefixes, leading-0 octal, `_` separators."""
    body = s[1:] if s[:1] in "+-" else s
    base, digits = 10, body
    if body[:2].lower() in ("0x", "0o", "0b"):
        base, digits = {"x": 16, "o": 8, "b": 2}[body[1].lower()], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, digits = 8, body[1:]
    allowed = _INT_DIGITS[base]
    if not re.fullmatch(f"_?[{allowed}]+(_[{allowed}]+)*", digits) or (digits[0] == "_" and base == 10):
        raise GoError(f"strconv.ParseInt: parsing {go_quote(s)}: invalid syntax")
    digits = digits.replace("_", "").lstrip("0")
    value = int(digits or "0", base) * (-1 if s.startswith("-") else 1) if len(digits) <= 64 else 2**64
    if not -(2**63) <= value < 2**63:
        raise GoError(f"strconv.ParseInt: parsing {go_quote(s)}: value out of range")
    return value


def parse_uint16(s: str) -> int:
    """strconv.ParseUint(s, 10, 16)."""
    if not re.fullmatch(r"[0-9]+", s):
        raise GoError(f"strconv.ParseUint: parsing {go_quote(s)}: invalid syntax")
    if len(s.lstrip("0")) > 5 or int(s) > 65535:
        raise GoError(f"strconv.ParseUint: parsing {go_quote(s)}: value out of range")
    return int(s)


def go_parse_ip(s: str) -> str:
    """Go's net.ParseIP as a canonical string, or "" when `s` is not an IP address."""
    if "%" in s or not s:
        return ""
    try:
        return str(ipaddress.ip_address(s))
    except ValueError:
        return ""


def is_ipv4(s: str) -> bool:
    """Whether `s` is an IPv4 address (or an IPv4-mapped IPv6 one), as Go's net.IP.To4 decides."""
    addr = go_parse_ip(s)
    return bool(addr) and (":" not in addr or ipaddress.ip_address(addr).ipv4_mapped is not None)


def go_split_host(hostport: str) -> str:
    """The host part of Go's net.SplitHostPort; raises GoError with Go's AddrError text."""

    def fail(why: str) -> GoError:
        return GoError(f"address {hostport}: {why}")

    last = hostport.rfind(":")
    if last < 0:
        raise fail("missing port in address")
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise fail("missing ']' in address")
        if end + 1 == len(hostport):
            raise fail("missing port in address")
        if end + 1 != last:
            raise fail(
                "too many colons in address" if hostport[end + 1] == ":" else "missing port in address"
            )
        host, rest_from, close_from = hostport[1:end], 1, end + 1
    else:
        host, rest_from, close_from = hostport[:last], 0, 0
        if ":" in host:
            raise fail("too many colons in address")
    if "[" in hostport[rest_from:]:
        raise fail("unexpected '[' in address")
    if "]" in hostport[close_from:]:
        raise fail("unexpected ']' in address")
    return host


MAC_RE = re.compile(
    r"([0-9a-fA-F]{2}([:-]))(?:[0-9a-fA-F]{2}\2){4}[0-9a-fA-F]{2}"
    r"|([0-9a-fA-F]{2}([:-]))(?:[0-9a-fA-F]{2}\4){6}[0-9a-fA-F]{2}"
    r"|([0-9a-fA-F]{2}([:-]))(?:[0-9a-fA-F]{2}\6){18}[0-9a-fA-F]{2}"
    r"|(?:[0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}|(?:[0-9a-fA-F]{4}\.){3}[0-9a-fA-F]{4}"
    r"|(?:[0-9a-fA-F]{4}\.){9}[0-9a-fA-F]{4}"
)


# -- time ---------------------------------------------------------------------------------------

_TIME_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?")


def parse_time(value: str | datetime | None) -> datetime | None:
    """An RFC 3339 timestamp (nanoseconds allowed) as an aware datetime; None for "" and Go's zero time."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    m = _TIME_RE.fullmatch(value.strip())
    if not m:
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    year, month, day, hour, minute, second, frac, tz = m.groups()
    if int(year) == 1:
        return None
    zone = UTC
    if tz and tz != "Z":
        sign = -1 if tz[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[-2:])))
    micro = int((frac or "0")[:6].ljust(6, "0"))
    return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=zone)


def human_duration(seconds: float) -> str:
    """go-units' HumanDuration: "Less than a second", "5 seconds", "About a minute", "3 hours"…"""
    if int(seconds) < 1:
        return "Less than a second"
    if int(seconds) == 1:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def time_or_now(now: str | datetime | None) -> datetime:
    """`now` as an aware datetime; the current time when not given."""
    return parse_time(now) or datetime.now(UTC)


def human_since(then: str, now: datetime) -> str:
    """go-units' HumanDuration from the RFC 3339 time `then` to `now` (empty for no time)."""
    t = parse_time(then)
    return human_duration((now - t).total_seconds()) if t else ""


def tabwrite(text: str, minwidth: int, padding: int = 3) -> str:
    """Go's text/tabwriter (pad with spaces, no flags): align tab-terminated cells in column blocks."""
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    widths: list[int] = []

    def write(first: int, end: int) -> None:
        for cells in lines[first:end]:
            out.append("".join(c.ljust(widths[j]) if j < len(widths) else c for j, c in enumerate(cells)))

    def block(first: int, end: int) -> None:
        column, this = len(widths), first
        while this < end:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write(first, this)
            first, width = this, minwidth
            while this < end and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            widths.append(width)
            block(first, this)
            widths.pop()
            first = this
        write(first, end)

    block(0, len(lines))
    return "\n".join(out)


def join_host_port(host: str, port: int | str) -> str:
    """Go's net.JoinHostPort."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
