"""Opening the data: the one place that names a store implementation.

The CLI and the WSGI entry call `open_dataset`; render, web and export
receive the `Dataset` it returns and ask its store only through the
contract.

Two stores:

* embedded (the default, one person): the event files are read, validated
  and joined (or taken from the cache) into an InMemoryEventStore; saved
  views in a JSON file beside the data;
* team (`--store postgresql://...` or $DASHBOARD_STORE): a PostgisStore on
  a database filled by `python -m dashboard import`, behind a CachedStore
  (Redis when $DASHBOARD_REDIS is set, else an in-process LRU); saved views
  in the same database.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from .. import config
from ..ingest.load import parse_mapping, parse_type_values
from ..ingest.prepare import prepare_events
from ..territory import load_layer
from .contract import StoreUnavailable
from .dataset import Dataset
from .memory import InMemoryEventStore
from .saved_views import FileSavedViews, views_file_for


def open_dataset(data=None, territory=None, fmt="auto", mapping=None, encoding="utf-8", type_values=None, basemap=None,
                 store=None, date_order=None, on_duplicate="keep", title=None, source=None) -> Dataset:
    """The events and what comes with them: from the files (embedded) or from a team database (`store` URL).

    `title` and `source` override the display name and source line that
    `<data>.meta.json` beside the first file gives (see `read_metadata`)."""
    store_url = store or config.STORE_URL
    if store_url:
        if data:
            raise StoreUnavailable(
                "Event files and a store URL were both given; import the files into the database instead: "
                "python -m dashboard import FILE --into URL"
            )
        dataset = open_team_dataset(store_url, territory, basemap)
        dataset.title = title or dataset.title
        dataset.label = source or dataset.label
        return dataset
    prepared = prepare_events(data, fmt, parse_mapping(mapping) if mapping else None, parse_type_values(type_values), encoding,
                              date_order=date_order, on_duplicate=on_duplicate)
    events = InMemoryEventStore(prepared.events, prepared.custom_types)
    events.version  # noqa: B018 -- the answer cache's key: made at start (before gunicorn forks with --preload), not in a first render
    layer = None
    if territory:
        layer = load_layer(territory)
        events.attach_territory(layer)
    meta, notices = read_metadata([r.source for r in prepared.reports])
    label = source or _source_label(meta) or ", ".join(Path(r.source).name for r in prepared.reports)
    views = FileSavedViews(views_file_for([r.source for r in prepared.reports]))
    return Dataset(
        store=events, label=label, reports=prepared.reports, territory=layer, views=views,
        basemap=basemap, notices=list(getattr(prepared, "notices", [])) + notices,
        title=title or meta.get("title", ""), publisher=meta.get("publisher", ""), published=meta.get("published", ""),
        url=meta.get("url", ""), answers=_answer_cache(),
    )


def open_team_dataset(url: str, territory=None, basemap=None) -> Dataset:
    """A dataset served from PostgreSQL + PostGIS (StoreUnavailable with a sentence when it cannot be)."""
    from .cached import CachedStore, make_cache
    from .pg import is_database_url, safe_url
    from .pg_views import DatabaseSavedViews
    from .postgis import PostgisStore

    if not is_database_url(url):
        raise StoreUnavailable(f"{safe_url(url)} is not a store URL; expected postgresql://user@host/database.")
    events = PostgisStore.open(url)
    layer = None
    if territory:
        layer = load_layer(territory)
        events.attach_territory(layer)
    return Dataset(
        answers=_answer_cache(),
        store=CachedStore(events, make_cache(config.REDIS_URL)),
        label=events.label(),
        reports=events.import_reports(),
        territory=layer,
        views=DatabaseSavedViews(events.db),
        basemap=basemap,
    )


def _answer_cache():
    """Where the page's answers are remembered: Redis when configured (every worker), else this process."""
    from .cached import LocalCache, RedisCache

    # A page answer is ~10-500 KB; 64 of them bound the in-process copy.
    return RedisCache(config.REDIS_URL) if config.REDIS_URL else LocalCache(entries=64)


META_FIELDS = ("title", "publisher", "published", "url")


def read_metadata(sources) -> tuple[dict, list[str]]:
    """The first file's `<name>.meta.json`: {"title", "publisher", "published" (ISO date), "url"}.

    Unknown keys, non-text values, a published date that is not ISO and a
    URL that is not http(s) are dropped with a notice; no file is no metadata.
    """
    if not sources:
        return {}, []
    path = Path(sources[0])
    path = path.with_suffix(".meta.json")
    if not path.is_file():
        return {}, []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return {}, [f"{path.name} could not be read as JSON ({error}); the data has no title or publisher."]
    if not isinstance(raw, dict):
        return {}, [f"{path.name} is not a JSON object; the data has no title or publisher."]
    meta = {k: v.strip()[:300] for k, v in raw.items() if k in META_FIELDS and isinstance(v, str) and v.strip()}
    notices = []
    if "published" in meta:
        try:
            meta["published"] = dt.date.fromisoformat(meta["published"][:10]).isoformat()
        except ValueError:
            notices.append(f"{path.name}: published {meta.pop('published')!r} is not a date like 2025-01-21; left out.")
    if "url" in meta and not meta["url"].lower().startswith(("http://", "https://")):
        notices.append(f"{path.name}: url {meta.pop('url')!r} is not an http(s) link; left out.")
    return meta, notices


def _source_label(meta: dict) -> str:
    """"RFE/RL, 21 Jan 2025": the publisher and the date, for source lines."""
    if not meta.get("publisher"):
        return ""
    published = meta.get("published")
    return meta["publisher"] + (f", {dt.date.fromisoformat(published):%-d %b %Y}" if published else "")
