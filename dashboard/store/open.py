"""Opening the data: the one place that names a store implementation.

The CLI and the WSGI entry call `open_dataset`; render, web and export
receive the `Dataset` it returns and ask its store only through the
contract.
"""
from __future__ import annotations

from pathlib import Path

from ..ingest.load import parse_mapping, parse_type_values
from ..ingest.prepare import prepare_events
from ..territory import load_layer
from .dataset import Dataset
from .memory import InMemoryEventStore
from .saved_views import FileSavedViews, views_file_for


def open_dataset(data=None, territory=None, fmt="auto", mapping=None, encoding="utf-8", type_values=None, basemap=None) -> Dataset:
    """Read, validate, join (or take from the cache) the event files and build the store."""
    prepared = prepare_events(data, fmt, parse_mapping(mapping) if mapping else None, parse_type_values(type_values), encoding)
    store = InMemoryEventStore(prepared.events, prepared.custom_types)
    layer = None
    if territory:
        layer = load_layer(territory)
        store.attach_territory(layer)
    label = ", ".join(Path(r.source).name for r in prepared.reports)
    views = FileSavedViews(views_file_for([r.source for r in prepared.reports]))
    return Dataset(
        store=store, label=label, reports=prepared.reports, territory=layer, views=views,
        basemap=basemap, notices=list(getattr(prepared, "notices", [])),
    )
