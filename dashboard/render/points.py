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
    """Region circles beneath, then rings, marks and counts; the selection ring beneath the marks."""
    regions = marks.regions
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
        figure.add_trace(dict(
            type="scattermap", lat=regions["latitude"].round(4), lon=regions["longitude"].round(4), mode="markers",
            marker={"size": np.round(diameters, 1), "color": colours, "opacity": 0.16 if theme == "light" else 0.3},
            hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", customdata=custom, name="region-level events", showlegend=False,
        ))
    frame = marks.marks
    if len(frame) == 0:
        return
    sizes = mark_px(frame["count"]) * scale
    colours = colours_for(frame["event_type"], store)
    lat, lon = frame["latitude"].round(4), frame["longitude"].round(4)
    if selected is not None and len(selected):
        figure.add_trace(dict(
            type="scattermap", lat=selected["latitude"], lon=selected["longitude"], mode="markers",
            marker={"size": 30 * scale, "color": "#000000" if theme == "light" else "#ffffff", "opacity": 0.85},
            name="selected", hoverinfo="skip", showlegend=False,
        ))
    figure.add_trace(dict(
        type="scattermap", lat=lat, lon=lon, mode="markers", marker={"size": np.round(sizes + 3 * scale, 1), "color": MARK_RING[theme]},
        hoverinfo="skip", name="mark rings", showlegend=False,
    ))
    hover, keys = [], []
    for cell, count, breakdown, single, same in zip(frame["cell"], frame["count"], frame["breakdown"], frame["single"], frame["same_place"]):
        if isinstance(single, dict):
            hover.append(single_hover(single))
            keys.append(single["event_id"])
        else:
            hover.append(cluster_hover(int(count), breakdown, bool(same)) if count > 1 else f"<b>1 event</b><br>{hover_text(breakdown)}<br><i>Click for its record.</i>")
            keys.append(f"cell:{cell}")
    kinds = np.where(frame["count"] > 1, np.where(frame["same_place"], "stack", "cluster"), "event")
    custom = np.column_stack([keys, kinds, lat, lon, frame["count"], [marks.cell_deg] * len(frame), frame["ids"]]).astype(str)
    figure.add_trace(dict(
        type="scattermap", lat=lat, lon=lon, mode="markers", marker={"size": np.round(sizes, 1), "color": colours, "opacity": 1.0},
        customdata=custom, hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", name="events", showlegend=False,
    ))
    counted = frame["count"] > 1
    for dark in (False, True):
        chosen = counted & np.array([(c in DARK_TEXT_ON) == dark for c in colours])
        if chosen.any():
            figure.add_trace(dict(
                type="scattermap", lat=lat[chosen], lon=lon[chosen], mode="text",
                text=[f"{n:,}" if n < 10_000 else f"{n / 1000:.0f}k" for n in frame["count"][chosen]],
                textfont={"family": "DejaVu Sans Bold", "size": 11 * scale, "color": "#111111" if dark else "#ffffff"},
                textposition="middle center", hoverinfo="skip", name="counts", showlegend=False,
            ))


__all__ = ["add_point_traces", "date_text", "single_hover", "FONT"]
