"""Exercise checks: pure functions over a snapshot dict (`Snapshot.to_dict()`) returning results.

A result is `{"kind", "ok", "message": {"code", "params"}, "diagnoses": [{"code", "params"}]}`; a failed
check is data, never an exception. `MESSAGES` holds the English templates of every code (the web
translates them: `gettext(template).format(**params)`).

State primitives: `container`, `network`, `link`, `links`, `address`, `route`, `sysctl`, `rule`,
`policy`, `conntrack`, `listening` (see `STATE`; `check(kind, args, snapshot)` runs one). Probe results
are judged by `topology.probes`; `diagnose_traffic` explains a failed probe from the snapshot.

Netfilter rules are compared by meaning (`rule_key`): `-p tcp --dport 80` = `-p tcp -m tcp --dport 80`,
`-s 10.0.0.1` = `-s 10.0.0.1/32`, `--destination-port` = `--dport`, `-m state --state` =
`-m conntrack --ctstate`, option order free, comments ignored. A rule is *effective* when no earlier
rule of its chain catches a superset of its packets (`covers`) with a target that ends their
traversal differently. "Superset" is proved, never guessed: each option of the earlier rule must be
implied by the later rule's options (same option; a wider -s/-d network; a negated -s/-d disjoint from
the later one's; an interface wildcard `eth+`; a port range holding the later one's; a --ctstate set
holding the later one's; a negated interface name other than the later one's). Anything else counts as
"not a superset", so an earlier rule never wrongly hides a later one; rules in other chains (reached
through jumps) are not considered.

Modules: `messages` (MESSAGES, result), `lookup` (helpers over a snapshot), `rule_matching`
(rule_key, covers, find_rule), `state` (the check kinds, STATE, check), `traffic` (diagnose_traffic),
`answers` (what a wrong typed answer names in the lab).
"""

from topology.checks.lookup import find_container
from topology.checks.messages import MESSAGES, diagnosis, result
from topology.checks.rule_matching import covers, find_rule, rule_key, spec_key
from topology.checks.state import STATE, check
from topology.checks.traffic import diagnose_traffic

__all__ = [
    "MESSAGES",
    "STATE",
    "check",
    "covers",
    "diagnose_traffic",
    "diagnosis",
    "find_container",
    "find_rule",
    "result",
    "rule_key",
    "spec_key",
]
