"""Reading settings from the environment, without extra dependencies."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

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


def database_from_url(url: str, *, base_dir: Path) -> dict:
    """Django's DATABASES["default"] for a `postgres://` or `sqlite:///` URL.

    Query parameters of a PostgreSQL URL become connection OPTIONS (e.g. `?sslmode=require`).
    A relative SQLite path is taken from `base_dir`.
    """
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured("DATABASE_URL names no database")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(parts.port or ""),
            "OPTIONS": dict(parse_qsl(parts.query)),
        }
    if parts.scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path, as in dj-database-url.
        path = unquote(parts.path)[1:]
        if not path:
            raise ImproperlyConfigured("DATABASE_URL names no SQLite file")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(base_dir / path)}
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported (postgres, sqlite)")
