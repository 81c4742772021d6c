"""While the database cannot be reached (PostgreSQL restarting), pages say so plainly: a 503, no trace."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

from django.db import Error, IntegrityError, InterfaceError, OperationalError, ProgrammingError
from django.test import RequestFactory

from labapp.config.errors import server_error

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import django; django.setup()
from django.test import Client
for language in ("en", "zh-hans"):
    c = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE=language, raise_request_exception=False)
    c.cookies["sessionid"] = "a" * 32  # a logged-in visitor: the session is read from the database
    r = c.get("/")
    print(r.status_code, r.headers.get("Retry-After"), r.content.decode())
"""


def test_pages_answer_503_while_the_database_is_unreachable():
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="labapp.config.settings",
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=f"postgres://nslab@127.0.0.1:{port}/nslab",
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    english, chinese = done.stdout.split("\n503 ", 1)
    assert english.startswith("503 10 ") and "The database is briefly unavailable" in english
    assert "数据库暂时无法使用" in chinese
    assert "Traceback" not in done.stdout and "OperationalError" not in done.stdout


def test_only_an_unreachable_database_gives_the_503_page():
    """A connection refused or closed (InterfaceError is no DatabaseError) gives the 503 page; other
    database errors are bugs (a duplicate key, a missing table): Django's 500 page."""
    request = RequestFactory().get("/")
    for error, status in (
        (OperationalError("connection refused"), 503),
        (InterfaceError("connection already closed"), 503),
        (IntegrityError("duplicate key value"), 500),
        (ProgrammingError('relation "labs_lab" does not exist'), 500),
    ):
        try:
            raise error
        except Error:
            assert server_error(request).status_code == status, error
