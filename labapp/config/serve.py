"""Serving nslab with Daphne: `python -m labapp.config.serve [--host H] [--port P]`.

`make run`, the Docker image and the browser tests' server all start it. It prints where the lab is
and, bound to every address (`--host 0.0.0.0`: a classroom), the addresses other machines use; when
DJANGO_ALLOWED_HOSTS is unset, those names are the allowed hosts (any other Host header gets 400).
WebSocket messages over frames.FRAME_MAX close the socket with 1009 (message too big): Daphne's own
limit is 1 MiB and autobahn, past it, drops the connection without a close code.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import socket
import subprocess

from labapp.config.env import env_bool, env_list
from labapp.labs.frames import FRAME_MAX

ASGI_APP = "labapp.config.asgi:application"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


def machine_addresses() -> list[str]:
    """The machine's own IP addresses (`ip -j address`), link-local ones left out; [] if unknown."""
    try:
        done = subprocess.run(["ip", "-j", "address", "show"], capture_output=True, text=True, timeout=5)
        links = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return []
    found = []
    for link in links:
        for address in link.get("addr_info", []):
            if "local" in address and address.get("scope") != "link":
                found.append(address["local"])
    return found


def _host_name(address: str) -> str:
    """`address` as it appears in a Host header and a URL (an IPv6 address in brackets)."""
    try:
        return f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    except ValueError:
        return address  # a name


def allowed_hosts(bind: str) -> list[str]:
    """The Host header values a server bound to `bind` answers: loopback, plus, when it listens
    beyond this machine, the machine's name and addresses."""
    hosts = list(LOOPBACK_HOSTS)
    if bind in ("0.0.0.0", "::"):
        extra = [socket.gethostname(), *map(_host_name, machine_addresses())]
    elif bind in ("127.0.0.1", "::1", "localhost"):
        extra = []
    else:
        extra = [socket.gethostname(), _host_name(bind)]
    return hosts + [host for host in dict.fromkeys(extra) if host not in hosts]


def daphne_argv(host: str, port: int) -> list[str]:
    """Daphne's arguments to serve nslab on `host`:`port`."""
    limit = str(FRAME_MAX)
    return ["-b", host, "-p", str(port), "--websocket-max-message-size", limit,
            "--websocket-max-frame-size", limit, ASGI_APP]  # fmt: skip


def _close_instead_of_drop() -> None:
    """Make autobahn close an over-long message's socket with 1009 rather than drop it unannounced."""
    from daphne import server
    from daphne.ws_protocol import WebSocketFactory

    class Factory(WebSocketFactory):
        def setProtocolOptions(self, **options):  # noqa: N802 (autobahn's name)
            super().setProtocolOptions(failByDrop=False, **options)

    server.WebSocketFactory = Factory


def banner(host: str, port: int, environ: dict[str, str]) -> str:
    """What the server says at start: where to log in from, and how it is set up."""
    hosts = env_list(environ, "DJANGO_ALLOWED_HOSTS", LOOPBACK_HOSTS)
    debug = env_bool(environ, "DJANGO_DEBUG", False)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else _host_name(host)
    lines = [f"nslab is at http://{shown}:{port}"]
    if host in ("127.0.0.1", "::1", "localhost"):
        lines.append("Only this machine reaches it; to serve a classroom: make run HOST=0.0.0.0")
    else:
        others = [h for h in hosts if h not in LOOPBACK_HOSTS and h != "*"]
        lines.append(
            "From the other machines of the network: " + ", ".join(f"http://{h}:{port}" for h in others)
        )
    lines.append(f"Allowed host names: {', '.join(hosts)} (DJANGO_ALLOWED_HOSTS)")
    if debug:
        lines.append("DEBUG is ON: error pages show code and settings; never so on a shared network")
    else:
        lines.append("DEBUG is off (a developer's option: make run DEBUG=1)")
    key = "from SECRET_KEY" if environ.get("SECRET_KEY") else "kept in var/secret_key"
    lines.append(f"Secret key {key}; static files collected in var/static, served by WhiteNoise")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Fill in DJANGO_ALLOWED_HOSTS if unset, say where the lab is, and run Daphne."""
    parser = argparse.ArgumentParser(
        prog="python -m labapp.config.serve", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0: every address)")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", ",".join(allowed_hosts(args.host)))
    print(banner(args.host, args.port, os.environ), flush=True)
    _close_instead_of_drop()
    from daphne.cli import CommandLineInterface

    CommandLineInterface().run(daphne_argv(args.host, args.port))


if __name__ == "__main__":
    main()
