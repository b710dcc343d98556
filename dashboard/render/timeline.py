"""The timeline: events per day stacked by type, the chosen range shaded."""
from __future__ import annotations

import datetime as dt
import hashlib

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
    # The page's copy of the bars is replaced by a new one on every update (Dash copies what it
    # patches), and Plotly takes arrays it has not seen as new data: thousands of SVG bars drawn
    # again, ~0.2 s, for the same picture.  A revision of the bars' data tells it when they changed.
    revision = hashlib.sha1(days.tobytes() + kinds.astype(str).tobytes() + counts["count"].to_numpy().tobytes()).hexdigest()[:16]
    first, last = store.bounds.first_day, store.bounds.last_day
    if (last - first).days + 1 > AREA_OVER_DAYS:
        traces = _areas(counts, store, first, last)
    else:
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
    # Plain dicts, wrapped without validation: Plotly's checks and copies of
    # a thousand days' bars cost ~20 ms a render at a million events.
    layout = dict(
        shapes=[range_shading(view, store)],
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
            **AXIS_STYLE,
        },
        yaxis={"title": {"text": "events/day", "standoff": 15}, "gridcolor": colours["grid"], "fixedrange": True, "rangemode": "tozero",
               **whole_number_ticks(int(counts.groupby("day")["count"].sum().max()) if len(counts) else 1), **AXIS_STYLE},
        hoverlabel={"align": "left"},
        uirevision="timeline",
        datarevision=revision,
    )
    figure = go.Figure({"data": traces, "layout": layout}, _validate=False)
    # No template: the page's copy of it is new on every update, and Plotly redraws the whole
    # chart for a new template.  What the default template gave the chart is in the layout.
    figure.layout.template = None
    return figure


# The axes as plotly.py's default template drew them.
AXIS_STYLE = {"ticks": "", "zerolinecolor": "white", "zerolinewidth": 2, "automargin": True}


# Over more days than this, each type is one stacked step area, not a bar a day: the bars
# are a pixel wide by then, and a thousand days of them take the browser ~0.3 s to draw
# (SVG, one element per day and type) where an area takes ~0.05 s.
AREA_OVER_DAYS = 180


def _areas(counts, store: EventStore, first: dt.date, last: dt.date) -> list[dict]:
    """One stacked area per type, a step a day, over every day (a day without events is a step to zero).

    Steps centred on their days ("hvh"), as bars would be, under the shaded range's edges; the
    days as a start and a step (x0, dx), not a date string per day and type."""
    every_day = np.arange(np.datetime64(first, "D") - 1, np.datetime64(last, "D") + 2)  # a zero day at each end: whole steps
    table = (counts.assign(day=counts["day"].to_numpy().astype("datetime64[D]"))
             .pivot_table(index="day", columns="event_type", values="count", aggfunc="sum")
             .reindex(every_day, fill_value=0).fillna(0).astype(int))
    traces = []
    for event_type in store.bounds.types:
        if event_type not in table.columns or not table[event_type].any():
            continue
        colour = type_colour(event_type, store.custom_types, store.bounds.types)
        traces.append(dict(
            type="scatter", mode="lines", stackgroup="days", x0=str(every_day[0]), dx=DAY_MS, y=table[event_type].tolist(),
            name=hover_text(event_type), fillcolor=colour,
            # The step's outline in its own colour: a single day stays visible (3 px) over years of data.
            line={"shape": "hvh", "width": 2, "color": colour},
            hovertemplate="%{x|%d %b %Y}: %{y} " + hover_text(event_type) + "<extra></extra>",
        ))
    return traces


DAY_MS = 86_400_000  # a date axis counts in milliseconds


def range_shading(view: ViewState, store: EventStore) -> dict:
    """The view's date range shaded on the timeline.

    A plain shape: Plotly's add_vrect copies the figure (~0.1 s a call)."""
    start, end = view.date_from or store.bounds.first_day, view.date_to or store.bounds.last_day
    return {
        "type": "rect", "xref": "x", "yref": "paper", "y0": 0, "y1": 1,
        "x0": dt.datetime.combine(start, dt.time()) - dt.timedelta(hours=12),
        "x1": dt.datetime.combine(end, dt.time()) + dt.timedelta(hours=12),
        "fillcolor": THEMES[view.theme]["muted"], "opacity": 0.15, "line": {"width": 0}, "layer": "below",
    }


def same_bars(before: ViewState, after: ViewState) -> bool:
    """Whether the timeline's bars are the same for both views: they ignore the dates and the map's position."""
    ignored = dict(date_from=None, date_to=None, center_lat=None, center_lon=None, zoom=None)
    return before.replace(**ignored) == after.replace(**ignored)


def whole_number_ticks(largest: int) -> dict:
    """Axis ticks at whole events only: no 0.5 events; a tick per event when there are few."""
    return {"tickformat": ",d", "dtick": 1} if largest <= 4 else {"tickformat": ",d"}
