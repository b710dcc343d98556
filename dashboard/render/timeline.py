"""The timeline: events per day stacked by type, the chosen range shaded."""
from __future__ import annotations

import datetime as dt

import numpy as np
import plotly.graph_objects as go

from ..schema import type_colour
from ..store.contract import EventStore
from ..view import ViewState
from .style import FONT, THEMES, hover_text

def timeline_figure(view: ViewState, store: EventStore, scale: float = 1.0) -> go.Figure:
    """Events per day stacked by type, over all the data's days; the chosen range is shaded.

    The bars ignore the view's dates, so they show what the range could be
    moved to; brushing the chart sets the range.
    """
    colours = THEMES[view.theme]
    counts = store.counts_by_day_and_type(view.replace(date_from=None, date_to=None))
    # Short date strings keep the response small; numpy formats them ~50x faster than pandas' strftime.
    days = np.datetime_as_string(counts["day"].to_numpy().astype("datetime64[D]")) if len(counts) else np.array([], dtype=str)
    kinds = counts["event_type"].to_numpy()
    traces = []
    for event_type in store.bounds.types:
        chosen = kinds == event_type
        if not chosen.any():
            continue
        colour = type_colour(event_type, store.custom_types, store.bounds.types)
        traces.append(
            dict(
                type="bar",
                x=days[chosen].tolist(),
                y=counts["count"].to_numpy()[chosen].tolist(),
                name=hover_text(event_type),
                # An outline in the bar's own colour: a single day stays a visible bar (3 px) over years of data.
                marker={"color": colour, "line": {"width": 2, "color": colour}},
                hovertemplate="%{x|%d %b %Y}: %{y} " + hover_text(event_type) + "<extra></extra>",
            )
        )
    first, last = store.bounds.first_day, store.bounds.last_day
    start, end = view.date_from or first, view.date_to or last
    # The shaded range as a plain shape: Plotly's add_vrect copies the figure (~0.1 s a call).
    shaded = {
        "type": "rect", "xref": "x", "yref": "paper", "y0": 0, "y1": 1,
        "x0": dt.datetime.combine(start, dt.time()) - dt.timedelta(hours=12),
        "x1": dt.datetime.combine(end, dt.time()) + dt.timedelta(hours=12),
        "fillcolor": colours["muted"], "opacity": 0.15, "line": {"width": 0}, "layer": "below",
    }
    # Plain dicts, wrapped without validation: Plotly's checks and copies of
    # a thousand days' bars cost ~20 ms a render at a million events.
    layout = dict(
        shapes=[shaded],
        barmode="stack",
        bargap=0.1,
        dragmode="select",
        selectdirection="h",
        # Its own legend: in the Regions and Density views the map has none for the types.
        showlegend=True,
        legend={"orientation": "h", "traceorder": "normal", "x": 0, "y": 1.02, "xanchor": "left", "yanchor": "bottom", "font": {"size": int(13 * scale)}},
        margin={"l": 50, "r": 10, "t": int(34 * scale), "b": 30},
        paper_bgcolor=colours["paper"],
        plot_bgcolor=colours["paper"],
        font={"family": FONT, "color": colours["text"], "size": int(13 * scale)},
        xaxis={
            "type": "date",
            "range": [
                dt.datetime.combine(first, dt.time()) - dt.timedelta(days=1),
                dt.datetime.combine(last, dt.time()) + dt.timedelta(days=1),
            ],
            "gridcolor": colours["grid"],
            "fixedrange": True,
            "tickformat": "%-d %b %Y",  # 11 Jan 2025: the page's one date format
        },
        yaxis={"title": {"text": "events/day"}, "gridcolor": colours["grid"], "fixedrange": True, "rangemode": "tozero",
               **whole_number_ticks(int(counts.groupby("day")["count"].sum().max()) if len(counts) else 1)},
        uirevision="timeline",
    )
    return go.Figure({"data": traces, "layout": layout}, _validate=False)


def whole_number_ticks(largest: int) -> dict:
    """Axis ticks at whole events only: no 0.5 events; a tick per event when there are few."""
    return {"tickformat": ",d", "dtick": 1} if largest <= 4 else {"tickformat": ",d"}
