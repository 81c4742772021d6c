"""Capability sets, option validation and the seccomp profile compiler (moby's oci/caps and
profiles/seccomp rules), without a sandbox."""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

from topology import seccomp
from topology.docker import capabilities as caps
from topology.docker.model import Privileges


def test_default_set_is_dockers_mask():
    assert caps.mask(list(caps.DEFAULT)) == 0xA80425FB
    assert caps.container_caps(Privileges(), "19.03") == list(caps.DEFAULT)


def test_tweak_capabilities_as_moby():
    add = caps.container_caps(Privileges(cap_add=["net_admin"]), "28")
    assert add == [*caps.DEFAULT, "CAP_NET_ADMIN"]
    drop = caps.container_caps(Privileges(cap_drop=["CAP_CHOWN", "kill"]), "28")
    assert drop == [c for c in caps.DEFAULT if c not in ("CAP_CHOWN", "CAP_KILL")]
    only = caps.container_caps(Privileges(cap_add=["NET_RAW"], cap_drop=["ALL"]), "28")
    assert only == ["CAP_NET_RAW"]
    every = caps.container_caps(Privileges(cap_add=["ALL"], cap_drop=["SYS_ADMIN"]), "28")
    assert "CAP_SYS_ADMIN" not in every and "CAP_NET_ADMIN" in every
    assert caps.container_caps(Privileges(privileged=True, cap_drop=["ALL"]), "19.03") == caps.all_caps(
        "19.03"
    )


def test_all_caps_per_version():
    assert caps.all_caps("19.03")[-1] == "CAP_AUDIT_READ"  # gocapability of 19.03 ends there
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    assert len(caps.all_caps("28")) == min(last, 40) + 1


def test_daemon_validation_texts():
    assert caps.check(Privileges(cap_add=["foo"]), "28") == 'invalid CapAdd: unknown capability: "CAP_FOO"'
    assert (
        caps.check(Privileges(cap_drop=["bpf"]), "19.03") == 'invalid CapDrop: unknown capability: "CAP_BPF"'
    )
    assert caps.check(Privileges(cap_drop=["bpf"]), "28") == ""
    assert caps.check(Privileges(security_opt=["foo"]), "28") == 'invalid --security-opt 1: "foo"'
    assert caps.check(Privileges(security_opt=["foo=bar"]), "28") == 'invalid --security-opt 2: "foo=bar"'
    nnp = Privileges(security_opt=["no-new-privileges=maybe"])
    assert caps.check(nnp, "19.03") == 'invalid --security-opt 2: "no-new-privileges=maybe"'
    ok = [
        "no-new-privileges",
        "no-new-privileges:true",
        "seccomp=unconfined",
        "apparmor=unconfined",
        "label=disable",
    ]
    assert caps.check(Privileges(security_opt=ok), "28") == ""


def test_security_options():
    assert caps.no_new_privileges(Privileges(security_opt=["no-new-privileges"]))
    assert not caps.no_new_privileges(Privileges(security_opt=["no-new-privileges=false"]))
    assert caps.seccomp_profile(Privileges(security_opt=["seccomp=unconfined"])) == "unconfined"
    assert caps.seccomp_profile(Privileges(privileged=True)) == "unconfined"
    assert caps.seccomp_profile(Privileges()) == "default"


def _program(fd: int) -> list[tuple[int, int, int, int]]:
    data = os.pread(fd, 1 << 20, 0)
    return [struct.unpack("HBBI", data[i : i + 8]) for i in range(0, len(data), 8)]


def _returns(prog) -> set[int]:
    return {k for code, _, _, k in prog if code == 0x06}  # BPF_RET|BPF_K


def test_profiles_compile_once_per_set(tmp_path):
    fd = caps.default_filter_fd("19.03", list(caps.DEFAULT), tmp_path)
    assert caps.default_filter_fd("19.03", list(caps.DEFAULT), tmp_path) == fd
    assert len(list(tmp_path.glob("seccomp-*.bpf"))) == 1
    other = caps.default_filter_fd("19.03", [*caps.DEFAULT, "CAP_SYS_ADMIN"], tmp_path)
    assert other != fd and len(list(tmp_path.glob("seccomp-*.bpf"))) == 2
    # EPERM by default, ENOSYS for calls newer than the profile (clone3 for 19.03), ALLOW for its list
    assert {seccomp.ALLOW, seccomp.errno_action(errno.EPERM), seccomp.errno_action(errno.ENOSYS)} <= _returns(
        _program(fd)
    )
    # with CAP_SYS_ADMIN the profile allows more calls (unshare, mount, setns, ...)
    assert len(_program(other)) > len(_program(fd))


def test_28_profile_answers_clone3_with_enosys(tmp_path):
    prog = _program(caps.default_filter_fd("28", list(caps.DEFAULT), tmp_path))
    clone3 = seccomp.syscall_number("clone3")
    assert any(code == 0x15 and k == clone3 for code, _, _, k in prog)
    assert seccomp.errno_action(errno.ENOSYS) in _returns(prog)


def test_lab_filter(tmp_path):
    prog = _program(seccomp.lab_filter_fd(tmp_path))
    numbers = {k for code, _, _, k in prog if code == 0x15}
    assert {seccomp.syscall_number(name) for name in seccomp.LAB_REFUSED} <= numbers
    assert _returns(prog) == {
        seccomp.ALLOW,
        seccomp.errno_action(errno.EPERM),
        seccomp.errno_action(errno.ENOSYS),
    }
