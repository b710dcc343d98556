"""Every setting from the environment, and every limit more than one module shares.

Read once, at import; nothing else in the package reads the environment.
Command-line flags override these where a command has them.

    DASHBOARD_DATA          event files for gunicorn, separated by ':' (default: the bundled article events)
    DASHBOARD_TERRITORY     a control layer for gunicorn (folder of snapshots or one file)
    DASHBOARD_BASEMAP       a tile URL ({z}/{x}/{y}) or MapLibre style URL; default none, fully offline
    DASHBOARD_CACHE_DIR     where joined events are cached (default ~/.cache/territorial-dashboard)
    DASHBOARD_VIEWS_FILE    the saved-views file (default saved_views.json beside the first data file)
    DASHBOARD_STORE         a store URL (postgresql://...) instead of the embedded in-memory store
    DASHBOARD_REDIS         a Redis URL for the shared response cache (default: none)
    DASHBOARD_EXPORTS       exports rendered at once on this machine (default 2)
    DASHBOARD_EXPORT_QUEUE  exports waiting beyond those before new ones are refused (default 20)
    DASHBOARD_EXPORT_TIMEOUT seconds one export may take before it is stopped (default 120)
    BROWSER_PATH            the Chromium that renders exports (default: Debian's /usr/bin/chromium)
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_EVENTS = ROOT / "data" / "events" / "article_events.csv"
GEO_DIR = ROOT / "data" / "geo"
ASSETS_DIR = ROOT / "assets"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _env_int(name: str, default: int, low: int, high: int) -> int:
    text = _env(name)
    try:
        return min(max(int(text), low), high) if text else default
    except ValueError:
        return default


DATA_FILES: list[str] | None = [p for p in (_env("DASHBOARD_DATA") or "").split(os.pathsep) if p] or None
TERRITORY: str | None = _env("DASHBOARD_TERRITORY")
BASEMAP: str | None = _env("DASHBOARD_BASEMAP")
CACHE_DIR = Path(_env("DASHBOARD_CACHE_DIR") or Path.home() / ".cache" / "territorial-dashboard")
VIEWS_FILE: str | None = _env("DASHBOARD_VIEWS_FILE")
STORE_URL: str | None = _env("DASHBOARD_STORE")
REDIS_URL: str | None = _env("DASHBOARD_REDIS")
BROWSER_PATH: str | None = _env("BROWSER_PATH")

# Exports: how many render at once, how many may wait, how long one may take.
EXPORT_WORKERS = _env_int("DASHBOARD_EXPORTS", 2, 1, 16)
EXPORT_QUEUE = _env_int("DASHBOARD_EXPORT_QUEUE", 20, 0, 1000)
EXPORT_TIMEOUT_S = _env_int("DASHBOARD_EXPORT_TIMEOUT", 120, 5, 3600)
# Image sides in pixels, for the page's inputs and the command line alike.
IMAGE_MIN_SIDE, IMAGE_MAX_SIDE = 100, 8000
