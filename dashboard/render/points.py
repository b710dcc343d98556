"""Points mode's traces: cluster marks with their counts, region circles, the selection ring.

`clusters.compute_marks` decides what is drawn; this turns it into
scattermap traces.  Marks are one trace ordered by count (the largest
beneath), never by type, so no colour hides another.  Every mark carries
customdata [key, kind, latitude, longitude, count, cell degrees, ids]: key is the
event id of a single event (the record panel opens it) or "cell:..." /
"region:<code>" for a mark that stands for several (web/map_clicks.py lists
them or zooms in); ids are the mark's event ids, comma-joined, while the
view has few enough events for hover details (a box selection reads them).
"""
from __future__ import annotations

import numpy as np

from ..schema import GEO_PRECISION_DESCRIPTIONS
from .clusters import Marks, colours_for, mark_px, region_px
from .style import FONT, HOVER_SUMMARY_CHARS, MARK_RING, hover_text

DARK_TEXT_ON = {"#E69F00", "#56B4E9", "#F0E442", "#999933", "#CC79A7", "#C8C8C8"}  # light fills: black count text


def date_text(day, precision: str) -> str:
    """"20 Jan 2025" for a day; the precision said when the date is coarser than a day."""
    text = f"{day:%-d %b %Y}" if hasattr(day, "strftime") else str(day)[:10]
    return text if precision in ("", "day", None) else f"{text} (date known to the {precision})"


def single_hover(row: dict) -> str:
    region = row.get("admin1_name") or row.get("country_code") or ""
    precision = row.get("geo_precision") or ""
    return (
        f"<b>{hover_text(date_text(row.get('event_date'), row.get('date_precision')))}</b>  "
        f"{hover_text(row.get('event_type', ''))}: {hover_text(row.get('sub_event_type', ''))}<br>"
        f"{hover_text(row.get('place', ''))}, {hover_text(region)} "
        f"(location: {hover_text(GEO_PRECISION_DESCRIPTIONS.get(precision, precision))})<br>"
        f"{hover_text(row.get('summary', ''), HOVER_SUMMARY_CHARS)}"
    )


def cluster_hover(count: int, breakdown: str, same_place: bool) -> str:
    where = "at one place" if same_place else "in this area"
    return f"<b>{count:,} events {where}</b><br>{hover_text(breakdown)}<br><i>Click to list them{'' if same_place else ' or zoom in'}.</i>"


def add_point_traces(figure, marks: Marks, store, theme: str, zoom: float, scale: float, selected=None) -> None:
    """Region circles beneath, then the selection ring, rings, marks and counts.

    The same six traces with these uids whatever the view (with no point when
    there is nothing to draw): a filter change then only replaces their data,
    and the browser's map keeps every layer (see TRACE_UIDS)."""
    regions = marks.regions
    region_trace = dict(type="scattermap", lat=[], lon=[], mode="markers", customdata=[], name="region-level events", showlegend=False)
    if len(regions):
        diameters = region_px(regions["radius_km"], regions["latitude"], zoom)
        colours = colours_for(regions["event_type"], store)
        hover = [
            f"<b>{n:,} event{'s' if n != 1 else ''} located only to {hover_text(name)}</b><br>{hover_text(b)}<br>"
            f"The circle has the region's area ({r:,.0f} km radius). <i>Click to list them.</i>"
            for n, name, b, r in zip(regions["count"], regions["admin1_name"], regions["breakdown"], regions["radius_km"])
        ]
        custom = np.column_stack([
            ["region:" + c for c in regions["admin1_code"]], ["region"] * len(regions),
            regions["latitude"].round(4), regions["longitude"].round(4), regions["count"], [0] * len(regions), regions["ids"],
        ]).astype(str)
        region_trace.update(
            lat=regions["latitude"].round(4), lon=regions["longitude"].round(4),
            marker={"size": np.round(diameters, 1), "color": colours, "opacity": 0.16 if theme == "light" else 0.3},
            hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", customdata=custom,
        )
    frame = marks.marks
    sizes = mark_px(frame["count"]) * scale
    colours = colours_for(frame["event_type"], store) if len(frame) else []
    lat, lon = frame["latitude"].round(4), frame["longitude"].round(4)
    chosen = selected if selected is not None and len(selected) else None
    selected_trace = dict(
        type="scattermap", lat=[] if chosen is None else chosen["latitude"], lon=[] if chosen is None else chosen["longitude"], mode="markers",
        marker={"size": 30 * scale, "color": "#000000" if theme == "light" else "#ffffff", "opacity": 0.85},
        name="selected", hoverinfo="skip", showlegend=False,
    )
    rings = dict(
        type="scattermap", lat=lat, lon=lon, mode="markers", marker={"size": np.round(sizes + 3 * scale, 1), "color": MARK_RING[theme]},
        hoverinfo="skip", name="mark rings", showlegend=False,
    )
    hover, keys = [], []
    for cell, count, breakdown, single, same in zip(frame["cell"], frame["count"], frame["breakdown"], frame["single"], frame["same_place"]):
        if isinstance(single, dict):
            hover.append(single_hover(single))
            keys.append(single["event_id"])
        else:
            hover.append(cluster_hover(int(count), breakdown, bool(same)) if count > 1 else f"<b>1 event</b><br>{hover_text(breakdown)}<br><i>Click for its record.</i>")
            keys.append(f"cell:{cell}")
    kinds = np.where(frame["count"] > 1, np.where(frame["same_place"], "stack", "cluster"), "event")
    custom = np.column_stack([keys, kinds, lat, lon, frame["count"], [marks.cell_deg] * len(frame), frame["ids"]]).astype(str) if len(frame) else []
    events = dict(
        type="scattermap", lat=lat, lon=lon, mode="markers", marker={"size": np.round(sizes, 1), "color": colours, "opacity": 1.0},
        customdata=custom, hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", name="events", showlegend=False,
    )
    counted = (frame["count"] > 1).to_numpy(dtype=bool)
    count_traces = []
    for dark in (False, True):
        chosen_marks = counted & np.array([(c in DARK_TEXT_ON) == dark for c in colours], dtype=bool)
        count_traces.append(dict(
            type="scattermap", lat=lat[chosen_marks], lon=lon[chosen_marks], mode="text",
            text=[f"{n:,}" if n < 10_000 else f"{n / 1000:.0f}k" for n in frame["count"][chosen_marks]],
            textfont={"family": "DejaVu Sans Bold", "size": 11 * scale, "color": "#111111" if dark else "#ffffff"},
            textposition="middle center", hoverinfo="skip", name="counts", showlegend=False,
        ))
    above = ""  # the top trace: above every layer of the basemap
    for trace, uid in reversed(list(zip((region_trace, selected_trace, rings, events, *count_traces), TRACE_UIDS))):
        if not len(trace["lat"]):
            trace.update(lat=[None], lon=[None])  # no point: a trace with none would be hidden, and its layers removed
        figure.add_trace({**trace, "uid": uid, "below": above})
        above = f"plotly-trace-layer-{uid}-fill"  # the lowest of the four layers Plotly makes for a trace


# Points mode's traces, beneath to on top; in the figure top first, each
# beneath the one before it (`below`).  Plotly matches traces across updates by
# uid, so a new view only sets their data.  (Traces with the same `below`, as
# the default "" for all, have their layers removed and added again on every
# update to keep their order: a rebuild of the map's layers on every change.)
TRACE_UIDS = ("regions", "selected", "rings", "events", "counts-light", "counts-dark")


__all__ = ["TRACE_UIDS", "add_point_traces", "date_text", "single_hover", "FONT"]
