"""Throwaway PostgreSQL databases and Redis for the tests of the team store.

Each `new_database()` is a fresh database (CREATE DATABASE, then the postgis
and pg_trgm extensions) on the local server; all are dropped at the end of
the session (conftest calls `drop_all`), and ones left by a killed run of
this machine (their process is gone) are dropped at the next start.

Servers missing: under CI (CI set) the test fails, since CI must run these
tests (tests/setup_machine.sh installs and starts both servers); locally it
is skipped with the reason.
"""
from __future__ import annotations

import os
import secrets
import socket

import pytest

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql:///postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PREFIX = "dashboard_test_"
_created: list[str] = []


def _missing(what: str, error: Exception):
    message = f"{what} is not available ({str(error).strip().splitlines()[0] if str(error).strip() else error}); run tests/setup_machine.sh"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def admin():
    import psycopg

    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        _missing("PostgreSQL", error)


def url_of(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def new_database(extensions: bool = True) -> str:
    """A fresh empty database (postgis and pg_trgm installed); its URL."""
    name = f"{PREFIX}{os.getpid()}_{secrets.token_hex(3)}"
    with admin() as conn:
        if not _created:
            _drop_orphans(conn)
        conn.execute(f'CREATE DATABASE "{name}"')
    _created.append(name)
    if extensions:
        import psycopg

        with psycopg.connect(url_of(name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    return url_of(name)


def drop(name_or_url: str) -> None:
    name = name_or_url.rsplit("/", 1)[-1]
    with admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if name in _created:
        _created.remove(name)


def drop_all() -> None:
    if not _created:
        return
    for name in list(_created):
        try:
            drop(name)
        except Exception:  # noqa: BLE001 - the session is ending; say it and go on
            print(f"could not drop test database {name}")


def _drop_orphans(conn) -> None:
    """Databases of earlier runs on this machine whose process has gone."""
    for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",)).fetchall():
        pid = name[len(PREFIX):].split("_")[0]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url() -> str:
    """The test Redis (database 15), failing under CI and skipping locally when it is not running."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except (redis.RedisError, OSError) as error:
        _missing("Redis", error)
    return REDIS_URL


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgis_store(events):
    """Import the events with the import path into a fresh database; the store on it."""
    from dashboard.store.pg_import import load_events
    from dashboard.store.postgis import PostgisStore

    url = new_database()
    load_events(url, events)
    return PostgisStore.open(url)


def postgis_redis_store(events):
    """The team deployment's store: PostGIS behind the Redis response cache."""
    from dashboard.store.cached import CachedStore, RedisCache

    return CachedStore(postgis_store(events), RedisCache(redis_url()))
