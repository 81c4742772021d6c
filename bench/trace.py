"""Packet-walk benchmarks: the CLI trace beside its floor, and the lab page's Trace button → walk shown.

Both trace one TCP SYN from the client to the remote web server (198.51.100.80:80) of a fresh lab of
the web-lab benchmarks' server (`bench.weblab.server`): four namespaces armed and watched. The CLI
figure is `topology.trace.trace` through the daemon's socket (what `python -m topology trace` does,
less the interpreter's start). Its floor is the same nft trace set up and read by hand: one bash
script, run as the sandbox's root, that enters each namespace with nsenter, starts `nft -a monitor`
there into a file, arms the same table (`topology.trace.arm`), adds sync chains until every monitor
shows one, sends the same packet with the same sender, deletes the tables, waits for every monitor
to print the deletion and prints the files: no daemon, no Python but the sender, no parsing. The page
figure is measured in the page (trace.js: `performance.now()` from the request frame sent to the walk
drawn in the step list); its floor is the CLI figure of the same run.
"""

from __future__ import annotations

import shlex
import subprocess
import time

from bench.harness import benchmark, percentile, result
from bench.weblab import accounts, server
from topology.client import ClientAccess
from topology.sandbox import Sandbox
from topology.trace import trace
from topology.trace.arm import Probe, arm_script, disarm_script, sender_argv, sync_script

TRACES = 20
PAGE_TRACES = 15
NAMESPACES = ("host", "router", "remote", "client")
DST, PORT = "198.51.100.80", 80


def _lab() -> tuple[dict, Sandbox]:
    account = accounts(["benchtrace"])[0]
    info = next(s for s in server().sandboxes() if s["id"] == account["sandbox"])
    fields = {k: info[k] for k in Sandbox.__dataclass_fields__ if k in info}
    return account, Sandbox(**fields)


def _floor_script(sb: Sandbox, mark: int) -> str:
    """The same trace by hand: one bash script entering each namespace with nsenter."""
    probe = Probe("tcp", DST, PORT, mark)
    # nsenter into the user and network namespaces only (no pid namespace: no fork to outlive a kill).
    net = {
        "host": f"/proc/{sb.host_pid}/ns/net",
        "router": f"/proc/{sb.keeper_pid}/ns/net",
        "remote": f"/proc/{sb.keeper_pid}/root/run/netns/remote",
        "client": f"/proc/{sb.keeper_pid}/root/run/netns/client",
    }
    user = {"host": sb.host_pid, "router": sb.keeper_pid, "remote": sb.keeper_pid, "client": sb.keeper_pid}
    enter = {ns: f"nsenter -t {user[ns]} -U --net={net[ns]} --preserve-credentials --" for ns in NAMESPACES}
    lines = ['set -e; d=$(mktemp -d); pids=""']
    for ns in NAMESPACES:
        lines.append(f'{enter[ns]} nft -a monitor > "$d/{ns}" 2>/dev/null < /dev/null & pids="$pids $!"')
    for ns in NAMESPACES:
        lines.append(f"{enter[ns]} nft -f - <<'E'\n{arm_script(probe)}E")
    for ns in NAMESPACES:
        lines.append(
            f'n=0; until grep -q "inet {probe.table}" "$d/{ns}"; do n=$((n+1)); '
            f"{enter[ns]} nft add chain inet {probe.table} sync$n; done"
        )
    lines.append(f"{enter['client']} {shlex.join(sender_argv(probe, 1.0))} || true")
    for ns in NAMESPACES:
        lines.append(f"{enter[ns]} nft -f - <<'E'\n{disarm_script(probe)}E")
    for ns in NAMESPACES:
        lines.append(f'until grep -q "delete table inet {probe.table}" "$d/{ns}"; do :; done')
    lines.append('kill $pids; cat "$d"/*; rm -r "$d"')
    assert sync_script(probe, 1).startswith("add chain")  # the capture's sync change, as above
    return "\n".join(lines) + "\n"


def _floor(sb: Sandbox, mark: int) -> float:
    start = time.perf_counter()
    proc = sb.popen(["bash", "-c", _floor_script(sb, mark)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=30)
    elapsed = (time.perf_counter() - start) * 1000
    if proc.returncode != 0 or b"tcp flags == syn" not in out:
        raise RuntimeError(f"floor trace failed: {err.decode()[-400:]}")
    return elapsed


_CLI: dict[str, list[float]] = {}


def _cli_samples() -> dict[str, list[float]]:
    if not _CLI:
        _, sb = _lab()
        access = ClientAccess(sb.id, server().client())
        trace(access, "client", DST, PORT)  # warm-up
        _floor(sb, 39999)
        samples, floor = [], []
        for i in range(TRACES):  # interleaved, so that both see the same machine
            start = time.perf_counter()
            walk = trace(access, "client", DST, PORT)
            samples.append((time.perf_counter() - start) * 1000)
            if walk.verdict != "delivered":
                raise RuntimeError(f"trace: {walk.reason}")
            floor.append(_floor(sb, 39000 + i))
        _CLI.update(samples=samples, floor=floor)
    return _CLI


@benchmark
def trace_cli():
    """`topology.trace.trace` of a SYN client → remote:80 (4 namespaces) beside the same trace by hand."""
    data = _cli_samples()
    return result(
        "trace_cli",
        data["samples"],
        floor_p50_ms=round(percentile(data["floor"], 50), 3),
        goal="beside its floor (the same nft trace set up and read by hand)",
    )


@benchmark
def trace_page_walk_shown():
    """The lab page's Trace button → the walk shown in the step list (Debian's chromium, headless)."""
    from playwright.sync_api import sync_playwright

    srv = server()
    account, _ = _lab()
    cookies = [{"name": "sessionid", "value": account["session"], "url": srv.base_url}]
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    samples = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.add_cookies(cookies)
            page = context.new_page()
            page.goto(f"{srv.base_url}/labs/{account['lab']}/")
            page.wait_for_selector("#graph[data-drawn-seq]", state="attached", timeout=30_000)
            page.click("#trace-toggle")
            page.select_option("#trace select[name=source]", "client")
            page.fill("#trace input[name=to]", DST)
            page.fill("#trace input[name=port]", str(PORT))
            for i in range(PAGE_TRACES + 1):
                page.evaluate("() => { document.getElementById('trace').dataset.state = ''; }")
                page.click("#trace button[type=submit]")
                page.wait_for_selector("#trace[data-state=shown]", timeout=30_000)
                if i:  # the first is a warm-up
                    samples.append(float(page.get_attribute("#trace", "data-shown-ms")))
            context.close()
        finally:
            browser.close()
    floor = _cli_samples()["samples"]
    return result(
        "trace_page_walk_shown",
        samples,
        floor_p50_ms=round(percentile(floor, 50), 3),
        goal="p50 < 300 ms (Trace pressed → walk shown; floor: the CLI trace)",
    )


def cleanup() -> None:
    _CLI.clear()
