"""Live-restore of one sandbox's engine: its state saved after each change, re-adopted by a new daemon.

The daemon's processes in the sandbox (containers' shims, docker-proxies) are not its children: they
are held by host pid and start time, watched through a pidfd. A container found running again gets a
new watcher, its exit status read from the pipe its shim writes it to (the shim keeps a copy of the
read end, taken back with pidfd_getfd); one that died meanwhile is cleaned up as if it had exited
(its status went with the shim: 255, libcontainerd's code for a status it could not read).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from topology.docker import etcfiles, resolver, state
from topology.docker.engine import Engine, now
from topology.docker.model import published_endpoint
from topology.docker.runtime import ContainerProcess, start_proxy, stop_process_tree, wait_proxy
from topology.docker.spawner import LOST_EXIT, HeldProcess
from topology.sandbox import HOST_RESOLV_CONF, Sandbox, pidfd_getfd, start_time

log = logging.getLogger("topology.docker")
STATE_FILE = "engine.json"


def _held(proc) -> list[int]:
    return [proc.pid, proc.started]


def _shim(entry: dict) -> HeldProcess:
    """A running container's shim, with its exit status pipe taken back from it; without a shim (a
    state written before shims kept a copy), the container's process itself."""
    pid, started, status = entry.get("shim") or (0, 0, -1)
    if pid and status >= 0 and start_time(pid) == started:
        pidfd = os.pidfd_open(pid)
        try:
            return HeldProcess(pid, started, pidfd=pidfd, status_fd=pidfd_getfd(pidfd, status))
        except OSError:
            os.close(pidfd)
    return HeldProcess(entry["host_pid"], entry["host_start"])


def runtime(engine: Engine) -> dict:
    """What the engine holds on the host for each running container: its process, its proxies and
    its embedded DNS ports (caller holds the engine's lock)."""
    held = {}
    for cid, proc in engine.procs.items():
        entry = {
            "shim": [*_held(proc.proc), proc.shim_status],
            "host_pid": proc.host_pid,
            "host_start": start_time(proc.host_pid),
            "inner_pid": proc.inner_pid,
            "proxies": [_held(p) for p in engine.publisher.proxies.get(cid, [])],
        }
        if engine.dns is not None and (listener := engine.dns.listeners.get(cid)):
            entry["dns"] = [listener.udp.getsockname()[1], listener.tcp.getsockname()[1]]
        held[cid] = entry
    return held


def save(engine: Engine, directory: Path, previous: str = "") -> str:
    """Write the engine's state to the sandbox's directory (atomically) unless it is `previous`;
    return what the file holds."""
    with engine.lock:
        if engine.detached:
            return previous
        text = json.dumps(state.engine_data(engine, runtime(engine)), separators=(",", ":"))
    if text != previous:
        state.write_text_atomically(directory / STATE_FILE, text)
    return text


def restore(sb: Sandbox, directory: Path) -> Engine:
    """The engine a previous daemon left for `sb`, re-attached to what still runs; StateError when
    its state cannot be read."""
    data = state.read(directory / STATE_FILE)
    values = state.engine_state(data)
    engine = Engine(values["version"])
    for name, value in values.items():
        state.assign(engine, name, value)
    engine.attach(sb)
    held = data.get("runtime") or {}
    gone = []
    with engine.lock:
        for c in engine.containers.values():
            entry = held.get(c.id)
            if c.status != "running":
                continue
            # A dead container's proxies too: they still hold its host ports.
            proxies = (entry or {}).get("proxies", [])
            engine.publisher.proxies[c.id] = [HeldProcess(pid, started) for pid, started in proxies]
            if entry is None or start_time(entry["host_pid"]) != entry["host_start"]:
                gone.append(c)
                continue
            proc = ContainerProcess(_shim(entry), entry["inner_pid"], entry["host_pid"], -1, 0)
            engine.procs[c.id] = proc
        _reattach_dns(engine, held)
        for c in engine.containers.values():
            if c.id in engine.procs:
                _keep_proxies(engine, c)
                done = threading.Event()
                engine.stopped[c.id] = done
                threading.Thread(
                    target=engine._watch, args=(c, engine.procs[c.id], done), daemon=True
                ).start()
        for c in gone:
            _ended_meanwhile(engine, c)
    return engine


def _reattach_dns(engine: Engine, held: dict) -> None:
    """Serve the embedded DNS again on the ports the containers' NAT rules send port 53 to."""
    ports = {cid: entry["dns"] for cid, entry in held.items() if entry.get("dns") and cid in engine.procs}
    if not ports:
        return
    engine.dns = resolver.EmbeddedDns(engine.sb, engine.version)
    for cid, (udp, tcp) in ports.items():
        servers = etcfiles.external_servers(engine.version, HOST_RESOLV_CONF, engine.containers[cid].dns)
        try:
            engine.dns.attach(cid, engine.procs[cid].netns, external=True, servers=servers, ports=(udp, tcp))
        except OSError as exc:
            log.warning("embedded DNS of %s not restored: %s", cid[:12], exc)
    engine._dns_update()


def _keep_proxies(engine: Engine, c) -> None:
    """Start again the docker-proxies of a running container when one of them died meanwhile (all
    of them, as at its start)."""
    proxies = engine.publisher.proxies.get(c.id, [])
    if all(p.poll() is None for p in proxies) and (proxies or not c.ports):
        return
    for p in proxies:
        stop_process_tree(p)
    ip = ep.ip if (ep := published_endpoint(c)) else ""
    started = [start_proxy(engine.sb, b, container_ip=ip) for b in c.ports]
    engine.publisher.proxies[c.id] = [proc for proc, _fd in started]
    for proc, fd in started:
        if err := wait_proxy(proc, fd):
            log.warning("docker-proxy of %s not restarted: %s", c.name, err)


def _ended_meanwhile(engine: Engine, c) -> None:
    """A container whose process ended while no daemon watched: undo its network, as an exit does."""
    engine._teardown_network(c)
    c.status = "exited"
    c.exit_code = LOST_EXIT
    c.finished_at = now()
    c.pid = 0
    if c.auto_remove:
        engine.containers.pop(c.id, None)
