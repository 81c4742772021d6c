"""Probes: real traffic inside a sandbox, judged into check results (see `topology.checks`).

Every probe runs a command in a namespace of the sandbox exactly as the student's shell there would
(`SandboxAccess.run`), so it goes through the student's routes and netfilter rules. The tools are
the ones the sandbox sees: curl (http, remote_saw), iputils ping, bash's /dev/tcp (tcp; busybox nc
has no -z); `trace` walks one packet through the kernel (topology.trace). `remote_saw` fetches a
one-off URL from the remote web server and then reads what the server logged, in the router
namespace's files (/run/remote.log of the sandbox keeper's mount namespace), which the student's
shell cannot reach: the student cannot forge what the remote saw.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from topology.access import SandboxAccess
from topology.checks import diagnosis, result

__all__ = [
    "PROBES",
    "PROBE_TIMEOUT",
    "REMOTE_LOG",
    "REMOTE_URL",
    "probe",
    "probe_target",
]

PROBE_TIMEOUT = 2.0  # seconds a probe waits for an answer: the sandbox's links answer in well under 1 ms
REMOTE_URL = "http://198.51.100.80/"
REMOTE_LOG = "/run/remote.log"  # in the router namespace's (the keeper's) mount namespace
_STATUS_MARK = "\n@@nslab-http-status "


def _expect(args: Mapping, default: str) -> str:
    return str(args.get("expect") or default).lower()


def _curl(access: SandboxAccess, ns: str, url: str, timeout: float) -> tuple[int, int, str, str]:
    """(curl's exit status, HTTP status or 0, body, error text)."""
    t = f"{timeout:g}"
    code, out, err = access.run(
        ns,
        [
            "curl",
            "-s",
            "-S",
            "--noproxy",
            "*",
            "--connect-timeout",
            t,
            "-m",
            t,
            "-o",
            "-",
            "-w",
            _STATUS_MARK + "%{http_code}",
            url,
        ],
        timeout=timeout + 1,
    )
    body, _, status = out.rpartition(_STATUS_MARK)
    try:
        http_status = int(status.strip() or 0)
    except ValueError:
        http_status = 0
    error = err.strip().splitlines()[-1] if err.strip() else f"exit status {code}"
    return code, http_status, body, error.removeprefix("curl: ")


def http(access: SandboxAccess, args: Mapping, timeout: float = PROBE_TIMEOUT) -> dict:
    ns, url = str(args["from"]), str(args["url"])
    want = int(args.get("status") or 200)
    p = {"from": ns, "url": url}
    code, status, body, error = _curl(access, ns, url, timeout)
    answered = code == 0 and status > 0
    if _expect(args, "ok") == "fail":
        if answered:
            return result("http", False, "http.unexpected", status=status, **p)
        return result("http", True, "http.fail_ok", **p)
    if not answered:
        return result("http", False, "http.failed", error=error, **p)
    if status != want:
        return result("http", False, "http.status", actual=status, expected=want, **p)
    if args.get("contains") is not None and str(args["contains"]) not in body:
        return result("http", False, "http.body", contains=str(args["contains"]), **p)
    return result("http", True, "http.ok", status=status, **p)


def ping(access: SandboxAccess, args: Mapping, timeout: float = PROBE_TIMEOUT) -> dict:
    ns, to = str(args["from"]), str(args["to"])
    code, _, _ = access.run(
        ns, ["ping", "-n", "-q", "-c", "1", "-W", f"{max(1, round(timeout))}", to], timeout=timeout + 1
    )
    p = {"from": ns, "to": to}
    if _expect(args, "ok") == "fail":
        return result("ping", code != 0, "ping.fail_ok" if code != 0 else "ping.unexpected", **p)
    return result("ping", code == 0, "ping.ok" if code == 0 else "ping.failed", **p)


def tcp(access: SandboxAccess, args: Mapping, timeout: float = PROBE_TIMEOUT) -> dict:
    ns, to, port = str(args["from"]), str(args["to"]), int(args["port"])
    code, _, _ = access.run(
        ns, ["bash", "-c", 'exec 3<>"/dev/tcp/$1/$2"', "nslab-tcp", to, str(port)], timeout=timeout
    )
    p = {"from": ns, "to": to, "port": port}
    if _expect(args, "open") == "closed":
        return result("tcp", code != 0, "tcp.closed_ok" if code != 0 else "tcp.unexpected_open", **p)
    return result("tcp", code == 0, "tcp.open" if code == 0 else "tcp.closed", **p)


_LOG_LINE = re.compile(r"^\[?(?:::ffff:)?([0-9a-fA-F.:]+?)\]?:\d+: url:(\S+)")


def remote_saw(access: SandboxAccess, args: Mapping, timeout: float = PROBE_TIMEOUT) -> dict:
    """Fetch a one-off path of the remote server from `from`; compare the client address it logged."""
    ns, want = str(args["from"]), str(args.get("source") or "")
    token = f"nslab-probe-{secrets.token_hex(8)}"
    code, status, _, error = _curl(access, ns, REMOTE_URL + token, timeout)
    rc, log, log_err = access.run("router", ["grep", "-F", f"url:/{token}", REMOTE_LOG], timeout=5.0)
    seen = [m.group(1) for line in log.splitlines() if (m := _LOG_LINE.match(line)) and token in m.group(2)]
    p = {"from": ns}
    if not seen:
        return result(
            "remote_saw",
            False,
            "remote_saw.no_request",
            error=error if code else diagnosis("part.not_logged"),
            **p,
        )
    actual = seen[0]
    if want and actual != want:
        return result("remote_saw", False, "remote_saw.mismatch", actual=actual, expected=want, **p)
    return result("remote_saw", True, "remote_saw.ok", actual=actual, expected=want or actual, **p)


def trace(access: SandboxAccess, args: Mapping, timeout: float = PROBE_TIMEOUT) -> dict:
    """Walk one packet (topology.trace) and judge the walk (topology.trace.judge)."""
    from topology.trace import trace as walk_packet
    from topology.trace.judge import judge

    port = args.get("port")
    walk = walk_packet(
        access,  # type: ignore[arg-type]  # a trace also starts commands (ClientAccess.spawn)
        str(args["from"]),
        str(args["to"]),
        int(port) if port else None,
        str(args.get("proto") or "tcp"),
        timeout=timeout,
    )
    return judge(walk, args)


PROBES: dict[str, Callable[..., dict]] = {
    "http": http,
    "ping": ping,
    "tcp": tcp,
    "remote_saw": remote_saw,
    "trace": trace,
}


def probe(kind: str, args: Mapping, access: SandboxAccess, timeout: float = PROBE_TIMEOUT) -> dict:
    """Run one probe; a failure to run it is a failed result, never an exception."""
    try:
        return PROBES[kind](access, args or {}, timeout)
    except Exception as exc:  # noqa: BLE001 - any failure (daemon gone, bad args) is a failed check
        return result(
            kind,
            False,
            "probe.error",
            error=f"{type(exc).__name__}: {exc}",
            **{"from": (args or {}).get("from")},
        )


def probe_target(kind: str, args: Mapping) -> tuple[str, str, int | None] | None:
    """(destination address, protocol, destination port) of a probe's traffic, for diagnoses."""
    if kind == "trace":
        return None  # a walk says itself why the packet went nowhere
    if kind == "ping":
        return str(args.get("to")), "icmp", None
    if kind == "tcp":
        return str(args.get("to")), "tcp", int(args.get("port") or 0) or None
    url = REMOTE_URL if kind == "remote_saw" else str(args.get("url") or "")
    parts = urlsplit(url if "//" in url else f"http://{url}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.hostname or "", "tcp", port
