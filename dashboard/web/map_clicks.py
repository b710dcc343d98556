"""What a click on the map shows in the record panel: one event's record, or the list behind a mark.

A mark's customdata is [key, kind, latitude, longitude, count, cell degrees]
(render/points.py): an event id opens that record; a cluster, a stack of
events at one place or a region's circle lists its events, newest first
(the cluster also zooms in, legend.py); the legend's button lists the
country-level events, which are not drawn.
"""
from __future__ import annotations

from dash import html

from ..render.clusters import LIST_LIMIT, country_level_events, events_in_cell, events_in_region
from ..render.points import date_text
from ..store.dataset import Dataset
from ..view import ViewState
from .panels import detail_panel

KINDS = ("event", "cluster", "stack", "region")


def parse_click(click) -> dict | None:
    """The clicked mark as {key, kind, lat, lon, count, cell_deg}, or None for anything else."""
    try:
        custom = click["points"][0]["customdata"]
        key, kind = str(custom[0]), str(custom[1])
        lat, lon, count, cell = float(custom[2]), float(custom[3]), int(float(custom[4])), float(custom[5])
    except (TypeError, KeyError, IndexError, ValueError):
        return None
    if kind not in KINDS or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return {"key": key, "kind": kind, "lat": lat, "lon": lon, "count": count, "cell_deg": cell}


def detail_for_click(data: Dataset, view: ViewState, click):
    """The record panel's children for a map click, or None when the click is not on an event mark."""
    mark = parse_click(click)
    if mark is None:
        return None
    store = data.store
    if mark["kind"] == "event":
        return detail_panel(store.record(mark["key"]), data)
    if mark["kind"] == "region":
        events, total = events_in_region(store, view, mark["key"].removeprefix("region:"))
        title = f"{total:,} event{'s' if total != 1 else ''} located only to {events['admin1_name'].iloc[0] if len(events) else 'this region'}"
    elif mark["cell_deg"] > 0:
        events, total = events_in_cell(store, view, mark["lat"], mark["lon"], mark["cell_deg"])
        title = f"{total:,} event{'s' if total != 1 else ''} " + ("at this place" if mark["kind"] == "stack" else "in this area")
    else:
        return None
    return event_list(title, events, total)


def country_level_detail(data: Dataset, view: ViewState):
    events, total = country_level_events(data.store, view)
    return event_list(f"{total:,} event{'s' if total != 1 else ''} located only to a country (not drawn)", events, total)


def event_list(title: str, events, total: int):
    """A list of events, newest first, each with its date (and the date's precision), type, place and summary."""
    items = [
        html.Li([
            html.Strong(date_text(row["event_date"], row["date_precision"])), " · ", row["event_type"],
            (": " + row["sub_event_type"]) if row["sub_event_type"] else "",
            html.Br(), f"{row['place']}, {row['admin1_name'] or row['country_code']} (location: {row['geo_precision']})",
            html.Br(), html.Span(row["summary"][:240], className="muted"),
            html.Br(), html.Small(row["event_id"], className="muted"),
        ], className="event-list-item")
        for _, row in events.iterrows()
    ]
    more = [html.P(f"…and {total - len(items):,} more: zoom in or narrow the filters.", className="muted")] if total > len(items) else []
    return [html.H2(title), html.Ol(items, className="event-list"), *more]


__all__ = ["parse_click", "detail_for_click", "country_level_detail", "event_list", "LIST_LIMIT"]
