"""Saved views for a briefing: named view queries, in slide order.

`FileSavedViews` keeps them in a plain JSON file beside the data (or where
DASHBOARD_VIEWS_FILE says): a list of {"name", "query", "saved_at"}.  Every
change is read-modify-write under an exclusive lock and written atomically,
so two users saving at once both persist and a reader never sees half a
file.  Every failure is a SavedViewsError with a sentence for the page.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import tempfile
from pathlib import Path

from .. import config
from ..view import view_from_query, view_to_query

MAX_NAME = 80
MAX_FILE_CHARS = 5_000_000


class SavedViewsError(ValueError):
    """A saved-views file or entry the user must fix; the message says how."""


def views_file_for(data_paths) -> Path:
    """Where the saved views of these data files live (config.VIEWS_FILE wins)."""
    if config.VIEWS_FILE:
        return Path(config.VIEWS_FILE)
    first = Path(data_paths[0]) if data_paths else config.BUNDLED_EVENTS
    return first.parent / "saved_views.json"


def clean_views(views) -> list[dict]:
    """Keep well-formed entries only, with their queries re-encoded through ViewState."""
    if not isinstance(views, list):
        raise SavedViewsError("A saved-views file holds a JSON list of {name, query} objects.")
    cleaned = []
    for entry in views:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not isinstance(entry.get("query", ""), str):
            continue
        view, _ = view_from_query(entry.get("query", ""))
        cleaned.append(
            {
                "name": entry["name"].strip()[:MAX_NAME] or "Untitled view",
                "query": view_to_query(view),
                "saved_at": str(entry.get("saved_at", "")),
            }
        )
    return cleaned


def new_entry(name, query) -> dict:
    """A view about to be saved, checked: every saved-views store (file or database) takes it."""
    name = name.strip()[:MAX_NAME] if isinstance(name, str) else ""
    if not name:
        raise SavedViewsError("Give the view a name before saving it.")
    if not isinstance(query, str):
        raise SavedViewsError("There is no view to save yet.")
    return {"name": name, "query": query, "saved_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


def parse_views(text) -> list[dict]:
    """Views from the text of an exported file; a SavedViewsError says what is wrong."""
    if not isinstance(text, str) or len(text) > MAX_FILE_CHARS:
        raise SavedViewsError(f"That is not a saved-views file (expected JSON text under {MAX_FILE_CHARS // 1_000_000} MB).")
    try:
        return clean_views(json.loads(text))
    except RecursionError:
        raise SavedViewsError("That file is nested too deeply to be a saved-views file.") from None
    except ValueError as error:
        raise SavedViewsError(f"That file is not a saved-views JSON file ({error}).") from None


class FileSavedViews:
    """Saved views in one JSON file, safe for several processes at once."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def list(self) -> list[dict]:
        if not self.path.exists():
            return []
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SavedViewsError(f"Could not read {self.path.name} ({_reason(error)}).") from None
        try:
            return parse_views(text)
        except SavedViewsError as error:
            raise SavedViewsError(f"{self.path.name} is not a readable saved-views file: {error}") from None

    def save(self, name, query) -> list[dict]:
        """Add (or replace, by name) a view; returns the list as saved."""
        entry = new_entry(name, query)
        return self._change(lambda views: [v for v in views if v["name"] != entry["name"]] + [entry])

    def delete(self, name) -> list[dict]:
        return self._change(lambda views: [v for v in views if v["name"] != name])

    def import_text(self, text) -> list[dict]:
        """Merge views from an exported file; an imported name replaces a saved one."""
        incoming = parse_views(text)
        names = {v["name"] for v in incoming}
        return self._change(lambda views: [v for v in views if v["name"] not in names] + incoming)

    def _change(self, edit) -> list[dict]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.with_name(self.path.name + ".lock"), "a+") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    views = clean_views(edit(self.list()))
                    self._write(views)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        except OSError as error:
            raise SavedViewsError(f"Not saved: could not write {self.path} ({_reason(error)}).") from None
        return views

    def _write(self, views: list[dict]) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(views, out, ensure_ascii=False, indent=2)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
