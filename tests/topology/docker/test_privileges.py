"""Containers' capabilities and seccomp as Docker sets them (moby's oci/caps, profiles/seccomp), on the
real kernel: `docker run`, `docker exec`, --cap-add/--cap-drop/--privileged/--security-opt."""

from __future__ import annotations

import pytest

from tests.topology.kit import docker

pytestmark = pytest.mark.kernel

DEFAULT_CAPS = "00000000a80425fb"  # oci/caps DefaultCapabilities


def status(lab, container: str, pid: str = "self") -> dict[str, str]:
    r = docker(lab, f"exec {container} cat /proc/{pid}/status")
    assert r.returncode == 0, r.stderr
    return dict(line.split(":\t", 1) for line in r.stdout.splitlines() if ":\t" in line)


def caps(st: dict[str, str]) -> tuple[str, ...]:
    return tuple(st[k] for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"))


def test_run_and_exec_get_dockers_default_set_19(lab):
    assert docker(lab, "run -d --name web busybox sleep 600").returncode == 0
    # 19.03 (runc before the 20.10.14 fix of CVE-2022-24769) also fills the inheritable set
    expected = (DEFAULT_CAPS, DEFAULT_CAPS, DEFAULT_CAPS, DEFAULT_CAPS, "0000000000000000")
    assert caps(status(lab, "web", "1")) == expected
    assert caps(status(lab, "web")) == expected  # exec: the container's set, not the host shell's
    st = status(lab, "web")
    assert (st["Seccomp"], st["Seccomp_filters"], st["NoNewPrivs"]) == ("2", "2", "0")


def test_run_and_exec_get_dockers_default_set_28(lab28):
    assert docker(lab28, "run -d --name web busybox sleep 600").returncode == 0
    expected = ("0000000000000000", DEFAULT_CAPS, DEFAULT_CAPS, DEFAULT_CAPS, "0000000000000000")
    assert caps(status(lab28, "web", "1")) == expected
    assert caps(status(lab28, "web")) == expected


def test_a_route_or_a_ruleset_cannot_be_changed_inside(lab):
    assert docker(lab, "run -d --name web busybox sleep 600").returncode == 0
    r = docker(lab, "exec web ip route add 10.9.0.0/16 via 172.17.0.1")
    assert (r.returncode, r.stderr) == (2, "RTNETLINK answers: Operation not permitted\n")
    r = docker(lab, "exec web iptables -L")
    assert r.returncode == 4 and "Permission denied (you must be root)" in r.stderr
    assert "10.9.0.0" not in docker(lab, "exec web ip route").stdout


def test_cap_add_net_admin_lets_the_container_change_its_network(lab):
    r = docker(lab, "run --rm --cap-add NET_ADMIN busybox ip link add d0 type bridge")
    assert r.returncode == 0, r.stderr
    r = docker(lab, "run --rm busybox ip link add d0 type bridge")
    assert r.returncode == 2 and "Operation not permitted" in r.stderr


def test_cap_drop(lab):
    r = docker(lab, "run --rm --cap-drop ALL busybox ping -c 1 -W 1 172.17.0.1")
    assert r.returncode == 1 and "permission denied" in r.stderr
    assert (
        docker(lab, "run -d --name only --cap-drop ALL --cap-add net_raw busybox sleep 600").returncode == 0
    )
    assert caps(status(lab, "only"))[1:4] == ("0000000000002000",) * 3
    assert docker(lab, "run -d --name less --cap-drop CHOWN busybox sleep 600").returncode == 0
    assert status(lab, "less")["CapEff"] == "00000000a80425fa"


def test_privileged_has_every_capability_and_no_profile(lab):
    assert docker(lab, "run -d --name root --privileged busybox sleep 600").returncode == 0
    st = status(lab, "root", "1")
    assert caps(st) == ("0000003fffffffff",) * 4 + ("0000000000000000",)  # 19.03 knows caps up to 37
    assert st["Seccomp_filters"] == "1"  # the lab's own filter only
    assert docker(lab, "run --rm --privileged busybox ip link add d0 type bridge").returncode == 0
    out = docker(lab, "inspect -f '{{.HostConfig.Privileged}} {{json .HostConfig.SecurityOpt}}' root").stdout
    assert out == 'true ["label=disable"]\n'


def test_exec_privileged_keeps_the_containers_profile(lab28):
    assert docker(lab28, "run -d --name web busybox sleep 600").returncode == 0
    r = docker(lab28, "exec --privileged web grep -E '^(CapEff|Seccomp_filters)' /proc/self/status")
    assert r.stdout == "CapEff:\t000001ffffffffff\nSeccomp_filters:\t2\n"  # 28 knows caps up to 40
    assert docker(lab28, "exec --privileged web ip route add 10.9.0.0/16 via 172.17.0.1").returncode == 0


def test_default_profile_refuses_what_docker_refuses(lab):
    """unshare needs CAP_SYS_ADMIN under Docker's profile; unconfined, the kernel lets anyone make a user
    namespace."""
    assert docker(lab, "run -d --name web busybox sleep 600").returncode == 0
    r = docker(lab, "exec web unshare -U true")
    assert r.returncode == 1 and "Operation not permitted" in r.stderr
    r = docker(lab, "run --rm --security-opt seccomp=unconfined busybox unshare -U true")
    assert r.returncode == 0, r.stderr


def test_no_new_privileges(lab):
    assert docker(lab, "run -d --name nnp --security-opt no-new-privileges busybox sleep 600").returncode == 0
    assert status(lab, "nnp")["NoNewPrivs"] == "1"
    out = docker(lab, "inspect -f '{{json .HostConfig.SecurityOpt}} {{json .HostConfig.CapAdd}}' nnp").stdout
    assert out == '["no-new-privileges"] null\n'


def test_invalid_options_are_refused_at_create(lab):
    r = docker(lab, "create --cap-add foo busybox")
    assert (r.returncode, r.stderr) == (
        1,
        'Error response from daemon: invalid CapAdd: unknown capability: "CAP_FOO"\n',
    )
    r = docker(lab, "create --cap-drop CAP_PERFMON busybox")  # 19.03's list ends at CAP_AUDIT_READ
    assert 'invalid CapDrop: unknown capability: "CAP_PERFMON"' in r.stderr
    r = docker(lab, "create --security-opt foo busybox")
    assert 'Error response from daemon: invalid --security-opt 1: "foo"' in r.stderr
    assert docker(lab, "ps -aq").stdout == ""
