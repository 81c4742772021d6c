"""The static files of `make run`'s server (DEBUG): the page code as it is in frontend/src, the vendor
files of frontend/build, at the static paths the templates and the lab page's panels (labapp.labs.hooks)
use."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest

from labapp.labs.hooks import LAB_PANELS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent.parent
FRONTEND = ROOT / "frontend"
TEMPLATES = ROOT / "labapp"
STATIC_TAG = re.compile(r"""\{% static ['"]([^'"]+)['"] %\}""")


def served(lab_server, path: str) -> bytes:
    with urllib.request.urlopen(f"{lab_server.base_url}/static/{path}", timeout=10) as answer:
        assert answer.status == 200, path
        return answer.read()


def test_page_code_is_served_from_frontend_src(lab_server):
    # Not a copy: an edit of frontend/src shows at the next page load, with no build step.
    sources = sorted(p for p in (FRONTEND / "src").rglob("*") if p.is_file())
    assert {p.parent.name for p in sources} == {"labs", "exercises", "classroom"}
    for source in sources:
        assert served(lab_server, source.relative_to(FRONTEND / "src").as_posix()) == source.read_bytes()


def test_every_static_path_of_the_pages_is_served(lab_server):
    paths = {m for t in TEMPLATES.rglob("*.html") for m in STATIC_TAG.findall(t.read_text())}
    paths |= {path for panel in LAB_PANELS.values() for path in (*panel.styles, *panel.scripts)}
    assert {"labs/lab.js", "exercises/exercise.js", "vendor/xterm.js", "vendor/plotly-basic.min.js"} <= paths
    for path in sorted(paths):
        expected = FRONTEND / ("build" if path.startswith("vendor/") else "src") / path
        assert served(lab_server, path) == expected.read_bytes(), path
