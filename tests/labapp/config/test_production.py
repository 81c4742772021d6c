"""Production settings (DJANGO_DEBUG=0 behind TLS, DJANGO_HTTPS=1): the deploy checks pass and static
files are served."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _production_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    return {
        **env,
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
    }


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes(tmp_path):
    r = _manage(_production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues" in r.stdout


def test_collected_static_files_are_served_without_debug(tmp_path):
    env = _production_env(tmp_path)
    r = _manage(env, "collectstatic", "--noinput")
    assert r.returncode == 0, r.stderr
    probe = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client(HTTP_HOST='127.0.0.1')\n"
        "for path in ('/static/labs/lab.js', '/static/vendor/plotly-basic.min.js'):\n"
        "    r = c.get(path, secure=True)\n"
        "    print(path, r.status_code, r.headers.get('Content-Type'))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "labapp.config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("/static/labs/lab.js 200 ") and "javascript" in lines[0]
    assert lines[1].startswith("/static/vendor/plotly-basic.min.js 200 ")
