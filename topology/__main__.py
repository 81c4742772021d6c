"""python -m topology: sandboxes from a shell (up, exec, snapshot, events, trace, ls, down, daemon)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from topology.docker.gotext import human_duration
from topology.docker.model import VERSIONS
from topology.errors import TopologyError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m topology", description="nslab sandboxes from a shell")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = sub.add_parser("up", help="create a sandbox and print its id")
    up.add_argument("--docker", default="19.03", choices=VERSIONS, help="Docker version to emulate")
    up.add_argument("--json", action="store_true", help="print the sandbox as JSON")
    ex = sub.add_parser("exec", help="run a command in a sandbox, as the student would")
    ex.add_argument("id")
    ex.add_argument("--ns", default="host", help="host, router, remote, client or a container name")
    ex.add_argument("argv", nargs="*", metavar="-- CMD...", help="the command, after --")
    snap = sub.add_parser("snapshot", help="print the sandbox's kernel state")
    snap.add_argument("id")
    snap.add_argument("--json", action="store_true", help="JSON (the default and only format)")
    ev = sub.add_parser("events", help="print changes as they happen, one JSON object a line")
    ev.add_argument("id")
    ev.add_argument("--json", action="store_true", help="JSON lines (the default and only format)")
    tr = sub.add_parser("trace", help="send one packet and walk it through routing, bridges and netfilter")
    tr.add_argument("id")
    tr.add_argument(
        "--from", dest="source", required=True, help="host, router, remote, client or a container"
    )
    tr.add_argument("--to", required=True, metavar="ADDR[:PORT]")
    tr.add_argument("--proto", default="tcp", choices=("tcp", "udp", "icmp"))
    tr.add_argument("--json", action="store_true", help="the walk as one JSON object")
    tr.add_argument(
        "--armed",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="send nothing: walk the first such packet made from NS within SECONDS (curl, ping, wget)",
    )
    ls = sub.add_parser("ls", help="list sandboxes")
    ls.add_argument("--json", action="store_true")
    down = sub.add_parser("down", help="destroy a sandbox, or all of them")
    down.add_argument("id", nargs="?")
    down.add_argument("--all", action="store_true")
    down.add_argument("--wait", action="store_true", help="with --all: return once every sandbox is gone")
    sub.add_parser("daemon", help="run the lab-node daemon in the foreground")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Everything after the first "--" is the command to run (argparse mishandles it in subcommands).
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = _parser().parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.argv = [*getattr(args, "argv", []), *command]
    if args.command == "daemon":
        from topology.daemon import main as daemon_main

        daemon_main()
        return 0
    from topology.client import Client

    client = Client()
    try:
        return _run(client, args)
    except TopologyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _run(client, args) -> int:
    if args.command == "up":
        sandbox = client.up(args.docker)
        print(json.dumps(sandbox) if args.json else sandbox["id"])
    elif args.command == "exec":
        argv = args.argv
        if not argv:
            print("error: no command given (usage: exec ID [--ns NS] -- CMD...)", file=sys.stderr)
            return 2
        sys.stdout.flush()
        return client.exec(args.id, argv, ns=args.ns)
    elif args.command == "snapshot":
        print(json.dumps(client.snapshot(args.id), indent=1))
    elif args.command == "events":
        for event in client.events(args.id):
            print(json.dumps(event), flush=True)
    elif args.command == "trace":
        return _trace(client, args)
    elif args.command == "ls":
        reply = client.request({"op": "ls"})
        sandboxes = reply["sandboxes"]
        if args.json:
            print(json.dumps(sandboxes))
        else:
            print(f"{'ID':<10}{'DOCKER':<8}{'CONTAINERS':<12}CREATED")
            for s in sandboxes:
                age = human_duration(time.time() - s["created"])  # as docker ps says it
                print(f"{s['id']:<10}{s['docker_version']:<8}{s['containers']:<12}{age} ago")
        for s in reply.get("reaped", []):  # left by a previous daemon, not re-adopted
            print(f"reaped at start: {s['id']}: {s['reason']}", file=sys.stderr)
    elif args.command == "down":
        if args.all:
            count = client.down_all(wait=args.wait)
            print(f"{count} sandboxes {'removed' if args.wait else 'going down'}")
        elif args.id:
            client.down(args.id)
        else:
            print("error: give a sandbox id or --all", file=sys.stderr)
            return 2
    return 0


def _trace(client, args) -> int:
    from topology.client import ClientAccess
    from topology.trace import text, trace

    addr, _, port = args.to.partition(":")
    if args.proto != "icmp" and not port.isdigit():
        print(f"error: a {args.proto} trace needs --to ADDR:PORT", file=sys.stderr)
        return 2
    if args.armed:
        print(
            f"armed: make the packet from {args.source} within {args.armed:g} s", file=sys.stderr, flush=True
        )
    walk = trace(
        ClientAccess(args.id, client),
        args.source,
        addr,
        int(port) if port else None,
        args.proto,
        armed_for=args.armed,
    )
    if args.json:
        print(json.dumps(walk.to_dict()))
        return 0
    for n, step in enumerate(walk.steps, 1):
        arrow = "<-" if step.direction == "reply" else "->"
        print(f"{n:>2} {arrow} {step.ns:<10} {step.kind:<10} {text(step.message)}")
    print(f"{walk.verdict} ({walk.reason})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
