"""Grading: a task's checks against one snapshot of the sandbox, its probes and the student's answers.

`grade_tasks` reads ONE snapshot (state checks, answers and the probes' diagnoses all read it). The
probes run concurrently (independent commands in the sandbox), and the snapshot is taken while they
run unless a `conntrack` check is asked (the probes' own connections would show in the conntrack table;
then the snapshot comes first). The `pick_rule` questions run last, one after the other: each reads the
picked rule's counter, runs its probe and reads the counter again, with no other probe's packets to
move it. A task passes when every check is ok; in continuous mode probes and questions are skipped
(`ok: None`), so a task with any of them passes only on Check. A question not answered is `ok: None`
too (its message asks for the answer): it keeps the task from passing without contradicting a task
that passed before (a reload forgets the picked rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from topology import checks, probes
from topology.checks.answers import describe_answer
from topology.iptables_save import parse_iptables_save

__all__ = ["PROBES", "QUESTIONS", "expected_answer", "expected_answers", "grade_tasks", "judge_answer"]

PROBES = frozenset(probes.PROBES)
QUESTIONS = frozenset({"answer", "pick_rule"})
MAX_PARALLEL_PROBES = 8


def _one(check: Mapping) -> tuple[str, Mapping]:
    """A check mapping's primitive and arguments."""
    if len(check) != 1:
        raise ValueError(f"a check has exactly one primitive, got {sorted(check)}")
    kind, args = next(iter(check.items()))
    return str(kind), args if isinstance(args, Mapping) else {}


def _skipped(kind: str) -> dict:
    return {**checks.result(kind, None, "check.skipped"), "skipped": True}


def _answer_of(answers: Mapping | None, task_id: str, index: int) -> Any:
    per_task = (answers or {}).get(task_id) or {}
    if index in per_task:
        return per_task[index]
    return per_task.get(str(index))


def _parse(check: Any) -> tuple[str, Mapping | str]:
    """(primitive, args), or ("?", error message) for a malformed check."""
    try:
        return _one(check)
    except (ValueError, TypeError, AttributeError) as exc:
        return "?", str(exc)


def grade_tasks(
    tasks: list[Mapping],
    access: probes.SandboxAccess,
    *,
    answers: Mapping | None = None,
    mode: str = "check",
    snapshot: Mapping | None = None,
) -> list[dict]:
    """Grade templated tasks: `[{"id", "passed", "checks": [result, ...]}]`.

    `answers` is `{task_id: {check_index: value}}`; `mode` is "check" (everything) or "continuous"
    (state checks only); `snapshot` reuses a snapshot the caller already holds (else one is taken)."""
    if mode not in ("check", "continuous"):
        raise ValueError(f"mode must be 'check' or 'continuous', not {mode!r}")
    parsed = [[_parse(check) for check in task.get("checks") or ()] for task in tasks]
    jobs = [
        (task["id"], index, kind, args)
        for task, task_checks in zip(tasks, parsed, strict=True)
        for index, (kind, args) in enumerate(task_checks)
        if kind in PROBES and mode == "check"
    ]
    # The probes do not change what the state checks read, conntrack entries aside: unless a conntrack
    # check is asked, the snapshot is taken while the probes run (the largest saving of a Check).
    alongside = snapshot is None and bool(jobs) and not any(k == "conntrack" for t in parsed for k, _ in t)
    probed: dict[tuple[str, int], dict] = {}
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_PROBES + 1, thread_name_prefix="nslab-grade") as pool:
        pending = pool.submit(access.snapshot) if alongside else None
        snap = snapshot if snapshot is not None or alongside else access.snapshot()
        futures = [pool.submit(probes.probe, kind, args, access) for _, _, kind, args in jobs]
        if pending is not None:
            snap = pending.result()
        if snapshot is None and snap.get("errors"):
            # A namespace could not be read (e.g. a container exiting meanwhile, or a timeout under
            # load): read once more rather than fail the student on a partial picture.
            snap = access.snapshot()
        for (tid, index, kind, args), future in zip(jobs, futures, strict=True):
            probed[(tid, index)] = _diagnosed(future.result(), kind, args, snap)
    out: list[dict] = []
    for task, task_checks in zip(tasks, parsed, strict=True):
        results: list[dict] = []
        for index, (kind, args) in enumerate(task_checks):
            if kind == "?":
                results.append(checks.result("?", False, "check.error", error=str(args)))
            elif kind in checks.STATE:
                results.append(checks.check(kind, args, snap))
            elif kind not in PROBES and kind not in QUESTIONS:
                results.append(checks.result(kind, False, "check.unknown", kind=kind))
            elif mode == "continuous":
                results.append(_skipped(kind))
            elif kind in PROBES:
                results.append(probed[(task["id"], index)])
            elif kind == "answer":
                results.append(judge_answer(args, _answer_of(answers, task["id"], index), snap))
            else:
                # one after the other, after the other probes: no other traffic moves the picked counter
                results.append(judge_pick(args, _answer_of(answers, task["id"], index), access, snap))
        out.append({"id": task["id"], "passed": all(r["ok"] is True for r in results), "checks": results})
    return out


def _diagnosed(res: dict, kind: str, args: Mapping, snap: Mapping) -> dict:
    """A probe's result with the diagnoses of its failed traffic, read from the snapshot."""
    if res["ok"] is False and res["message"]["code"] not in (
        "http.unexpected",
        "ping.unexpected",
        "tcp.unexpected_open",
        "probe.error",
    ):
        target = probes.probe_target(kind, args)
        if target is not None:
            try:
                res["diagnoses"] += checks.diagnose_traffic(snap, str(args.get("from")), *target)
            except (KeyError, TypeError, ValueError, AttributeError):
                pass  # a diagnosis is a help, never a reason for grading to fail
    return res


# -- questions ---------------------------------------------------------------------------------


def _norm(value: Any) -> str:
    return str(value if value is not None else "").strip()


def expected_answer(args: Mapping, snap: Mapping) -> tuple[Any, str | dict]:
    """The right answer to an `answer` question from the live state: (value, "") or (None, reason), the
    reason a `part.*` message that `answer.unknown` quotes."""
    expect = args.get("expect") or {}
    if not isinstance(expect, Mapping) or len(expect) != 1:
        return None, checks.diagnosis("part.no_single_expect")
    ((how, arg),) = expect.items()
    if how == "value":
        return _norm(arg), ""
    if how == "mac":
        ns, name = str(arg.get("ns") or "host"), str(arg.get("link"))
        link = next((x for x in (snap.get("links") or {}).get(ns) or () if x.get("name") == name), None)
        return (link["mac"], "") if link else (None, checks.diagnosis("part.no_link", name=name, ns=ns))
    name = str(arg.get("container") if how == "host_port" else arg)
    c = checks.find_container(snap, name)
    if c is None:
        return None, checks.diagnosis("part.no_container", name=name)
    if how == "host_port":
        port, proto = int(arg.get("port")), str(arg.get("proto") or "tcp")
        ports = sorted(
            {
                int(p.get("host_port") or 0)
                for p in c.get("ports") or ()
                if int(p.get("container_port") or 0) == port and (p.get("proto") or "tcp") == proto
            }
        )
        return (
            (ports[0], "")
            if ports
            else (None, checks.diagnosis("part.not_published", name=name, port=port, proto=proto))
        )
    if c.get("status") != "running":
        return None, checks.diagnosis("part.not_running", name=name)
    if how == "container_ip":
        ips = [e.get("ip") for e in c.get("endpoints") or () if e.get("ip")]
        return (ips[0], "") if ips else (None, checks.diagnosis("part.no_ip", name=name))
    if how == "container_pid":
        return (int(c["pid"]), "") if c.get("pid") else (None, checks.diagnosis("part.no_pid", name=name))
    if how == "veth_of":
        ns = c.get("namespace") or name
        for host_ns, links in (snap.get("links") or {}).items():
            for link in links:
                if host_ns != ns and link.get("peer_namespace") == ns and link.get("peer_name") == "eth0":
                    return link["name"], ""
        veths = [e.get("host_veth") for e in c.get("endpoints") or () if e.get("host_veth")]
        return (veths[0], "") if veths else (None, checks.diagnosis("part.no_veth", name=name))
    return None, checks.diagnosis("part.unknown_expect", how=how)


def _same_answer(how: str, given: Any, want: Any) -> bool:
    text = _norm(given)
    if how in ("host_port", "container_pid"):
        try:
            return int(text) == int(want)
        except ValueError:
            return False
    if how == "container_ip":
        return text.split("/")[0] == str(want)
    if how == "mac":
        return text.lower().replace("-", ":") == str(want).lower()
    if how == "veth_of":
        return text.split("@")[0] == str(want)
    return text.casefold() == _norm(want).casefold()


def judge_answer(args: Mapping, given: Any, snap: Mapping) -> dict:
    """Right, wrong (with what the wrong answer names in the lab), or not answered (`ok: None`)."""
    if given is None or _norm(given) == "":
        return checks.result("answer", None, "answer.missing")
    want, reason = expected_answer(args, snap)
    if want is None:
        return checks.result("answer", False, "answer.unknown", reason=reason)
    ((how, arg),) = args["expect"].items()
    if _same_answer(how, given, want):
        return checks.result("answer", True, "answer.ok")
    return checks.result(
        "answer", False, "answer.wrong", describe_answer(_norm(given), how, arg, snap), answer=_norm(given)
    )


def _read_rules(access: probes.SandboxAccess, ns: str, table: str) -> dict[str, Any]:
    """The chains of one table, with fresh counters (Chain dataclasses)."""
    code, out, err = access.run(ns, ["iptables-save", "-c", "-t", table])
    return parse_iptables_save(out).get(table, {}) if code == 0 else {}


def _counter(chains: Mapping, chain: str, number: int) -> tuple[int, str] | None:
    c = chains.get(chain)
    if c is None or not 1 <= number <= len(c.rules):
        return None
    rule = c.rules[number - 1]
    return rule.packets, rule.line


def judge_pick(args: Mapping, pick: Any, access: probes.SandboxAccess, snap: Mapping) -> dict:
    """Right when the picked rule has one of the targets and its packet counter moved during the probe."""
    if not isinstance(pick, Mapping) or not pick.get("chain") or not pick.get("number"):
        # not answered (yet, or again after a reload): an instruction, not a failure
        return checks.result("pick_rule", None, "pick_rule.missing")
    ns, chain, number = str(pick.get("ns") or "host"), str(pick["chain"]), int(pick["number"])
    table = str(pick.get("table") or args.get("table") or "filter")
    p = {"ns": ns, "table": table, "chain": chain, "number": number}
    if args.get("table") and table != args["table"]:
        return checks.result(
            "pick_rule",
            False,
            "pick_rule.wrong_target",
            actual=f"{table} table",
            expected=[f"{args['table']} table"],
        )
    before_chains = _read_rules(access, ns, table)
    before = _counter(before_chains, chain, number)
    if before is None:
        return checks.result("pick_rule", False, "pick_rule.no_rule", **p)
    rule = before_chains[chain].rules[number - 1]
    targets = [str(t) for t in args.get("target") or ()]
    if targets and rule.target not in targets:
        return checks.result(
            "pick_rule", False, "pick_rule.wrong_target", actual=rule.target, expected=targets
        )
    probe_kind, probe_args = _one(args.get("probe") or {"?": {}})
    probes.probe(probe_kind, probe_args, access)
    after = _counter(_read_rules(access, ns, table), chain, number)
    if after is None or after[1] != before[1] or after[0] <= before[0]:
        return checks.result("pick_rule", False, "pick_rule.not_hit", **p)
    return checks.result("pick_rule", True, "pick_rule.ok", **p)


def _find_pick(args: Mapping, access: probes.SandboxAccess) -> dict | None:
    """The rule a right `pick_rule` answer names: one with a wanted target whose counter the probe moves."""
    table = str(args.get("table") or "filter")
    targets = {str(t) for t in args.get("target") or ()}

    def counters(snap: Mapping) -> dict[tuple[str, str, int], tuple[int, str]]:
        out = {}
        for ns, nf in (snap.get("netfilter") or {}).items():
            for chain, c in ((nf.get("tables") or {}).get(table) or {}).items():
                for r in c.get("rules") or ():
                    if not targets or r.get("target") in targets:
                        out[(ns, chain, r["number"])] = (r.get("packets", 0), r.get("line"))
        return out

    before = counters(access.snapshot())
    kind, probe_args = _one(args.get("probe") or {"?": {}})
    probes.probe(kind, probe_args, access)
    after = counters(access.snapshot())
    moved = [k for k, (n, line) in after.items() if k in before and before[k][1] == line and n > before[k][0]]
    if not moved:
        return None
    ns, chain, number = sorted(moved, key=lambda k: (k[0] != "host", k))[0]
    return {"ns": ns, "table": table, "chain": chain, "number": number}


def expected_answers(tasks: list[Mapping], access: probes.SandboxAccess) -> dict[str, dict[int, Any]]:
    """Right answers from the live state, for every question of the tasks (None where none is found)."""
    snap = access.snapshot()
    answers: dict[str, dict[int, Any]] = {}
    for task in tasks:
        for index, check in enumerate(task.get("checks") or ()):
            kind, args = _one(check)
            if kind == "answer":
                answers.setdefault(task["id"], {})[index] = expected_answer(args, snap)[0]
            elif kind == "pick_rule":
                answers.setdefault(task["id"], {})[index] = _find_pick(args, access)
    return answers
