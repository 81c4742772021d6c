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


def web_server(server: str, cmd: list[str], root: str) -> list[str]:
    """The guest's nslab-web command standing for `server` (nginx or httpd) run as `cmd`: it listens
    as that server does, serves `root`, and shows the server's own command lines in `ps`: nginx's
    master title (the words of its command line after "master process"), httpd's argv as the
    image's httpd-foreground script execs it (`exec httpd -DFOREGROUND "$@"`)."""
    if server == "nginx":
        return ["nslab-web", server, root, "--", f"nginx: master process {' '.join(cmd)}"]
    return ["nslab-web", server, root, "--", "httpd", "-DFOREGROUND", *cmd[1:]]


def accounts(repo: str) -> tuple[str, str]:
    """A container's /etc/passwd and /etc/group: root and nobody, and the users the nginx and httpd
    images' servers run as (debian's daemon, 1; nginx's `adduser --system --uid 101 nginx`), so that
    `ps` in the container names them."""
    passwd = ["root:x:0:0:root:/root:/bin/sh"]
    group = ["root:x:0:"]
    if repo in ("nginx", "httpd"):
        passwd.append("daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin")
        group.append("daemon:x:1:")
    passwd.append("nobody:x:65534:65534:nobody:/:/bin/false")
    group.append("nogroup:x:65534:")
    if repo == "nginx":
        passwd.append("nginx:x:101:101:nginx user,,,:/nonexistent:/bin/false")
        group.append("nginx:x:101:")
    return "".join(f"{line}\n" for line in passwd), "".join(f"{line}\n" for line in group)


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
