"""Compare two checkouts' lab engines sample by sample: `python -m bench.compare_trees [--what run|ready]
[--rounds N] TREE_A TREE_B` (each tree with its own .venv, e.g. a `git worktree` of an older commit
after `make setup`).

A figure of `make bench` moves by ±10 % from run to run on a shared machine, more than most changes
it should judge. Here both trees' daemons run at once and every sample alternates between them (the
order flips each round), so the machine's noise falls on both alike:
- `run`: `docker run -d --name web -p 8080:80 nginx` until curl gets the page (URL: `--url`; the
  default goes through docker-proxy, http://203.0.113.2:8080/ through DNAT), timed inside the sandbox;
- `ready`: a sandbox's `up`, timed by the client.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time

from bench.labserver import stop_private_daemon, wait_for
from bench.private_daemon import PrivateDaemon

RUN = """t0=$(date +%s%N); docker run -d --name web -p 8080:80 nginx >/dev/null || exit 1
until [ "$(curl -s -m 1 -o /dev/null -w '%{{http_code}}' {url})" = 200 ]; do :; done
echo $(( ($(date +%s%N) - t0) / 1000 )); docker rm -f web >/dev/null"""


class TreeDaemon(PrivateDaemon):
    """A lab-node daemon run by a checkout's own venv and code."""

    def __init__(self, tree: str):
        super().__init__("compare")
        self.tree = tree
        self.proc = self.spawn([f"{tree}/.venv/bin/python", "-m", "topology", "daemon"], cwd=tree)
        wait_for(lambda: self.client.path.exists(), timeout=30, what=f"the daemon of {tree}")

    def stop(self) -> None:
        stop_private_daemon(self.state_dir)
        self.proc.wait(timeout=30)


def sample(d: TreeDaemon, sid: str, what: str, url: str) -> float:
    """One sample in milliseconds."""
    if what == "ready":
        start = time.perf_counter()
        d.client.up("19.03")
        return (time.perf_counter() - start) * 1000
    code, out = d.run(sid, ["sh", "-c", RUN.format(url=url)])
    if code != 0:
        raise RuntimeError(f"{d.tree}: {out}")
    return int(out.split()[0]) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare_trees", description=__doc__)
    parser.add_argument("trees", nargs=2, metavar="TREE")
    parser.add_argument("--what", choices=("run", "ready"), default="run")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--url", default="http://127.0.0.1:8080/")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("run it as root, as the lab node runs")
    if args.rounds < 2:
        parser.error("--rounds: at least 2")
    daemons = [TreeDaemon(os.path.abspath(tree)) for tree in args.trees]
    try:
        labs = [d.client.up("19.03")["id"] for d in daemons]
        samples: list[list[float]] = [[] for _ in daemons]
        for i in range(args.rounds + 1):  # round 0 warms both up
            order = range(len(daemons)) if i % 2 == 0 else reversed(range(len(daemons)))
            for k in order:
                value = sample(daemons[k], labs[k], args.what, args.url)
                if i:
                    samples[k].append(value)
        base = statistics.median(samples[0])
        for d, values in zip(daemons, samples, strict=True):
            p50 = statistics.median(values)
            quartiles = statistics.quantiles(values, n=4)
            print(
                f"{d.tree}: p50 {p50:.2f} ms ({(p50 / base - 1) * 100:+.1f} %), "
                f"p25 {quartiles[0]:.2f}, p75 {quartiles[2]:.2f}, n {len(values)}"
            )
    finally:
        for d in daemons:
            try:
                d.stop()
            except (OSError, subprocess.SubprocessError) as exc:
                print(f"{d.tree}: stopping its daemon: {exc}")


if __name__ == "__main__":
    main()
