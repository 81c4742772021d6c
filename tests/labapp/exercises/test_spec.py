"""Exercise files: schema errors name file, line and field; params per user; templating."""

from __future__ import annotations

from pathlib import Path

import pytest

from labapp.exercises.spec import exercise_params, load_courses, params_seed, render
from tests.labapp.exercises.conftest import REPO, TEST_COURSE, TEST_EXERCISE


def errors_for(tmp_path: Path, text: str) -> list[str]:
    folder = tmp_path / "course" / "testcourse"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.yaml").write_text(TEST_COURSE)
    (folder / "01-t-publish.yaml").write_text(text)
    return [str(e) for e in load_courses(tmp_path / "course").errors]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


F = "course/testcourse/01-t-publish.yaml"


def test_the_test_exercise_is_valid(tmp_path):
    assert errors_for(tmp_path, TEST_EXERCISE) == []


def test_the_course_in_the_repository_is_valid():
    loaded = load_courses(REPO / "course")
    assert [str(e) for e in loaded.errors] == []
    assert len(loaded.exercises) >= 1


def test_missing_required_argument_names_the_check(tmp_path):
    text = TEST_EXERCISE.replace("- sysctl: {name: ip_forward, value: 1}", "- sysctl: {name: ip_forward}")
    line = line_of(text, "- sysctl: {name: ip_forward}")
    assert errors_for(tmp_path, text) == [
        f"{F}:{line}: tasks[0].checks[0].sysctl: 'value' is a required property"
    ]


def test_wrong_type_names_the_field_and_its_line(tmp_path):
    text = TEST_EXERCISE.replace("    points: 2\n", "    points: two\n")
    line = line_of(text, "points: two")
    errors = errors_for(tmp_path, text)
    assert errors == [f"{F}:{line}: tasks[1].points: 'two' is not of type 'integer'"]


def test_unknown_check_primitive(tmp_path):
    text = TEST_EXERCISE.replace(
        "- sysctl: {name: ip_forward, value: 1}", "- sysctrl: {name: ip_forward, value: 1}"
    )
    line = line_of(text, "sysctrl")
    (error,) = errors_for(tmp_path, text)
    assert error.startswith(f"{F}:{line}: tasks[0].checks[0]: ") and "sysctrl" in error


def test_missing_translation(tmp_path):
    text = TEST_EXERCISE.replace(
        'title: {en: "Publish", zh-hans: "发布"}\n    points', 'title: {en: "Publish"}\n    points'
    )
    line = line_of(text, 'title: {en: "Publish"}')
    assert errors_for(tmp_path, text) == [f"{F}:{line}: tasks[1].title: 'zh-hans' is a required property"]


def test_bad_enum_in_nested_argument(tmp_path):
    text = TEST_EXERCISE.replace('docker: "19.03"', 'docker: "20.10"')
    (error,) = errors_for(tmp_path, text)
    assert error.startswith(f"{F}:4: docker: '20.10' is not one of")


def test_yaml_syntax_error_names_the_line(tmp_path):
    text = TEST_EXERCISE.replace("  port: {range: [8000, 8099]}", "  port: {range: [8000, 8099}")
    line = line_of(text, "8099}")
    (error,) = errors_for(tmp_path, text)
    assert error.startswith(f"{F}:{line}: (yaml): ")


def test_unknown_parameter_and_duplicate_task_id(tmp_path):
    text = TEST_EXERCISE.replace('url: "http://203.0.113.2:{{port}}/"', 'url: "http://203.0.113.2:{{prot}}/"')
    text = text.replace("  - id: port\n", "  - id: forward\n")
    errors = errors_for(tmp_path, text)
    assert (
        f"{F}:{line_of(text, '{{prot}}')}: tasks[1].checks[1].http.url: unknown parameter {{{{prot}}}}"
        in errors
    )
    dup = [i for i, line in enumerate(text.splitlines(), 1) if "- id: forward" in line][1]
    assert f"{F}:{dup}: tasks[2].id: task id 'forward' is used twice" in errors


def test_duplicate_slug_across_files(tmp_path):
    errors_for(tmp_path, TEST_EXERCISE)
    (tmp_path / "course" / "testcourse" / "02-copy.yaml").write_text(TEST_EXERCISE)
    errors = [str(e) for e in load_courses(tmp_path / "course").errors]
    assert errors == [f"course/testcourse/02-copy.yaml:1: slug: 't-publish' is used by {F} too"]


def test_missing_course_yaml(tmp_path):
    folder = tmp_path / "course" / "nocourse"
    folder.mkdir(parents=True)
    (folder / "01-x.yaml").write_text(TEST_EXERCISE.replace("course: testcourse", "course: nocourse"))
    errors = [str(e) for e in load_courses(tmp_path / "course").errors]
    assert errors == ["course/nocourse/course.yaml:1: (file): missing: every course needs a course.yaml"]


# -- params and templating ------------------------------------------------------------------

SPEC = {
    "params": {
        "net": {"subnet": "10.{{octet}}.0.0/24"},
        "octet": {"range": [10, 250]},
        "name": {"choice": ["web", "site", "shop", "blog"]},
        "port": {"range": [8000, 8999]},
    }
}


def test_params_are_the_same_for_a_user_and_differ_between_users():
    first = exercise_params(SPEC, params_seed(7, "host-port-clash"))
    assert exercise_params(SPEC, params_seed(7, "host-port-clash")) == first
    assert first["net"] == f"10.{first['octet']}.0.0/24"
    assert 8000 <= first["port"] <= 8999 and first["name"] in SPEC["params"]["name"]["choice"]
    others = [exercise_params(SPEC, params_seed(user, "host-port-clash")) for user in range(8, 28)]
    assert any(o != first for o in others)
    assert exercise_params(SPEC, params_seed(7, "another-slug")) != first or len({str(o) for o in others}) > 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{{port}}", 8080),
        ("http://{{ip}}:{{port}}/", "http://10.0.0.2:8080/"),
        (
            {"container": {"name": "{{name}}", "published": [{"host_port": "{{port}}"}]}},
            {"container": {"name": "web", "published": [{"host_port": 8080}]}},
        ),
        (["-p {{port}}:80", 3, True], ["-p 8080:80", 3, True]),
        ("{{ name }}x", "webx"),
    ],
)
def test_templating_reaches_every_string(value, expected):
    assert render(value, {"port": 8080, "ip": "10.0.0.2", "name": "web"}) == expected
