"""The lab's fixed images: what `docker images` lists, and what a container of each runs and exposes."""

from __future__ import annotations

import hashlib
import subprocess

from topology.docker.model import ExposedPort

# The fixed image list: repository, tag, short id, created, size.
IMAGES = (
    ("nginx", "latest", "f6d0b4767a6c", "2021-01-12T10:17:41Z", "133MB"),
    ("httpd", "latest", "683a7aad17d3", "2021-01-12T08:45:22Z", "138MB"),
    ("busybox", "latest", "b97242f89c8a", "2021-01-13T00:21:07Z", "1.23MB"),
    ("alpine", "latest", "7731472c3f2a", "2021-01-15T02:23:48Z", "5.61MB"),
)
# repository: (default command, exposed ports)
DEFAULTS = {
    "nginx": (["nginx", "-g", "daemon off;"], [ExposedPort(80)]),
    "httpd": (["httpd-foreground"], [ExposedPort(80)]),
    "busybox": (["sh"], []),
    "alpine": (["/bin/sh"], []),
}
# How the real servers listen in a container, as `ss -ltn` shows them: nginx's default.conf (with the
# `listen [::]:80` its entrypoint adds) on 0.0.0.0:80 and [::]:80, httpd's `Listen 80` on one
# dual-stack *:80; both with a backlog of 511 (NGX_LISTEN_BACKLOG, ListenBacklog), ss's Send-Q.
_LISTENERS = {
    "nginx": ("TCP4-LISTEN:80", "TCP6-LISTEN:80,ipv6only=1"),
    "httpd": ("TCP6-LISTEN:80,ipv6only=0",),
}


def web_server(server: str, root: str) -> str:
    """Shell text serving `root` on port 80 as `server` (nginx or httpd) listens: socat listens so
    (busybox httpd's own backlog is 9) and hands each connection to `busybox httpd -i`. Listeners
    only end when they fail (e.g. to bind): then it exits 1, as those servers do."""
    serve = f"'EXEC:busybox httpd -i -h {root},nofork'"
    listeners = "".join(f"socat {a},backlog=511,reuseaddr,fork {serve} & " for a in _LISTENERS[server])
    return listeners + "wait; exit 1"


def image_id(name: str) -> str:
    """The full "sha256:…" id of an image of the fixed list (a stable made-up one otherwise)."""
    short = next((i for repo, _, i, _, _ in IMAGES if repo == name.split(":")[0]), "")
    digest = hashlib.sha256(name.encode()).hexdigest()
    return "sha256:" + (short + digest)[:64]


def is_applet(name: str) -> bool:
    """Whether busybox has an applet of that name (the busybox and alpine images run those first)."""
    return name in _busybox_applets()


_APPLETS: set[str] = set()


def _busybox_applets() -> set[str]:
    if not _APPLETS:
        out = subprocess.run(["busybox", "--list"], capture_output=True, text=True).stdout
        _APPLETS.update(out.split())
    return _APPLETS
