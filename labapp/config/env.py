"""Reading settings from the environment.

Booleans and lists are parsed here, strictly (django-environ reads a mistyped boolean as False);
DATABASE_URL by dj-database-url; the secret key, when SECRET_KEY is unset, from a file made once."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

SUPPORTED_ENGINES = ("django.db.backends.postgresql", "django.db.backends.sqlite3")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(environ: dict[str, str], name: str, default: bool) -> bool:
    """The boolean value of environment variable `name`, or `default` when it is unset."""
    if name not in environ:
        return default
    value = environ[name].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={environ[name]!r} is not a boolean (use 1 or 0)")


def env_list(environ: dict[str, str], name: str, default: list[str]) -> list[str]:
    """A comma-separated environment variable as a list, or `default` when it is unset."""
    if name not in environ:
        return default
    return [item.strip() for item in environ[name].split(",") if item.strip()]


# SQLite with many writers at once (a class starting labs together, the node agent beside the web
# side): wait for the lock instead of failing with "database is locked", take the write lock when a
# transaction starts (a deferred one that reads, then writes, cannot wait for it), and let readers
# run beside the writer (WAL).
SQLITE_OPTIONS = {
    "timeout": 30,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def sqlite_database(path: Path | str) -> dict:
    """Django's DATABASES["default"] for the SQLite file at `path`."""
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": dict(SQLITE_OPTIONS)}


def database_from_url(url: str, *, base_dir: Path) -> dict:
    """Django's DATABASES["default"] for a `postgres://` or `sqlite:///` URL (parsed by dj-database-url).

    Query parameters of a PostgreSQL URL become connection OPTIONS (e.g. `?sslmode=require`).
    A relative SQLite path is taken from `base_dir`; other databases have no driver installed.
    """
    try:
        # A new connection per request (CONN_MAX_AGE 0): a PostgreSQL restart leaves no dead connection
        # for the next request to fail on. Keeping connections needs CONN_HEALTH_CHECKS as well, or the
        # first request after a restart meets the dead one (tests/labapp/config/test_postgres_restart.py).
        database = dj_database_url.parse(url, conn_max_age=0)
    except ValueError as exc:  # UnknownSchemeError among others
        raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from exc
    engine = database["ENGINE"]
    if engine not in SUPPORTED_ENGINES:
        raise ImproperlyConfigured(f"DATABASE_URL names {engine}; supported: postgres, sqlite")
    if database["NAME"] in ("", ":memory:"):
        raise ImproperlyConfigured("DATABASE_URL names no database")
    if engine == "django.db.backends.sqlite3":
        return sqlite_database(base_dir / database["NAME"])  # an absolute path stays as it is
    return database


def secret_key_file(path: Path) -> str:
    """The secret key kept in `path` (mode 0600), created with a random key the first time.

    Created under another name and linked into place, so that processes starting together (a server
    and its manage.py commands) agree on one key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process was first: its key is the key
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: remove it (a new key is made) or set SECRET_KEY")
    return key
