"""The naive baseline: the map built the obvious way, for the benchmarks to compare against.

A plain Dash app: the events read with pandas, a RangeSlider over days and
one callback that filters the rows and returns `px.scatter_map` of every
filtered row on `map_style="white-bg"` (hover with the date, types, place,
summary and fatalities), plus the "N of M events" line.  No caching, no
point cap, no typed arrays chosen on purpose: what a first version looks
like.  The one concession, so that a browser can open it at 1,000,000 events
at all, is that the slider starts on the last 30 days rather than all of
them (the whole range would send hundreds of megabytes).

It uses the dashboard's ids (`date-slider`, `map`, `count`) so that the
benchmarks drive both pages with the same selectors.

    python -m bench.naive_app --data FILE --port 8060       # Dash's development server
    NAIVE_DATA=FILE gunicorn 'bench.naive_app:server'        # the same app under gunicorn
"""
from __future__ import annotations

import argparse
import os

import pandas as pd
import plotly.express as px
from dash import Dash, Input, Output, dcc, html

INITIAL_DAYS = 30


def create_app(path: str) -> Dash:
    events = pd.read_csv(path, parse_dates=["event_date"])
    events = events.dropna(subset=["latitude", "longitude", "event_date"])
    first = events["event_date"].min()
    day = (events["event_date"] - first).dt.days
    last = int(day.max())

    app = Dash(__name__, title="Conflict events (naive)")
    app.layout = html.Div(
        [
            html.H1("Conflict events"),
            html.Div(id="count"),
            dcc.RangeSlider(id="date-slider", min=0, max=last, step=1, value=[max(last - INITIAL_DAYS + 1, 0), last]),
            dcc.Graph(id="map", style={"height": "700px"}),
        ]
    )

    @app.callback(Output("map", "figure"), Output("count", "children"), Input("date-slider", "value"))
    def update(value):
        rows = events[(day >= value[0]) & (day <= value[1])]
        figure = px.scatter_map(
            rows,
            lat="latitude",
            lon="longitude",
            color="event_type",
            hover_name="place",
            hover_data=["event_date", "sub_event_type", "summary", "fatalities"],
            map_style="white-bg",
            zoom=4,
            height=700,
        )
        return figure, f"{len(rows):,} of {len(events):,} events"

    return app


def __getattr__(name):
    if name == "server":  # gunicorn 'bench.naive_app:server', data from NAIVE_DATA
        from .common import BUNDLED_EVENTS

        server = create_app(os.environ.get("NAIVE_DATA") or str(BUNDLED_EVENTS)).server
        globals()["server"] = server
        return server
    raise AttributeError(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--port", type=int, default=8060)
    args = parser.parse_args()
    create_app(args.data).run(host="127.0.0.1", port=args.port, debug=False)


if __name__ == "__main__":
    main()
