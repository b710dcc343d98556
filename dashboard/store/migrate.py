"""The team database's schema: versioned SQL files applied in order, each once.

    dashboard/store/migrations/0001_events.sql, 0002_saved_views.sql, ...

The pending files run in one transaction, each recorded in `schema_migrations`
(version, name, applied_at), so a database is always at a whole version.  An
advisory lock lets two imports (or machines) start at once without applying
a file twice.  Plain SQL files rather than Alembic: the schema is PostGIS and
pg_trgm DDL that would be written as SQL inside Alembic anyway, and the
project has no SQLAlchemy models for Alembic to compare against.
"""
from __future__ import annotations

import re
from pathlib import Path

import psycopg

from .contract import StoreUnavailable

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 4_231_978_551  # pg_advisory_lock key of this schema's migrations


def migration_files() -> list[tuple[int, str, Path]]:
    files = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = re.match(r"(\d+)_", path.name)
        if match:
            files.append((int(match.group(1)), path.stem, path))
    return files


def latest_version() -> int:
    return max(version for version, _, _ in migration_files())


def applied_version(conn: psycopg.Connection) -> int:
    """The newest migration applied, 0 for a database without the table."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    return conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply every migration not yet applied; returns the names applied."""
    applied = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, name, path in migration_files():
            if version in done:
                continue
            try:
                with conn.transaction():
                    conn.execute(path.read_text(encoding="utf-8"))
                    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            except psycopg.errors.FeatureNotSupported as error:
                raise StoreUnavailable(f"Migration {name} failed: {error}. Is PostGIS installed on the database server?") from None
            except psycopg.errors.UndefinedFile as error:
                raise StoreUnavailable(
                    f"Migration {name} failed: {str(error).splitlines()[0]}. Install PostGIS 3 (Debian: postgresql-15-postgis-3)."
                ) from None
            except psycopg.errors.InsufficientPrivilege as error:
                raise StoreUnavailable(
                    f"Migration {name} failed: {str(error).splitlines()[0]}. The import's role must own the database "
                    "(or a superuser must run the first import, which creates the postgis and pg_trgm extensions)."
                ) from None
            applied.append(name)
    return applied


def require_current(conn: psycopg.Connection, url_text: str) -> None:
    """Servers do not change the schema: they say what to run when it is missing or old."""
    version = applied_version(conn)
    if version == 0:
        raise StoreUnavailable(
            f"The database at {url_text} holds no events yet; import some first: "
            f"python -m dashboard import FILE --into {url_text}"
        )
    if version < latest_version():
        raise StoreUnavailable(
            f"The database at {url_text} has schema version {version}, this dashboard needs {latest_version()}; "
            f"running an import updates it: python -m dashboard import FILE --into {url_text}"
        )
