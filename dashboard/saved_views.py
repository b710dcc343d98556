"""Saved views for a briefing: named view queries in a plain JSON file.

The file sits beside the data (or where DASHBOARD_VIEWS_FILE says) and holds
a list of {"name": ..., "query": ..., "saved_at": ...} in slide order.  Every
change is read-modify-write under an exclusive lock and written atomically,
so two users saving at once both persist and a reader never sees half a file.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import tempfile
from pathlib import Path

from .view import view_from_query, view_to_query

MAX_NAME = 80


class SavedViewsError(ValueError):
    """A saved-views file or entry the user must fix; the message says how."""


def views_file_for(data_paths) -> Path:
    if os.environ.get("DASHBOARD_VIEWS_FILE"):
        return Path(os.environ["DASHBOARD_VIEWS_FILE"])
    first = Path(data_paths[0]) if data_paths else Path(__file__).resolve().parent.parent / "data" / "events" / "x"
    return first.parent / "saved_views.json"


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_views(path: Path) -> list[dict]:
    if not Path(path).exists():
        return []
    try:
        views = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SavedViewsError(f"{Path(path).name} is not a readable saved-views file ({error}).") from None
    return clean_views(views)


def clean_views(views) -> list[dict]:
    """Keep well-formed entries only, with their queries re-encoded through ViewState."""
    if not isinstance(views, list):
        raise SavedViewsError("a saved-views file holds a JSON list of {name, query} objects.")
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


def _write(path: Path, views: list[dict]) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(views, out, ensure_ascii=False, indent=2)
    os.replace(temporary, path)


def save_view(path: Path, name: str, query: str) -> list[dict]:
    """Add (or replace, by name) a view; returns the list as saved."""
    name = (name or "").strip()[:MAX_NAME]
    if not name:
        raise SavedViewsError("Give the view a name before saving it.")
    path = Path(path)
    with _locked(path):
        views = [v for v in read_views(path) if v["name"] != name]
        views.append({"name": name, "query": query, "saved_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
        views = clean_views(views)
        _write(path, views)
    return views


def delete_view(path: Path, name: str) -> list[dict]:
    path = Path(path)
    with _locked(path):
        views = [v for v in read_views(path) if v["name"] != name]
        _write(path, views)
    return views


def import_views(path: Path, text: str) -> list[dict]:
    """Merge views from an exported file; an imported name replaces a saved one."""
    try:
        incoming = clean_views(json.loads(text))
    except ValueError as error:
        raise SavedViewsError(f"That file is not a saved-views JSON file ({error}).") from None
    path = Path(path)
    with _locked(path):
        names = {v["name"] for v in incoming}
        views = [v for v in read_views(path) if v["name"] not in names] + incoming
        _write(path, views)
    return views
