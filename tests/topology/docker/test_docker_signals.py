"""The daemon's reading of `docker kill -s` (moby's ParseSignal and ValidSignalForPlatform, per era)."""

from __future__ import annotations

import re

import pytest

from topology.docker.cli import usage_text
from topology.docker.signals import SignalError, check_platform, parse_signal


@pytest.mark.parametrize(
    ("raw", "number"),
    [("KILL", 9), ("sigterm", 15), ("SIGusr1", 10), ("9", 9), ("+15", 15), ("RTMIN+3", 37), ("rtmax", 64)],
)
def test_names_with_or_without_sig_and_numbers(raw, number):
    assert parse_signal(raw, "19.03") == parse_signal(raw, "28") == number


@pytest.mark.parametrize("raw", ["FOO", "0", "SIG", "", "99999999999999999999", "RTMIN+16"])
def test_unreadable_signals(raw):
    with pytest.raises(SignalError, match=f"^Invalid signal: {re.escape(raw)}$"):
        parse_signal(raw, "19.03")
    with pytest.raises(SignalError, match=f"^invalid signal: {re.escape(raw)}$"):
        parse_signal(raw, "28")


def test_numbers_outside_linux_signals():
    check_platform(64, "28")
    for number in (32, 33, 65):
        with pytest.raises(SignalError, match=f"^the linux daemon does not support signal {number}$"):
            check_platform(number, "28")
    with pytest.raises(SignalError, match="^The linux daemon does not support signal 18446744073709551611$"):
        check_platform(-5, "19.03")  # the router's uint64


@pytest.mark.parametrize("version", ["19.03", "28"])
def test_docker_help_lists_the_commands(version):
    text = usage_text([], version)
    assert "  kill        Kill one or more running containers\n" in text
    assert "  rename      Rename a container\n" in text
    assert "  wait        Block until one or more containers stop, then print their exit codes\n" in text
    assert "  kill        Kill one or more running containers\n" in usage_text(["container"], version)
