"""A container's capabilities and seccomp profile, as each Docker version computes them.

Sources: moby's oci/defaults.go (19.03) and oci/caps/defaults.go (28) for the default set;
oci/caps/utils.go for --cap-add/--cap-drop/--privileged (TweakCapabilities) and their validation;
daemon/daemon_unix.go parseSecurityOpt for --security-opt; profiles/seccomp (19.03) and the vendored
moby/profiles/seccomp (28.5.2) for the default seccomp profile (profiles/seccomp-*.json, copied
unchanged) and how the container's capabilities and the kernel select its rules.
"""

from __future__ import annotations

import errno
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

from topology import seccomp
from topology.docker.model import Privileges

# The kernel's capability numbers (linux/capability.h), 0 to 40.
NAMES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)
NUMBER = {name: i for i, name in enumerate(NAMES)}

DEFAULT = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)
PROFILES = Path(__file__).resolve().parent / "profiles"


def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return len(NAMES) - 1


def all_caps(version: str) -> list[str]:
    """--privileged's set: 19.03's gocapability knows up to CAP_AUDIT_READ, 28's list up to
    CAP_CHECKPOINT_RESTORE; both only what the kernel has."""
    last = min(_last_cap(), NUMBER["CAP_AUDIT_READ"] if version == "19.03" else len(NAMES) - 1)
    return NAMES[: last + 1]


def check(p: Privileges, version: str) -> str:
    """The daemon's error for invalid --cap-add/--cap-drop/--security-opt at create, or ""."""
    known = all_caps(version)
    for field, given in (("CapAdd", p.cap_add), ("CapDrop", p.cap_drop)):
        for cap in _normalized(given):
            if cap != "ALL" and cap not in known:
                return f'invalid {field}: unknown capability: "{cap}"'
    for opt in p.security_opt:
        if opt in ("no-new-privileges", "disable"):
            continue
        sep = "=" if "=" in opt else ":" if ":" in opt else ""
        if not sep:
            return f'invalid --security-opt 1: "{opt}"'
        key, value = opt.split(sep, 1)
        if key == "no-new-privileges" and value.lower() not in _BOOLS or key not in _SECURITY_KEYS:
            return f'invalid --security-opt 2: "{opt}"'
    return ""


_BOOLS = {"1", "t", "true", "0", "f", "false"}
_SECURITY_KEYS = {"label", "apparmor", "seccomp", "no-new-privileges"}


def _normalized(caps: list[str]) -> list[str]:
    out = []
    for cap in caps:
        cap = cap.upper()
        out.append(cap if cap == "ALL" or cap.startswith("CAP_") else "CAP_" + cap)
    return out


def container_caps(p: Privileges, version: str) -> list[str]:
    """TweakCapabilities: the container's bounding, permitted and effective set."""
    if p.privileged:
        return all_caps(version)
    if not p.cap_add and not p.cap_drop:
        return list(DEFAULT)
    add, drop = _normalized(p.cap_add), _normalized(p.cap_drop)
    if "ALL" in add:
        return [c for c in all_caps(version) if c not in drop]
    if "ALL" in drop:
        return add
    return [c for c in DEFAULT if c not in drop] + add


def mask(caps: list[str]) -> int:
    return sum(1 << NUMBER[c] for c in set(caps) if c in NUMBER)


def no_new_privileges(p: Privileges) -> bool:
    nnp = False
    for opt in p.security_opt:
        key, _, value = opt.replace(":", "=", 1).partition("=")
        if key == "no-new-privileges":
            nnp = not value or value.lower() in ("1", "t", "true")
    return nnp


def seccomp_profile(p: Privileges) -> str:
    """ "unconfined" (--privileged, seccomp=unconfined) or "default"."""
    if p.privileged:
        return "unconfined"
    for opt in p.security_opt:
        key, _, value = opt.replace(":", "=", 1).partition("=")
        if key == "seccomp" and value == "unconfined":
            return "unconfined"
    return "default"


@dataclass(frozen=True)
class Confinement:
    """What nslab-confine applies to one container process."""

    caps: int
    inheritable: int
    filter_fd: int  # -1: unconfined
    no_new_privs: bool

    def argv(
        self,
        guest: str,
        *,
        join: int = 0,
        workdir: str = "",
        report: int = -1,
        session: bool = False,
        program: str = "",
    ) -> list[str]:
        """The command prefix: the guest binary (a path, or /proc/self/fd/N) as nslab-confine; with
        `join`, it enters that process's container first (docker exec), in `workdir` if given, with
        a session whose controlling terminal is its stdin with `session`, and says on fd `report`
        why it could not start the command, if so (see confine.c); with `program`, it runs that
        file with the command as its argv (else the command's first word, looked up in PATH)."""
        return [
            guest,
            "nslab-confine",
            *(["-t", str(join)] if join else []),
            *(["-w", workdir] if join and workdir else []),
            *(["-r", str(report)] if join and report >= 0 else []),
            *(["-s"] if join and session else []),
            *(["-p", program] if program else []),
            f"{self.caps:x}",
            f"{self.inheritable:x}",
            str(self.filter_fd),
            "1" if self.no_new_privs else "0",
            "--",
        ]

    def fds(self) -> list[int]:
        """The fds the command must inherit (the seccomp filter)."""
        return [self.filter_fd] if self.filter_fd >= 0 else []


def confinement(
    p: Privileges, version: str, directory: Path, *, exec_privileged: bool = False
) -> Confinement:
    """A container process's confinement: its container's seccomp filter (compiled once into
    `directory`), and its capabilities (`docker exec --privileged`: all of them)."""
    caps = container_caps(p, version)
    filter_fd = -1
    if seccomp_profile(p) == "default":
        filter_fd = default_filter_fd(version, caps, directory)
    if exec_privileged:
        caps = all_caps(version)
    bits = mask(caps)
    return Confinement(bits, bits if version == "19.03" else 0, filter_fd, no_new_privileges(p))


def default_filter_fd(version: str, caps: list[str], directory: Path) -> int:
    """The fd of Docker's default profile of `version` for a container with `caps`."""
    text = (PROFILES / f"seccomp-{version}.json").read_text()
    kernel = _kernel()
    key = ["docker", version, sorted(caps), kernel, text, seccomp.source_digest(__file__)]
    return seccomp.cached_fd(directory, key, lambda: _compile_profile(json.loads(text), caps, kernel))


def _kernel() -> tuple[int, int]:
    major, minor = os.uname().release.split(".")[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


_GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "s390x": "s390x", "ppc64le": "ppc64le"}


def _compile_profile(profile: dict, caps: list[str], kernel: tuple[int, int]) -> bytes:
    """setupSeccomp (moby/profiles) then runc's filter: the rules that apply to this architecture,
    these capabilities and this kernel; a rule whose conditions test one argument twice becomes one
    rule per condition (runc: libseccomp cannot AND them). As runc does since 1.0, calls newer than
    every call the profile names fail with ENOSYS rather than EPERM, so that a C library falls back
    (glibc's clone3 does only on ENOSYS)."""
    arch = _GO_ARCH.get(platform.machine(), platform.machine())
    sub_arches: tuple[str, ...] = ()
    for entry in profile.get("archMap") or []:
        if (
            _GO_ARCH.get(_scmp_arch(entry["architecture"])) == arch
            or _scmp_arch(entry["architecture"]) == arch
        ):
            sub_arches = tuple(_scmp_arch(a) for a in entry.get("subArchitectures") or [])
    default = seccomp.errno_action(profile.get("defaultErrnoRet") or errno.EPERM)
    rules: list[seccomp.Rule] = []
    named: set[str] = set()
    for call in profile["syscalls"]:
        if not _applies(call, arch, caps, kernel):
            continue
        action = _action(call)
        conds = [(a["index"], a["op"], a["value"], a.get("valueTwo", 0)) for a in call.get("args") or []]
        indexes = [c[0] for c in conds]
        groups = [tuple(conds)] if len(set(indexes)) == len(indexes) else [(c,) for c in conds]
        for name in call.get("names") or [call.get("name")]:
            named.add(name)
            rules += [seccomp.Rule(name, action, group) for group in groups]
    newest = max((seccomp.syscall_number(n) for n in named), default=0)
    enosys = seccomp.errno_action(errno.ENOSYS)
    for nr in range(newest + 1, newest + 200):
        name = seccomp.syscall_name(nr)
        if name and name not in named:
            rules.append(seccomp.Rule(name, enosys))
    return seccomp.compile_bpf(default, rules, arches=sub_arches)


def _scmp_arch(name: str) -> str:
    """SCMP_ARCH_X86_64 -> x86_64 (libseccomp's name)."""
    return name.removeprefix("SCMP_ARCH_").lower()


def _applies(call: dict, arch: str, caps: list[str], kernel: tuple[int, int]) -> bool:
    exc, inc = call.get("excludes") or {}, call.get("includes") or {}
    if arch in (exc.get("arches") or []) or any(c in caps for c in exc.get("caps") or []):
        return False
    if exc.get("minKernel") and kernel >= _version(exc["minKernel"]):
        return False
    if inc.get("arches") and arch not in inc["arches"]:
        return False
    if any(c not in caps for c in inc.get("caps") or []):
        return False
    return not (inc.get("minKernel") and kernel < _version(inc["minKernel"]))


def _version(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor or 0)


def _action(call: dict) -> int:
    action = call["action"]
    if action == "SCMP_ACT_ALLOW":
        return seccomp.ALLOW
    if action == "SCMP_ACT_ERRNO":
        return seccomp.errno_action(call.get("errnoRet") or errno.EPERM)
    raise ValueError(f"unexpected seccomp action {action}")
