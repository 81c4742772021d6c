import stat
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from labapp.config.env import database_from_url, env_bool, env_list, secret_key_file


def test_postgres_url_becomes_django_database():
    url = "postgres://nslab:p%40ss%2Fword@db.example:6543/nslab_prod?sslmode=require"
    db = database_from_url(url, base_dir=Path("/srv"))
    assert {key: db[key] for key in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "OPTIONS")} == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "nslab_prod",
        "USER": "nslab",
        "PASSWORD": "p@ss/word",
        "HOST": "db.example",
        "OPTIONS": {"sslmode": "require"},
    }
    assert str(db["PORT"]) == "6543"


def test_postgres_url_without_credentials_or_port():
    db = database_from_url("postgresql://localhost/nslab", base_dir=Path("/srv"))
    assert (db["USER"], db["PASSWORD"], db["HOST"], str(db["PORT"])) == ("", "", "localhost", "")


def test_sqlite_urls_relative_and_absolute():
    base = Path("/srv/nslab")
    assert database_from_url("sqlite:///var/x.db", base_dir=base)["NAME"] == "/srv/nslab/var/x.db"
    assert database_from_url("sqlite:////tmp/x.db", base_dir=base)["NAME"] == "/tmp/x.db"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgres://h/", "sqlite://", "gopher://h/db"])
def test_unusable_database_urls_are_refused(url):
    with pytest.raises(ImproperlyConfigured):
        database_from_url(url, base_dir=Path("/srv"))


def test_env_bool():
    assert env_bool({}, "X", True) is True
    assert env_bool({"X": "0"}, "X", True) is False
    assert env_bool({"X": "Yes"}, "X", False) is True
    with pytest.raises(ImproperlyConfigured):
        env_bool({"X": "maybe"}, "X", False)


def test_env_list():
    assert env_list({}, "X", ["a"]) == ["a"]
    assert env_list({"X": "a.example, b.example,"}, "X", []) == ["a.example", "b.example"]


def test_secret_key_file_is_made_once_private_and_reused(tmp_path):
    path = tmp_path / "var" / "secret_key"
    key = secret_key_file(path)
    assert len(key) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key_file(path) == key
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no draft left behind


def test_an_empty_secret_key_file_is_refused(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("\n")
    with pytest.raises(ImproperlyConfigured):
        secret_key_file(path)


def test_sqlite_writers_wait_for_each_other(tmp_path, django_db_blocker):
    """Two transactions as Django's atomic() runs them on the embedded mode's SQLite, each reading then
    writing: the second waits for the first instead of failing with "database is locked" (a class
    starting their labs at once got HTTP 500s)."""
    with django_db_blocker.unblock():  # connections of their own, not the test database
        _two_writers(tmp_path)


def _two_writers(tmp_path):
    import threading

    from django.db import connections, transaction

    from labapp.config.env import sqlite_database

    settings = {
        **sqlite_database(tmp_path / "db.sqlite3"),
        **{"ATOMIC_REQUESTS": False, "AUTOCOMMIT": True, "CONN_MAX_AGE": 0},
        **{"CONN_HEALTH_CHECKS": False, "TIME_ZONE": None, "TEST": {}},
    }
    for alias in ("first", "second"):  # each thread makes its own connection from these settings
        connections.settings[alias] = dict(settings)
    with connections["first"].cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    first_read, second_began = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def writer(alias: str, n: int) -> None:
        try:
            with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                cursor.execute("SELECT count(*) FROM t")
                if alias == "first":
                    first_read.set()
                    second_began.wait(1.0)  # the other transaction tries to begin meanwhile
                cursor.execute("INSERT INTO t VALUES (%s)", [n])
        except Exception as exc:
            errors.append(exc)
        finally:
            connections[alias].close()

    first = threading.Thread(target=writer, args=("first", 1))
    first.start()
    first_read.wait(10)
    second = threading.Thread(target=writer, args=("second", 2))
    second.start()
    second_began.set()
    first.join(20)
    second.join(20)
    try:
        assert not errors, errors
        with connections["first"].cursor() as cursor:
            cursor.execute("SELECT n FROM t ORDER BY n")
            assert cursor.fetchall() == [(1,), (2,)]
    finally:
        for alias in ("first", "second"):
            connections[alias].close()
            del connections.settings[alias]
