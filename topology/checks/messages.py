"""Check results and their messages: `MESSAGES` (the English templates of every code), `result`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def gettext_noop(message: str) -> str:
    """Mark a string for translation without translating it (Django's makemessages finds it)."""
    return message


MESSAGES: dict[str, str] = {
    # general
    "check.skipped": gettext_noop("Checked only when you press Check."),
    "check.error": gettext_noop("This check could not run: {error}."),
    "check.unknown": gettext_noop("Unknown check {kind}."),
    "snapshot.missing": gettext_noop("The state of namespace {ns} could not be read."),
    # container
    "container.ok": gettext_noop("Container {name} is as expected."),
    "container.missing": gettext_noop("There is no container named {name}."),
    "container.unexpected": gettext_noop("Container {name} should not exist."),
    "container.not_running": gettext_noop("Container {name} is not running (status {status})."),
    "container.running": gettext_noop("Container {name} should not be running."),
    "container.network": gettext_noop("Container {name} uses network {actual}, expected {expected}."),
    "container.not_published": gettext_noop(
        "Container {name} does not publish port {port}/{proto} as asked; it publishes: {published}."
    ),
    # network
    "network.ok": gettext_noop("Network {name} is as expected."),
    "network.missing": gettext_noop("There is no Docker network named {name}."),
    "network.unexpected": gettext_noop("Docker network {name} should not exist."),
    "network.mismatch": gettext_noop("Network {name}: {field} is {actual}, expected {expected}."),
    # link, links
    "link.ok": gettext_noop("Link {name} in {ns} is as expected."),
    "link.missing": gettext_noop("There is no link {name} in {ns}."),
    "link.unexpected": gettext_noop("Link {name} should not exist in {ns}."),
    "link.mismatch": gettext_noop("Link {name} in {ns}: {field} is {actual}, expected {expected}."),
    "links.ok": gettext_noop("The links of {ns} are as expected."),
    "links.not_exactly": gettext_noop("The links of {ns} are {actual}; expected exactly {expected}."),
    "links.missing": gettext_noop("{ns} lacks the links {missing}."),
    "links.extra": gettext_noop("{ns} should not have the links {extra}."),
    # address
    "address.ok": gettext_noop("Address {address} in {ns} is as expected."),
    "address.missing": gettext_noop("There is no address {address} in {ns}."),
    "address.wrong_link": gettext_noop("Address {address} in {ns} is on {actual}, expected on {expected}."),
    "address.prefix": gettext_noop(
        "Address {address} in {ns} has prefix length {actual}, expected {expected}."
    ),
    "address.unexpected": gettext_noop("Address {address} should not be in {ns}."),
    # route
    "route.ok": gettext_noop("The route to {destination} in {ns} is as expected."),
    "route.missing": gettext_noop("There is no route to {destination} in {ns}."),
    "route.mismatch": gettext_noop(
        "The route to {destination} in {ns}: {field} is {actual}, expected {expected}."
    ),
    "route.unexpected": gettext_noop("There should be no route to {destination} in {ns}."),
    # sysctl
    "sysctl.ok": gettext_noop("{name} in {ns} is {actual}."),
    "sysctl.mismatch": gettext_noop("{name} in {ns} is {actual}, expected {expected}."),
    "sysctl.unknown": gettext_noop("{name} cannot be read in {ns}."),
    # rule, policy
    "rule.ok": gettext_noop("The rule {rule} is in {table}/{chain} of {ns} (number {number})."),
    "rule.absent_ok": gettext_noop("The rule {rule} is not in {table}/{chain} of {ns}."),
    "rule.missing": gettext_noop("There is no rule {rule} in {table}/{chain} of {ns}."),
    "rule.unexpected": gettext_noop(
        "The rule {rule} (number {number} in {table}/{chain} of {ns}) should not be there."
    ),
    "rule.not_effective": gettext_noop(
        "The rule {rule} (number {number} in {chain}) never sees its packets: rule {by_number} "
        "({by_rule}) before it takes them all."
    ),
    "rule.effective": gettext_noop(
        "The rule {rule} (number {number} in {chain}) still sees packets; no earlier rule takes them all."
    ),
    "rule.bad_spec": gettext_noop("The rule {rule} of this check cannot be read."),
    "chain.missing": gettext_noop("There is no chain {chain} in table {table} of {ns}."),
    "policy.ok": gettext_noop("The policy of {table}/{chain} in {ns} is {actual}."),
    "policy.mismatch": gettext_noop(
        "The policy of {table}/{chain} in {ns} is {actual}, expected {expected}."
    ),
    # conntrack
    "conntrack.ok": gettext_noop("{ns} tracks a connection matching {criteria}."),
    "conntrack.absent_ok": gettext_noop("{ns} tracks no connection matching {criteria}."),
    "conntrack.missing": gettext_noop("{ns} tracks no connection matching {criteria}."),
    "conntrack.unexpected": gettext_noop("{ns} tracks a connection matching {criteria}; none should."),
    # listening
    "listening.ok": gettext_noop("{process} listens on {proto} port {port} in {ns}."),
    "listening.absent_ok": gettext_noop("Nothing listens on {proto} port {port} in {ns}."),
    "listening.missing": gettext_noop("Nothing listens on {proto} port {port} in {ns}."),
    "listening.wrong_address": gettext_noop(
        "{proto} port {port} in {ns} listens on {actual}, expected {expected}."
    ),
    "listening.wrong_process": gettext_noop(
        "{proto} port {port} in {ns} is held by {actual}, not {expected}."
    ),
    "listening.unexpected": gettext_noop("{process} listens on {proto} port {port} in {ns}; nothing should."),
    # probes
    "http.ok": gettext_noop("{url} answered {status} to {from}."),
    "http.failed": gettext_noop("{url} did not answer {from} ({error})."),
    "http.status": gettext_noop("{url} answered {actual} to {from}, expected {expected}."),
    "http.body": gettext_noop("The page {url} (seen from {from}) does not contain {contains}."),
    "http.fail_ok": gettext_noop("{url} does not answer {from}, as expected."),
    "http.unexpected": gettext_noop("{url} answered {status} to {from}; it should not answer."),
    "ping.ok": gettext_noop("{to} answers pings from {from}."),
    "ping.failed": gettext_noop("{to} does not answer pings from {from}."),
    "ping.fail_ok": gettext_noop("{to} does not answer pings from {from}, as expected."),
    "ping.unexpected": gettext_noop("{to} answers pings from {from}; it should not."),
    "tcp.open": gettext_noop("TCP port {port} of {to} accepts connections from {from}."),
    "tcp.closed_ok": gettext_noop("TCP port {port} of {to} is closed to {from}, as expected."),
    "tcp.closed": gettext_noop("TCP port {port} of {to} does not accept connections from {from}."),
    "tcp.unexpected_open": gettext_noop(
        "TCP port {port} of {to} accepts connections from {from}; it should not."
    ),
    "remote_saw.ok": gettext_noop("The remote server saw the request from {from} coming from {actual}."),
    "remote_saw.mismatch": gettext_noop(
        "The remote server saw the request from {from} coming from {actual}, expected {expected}."
    ),
    "remote_saw.no_request": gettext_noop(
        "The request from {from} never reached the remote server ({error})."
    ),
    "trace.ok": gettext_noop(
        "The {proto} packet from {from} to {to} (port {port}) is {verdict}, as expected: {last}"
    ),
    "trace.verdict": gettext_noop(
        "The {proto} packet from {from} to {to} (port {port}) is {actual}, not {expected}: {last}"
    ),
    "trace.reason": gettext_noop(
        "The {proto} packet from {from} to {to} (port {port}) ends as {actual}, not {expected}: {last}"
    ),
    "trace.no_dnat": gettext_noop(
        "The {proto} packet from {from} to {to} (port {port}) is not DNATed to {expected}."
    ),
    "trace.no_snat": gettext_noop(
        "The {proto} packet from {from} to {to} (port {port}) does not leave with source {expected}."
    ),
    "trace.not_accepted_in": gettext_noop(
        "No rule of chain {chain} accepts the {proto} packet from {from} to {to} (port {port})."
    ),
    "trace.not_dropped_in": gettext_noop(
        "The {proto} packet from {from} to {to} (port {port}) is not dropped in chain {chain}: {last}"
    ),
    "probe.error": gettext_noop("The test traffic from {from} could not be sent: {error}."),
    # questions
    "answer.ok": gettext_noop("Right."),
    "answer.missing": gettext_noop("Answer the question first."),
    "answer.wrong": gettext_noop("{answer} is not right."),
    "answer.unknown": gettext_noop("The right answer cannot be read from your lab now: {reason}."),
    "pick_rule.ok": gettext_noop("Right: rule {number} of {table}/{chain} in {ns} handled the test traffic."),
    "pick_rule.missing": gettext_noop("Pick a rule in the rules panel first."),
    "pick_rule.no_rule": gettext_noop("There is no rule {number} in {table}/{chain} of {ns}."),
    "pick_rule.wrong_target": gettext_noop(
        "The rule you picked jumps to {actual}; expected one of {expected}."
    ),
    "pick_rule.not_hit": gettext_noop(
        "The rule you picked (rule {number} of {table}/{chain} in {ns}) saw none of the test traffic."
    ),
    # what a wrong answer names instead (topology.checks.answers)
    "answer.address_host": gettext_noop("{address} is the Docker host's own address (on {link})."),
    "answer.address_bridge": gettext_noop(
        "{address} is the address of the bridge {link} on the Docker host: the containers' gateway, "
        "not a container."
    ),
    "answer.address_container": gettext_noop(
        "{address} is the address of container {container} (its {link})."
    ),
    "answer.address_other_container": gettext_noop(
        "{address} is the address of container {container}, not of {expected}."
    ),
    "answer.address_outside": gettext_noop(
        "{address} is the address of {ns} in the simulated outside world (its {link})."
    ),
    "answer.address_loopback": gettext_noop(
        "{address} is a loopback address: every namespace has its own, it names no other machine."
    ),
    "answer.address_unknown": gettext_noop("No interface in your lab has the address {address}."),
    "answer.container_address_host_port": gettext_noop(
        "{answer} pairs the address of container {container} with port {port}, which the Docker host "
        "publishes: from outside, use a host address with port {port}; at the container's own address "
        "the server listens on port {container_port}."
    ),
    "answer.host_address_container_port": gettext_noop(
        "{answer} pairs a Docker host address with port {port}, on which {container} listens inside its "
        "own namespace: the host publishes it as port {host_port}."
    ),
    "answer.port_host": gettext_noop(
        "Port {port} is the port the Docker host publishes for container {container} (to its port "
        "{container_port})."
    ),
    "answer.port_container": gettext_noop(
        "Port {port} is the port container {container} listens on inside its own namespace; the Docker "
        "host publishes it as port {host_port}."
    ),
    "answer.port_other_container": gettext_noop(
        "Port {port} is the host port published for container {container}, not for {expected}."
    ),
    "answer.port_unknown": gettext_noop("No container of your lab has port {port} published."),
    "answer.mac_of": gettext_noop("{mac} is the MAC address of {link} in {ns}."),
    "answer.mac_unknown": gettext_noop("No interface in your lab has the MAC address {mac}."),
    "answer.pid_other_container": gettext_noop(
        "{pid} is the process id of container {container}'s main process, not of {expected}'s."
    ),
    "answer.pid_one": gettext_noop(
        "1 is the process id of {expected}'s main process as the container itself sees it (its own "
        "pid namespace); the Docker host numbers it differently."
    ),
    "answer.pid_process": gettext_noop("{pid} is the process id of {command} on the Docker host."),
    "answer.pid_unknown": gettext_noop("No process of the Docker host has the id {pid}."),
    "answer.link_inside": gettext_noop(
        "{link} is the interface inside container {container}; its other end, on the Docker host, has "
        "another name."
    ),
    "answer.link_other_container": gettext_noop(
        "{link} is an interface inside container {container}, not inside {expected}."
    ),
    "answer.veth_host_end": gettext_noop(
        "{link} is the Docker host's end of container {container}'s veth pair."
    ),
    "answer.veth_of_other": gettext_noop(
        "{link} is the Docker host's end of container {container}'s veth pair, not of {expected}'s."
    ),
    "answer.link_of": gettext_noop("{link} is an interface of {ns} (kind {kind})."),
    # diagnoses
    "ip_forward_off": gettext_noop("IP forwarding is off on the host (net.ipv4.ip_forward = 0)."),
    "forward_drop_no_accept": gettext_noop(
        "The FORWARD chain's policy is DROP and no rule accepts these packets ({src} to {dst})."
    ),
    "rule_after_drop": gettext_noop(
        "Rule {after} of {chain} ({after_rule}) would let these packets through, but rule {number} "
        "({rule}) before it drops them first."
    ),
    "no_route_back": gettext_noop("{ns} has no route back to {address}."),
    "port_in_use": gettext_noop("{proto} port {port} in {ns} is already held by {process}."),
    "wrong_namespace": gettext_noop("{what} exists in {found}, not in {expected}."),
    # parts of a message, passed as its parameters (`{what}`, `{error}`) to be translated with it
    "part.link": gettext_noop("Link {name}"),
    "part.address": gettext_noop("Address {address}"),
    "part.rule": gettext_noop("The rule {rule}"),
    "part.port": gettext_noop("{proto} port {port}"),
    "part.not_logged": gettext_noop("the server's log has no line of it"),
    "part.no_single_expect": gettext_noop("the question has no single expect"),
    "part.no_link": gettext_noop("there is no link {name} in {ns}"),
    "part.no_container": gettext_noop("there is no container {name}"),
    "part.not_published": gettext_noop("container {name} does not publish {port}/{proto}"),
    "part.not_running": gettext_noop("container {name} is not running"),
    "part.no_ip": gettext_noop("container {name} has no IP address"),
    "part.no_pid": gettext_noop("container {name} has no pid"),
    "part.no_veth": gettext_noop("container {name} has no veth"),
    "part.unknown_expect": gettext_noop("the question's expect {how} is unknown"),
}


def result(kind: str, ok: bool | None, code: str, diagnoses: Iterable[dict] = (), /, **params: Any) -> dict:
    """A check result; `code` must be a key of MESSAGES."""
    return {
        "kind": kind,
        "ok": ok,
        "message": {"code": code, "params": {k: _param(v) for k, v in params.items()}},
        "diagnoses": list(diagnoses),
    }


def diagnosis(code: str, /, **params: Any) -> dict:
    """A diagnosis, or a part of a message (a parameter of it that the page translates too)."""
    return {"code": code, "params": {k: _param(v) for k, v in params.items()}}


def _param(v: Any) -> Any:
    if isinstance(v, (list, tuple, set, frozenset)):
        return ", ".join(str(x) for x in v) if v else "-"
    return "-" if v is None else v
