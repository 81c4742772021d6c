"""How to make a bare sandbox for experiments and tests (root): see topology/sandbox.py."""

import os
import secrets
import socket
from pathlib import Path

from topology import sandbox

sid = secrets.token_hex(4)
d = Path(f"/var/lib/nslab-dev/{sid}")
d.mkdir(parents=True)
os.chmod(d.parent, 0o711)
os.chmod(d, 0o711)
s = socket.socket(socket.AF_UNIX)
s.bind(str(d / "docker.sock"))  # the sandbox binds this path as /run/docker.sock
script = (
    "echo 1 > /proc/sys/net/ipv4/ip_forward\nip link add docker0 type bridge\n"
    "ip addr add 172.17.0.1/16 dev docker0\nip link set docker0 up\n"
)
sb = sandbox.create(
    sid,
    docker_version="19.03",
    host_script=script,
    directory=d,
    root_uid=1_000_000 + 65536 * 900,
    map_range=65536,
)
try:
    for ns in ("host", "router", "remote", "client"):
        r = sb.run(ns, ["ip", "-br", "addr"])
        print(ns, r.returncode, r.stdout.decode())
    # A "container": a process with its own netns inside the Docker host, like the engine makes them.
    r = sb.run("host", ["sh", "-c", "unshare -n sleep 30 >/dev/null 2>&1 & echo $!"])
finally:
    sb.destroy()
    os.waitpid(sb.holder_pid, 0)
    import shutil

    shutil.rmtree(d)
