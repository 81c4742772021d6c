"""The docker CLI's failures: CliError (stderr text and exit status) and how commands frame daemon errors."""

from __future__ import annotations

from topology.docker.gotext import go_errno, go_quote
from topology.docker.model import DEFAULT_VERSION, Version
from topology.errors import TopologyError


class CliError(TopologyError):
    """A docker command failed: `message` is what Docker prints on stderr, `exit_code` its status."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def run_failure(
    command: str, message: str, version: Version, exit_code: int = 125, *, with_help: bool = True
) -> CliError:
    """How `docker run`/`docker create` report an error (docker/cli reportError / withHelp)."""
    if version == "19.03":
        text = "docker: " + message.removesuffix(".") + "."
        return CliError(text + (f"\nSee 'docker {command} --help'." if with_help else ""), exit_code)
    return CliError(f"docker: {message}\n\nRun 'docker {command} --help' for more information", exit_code)


def daemon_error(
    command: str, message: str, version: Version = DEFAULT_VERSION, *, at_start: bool = False
) -> CliError:
    """The CliError Docker shows when the daemon rejects `docker <command>` with `message`."""
    # `docker run` frames daemon errors ("docker: …", exit 125, or 126/127 when the container's process
    # cannot start); 19.03 adds no "See 'docker run --help'." line to errors at start. Others exit 1.
    text = "Error response from daemon: " + message
    if command != "run":
        return CliError(text, 1)
    code = 125
    if at_start and ("executable file not found" in message or "no such file or directory" in message):
        code = 127
    elif at_start and ("permission denied" in message or "is a directory" in message):
        code = 126
    return run_failure("run", text, version, code, with_help=not (at_start and version == "19.03"))


_MOUNT_HINT = (
    ": Are you trying to mount a directory onto a file (or vice-versa)? "
    "Check if the specified host path exists and is the expected type"
)


def exec_start_failure(report: str, cmd: str, workdir: str, version: Version) -> tuple[str, int]:
    """What `docker exec` shows when runc cannot start the command (the daemon writes it on the exec's
    stdout stream), and its exit status. `report` is nslab-confine's line (see confine.c): runc's
    error in the words of its era (19.03: 1.0-rc10, Go 1.13's LookPath, "starting container process
    caused"; 28: 1.2/1.3, Go 1.20+'s, "unable to start container process"), then the daemon's reading
    of it (19.03's translateContainerdStartErr, whose exit status ContainerExecStart then sets to 126
    whatever it was; 28's setExitCodeFromError)."""
    kind, _, rest = report.partition(" ")
    errno, _, path = rest.partition(" ")
    quoted = go_quote(cmd)
    reason = {
        "chdir": lambda: (
            f"chdir to cwd ({go_quote(workdir)}) set in config.json failed: {go_errno(int(errno))}"
        ),
        "notfound": lambda: f"exec: {quoted}: executable file not found in $PATH",
        "stat": lambda: f"exec: {quoted}: stat {cmd}: {go_errno(int(errno))}",
        "isdir": lambda: (
            f"exec: {quoted}: " + ("permission denied" if version == "19.03" else "is a directory")
        ),
        "noexec": lambda: f"exec: {quoted}: permission denied",
        "execve": lambda: (
            go_errno(int(errno)) if version == "19.03" else f"exec {path}: {go_errno(int(errno))}"
        ),
    }[kind]()
    if version == "19.03":
        desc = (
            "OCI runtime exec failed: exec failed: container_linux.go:349: "
            f"starting container process caused {go_quote(reason)}: unknown"
        )
        return desc + (_MOUNT_HINT if "not a directory" in desc.lower() else ""), 126
    desc = f"OCI runtime exec failed: exec failed: unable to start container process: {reason}: unknown"
    lower = desc.lower()
    if "permission denied" in lower:
        return desc, 126
    if "is a directory" in lower:
        return desc + ": permission denied", 126
    if "not a directory" in lower:
        return desc + _MOUNT_HINT, 127
    if any(m in lower for m in ("executable file not found", "no such file or directory")):
        return desc, 127
    return desc, 128
