"""The docker command line inside a sandbox: parse, run against the engine, print like Docker.

State changes run under the engine's lock; what a command prints is written to the client's fds
after the lock is released, and attached processes are waited for without it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from topology.docker import (
    capabilities,
    cli,
    eventtext,
    filters,
    inspect_json,
    netconfig,
    networks,
    output,
    signals,
)
from topology.docker.clierrors import CliError, daemon_error, exec_start_failure
from topology.docker.engine import Engine, EngineError, Output
from topology.docker.envfile import ClientSide
from topology.docker.gotemplate import render_format
from topology.docker.gotemplate_parse import TemplateError
from topology.docker.model import Container, DnsConfig, process_env
from topology.docker.requests import (
    ContainerSpec,
    CreateRequest,
    EventsRequest,
    ExecRequest,
    HelpRequest,
    ImagesRequest,
    InfoRequest,
    InspectRequest,
    KillRequest,
    LogsRequest,
    NetworkConnectRequest,
    NetworkCreateRequest,
    NetworkDisconnectRequest,
    NetworkLsRequest,
    NetworkPruneRequest,
    NetworkRmRequest,
    PortRequest,
    PsRequest,
    RenameRequest,
    Request,
    RestartRequest,
    RmRequest,
    RunRequest,
    StartRequest,
    StopRequest,
    TopRequest,
    VersionRequest,
    WaitRequest,
)
from topology.docker.runtime import (
    KernelError,
    exec_argv,
    exec_report,
    exit_status,
    start_exec,
)
from topology.docker.terminal import attach_terminal, open_pty, relay_pty, wait_proxying_signals
from topology.fdwait import readable

log = logging.getLogger("topology.docker")


def execute(
    engine: Engine,
    argv: list[str],
    stdio: tuple[int, int, int],
    *,
    tty: bool,
    conn,
    client: ClientSide | None = None,
) -> int:
    """Run one docker command line; return the CLI's exit status. `client` is the CLI's side (the
    student's environment and files), which the command line may refer to (--env-file)."""
    out = Output()
    try:
        request = cli.parse(argv, engine.version, client)
        handler = HANDLERS[type(request)]
        code = handler(engine, request, out, stdio, tty, conn)
    except CliError as exc:
        out.err.append(exc.message.rstrip("\n") + "\n")
        code = exc.exit_code
    except KernelError as exc:
        out.err.append(f"Error response from daemon: {exc}\n")
        code = 1
    except Exception as exc:  # noqa: BLE001 - the student gets an answer, the daemon keeps serving
        log.exception("docker %s failed", argv[:1])
        out.err.append(f"Error response from daemon: internal error: {exc}\n")
        code = 1
    _flush(out, stdio)
    return code


def _flush(out: Output, stdio: tuple[int, int, int]) -> None:
    for fd, chunks in ((stdio[1], out.out), (stdio[2], out.err)):
        data = "".join(chunks).encode()
        try:
            while data:
                data = data[os.write(fd, data) :]
        except OSError:
            pass


def _framed(command: str, exc: EngineError, version: str) -> CliError:
    err = daemon_error(command, exc.message, version, at_start=exc.at_start)
    if exc.preamble:
        err.message = exc.preamble + "\n" + err.message
    return err


def _lookup_failure(command: str, exc: EngineError, version: str) -> CliError:
    """A failed lookup of a container: 19.03's client turns the daemon's 404 into "Error: No such
    container: X" (wrapResponseError); 28's shows the daemon's text."""
    if exc.not_found and version == "19.03":
        return CliError("Error: " + exc.message, 1)
    return daemon_error(command, exc.message, version)


# -- containers ------------------------------------------------------------------------------


def _create(engine: Engine, spec: ContainerSpec, command: str) -> Container:
    publish = [] if spec.network == "host" else spec.ports
    if err := capabilities.check(spec.privileges, engine.version):
        raise daemon_error(command, err, engine.version)
    if spec.workdir and not spec.workdir.startswith("/"):  # moby's verifyContainerSettings
        text = f"the working directory '{spec.workdir}' is invalid, it needs to be an absolute path"
        raise daemon_error(command, text, engine.version)
    try:
        c = engine.create_container(
            image=spec.image,
            cmd=spec.cmd,
            name=spec.name.lstrip("/"),
            network=spec.network,
            hostname=spec.hostname,
            publish=publish,
            publish_all=spec.publish_all and spec.network != "host",
            expose=spec.expose,
            ip=spec.ip,
            mac=spec.mac,
            auto_remove=spec.auto_remove,
            tty=spec.tty,
            interactive=spec.interactive,
            labels=spec.labels,
            aliases=spec.aliases,
            links=spec.links,
            dns=DnsConfig(
                tuple(spec.dns),
                tuple(spec.dns_search),
                tuple(spec.dns_options),
                tuple(spec.add_hosts),
                spec.domainname,
            ),
            env=spec.env,
        )
    except EngineError as exc:
        raise _framed(command, exc, engine.version) from None
    c.privileges = spec.privileges
    c.workdir = spec.workdir
    return c


def _run(engine: Engine, req: RunRequest, out: Output, stdio, tty, conn) -> int:
    for warning in req.warnings:
        out.warn(warning)
    spec = req.spec
    attach_tty = spec.tty and not req.detach
    master = slave = -1
    with engine.lock:
        c = _create(engine, spec, "run")
        if not req.detach:  # the CLI attaches before it starts the container
            engine.container_event(c, "attach")
        try:
            if req.detach:
                engine.start_container(c)
            elif attach_tty:
                master, slave = open_pty(req.console_size)
                engine.start_container(c, stdio=(slave, slave, slave))
            else:
                stdin = stdio[0] if spec.interactive else os.open(os.devnull, os.O_RDONLY)
                engine.start_container(c, stdio=(stdin, stdio[1], stdio[2]))
                if stdin != stdio[0]:
                    os.close(stdin)
        except EngineError as exc:
            if c.auto_remove:  # containerStart's cleanup removes it
                engine.containers.pop(c.id, None)
                engine.container_event(c, "destroy")
            if req.detach:  # the CLI prints the id it was given by create while it starts the container
                out.print(c.id)
            exc.at_start = True
            raise _framed("run", exc, engine.version) from None
        finally:
            if slave >= 0:
                os.close(slave)
        if req.detach:
            out.print(c.id)
            return 0
        proc = engine.procs[c.id].proc
        done = engine.stopped[c.id]
    _flush(out, stdio)
    out.out.clear()
    out.err.clear()
    proxy = (lambda number: _proxied_signal(engine, c, number)) if req.sig_proxy else None
    if attach_tty:
        relay_pty(master, stdio[0], stdio[1], conn, proc, interactive=spec.interactive, on_signal=proxy)
    elif proxy:
        wait_proxying_signals(conn, proc, proxy)
    else:
        proc.wait()
    done.wait(30)
    return c.exit_code


def _proxied_signal(engine: Engine, c: Container, number: int) -> None:
    """A signal the client proxies (docker/cli's ForwardAllSignals): ContainerKill with it, whose
    errors the CLI only logs at debug level."""
    if number in signals.SIGNALS.values():
        with contextlib.suppress(EngineError):
            engine.kill_container(c, number)


def _create_cmd(engine: Engine, req: CreateRequest, out: Output, *_):
    for warning in req.warnings:
        out.warn(warning)
    with engine.lock:
        out.print(_create(engine, req.spec, "create").id)
    return 0


def _each(engine: Engine, names: list[str], out: Output, action, command: str) -> list[str]:
    """Apply `action` to each named container, printing names as Docker does; the names that failed."""
    failed = []
    for name in names:
        try:
            with engine.lock:
                c = engine.find_container(name)
            action(c)
            out.print(name)
        except EngineError as exc:
            out.warn(daemon_error(command, exc.message, engine.version).message)
            failed.append(name)
    return failed


def _start(engine: Engine, req: StartRequest, out: Output, *_):
    def start(c: Container) -> None:
        with engine.lock:
            if c.status != "running":
                c.ports, c.endpoints = [], []
                engine.start_container(c)

    failed = _each(engine, req.containers, out, start, "start")
    if failed:
        out.warn("Error: failed to start containers: " + ", ".join(failed))
    return 1 if failed else 0


def _stop(engine: Engine, req: StopRequest, out: Output, *_):
    timeout = 10 if req.timeout is None else req.timeout
    return 1 if _each(engine, req.containers, out, lambda c: engine.stop_container(c, timeout), "stop") else 0


def _restart(engine: Engine, req: RestartRequest, out: Output, *_):
    timeout = 10 if req.timeout is None else req.timeout

    def restart(c: Container) -> None:
        engine.stop_container(c, timeout)
        with engine.lock:
            engine.start_container(c)
            engine.container_event(c, "restart")

    return 1 if _each(engine, req.containers, out, restart, "restart") else 0


def _kill(engine: Engine, req: KillRequest, out: Output, *_):
    """moby's ContainerKill, once per container: 19.03 reads the signal before the container (an
    unreadable one is not framed) and checks its number after; 28 checks both first. Each error reads
    "Cannot kill container: X: ..."; the CLI prints them after the names."""
    v28 = engine.version != "19.03"
    framing = "cannot kill container" if v28 else "Cannot kill container"
    number, refused, framed = int(signal.SIGKILL), "", True
    if req.signal:
        try:
            number = signals.parse_signal(req.signal, engine.version)
            if v28:
                signals.check_platform(number, engine.version)
        except signals.SignalError as exc:
            refused, framed = str(exc), v28
    errors = []
    for name in req.containers:
        text = refused
        if not refused:
            try:
                with engine.lock:
                    c = engine.find_container(name)
                signals.check_platform(number, engine.version)
                engine.kill_container(c, number)
                out.print(name)
                continue
            except EngineError as exc:
                text = exc.message
            except signals.SignalError as exc:
                text = str(exc)
        errors.append(daemon_error("kill", f"{framing}: {name}: {text}" if framed else text).message)
    out.err += [e + "\n" for e in errors]
    return 1 if errors else 0


def _rename(engine: Engine, req: RenameRequest, out: Output, *_):
    old, new = req.old.strip(), req.new.strip()
    if not old or not new:
        raise CliError("Error: Neither old nor new names may be empty", 1)
    try:
        with engine.lock:
            engine.rename_container(engine.find_container(old), new)
    except EngineError as exc:
        out.warn(daemon_error("rename", exc.message, engine.version).message)
        raise CliError(f"Error: failed to rename container named {old}", 1) from None
    return 0


def _wait(engine: Engine, req: WaitRequest, out: Output, stdio, tty, conn):
    """Print each container's exit code once it is not running (errors last, as the CLI does)."""
    errors = []
    for name in req.containers:
        with engine.lock:
            try:
                c = engine.find_container(name)
            except EngineError as exc:
                errors.append(daemon_error("wait", exc.message, engine.version).message)
                continue
            done = engine.stopped.get(c.id) if c.status == "running" else None
        while done is not None and not done.wait(1):
            if conn is not None and readable([conn], 0) and not conn.recv(1, socket.MSG_PEEK):
                return 1  # the client went away (^C)
        out.print(str(c.exit_code))
        _flush(out, stdio)
        out.out.clear()
    out.err += [e + "\n" for e in errors]
    return 1 if errors else 0


def _rm(engine: Engine, req: RmRequest, out: Output, *_):
    code = 0
    for name in req.containers:
        try:
            with engine.lock:
                c = engine.find_container(name)
            engine.remove_container(c, force=req.force)
            out.print(name)
        except EngineError as exc:
            out.warn(_lookup_failure("rm", exc, engine.version).message)
            code = 1
    return code


def _ps(engine: Engine, req: PsRequest, out: Output, *_):
    with engine.lock:
        chosen = filters.list_containers(
            list(engine.containers.values()),
            req.filters,
            all=req.all,
            limit=1 if req.latest and req.last == -1 else req.last,
            networks=list(engine.networks.values()),
            version=engine.version,
        )
        text = output.format_ps(
            chosen,
            quiet=req.quiet,
            no_trunc=req.no_trunc,
            now=datetime.now(UTC),
            size=req.size,
            template=req.format,
            version=engine.version,
        )
    out.out.append(text)
    return 0


def _port(engine: Engine, req: PortRequest, out: Output, *_):
    with engine.lock:
        try:
            c = engine.find_container(req.container)
        except EngineError as exc:
            raise _lookup_failure("port", exc, engine.version) from None
        text = output.format_port(c, req.port, ref=req.container, version=engine.version)
    out.out.append(text)
    return 0


def _inspect(engine: Engine, req: InspectRequest, out: Output, *_):
    objects, code = [], 0
    with engine.lock:
        for name in req.names:
            obj = None
            if req.kind in ("", "container") and (c := engine.lookup(name)) is not None:
                obj = inspect_json.inspect_container(
                    c, list(engine.networks.values()), version=engine.version
                )
            elif req.kind in ("", "network"):
                try:
                    net = engine.find_network(name)
                except EngineError:
                    net = None
                if net is not None:
                    obj = inspect_json.inspect_network(
                        net, list(engine.containers.values()), version=engine.version
                    )
            if obj is None:
                kind = req.kind if req.kind in ("container", "network") else "object"
                out.warn(f"Error: No such {kind}: {name}")
                code = 1
            else:
                objects.append(obj)
    if not req.format:
        out.out.append(inspect_json.format_inspect(objects))
        return code
    for obj in objects:
        out.print(render_format(req.format, obj))
    return code


def _running(engine: Engine, ref: str, command: str) -> Container:
    """The running container `ref` names (the engine's lock held), else the daemon's error."""
    try:
        c = engine.find_container(ref)
    except EngineError as exc:
        raise _lookup_failure(command, exc, engine.version) from None
    if c.status != "running":  # 19.03's errNotRunning; 28's GetRunningTask and errNotRunning
        container = "Container" if engine.version == "19.03" else "container"
        raise daemon_error(command, f"{container} {c.id} is not running", engine.version)
    return c


def _exec(engine: Engine, req: ExecRequest, out: Output, stdio, tty, conn) -> int:
    report_r, report_w = os.pipe()
    master = -1
    exec_id = secrets.token_hex(32)
    command = req.cmd[0] + " " + " ".join(req.cmd[1:])  # moby's Entrypoint + " " + Args
    try:
        with engine.lock:
            c = _running(engine, req.container, "exec")
            engine.container_event(c, "exec_create: " + command, execID=exec_id)
            argv, fds = exec_argv(
                engine.sb,
                c.privileges,
                pid=c.pid,
                privileged=req.privileged,
                workdir=req.workdir,
                tty=req.tty and not req.detach,
                report=report_w,
            )
            host_pid = engine.host_pid(c)
        env = process_env(c, req.tty)
        for item in req.env:  # moby's ReplaceOrAppendEnvValues: a bare NAME unsets it
            key, eq, value = item.partition("=")
            if eq:
                env[key] = value
            else:
                env.pop(key, None)
        if req.detach:
            io = (-1, -1, -1)
        elif req.tty:
            master, slave = open_pty(req.console_size)
            io = (slave, slave, slave)
        else:
            io = (stdio[0] if req.interactive else -1, stdio[1], stdio[2])
        with engine.lock:
            engine.container_event(c, "exec_start: " + command, execID=exec_id)
        try:
            proc = start_exec(
                engine.sb, c.id, [*argv, *req.cmd], host_pid=host_pid, fds=fds, stdio=io, env=env
            )
        finally:
            if req.tty and not req.detach:
                os.close(slave)
    except BaseException:
        os.close(report_r)
        if master >= 0:
            os.close(master)
        raise
    finally:
        os.close(report_w)
    if report := exec_report(report_r):  # runc would not have started the command: nothing ran
        proc.wait()
        if master >= 0:
            os.close(master)
        text, code = exec_start_failure(report, req.cmd[0], req.workdir, engine.version)
        if req.detach:  # the daemon answers the start request with the error
            raise daemon_error("exec", text, engine.version)
        if req.tty and req.interactive:  # on the attached stream: after the CLI made its terminal raw
            attach_terminal(conn, interactive=True)
        out.out.append(text + "\r\n")
        return code

    def died(code: int) -> int:
        with engine.lock:
            engine.container_event(c, "exec_die", execID=exec_id, exitCode=str(exit_status(code)))
        return exit_status(code)

    if req.detach:
        threading.Thread(target=lambda: died(proc.wait()), daemon=True).start()
        return 0
    if req.tty:
        return died(relay_pty(master, stdio[0], stdio[1], conn, proc, interactive=req.interactive))
    return died(proc.wait())


def _logs(engine: Engine, req: LogsRequest, out: Output, stdio, *_):
    with engine.lock:
        try:
            c = engine.find_container(req.container)
        except EngineError as exc:
            raise _lookup_failure("logs", exc, engine.version) from None
    path = f"/var/lib/docker/containers/{c.id}-json.log"
    tail = [] if req.tail in ("all", "") else ["-n", req.tail]
    proc = engine.sb.popen(
        [
            *engine.sb.nsenter_argv("host", student=True),
            "tail",
            *(tail or ["-n", "+1"]),
            *(["-f"] if req.follow else []),
            path,
        ],
        stdin=subprocess.DEVNULL,
        stdout=stdio[1],
        stderr=subprocess.DEVNULL,
    )
    return 0 if proc.wait() in (0, 1) else 1


# The Docker host's pids of the processes in a pid namespace, then `ps` as the daemon runs it.
_TOP_SCRIPT = """ino=$1; shift
stat -L -c '%n %i' /proc/[0-9]*/ns/pid 2>/dev/null |
  sed -n "s,^/proc/\\([0-9]*\\)/ns/pid $ino\\$,\\1,p" | paste -sd,
ps "$@"
"""


def _top(engine: Engine, req: TopRequest, out: Output, *_):
    ps_args = " ".join(req.args) or "-ef"
    with engine.lock:
        c = _running(engine, req.container, "top")
        ino = os.stat(f"/proc/{engine.host_pid(c)}/ns/pid").st_ino
    for key, value in re.findall(r"\s+([^\s]*)=\s*(PID[^\s]*)", ps_args):
        if key != "pid":
            raise daemon_error("top", f'specifying "{key}={value}" is not allowed', engine.version)
    r = engine.sb.run("host", ["sh", "-c", _TOP_SCRIPT, "top", str(ino), *ps_args.split(" ")], student=True)
    pids, _, ps_output = r.stdout.decode(errors="replace").partition("\n")
    if r.returncode != 0:
        first = (r.stderr.decode(errors="replace").splitlines() or [f"exit status {r.returncode}"])[0]
        raise daemon_error("top", f"ps: {first}", engine.version)
    try:
        out.print(output.format_top(ps_output, {int(p) for p in pids.split(",") if p}).rstrip("\n"))
    except ValueError as exc:
        raise daemon_error("top", str(exc), engine.version) from None
    with engine.lock:
        engine.container_event(c, "top")
    return 0


def _events(engine: Engine, req: EventsRequest, out: Output, stdio, tty, conn) -> int:
    """docker events: the recent events --since/--until select, then the new ones as they come,
    until --until or until the client goes away (^C). One subscription, dropped at the end; lines
    are written by this client's thread, never under the engine's lock."""
    version = engine.version
    zone = eventtext.local_zone(req.tz)
    tmpl = eventtext.template(req.format, version)
    now_ns = time.time_ns()
    since = eventtext.timestamp(req.since, now_ns, zone)
    until = eventtext.timestamp(req.until, now_ns, zone)
    since_ns, until_ns = eventtext.nanoseconds(since), eventtext.nanoseconds(until)
    if since_ns is not None and until_ns is not None and until_ns < since_ns:
        text = f"`since` time ({since}) cannot be after `until` time ({until})"
        raise daemon_error("events", text, version)
    replay, sub = engine.events.subscribe(since_ns, until_ns, filters.event_filter(req.filters, version))
    try:
        pending = list(replay)
        live = until_ns is None or until_ns >= time.time_ns()  # else only past events
        while pending or live:
            for msg in pending:
                try:
                    text = eventtext.pretty(msg, zone) if tmpl is None else eventtext.formatted(tmpl, msg)
                except TemplateError as exc:  # the CLI prints the template's error and exits
                    raise CliError(exc.detail, 1) from None
                if not _stream(stdio[1], text.encode(), conn):
                    return 0
            left = None if until_ns is None else (until_ns - time.time_ns()) / 1e9
            if left is not None and left <= 0 or sub.closed or _client_gone(conn):
                return 0
            msg = sub.get(0.25 if left is None else min(0.25, left))
            pending = [msg] if msg is not None else []
        return 0
    finally:
        engine.events.unsubscribe(sub)


def _client_gone(conn) -> bool:
    """Whether the docker client's end of docker.sock is closed (it was killed: ^C)."""
    if conn is None or not readable([conn], 0):
        return False
    try:
        return not conn.recv(64)  # the client sends nothing else meanwhile
    except OSError:
        return True


def _stream(fd: int, data: bytes, conn) -> bool:
    """Write `data` to the client's stdout as it can take it; False once it cannot (closed, or the
    client went away while its reader was stopped)."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    while data:
        if not poller.poll(250):
            if _client_gone(conn):
                return False
            continue
        try:
            data = data[os.write(fd, data[:512]) :]
        except BlockingIOError:
            continue
        except OSError:
            return False
    return True


def _images(engine: Engine, req: ImagesRequest, out: Output, *_):
    now = datetime.now(UTC)
    images = filters.list_images(req.filters, repository=req.repository, now=now, version=engine.version)
    out.out.append(
        output.format_images(
            images,
            now=now,
            quiet=req.quiet,
            no_trunc=req.no_trunc,
            template=req.format,
            version=engine.version,
        )
    )
    return 0


def _version(engine: Engine, req: VersionRequest, out: Output, *_):
    out.out.append(output.format_version(engine.version))
    return 0


def _info(engine: Engine, req: InfoRequest, out: Output, *_):
    with engine.lock:
        out.out.append(
            output.format_info(
                list(engine.containers.values()), list(engine.networks.values()), version=engine.version
            )
        )
    return 0


def _help(engine: Engine, req: HelpRequest, out: Output, *_):
    (out.out if req.stream == "stdout" else out.err).append(req.text.rstrip("\n") + "\n")
    return 0


# -- networks --------------------------------------------------------------------------------


def _network_ls(engine: Engine, req: NetworkLsRequest, out: Output, *_):
    with engine.lock:
        chosen = filters.list_networks(
            list(engine.networks.values()),
            req.filters,
            containers=list(engine.containers.values()),
            version=engine.version,
        )
        out.out.append(
            output.format_network_ls(
                chosen, quiet=req.quiet, no_trunc=req.no_trunc, template=req.format, version=engine.version
            )
        )
    return 0


def _network_create(engine: Engine, req: NetworkCreateRequest, out: Output, *_):
    with engine.lock:
        try:
            net = networks.create_network(
                engine,
                name=req.name,
                subnet=req.subnet,
                gateway=req.gateway,
                internal=req.internal,
                options=req.options,
                driver=req.driver,
                masquerade=req.masquerade,
                ip_range=req.ip_range,
            )
        except EngineError as exc:
            raise daemon_error("network create", exc.message, engine.version) from None
        net.labels = dict(req.labels)
    out.print(net.id)
    return 0


def _network_rm(engine: Engine, req: NetworkRmRequest, out: Output, *_):
    code = 0
    for name in req.names:
        try:
            with engine.lock:
                networks.remove_network(engine, engine.find_network(name))
            out.print(name)
        except EngineError as exc:
            out.warn("Error response from daemon: " + exc.message)
            code = 1
    return code


def _network_connect(engine: Engine, req, out: Output, *_):
    with engine.lock:
        try:
            c = engine.find_container(req.container)  # the daemon looks the network up after it
            if isinstance(req, NetworkConnectRequest):
                netconfig.connect(engine, c, req.network, ip=req.ip, aliases=req.aliases)
            else:
                netconfig.disconnect(engine, c, req.network, force=req.force)
        except EngineError as exc:
            raise daemon_error("network", exc.message, engine.version) from None
    return 0


def _network_prune(engine: Engine, req: NetworkPruneRequest, out: Output, stdio, *_):
    allowed = filters.prunable(req.filters, now=datetime.now(UTC), version=engine.version)
    if not req.force:
        out.print(
            "WARNING! This will remove all custom networks not used by at least one container.\n"
            "Are you sure you want to continue? [y/N] "
        )
        _flush(out, stdio)
        out.out.clear()
        answer = os.read(stdio[0], 64).decode(errors="replace").strip().lower()
        if answer not in ("y", "yes"):
            return 0
    removed = []
    with engine.lock:
        # As moby: a network with no endpoints (no running container) goes, whoever refers to it.
        used = {ep.network for c in engine.containers.values() for ep in c.endpoints}
        for net in list(engine.networks.values()):
            if net.name not in ("bridge", "host", "none") and net.name not in used and allowed(net):
                networks.remove_network(engine, net)
                removed.append(net.name)
    if removed:
        out.print("Deleted Networks:\n" + "\n".join(removed) + "\n")
    return 0


HANDLERS: dict[type[Request], Callable[..., int]] = {
    RunRequest: _run,
    CreateRequest: _create_cmd,
    StartRequest: _start,
    StopRequest: _stop,
    RestartRequest: _restart,
    RmRequest: _rm,
    KillRequest: _kill,
    RenameRequest: _rename,
    WaitRequest: _wait,
    PsRequest: _ps,
    PortRequest: _port,
    InspectRequest: _inspect,
    ExecRequest: _exec,
    LogsRequest: _logs,
    TopRequest: _top,
    ImagesRequest: _images,
    EventsRequest: _events,
    VersionRequest: _version,
    InfoRequest: _info,
    HelpRequest: _help,
    NetworkLsRequest: _network_ls,
    NetworkCreateRequest: _network_create,
    NetworkRmRequest: _network_rm,
    NetworkConnectRequest: _network_connect,
    NetworkDisconnectRequest: _network_connect,
    NetworkPruneRequest: _network_prune,
}
