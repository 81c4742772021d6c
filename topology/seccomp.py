"""Seccomp filters compiled with libseccomp (Debian's libseccomp2, through ctypes), cached on disk.

A filter is compiled once into a file of `struct sock_filter`s (BPF) in the daemon's program
directory, and opened once: the processes that load it get that file descriptor and read it with
pread (nslab-enter for the lab's own filter, nslab-confine for a container's Docker profile).

The lab's filter (LAB_REFUSED) sits under every process of a sandbox; see docs/security.md.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

ALLOW = 0x7FFF0000


def errno_action(code: int) -> int:
    """SCMP_ACT_ERRNO(code): the call fails with `code` and has no effect."""
    return 0x00050000 | (code & 0xFFFF)


# Refused in every process of a lab (the student's shells, containers, the sandbox's own helpers): no
# lesson needs them, and kernel exploits from unprivileged user namespaces commonly start there.
LAB_REFUSED = (
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "open_by_handle_at",
)

_OPS = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}
_ATTR_BADARCH = 2


class SeccompError(Exception):
    """libseccomp is missing or refused a filter."""


@dataclass(frozen=True)
class Rule:
    """One rule: `action` for syscall `name` when every (arg, op, value, value_two) condition holds."""

    name: str
    action: int
    conditions: tuple[tuple[int, str, int, int], ...] = ()


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]


@functools.cache
def _lib() -> ctypes.CDLL:
    path = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(path, use_errno=True)
    except OSError as exc:
        raise SeccompError(f"libseccomp is needed (Debian: apt-get install libseccomp2): {exc}") from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_arch_native.restype = ctypes.c_uint32
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_syscall_resolve_num_arch.restype = ctypes.c_void_p  # a malloc'd name, or NULL
    lib.seccomp_syscall_resolve_num_arch.argtypes = [ctypes.c_uint32, ctypes.c_int]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ArgCmp),
    ]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def syscall_number(name: str) -> int:
    """The native number of a syscall (-1 when libseccomp does not know it)."""
    return _lib().seccomp_syscall_resolve_name(name.encode())


def syscall_name(number: int) -> str:
    """The native name of a syscall number ("" when there is none)."""
    lib = _lib()
    ptr = lib.seccomp_syscall_resolve_num_arch(lib.seccomp_arch_native(), number)
    if not ptr:
        return ""
    name = ctypes.string_at(ptr).decode()
    ctypes.CDLL(None).free(ctypes.c_void_p(ptr))
    return name


def compile_bpf(default: int, rules: list[Rule], *, arches: tuple[str, ...] = (), bad_arch: int = 0) -> bytes:
    """The BPF program of a filter: `default` for unlisted calls, extra `arches` (libseccomp names,
    beside the native one) and the action for other architectures (`bad_arch`, 0 = libseccomp's)."""
    lib = _lib()
    ctx = lib.seccomp_init(default)
    if not ctx:
        raise SeccompError("seccomp_init failed")
    try:
        for arch in arches:
            token = lib.seccomp_arch_resolve_name(arch.encode())
            if token and lib.seccomp_arch_add(ctx, token) not in (0, -errno.EEXIST):
                raise SeccompError(f"cannot add architecture {arch}")
        if bad_arch and lib.seccomp_attr_set(ctx, _ATTR_BADARCH, bad_arch):
            raise SeccompError("cannot set the action for other architectures")
        for rule in rules:
            nr = syscall_number(rule.name)  # below -1: a multiplexed call's pseudo number (socketcall)
            if nr == -1:
                continue  # unknown to this libseccomp: the default applies, as runc does
            conds = (_ArgCmp * max(len(rule.conditions), 1))(
                *(_ArgCmp(arg, _OPS[op], a, b) for arg, op, a, b in rule.conditions)
            )
            # A rule equal to the default, or a call an added architecture lacks: not an error.
            lib.seccomp_rule_add_array(ctx, rule.action, nr, len(rule.conditions), conds)
        r, w = os.pipe()
        try:
            if lib.seccomp_export_bpf(ctx, w):
                raise SeccompError("seccomp_export_bpf failed")
            os.close(w)
            w = -1
            chunks = []
            while chunk := os.read(r, 65536):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(r)
            if w >= 0:
                os.close(w)
    finally:
        lib.seccomp_release(ctx)


_lock = threading.Lock()
_open: dict[str, int] = {}


@functools.cache
def source_digest(path: str) -> str:
    """The digest of a compiling module's source: a filter compiled by older code is not reused."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cached_fd(directory: Path, key: object, build) -> int:
    """A read-only fd of the filter `build()` compiles for `key`, compiled once into `directory`."""
    text = json.dumps([key, source_digest(__file__)], sort_keys=True)
    name = "seccomp-" + hashlib.sha256(text.encode()).hexdigest()[:16] + ".bpf"
    path = directory / name
    with _lock:
        fd = _open.get(str(path))
        if fd is not None:
            return fd
        if not path.exists():
            tmp = directory / f".{name}.{os.getpid()}"
            tmp.write_bytes(build())
            tmp.replace(path)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        _open[str(path)] = fd
        return fd


def lab_filter_fd(directory: Path) -> int:
    """The fd of the lab's filter: LAB_REFUSED fail with EPERM; other architectures' calls (i386's
    int 0x80, x32) with ENOSYS, as no lesson runs such programs and they bypass name-based rules."""
    return cached_fd(
        directory,
        ["lab", LAB_REFUSED],
        lambda: compile_bpf(
            ALLOW,
            [Rule(name, errno_action(errno.EPERM)) for name in LAB_REFUSED],
            bad_arch=errno_action(errno.ENOSYS),
        ),
    )
