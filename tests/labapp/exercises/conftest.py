"""Fixtures of the exercise tests: a small test course (the daemon, users and cleanup: ../conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO = HERE.parents[2]


TEST_COURSE = """\
slug: testcourse
title: {en: "Test course", zh-hans: "测试课程"}
"""

# Setup turns forwarding off; task "forward" turns it on (state), "publish" runs a published nginx
# (partial credit: running without -p passes one of two checks), "port" asks which host port.
TEST_EXERCISE = """\
slug: t-publish
course: testcourse
order: 1
docker: "19.03"
title: {en: "Publish", zh-hans: "发布"}
summary: {en: "Publish a port.", zh-hans: "发布端口。"}
text: {en: "Run **{{name}}** on port {{port}}.", zh-hans: "在 {{port}} 端口运行 **{{name}}**。"}
params:
  name: {choice: [web, site, shop]}
  port: {range: [8000, 8099]}
setup:
  - sh: "sysctl -w net.ipv4.ip_forward=0"
tasks:
  - id: forward
    title: {en: "Forwarding on", zh-hans: "打开转发"}
    checks:
      - sysctl: {name: ip_forward, value: 1}
    hints:
      - {en: "sysctl", zh-hans: "sysctl"}
      - {en: "net.ipv4.ip_forward", zh-hans: "net.ipv4.ip_forward"}
    solution:
      - sh: "sysctl -w net.ipv4.ip_forward=1"
  - id: publish
    title: {en: "Publish", zh-hans: "发布"}
    points: 2
    checks:
      - container: {name: "{{name}}", running: true}
      - http: {from: client, url: "http://203.0.113.2:{{port}}/"}
    solution:
      - docker: "run -d --name {{name}} -p {{port}}:80 nginx"
  - id: port
    title: {en: "Which port?", zh-hans: "哪个端口？"}
    checks:
      - answer:
          prompt: {en: "Host port of {{name}}?", zh-hans: "{{name}} 的主机端口？"}
          expect: {host_port: {container: "{{name}}", port: 80}}
"""


def write_test_course(tmp_path: Path, exercise: str = TEST_EXERCISE) -> Path:
    """A course folder with one small exercise (tmp/course/testcourse/, `exercise` its text)."""
    folder = tmp_path / "course" / "testcourse"
    folder.mkdir(parents=True)
    (folder / "course.yaml").write_text(TEST_COURSE)
    (folder / "01-t-publish.yaml").write_text(exercise)
    return tmp_path / "course"


def load_test_exercise(tmp_path: Path, exercise: str = TEST_EXERCISE):
    """The test course loaded; its one exercise (slug t-publish)."""
    from labapp.exercises.models import Exercise
    from labapp.exercises.web.services import exercises_load

    loaded = exercises_load(root=write_test_course(tmp_path, exercise))
    assert not loaded.errors, loaded.errors
    return Exercise.objects.get(slug="t-publish")


@pytest.fixture
def test_course(tmp_path) -> Path:
    """A course folder with one small exercise (tmp/course/testcourse/)."""
    return write_test_course(tmp_path)


@pytest.fixture
def exercise(db, test_course):
    from labapp.exercises.models import Exercise
    from labapp.exercises.web.services import exercises_load

    loaded = exercises_load(root=test_course)
    assert not loaded.errors, loaded.errors
    return Exercise.objects.get(slug="t-publish")
