"""`--env-file` and `-e NAME`: read on the CLI's side (the student's files and environment), parsed as
docker/cli does (opts.parseKeyValueFile in 19.03, pkg/kvfile in 28), with its error texts."""

from __future__ import annotations

import pytest

from tests.topology.kit import docker, sh
from topology.docker import cli
from topology.docker.envfile import ClientFileError, ClientSide, read_env
from topology.docker.gotext import GoError
from topology.docker.requests import ExecRequest, RunRequest

ENV_FILE = (
    "\ufeff# a comment\n"
    "\n"
    "  A=1\n"
    "B= spaced value  \r\n"
    "C=x=y\n"
    "FROM_CLIENT\n"
    "NOT_IN_CLIENT\n"
    "   # an indented comment\n"
    "D=last"
)


def files(**contents: bytes | str) -> ClientSide:
    def read(path: str) -> bytes:
        if path not in contents:
            raise ClientFileError("open", 2)
        text = contents[path]
        return text if isinstance(text, bytes) else text.encode()

    return ClientSide({"FROM_CLIENT": "hello", "OTHER": "x"}, read)


def error(text: bytes | str, version: str) -> str:
    with pytest.raises(GoError) as exc:
        read_env(["/e"], [], files(**{"/e": text}), version)
    return str(exc.value)


@pytest.mark.parametrize("version", ["19.03", "28"])
def test_env_file_lines_and_overrides(version):
    env = read_env(["/e"], ["A=2", "OTHER", "MISSING"], files(**{"/e": ENV_FILE}), version)
    assert env == [
        "A=1",
        "B= spaced value  ",
        "C=x=y",
        "FROM_CLIENT=hello",
        "D=last",
        "A=2",
        "OTHER=x",  # -e NAME: the client's value
        "MISSING",  # the daemon drops a name the client did not have
    ]


def test_env_file_errors_19():
    assert error("A B=1\n", "19.03") == "poorly formatted environment: variable 'A B' contains whitespaces"
    assert error("=1\n", "19.03") == "poorly formatted environment: no variable name on line '=1'"
    assert error("ok=1\n\xff\n".encode("latin-1"), "19.03") == (
        "env file /e contains invalid utf8 bytes at line 2: [255]"
    )
    assert error("A=" + "x" * 65536, "19.03") == "bufio.Scanner: token too long"


def test_env_file_errors_28():
    assert error("A B=1\n", "28") == "invalid env file (/e): variable 'A B' contains whitespaces"
    assert error("FOO \n", "28") == "invalid env file (/e): variable 'FOO ' contains whitespaces"
    assert error("=1\n", "28") == "invalid env file (/e): no variable name on line '=1'"
    assert error(b"\xfe\xff", "28") == "invalid env file (/e): invalid utf8 bytes at line 1: [254 255]"


@pytest.mark.parametrize("version", ["19.03", "28"])
def test_env_file_that_cannot_be_read(version):
    with pytest.raises(GoError, match="^open /nosuch: no such file or directory$"):
        read_env(["/nosuch"], [], files(), version)

    def directory(path: str) -> bytes:
        raise ClientFileError("read", 21)

    with pytest.raises(GoError) as exc:
        read_env(["/etc"], [], ClientSide({}, directory), version)
    wrapped = "read /etc: is a directory"
    assert str(exc.value) == (wrapped if version == "19.03" else f"invalid env file (/etc): {wrapped}")


def test_run_and_exec_parse_env_files():
    client = files(**{"/e": "A=1\n"})
    run = cli.parse(["run", "--env-file", "/e", "-e", "B=2", "busybox"], "19.03", client)
    assert isinstance(run, RunRequest) and run.spec.env == ["A=1", "B=2"] and not run.spec.unsupported
    exec28 = cli.parse(["exec", "--env-file=/e", "c1", "env"], "28", client)
    assert isinstance(exec28, ExecRequest) and exec28.env == ["A=1"]
    with pytest.raises(cli.CliError) as exc:  # 19.03's exec has no --env-file
        cli.parse(["exec", "--env-file=/e", "c1", "env"], "19.03", client)
    assert exc.value.message.startswith("unknown flag: --env-file")
    with pytest.raises(cli.CliError) as exc:  # 28's exec: the CLI's error, before asking the daemon
        cli.parse(["exec", "--env-file", "/nosuch", "c1", "env"], "28", client)
    assert (exc.value.message, exc.value.exit_code) == ("open /nosuch: no such file or directory", 1)


# -- through the sandbox's docker command -------------------------------------------------------


@pytest.mark.kernel
@pytest.mark.parametrize("version", ["19.03", "28"])
def test_env_file_is_read_on_the_students_side(daemon, version):
    server_file = daemon.state / "server.env"  # the daemon's filesystem, not the student's
    server_file.write_text("SECRET=1\n")
    lab = daemon.up(version)
    try:
        sh(lab, "printf 'A=1\\n# c\\nFROM_CLIENT\\nB= b \\n' > /tmp/e.env")
        r = docker(lab, "run --rm --env-file /tmp/e.env -e A=2 busybox env", wrap="FROM_CLIENT=hello")
        assert r.returncode == 0, r.stderr
        assert {"A=2", "FROM_CLIENT=hello", "B= b "} <= set(r.stdout.splitlines())
        missing = docker(lab, f"run --rm --env-file {server_file} busybox env")
        assert missing.returncode == 125 and missing.stdout == ""
        assert missing.stderr == (
            f"docker: open {server_file}: no such file or directory.\nSee 'docker run --help'.\n"
            if version == "19.03"
            else f"docker: open {server_file}: no such file or directory\n\n"
            "Run 'docker run --help' for more information\n"
        )
        sh(lab, "echo 'A B=1' > /tmp/bad.env")
        bad = docker(lab, "create --env-file /tmp/bad.env busybox")
        assert bad.returncode == 125
        assert bad.stderr.splitlines()[0] == (
            "docker: poorly formatted environment: variable 'A B' contains whitespaces."
            if version == "19.03"
            else "docker: invalid env file (/tmp/bad.env): variable 'A B' contains whitespaces"
        )
        docker(lab, "run -d --name e1 busybox sleep 300")
        if version == "28":
            r = docker(lab, "exec --env-file /tmp/e.env -e FROM_CLIENT e1 env", wrap="FROM_CLIENT=hi")
            assert {"A=1", "FROM_CLIENT=hi", "B= b "} <= set(r.stdout.splitlines())
        else:
            r = docker(lab, "exec -e FROM_CLIENT e1 env", wrap="FROM_CLIENT=hi")
            assert "FROM_CLIENT=hi" in r.stdout.splitlines()
        unset = docker(
            lab, "exec -e HOSTNAME e1 env", wrap="env -u HOSTNAME"
        )  # a bare name the client lacks unsets it
        assert unset.returncode == 0 and not any(
            line.startswith("HOSTNAME=") for line in unset.stdout.splitlines()
        )
    finally:
        server_file.unlink(missing_ok=True)
        daemon.down(lab.sandbox.id)
