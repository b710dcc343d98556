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
                 store=None, date_order=None, on_duplicate="keep") -> Dataset:
    """The events and what comes with them: from the files (embedded) or from a team database (`store` URL)."""
    store_url = store or config.STORE_URL
    if store_url:
        if data:
            raise StoreUnavailable(
                "Event files and a store URL were both given; import the files into the database instead: "
                "python -m dashboard import FILE --into URL"
            )
        return open_team_dataset(store_url, territory, basemap)
    prepared = prepare_events(data, fmt, parse_mapping(mapping) if mapping else None, parse_type_values(type_values), encoding,
                              date_order=date_order, on_duplicate=on_duplicate)
    events = InMemoryEventStore(prepared.events, prepared.custom_types)
    layer = None
    if territory:
        layer = load_layer(territory)
        events.attach_territory(layer)
    label = ", ".join(Path(r.source).name for r in prepared.reports)
    views = FileSavedViews(views_file_for([r.source for r in prepared.reports]))
    return Dataset(
        store=events, label=label, reports=prepared.reports, territory=layer, views=views,
        basemap=basemap, notices=list(getattr(prepared, "notices", [])),
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
        store=CachedStore(events, make_cache(config.REDIS_URL)),
        label=events.label(),
        reports=events.import_reports(),
        territory=layer,
        views=DatabaseSavedViews(events.db),
        basemap=basemap,
    )
