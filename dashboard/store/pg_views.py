"""Saved views in the team database: every worker and machine sees the same list.

`DatabaseSavedViews` has FileSavedViews' methods and answers (list, save,
delete, import_text; a SavedViewsError with a sentence on failure).  Each
change is one transaction, so two people saving at once both persist;
saving a name again replaces it and moves it to the end, as in the file.
"""
from __future__ import annotations

import contextlib

import psycopg

from .contract import StoreUnavailable
from .saved_views import SavedViewsError, clean_views, new_entry, parse_views


class DatabaseSavedViews:
    def __init__(self, database):
        self.db = database  # pg.Database

    def list(self) -> list[dict]:
        with self._connection("read") as conn:
            return self._list(conn)

    def save(self, name, query) -> list[dict]:
        return self._write(clean_views([new_entry(name, query)]))

    def delete(self, name) -> list[dict]:
        with self._connection("change") as conn:
            conn.execute("DELETE FROM saved_views WHERE name = %s", (name if isinstance(name, str) else "",))
            return self._list(conn)

    def import_text(self, text) -> list[dict]:
        """Merge views from an exported file; an imported name replaces a saved one."""
        return self._write(parse_views(text))

    def _write(self, views: list[dict]) -> list[dict]:
        with self._connection("change") as conn:
            with conn.transaction():
                for view in views:
                    conn.execute(
                        "INSERT INTO saved_views (name, query, saved_at) VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE "
                        "SET query = EXCLUDED.query, saved_at = EXCLUDED.saved_at, position = nextval('saved_view_position')",
                        (view["name"], view["query"], view["saved_at"]),
                    )
            return self._list(conn)

    @staticmethod
    def _list(conn) -> list[dict]:
        rows = conn.execute("SELECT name, query, saved_at FROM saved_views ORDER BY position").fetchall()
        return [{"name": n, "query": q, "saved_at": s} for n, q, s in rows]

    @contextlib.contextmanager
    def _connection(self, what: str):
        """A pooled connection whose failures become one SavedViewsError sentence."""
        try:
            with self.db.connection() as conn:
                yield conn
        except (StoreUnavailable, psycopg.Error) as error:
            action = "Not saved" if what == "change" else "The saved views could not be read"
            detail = (str(error).strip().splitlines() or [type(error).__name__])[0].rstrip(".")
            raise SavedViewsError(f"{action}: {detail}.") from None
