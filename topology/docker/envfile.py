"""The docker CLI's environment options: `--env-file` files and `-e NAME` taken from the client's environment.

The CLI reads an env file on its own side: here the student's (`ClientSide.read` asks the sandbox's
`docker` command for the file's bytes); the daemon never opens a path a student names. The parsing
follows docker/cli's opts.parseKeyValueFile (19.03) and pkg/kvfile (28), with their error texts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from topology.docker.gotext import GoError, go_bytes, go_errno
from topology.docker.model import Version

# Go's unicode.IsSpace below U+FFFF (str.isspace also takes U+001C..U+001F, which Go does not)
_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_GO_SPACE += "\u2028\u2029\u202f\u205f\u3000"
_MAX_TOKEN = 64 * 1024  # bufio.MaxScanTokenSize: a longer line stops the scanner


class ClientFileError(Exception):
    """The client could not `op` ("open" or "read") the file: errno `errno`."""

    def __init__(self, op: str, errno: int) -> None:
        super().__init__(op, errno)
        self.op = op
        self.errno = errno


@dataclass(frozen=True)
class ClientSide:
    """What the docker CLI sees where it runs: its environment, its files (`read` returns a file's
    bytes or raises ClientFileError; None: no file can be read), and its terminal's size (columns,
    rows) when its output is one."""

    env: dict[str, str] = field(default_factory=dict)
    read: Callable[[str], bytes] | None = None
    console_size: tuple[int, int] | None = None


def read_env(files: list[str], override: list[str], client: ClientSide, version: Version) -> list[str]:
    """docker/cli's ReadKVEnvStrings: the env files' variables, then the `-e` values (a bare NAME
    takes the client's value, as opts.ValidateEnv does, and stays bare when it has none); raises
    GoError with the CLI's text."""
    variables: list[str] = []
    for path in files:
        variables += _parse_file(path, client, version)
    for item in override:
        if "=" not in item and item in client.env:
            item = f"{item}={client.env[item]}"
        variables.append(item)
    return variables


def _parse_file(path: str, client: ClientSide, version: Version) -> list[str]:
    try:
        if client.read is None:
            raise ClientFileError("open", 2)
        data = client.read(path)
    except ClientFileError as exc:
        text = f"{exc.op} {path}: {go_errno(exc.errno)}"
        if exc.op == "open":
            raise GoError(text) from None
        raise _parse_error(path, text, version) from None
    lines: list[str] = []
    raw_lines = data.split(b"\n")
    if raw_lines[-1] == b"":
        raw_lines.pop()
    for number, raw in enumerate(raw_lines, 1):
        if len(raw) >= _MAX_TOKEN:
            raise _parse_error(path, "bufio.Scanner: token too long", version)
        raw = raw.removesuffix(b"\r")
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            if version == "19.03":
                raise GoError(
                    f"env file {path} contains invalid utf8 bytes at line {number}: {go_bytes(raw)}"
                ) from None
            raise _parse_error(
                path, f"invalid utf8 bytes at line {number}: {go_bytes(raw)}", version
            ) from None
        if number == 1:
            text = text.removeprefix("\ufeff")
        line = text.lstrip(_GO_SPACE)
        if not line or line.startswith("#"):
            continue
        key, eq, _ = line.partition("=")
        if not key:
            raise _parse_error(path, f"no variable name on line '{line}'", version)
        if " " in key or "\t" in key:
            raise _parse_error(path, f"variable '{key}' contains whitespaces", version)
        if eq:
            lines.append(line)
        elif line in client.env:
            name = line.strip(_GO_SPACE) if version == "19.03" else key
            lines.append(f"{name}={client.env[line]}")
    return lines


def _parse_error(path: str, message: str, version: Version) -> GoError:
    """19.03 shows a bad line as an ErrBadKey ("poorly formatted environment") and other errors as
    they are; 28's kvfile.Parse wraps every error but the file's opening."""
    if version == "19.03":
        bad_key = message.startswith(("no variable name", "variable '"))
        return GoError(f"poorly formatted environment: {message}" if bad_key else message)
    return GoError(f"invalid env file ({path}): {message}")
