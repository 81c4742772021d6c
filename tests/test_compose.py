"""docker-compose.yml as Compose implementations read it: podman-compose's variable interpolation, then
the compose_spec crate's typed model of the Compose Specification (unknown keys, wrong types and bad
values are errors there). The smoke test of the same file's commands:
tests/labapp/test_production_shape.py."""

from __future__ import annotations

import pytest

from bench.production import COMPOSE_FILE, compose_project


def test_the_compose_file_is_valid_compose():
    project = compose_project({"SECRET_KEY": "k"})
    assert project.name == "nslab"
    assert sorted(project.service_names()) == ["beat", "db", "labnode", "redis", "web"]
    web = project.get_service("web")
    assert "DATABASE_URL" in str(web.environment) and "DJANGO_DEBUG" in str(web.environment)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (("cap_add:", "cap_addd:"), "cap_addd"),
        (("condition: service_healthy", "condition: service_happy"), "service_happy"),
        (("interval: 5s", "interval: 5 parsecs"), "parsecs"),
    ],
)
def test_the_checker_refuses_what_compose_refuses(change, error):
    with pytest.raises(ValueError, match=error):
        compose_project({"SECRET_KEY": "k"}, COMPOSE_FILE.read_text().replace(*change))


def test_a_secret_key_is_required():
    with pytest.raises(ValueError, match="SECRET_KEY"):
        compose_project({})


def test_only_the_lab_node_is_privileged():
    """What README.md says each service's privilege is for: the lab node makes user and network
    namespaces; web, beat, redis and db need none."""
    project = compose_project({"SECRET_KEY": "k"})
    labnode = project.get_service("labnode")
    assert labnode.user == "root" and labnode.init is True
    assert set(labnode.cap_add) == {"SYS_ADMIN", "NET_ADMIN"}
    assert set(labnode.security_opt) == {"seccomp=unconfined", "apparmor=unconfined"}
    for name in ("web", "beat", "redis", "db"):
        service = project.get_service(name)
        assert not (service.cap_add or service.security_opt or service.privileged or service.user), name
