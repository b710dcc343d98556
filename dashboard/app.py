"""The Dash app: layout and thin callbacks.

Callbacks parse their inputs into a `ViewState`, query the store and build
figures with the pure functions in figures.py.  Two callbacks carry the
page: `sync_view` keeps the controls, the URL and the view in step (a shared
link restores the view; browser back and forward step through views), and
`render_view` draws everything the view shows.

For gunicorn: `gunicorn 'dashboard.app:server'` builds the app from the
environment (DASHBOARD_DATA, DASHBOARD_TERRITORY), once per worker; the data
is read-only afterwards, so every worker answers alike.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import dash
import dash_ag_grid as dag
import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update
from flask import abort, send_file

from . import figures
from .boundaries import ATTRIBUTION, COUNTRIES_PATH, ADMIN1_PATH
from .prepare import PreparedEvents, prepare_events
from .load import events_to_csv, parse_mapping
from .schema import type_colour
from .store import InMemoryEventStore
from .view import DEFAULT_VIEW, MAP_MODES, ViewState, fit_view_to_data, view_from_query, view_to_query

ASSETS = Path(__file__).resolve().parent.parent / "assets"
TABLE_LIMIT = 1_000  # rows sent to the table; the CSV download has them all
GEO_URLS = {"countries": "/geo/countries.geojson", "admin1": "/geo/admin1.geojson"}
TABLE_COLUMNS = [
    ("event_date", "Date", 110),
    ("event_type", "Type", 170),
    ("sub_event_type", "Sub-type", 170),
    ("place", "Place", 120),
    ("admin1_name", "Region", 140),
    ("country_code", "Country", 90),
    ("actor1", "Actor 1", 180),
    ("summary", "Summary", 420),
    ("source_name", "Source", 260),
]


@dataclass
class DashboardData:
    """Everything loaded at start; read-only afterwards."""

    store: InMemoryEventStore
    prepared: PreparedEvents
    territory: object | None = None  # territory.TerritoryLayer
    data_label: str = ""


def load_dashboard_data(data=None, territory=None, fmt="auto", mapping=None, encoding="utf-8") -> DashboardData:
    prepared = prepare_events(data, fmt, parse_mapping(mapping) if mapping else None, None, encoding)
    store = InMemoryEventStore(prepared.events, prepared.custom_types)
    layer = None
    if territory:
        from .territory import classify_points, load_layer

        layer = load_layer(territory)
        days = store.frame["event_date"].to_numpy().astype("datetime64[D]")
        store.territory_position = classify_points(layer, days, store.longitude, store.latitude)
    label = ", ".join(Path(r.source).name for r in prepared.reports)
    return DashboardData(store, prepared, layer, label)


# ------------------------------------------------------------------ layout


def _day_marks(first: dt.date, last: dt.date) -> dict:
    days = (last - first).days
    step = next(s for s in (1, 2, 7, 14, 30, 61, 91, 182, 365, 730, 10_000) if days / s <= 8)
    marks = {}
    for offset in range(0, days + 1, step):
        day = first + dt.timedelta(days=offset)
        marks[offset] = day.strftime("%-d %b" if days < 300 else "%b %Y")
    marks[days] = last.strftime("%-d %b %Y")
    return marks


def build_layout(data: DashboardData):
    store = data.store
    bounds = store.bounds
    n_days = (bounds.last_day - bounds.first_day).days
    control = lambda label, *children, **kw: html.Div([html.Label(label, className="control-label", **kw), *children], className="control")  # noqa: E731
    sidebar = html.Aside(
        [
            control(
                "Dates",
                html.Div(
                    [
                        dcc.Input(id="date-from", type="date", min=str(bounds.first_day), max=str(bounds.last_day)),
                        html.Span("to", className="to"),
                        dcc.Input(id="date-to", type="date", min=str(bounds.first_day), max=str(bounds.last_day)),
                    ],
                    className="date-inputs",
                ),
                dcc.RangeSlider(
                    id="date-slider",
                    min=0,
                    max=max(n_days, 1),
                    step=1,
                    value=[0, max(n_days, 1)],
                    marks=_day_marks(bounds.first_day, bounds.last_day),
                    allowCross=False,
                    updatemode="mouseup",
                ),
            ),
            control("Event type", dcc.Checklist(id="types", options=[], value=list(bounds.types), className="checklist")),
            html.Details(
                [
                    html.Summary("Sub-types"),
                    dcc.Checklist(id="sub-types", options=[], value=list(bounds.sub_types), className="checklist small"),
                ],
                className="control",
            ),
            control(
                "Country",
                dcc.Dropdown(
                    id="countries", options=[{"label": c, "value": c} for c in bounds.countries], multi=True, placeholder="Any country"
                ),
            ),
            control("Region (admin-1)", dcc.Dropdown(id="regions", options=_region_options(store), multi=True, placeholder="Any region")),
            control(
                "Actor",
                dcc.Dropdown(id="actors", options=sorted(a for a in bounds.actors if a), multi=True, placeholder="Any actor"),
            ),
            control("Search place and summary", dcc.Input(id="text", type="search", debounce=True, placeholder="e.g. oil depot")),
            html.Div(
                [
                    control(
                        "Events against the control line",
                        dcc.RadioItems(
                            id="territory-position",
                            options=[
                                {"label": "all", "value": ""},
                                {"label": "inside", "value": "inside"},
                                {"label": "outside", "value": "outside"},
                            ],
                            value="",
                            inline=True,
                        ),
                    ),
                    dcc.Checklist(id="territory-shown", options=[{"label": "Show control layer", "value": "on"}], value=["on"]),
                ],
                hidden=data.territory is None,
            ),
            html.Button("Reset filters", id="reset", className="button"),
        ],
        className="sidebar",
    )
    header = html.Header(
        [
            html.Div(
                [
                    html.H1("Conflict events", id="title"),
                    html.P(id="summary", className="summary"),
                ],
                className="title-block",
            ),
            html.Div(
                [
                    html.Span(id="count", className="count"),
                    dcc.RadioItems(
                        id="mode",
                        options=[{"label": "Points", "value": "points"}, {"label": "Regions", "value": "choropleth"}, {"label": "Density", "value": "density"}],
                        value="points",
                        inline=True,
                        className="mode",
                    ),
                    dcc.RadioItems(id="theme", options=[{"label": "Light", "value": "light"}, {"label": "Dark", "value": "dark"}], value="light", inline=True, className="theme"),
                    dcc.Checklist(id="present", options=[{"label": "Presentation", "value": "on"}], value=[], className="present"),
                    dcc.Clipboard(id="copy-link", title="Copy a link to this view", className="copy-link"),
                ],
                className="header-controls operator",
            ),
        ],
        className="header",
    )
    main = html.Main(
        [
            html.Div(id="notices", role="status", className="notices"),
            html.Div(
                [
                    dcc.Graph(
                        id="map",
                        config={"displaylogo": False, "scrollZoom": True, "modeBarButtonsToRemove": ["toImage"]},
                        className="map",
                    ),
                    html.Aside(id="detail", className="detail", children=_detail_placeholder()),
                ],
                className="map-row",
            ),
            html.P(id="map-legend-note", className="attribution", children=f"{ATTRIBUTION}. Events: {data.data_label}."),
            dcc.Graph(id="timeline", config={"displayModeBar": False}, className="timeline"),
            html.Div(
                [
                    html.Span(id="table-note", className="table-note"),
                    html.Button("Download CSV", id="download-button", className="button"),
                    dcc.Download(id="download"),
                ],
                className="table-bar operator",
            ),
            dag.AgGrid(
                id="table",
                columnDefs=[{"field": f, "headerName": h, "width": w, "tooltipField": f if f == "summary" else None} for f, h, w in TABLE_COLUMNS],
                rowData=[],
                getRowId="params.data.event_id",
                defaultColDef={"sortable": True, "resizable": True, "filter": False},
                dashGridOptions={"pagination": True, "paginationPageSize": 10, "rowSelection": {"mode": "multiRow", "enableClickSelection": True, "checkboxes": False, "headerCheckbox": False}},
                className="ag-theme-quartz table operator",
                style={"height": "420px"},
            ),
        ],
        className="main",
    )
    return html.Div(
        [
            dcc.Location(id="url", refresh=False),
            dcc.Store(id="view"),
            header,
            html.Div([sidebar, main], className="body"),
        ],
        id="root",
        className="root theme-light",
    )


def _region_options(store):
    names = store.frame.drop_duplicates("admin1_code").set_index("admin1_code")["admin1_name"]
    return [{"label": f"{names.get(c, c)} ({c})", "value": c} for c in store.bounds.regions]


def _detail_placeholder():
    return [html.H2("Event record"), html.P("Click an event on the map, or a row in the table, to read its record and source.", className="muted")]


# -------------------------------------------------------------- callbacks


def view_from_controls(store, date_from, date_to, types, sub_types, countries, regions, actors, text, mode, theme, present, territory_shown, position, relayout_centre) -> ViewState:
    bounds = store.bounds
    all_types = set(types or ()) >= set(bounds.types)
    all_subs = set(sub_types or ()) >= set(bounds.sub_types)
    centre = relayout_centre or {}
    return ViewState(
        date_from=_parse_day(date_from),
        date_to=_parse_day(date_to),
        types=None if all_types else tuple(t for t in bounds.types if t in (types or ())),
        sub_types=None if all_subs else tuple(s for s in bounds.sub_types if s in (sub_types or ())),
        countries=tuple(countries or ()),
        regions=tuple(regions or ()),
        actors=tuple(actors or ()),
        text=(text or "").strip()[:200],
        mode=mode if mode in MAP_MODES else "points",
        center_lat=centre.get("lat"),
        center_lon=centre.get("lon"),
        zoom=centre.get("zoom"),
        theme=theme if theme in ("light", "dark") else "light",
        present=bool(present),
        territory=bool(territory_shown),
        territory_position=position or "",
    )


def _parse_day(value) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def controls_from_view(view: ViewState, store) -> dict:
    bounds = store.bounds
    first = view.date_from or bounds.first_day
    last = view.date_to or bounds.last_day
    return {
        "date_from": first.isoformat(),
        "date_to": last.isoformat(),
        "slider": [(first - bounds.first_day).days, (last - bounds.first_day).days],
        "types": list(bounds.types) if view.types is None else list(view.types),
        "sub_types": list(bounds.sub_types) if view.sub_types is None else list(view.sub_types),
        "countries": list(view.countries),
        "regions": list(view.regions),
        "actors": list(view.actors),
        "text": view.text,
        "mode": view.mode,
        "theme": view.theme,
        "present": ["on"] if view.present else [],
        "territory_shown": ["on"] if view.territory else [],
        "position": view.territory_position,
    }


def render_outputs(data: DashboardData, view: ViewState, selected_ids=(), map_selection_ids=None) -> dict:
    """Everything the view shows; the main callback returns these."""
    store = data.store
    result = store.query(view)
    undated = store.query(view, ignore_dates=True)
    territory_layers, territory_note = _territory_for(data, view)
    map_figure = figures.map_figure(
        view,
        store,
        result,
        countries_source=GEO_URLS["countries"],
        admin1_source=GEO_URLS["admin1"],
        territory=territory_layers,
        selected_ids=tuple(selected_ids),
        scale=1.5 if view.present else 1.0,
        notes=(territory_note,) if territory_note else (),
    )
    timeline = figures.timeline_figure(view, store, undated, scale=1.4 if view.present else 1.0)
    type_counts = store.counts_by_type(store.query(view.replace(types=None, sub_types=None)))
    sub_counts = store.counts_by_sub_type(store.query(view.replace(sub_types=None)))
    records = store.records(result, TABLE_LIMIT)
    if map_selection_ids:
        records = store.records(result)
        records = records[records["event_id"].isin(map_selection_ids)].head(TABLE_LIMIT)
    table_note = (
        f"{len(records):,} events selected on the map"
        if map_selection_ids
        else (f"Newest {TABLE_LIMIT:,} of {result.count:,} events; download the CSV for all." if result.count > TABLE_LIMIT else f"{result.count:,} events")
    )
    summary = figures.describe_view(view, store, result.count)
    return {
        "map": map_figure,
        "timeline": timeline,
        "count": f"{result.count:,} of {store.total:,} events",
        "summary": summary,
        "type_options": [
            {"label": html.Span([html.Span(className="swatch", style={"background": type_colour(t, store.custom_types)}), f"{t} ({type_counts.get(t, 0):,})"]), "value": t}
            for t in store.bounds.types
        ],
        "sub_type_options": [
            {"label": f"{s} · {t} ({n:,})", "value": s} for (t, s), n in sorted(sub_counts.items()) if s
        ],
        "table": _table_rows(records),
        "table_note": table_note,
    }


def _territory_for(data: DashboardData, view: ViewState):
    layer = data.territory
    if layer is None or not view.territory:
        return [], ""
    day = view.date_to or data.store.bounds.last_day
    snapshot_date, geojson = layer.display_geojson(day, 0.01)
    if snapshot_date is None:
        return [], f"{layer.name}: no snapshot on or before {day}."
    return figures.territory_layers(geojson), f"{layer.name} control line as of {snapshot_date:%-d %b %Y} ({layer.source})."


def _table_rows(records) -> list[dict]:
    columns = [c for c, _, _ in TABLE_COLUMNS] + ["event_id"]
    table = records[columns].copy()
    table["event_date"] = table["event_date"].dt.strftime("%Y-%m-%d")
    return table.to_dict("records")


def detail_panel(record: dict | None):
    """Every field of one event, as text; the source link only for http(s) URLs."""
    if not record:
        return _detail_placeholder()
    rows = []
    for key, value in record.items():
        rows.append(html.Dt(key.replace("_", " ")))
        if key == "source_url" and str(value).lower().startswith(("http://", "https://")):
            rows.append(html.Dd(html.A(str(value), href=str(value), target="_blank", rel="noopener noreferrer")))
        else:
            rows.append(html.Dd(str(value) if value not in (None, "") else "—"))
    return [html.H2("Event record"), html.Dl(rows, className="record")]


def create_app(data=None, territory=None, fmt="auto", mapping=None, encoding="utf-8", dashboard_data: DashboardData | None = None) -> dash.Dash:
    data = dashboard_data or load_dashboard_data(data, territory, fmt, mapping, encoding)
    store = data.store
    app = dash.Dash(
        __name__,
        assets_folder=str(ASSETS),
        title="Conflict events",
        serve_locally=True,  # every script from this server: the page works offline
        update_title=None,
    )
    app.layout = build_layout(data)
    app.dashboard_data = data

    @app.server.route("/geo/<name>.geojson")
    def geo_file(name):
        path = {"countries": COUNTRIES_PATH, "admin1": ADMIN1_PATH}.get(name)
        if path is None:
            abort(404)
        return send_file(path, mimetype="application/geo+json", max_age=3600)

    control_outputs = [
        Output("date-from", "value"),
        Output("date-to", "value"),
        Output("date-slider", "value"),
        Output("types", "value"),
        Output("sub-types", "value"),
        Output("countries", "value"),
        Output("regions", "value"),
        Output("actors", "value"),
        Output("text", "value"),
        Output("mode", "value"),
        Output("theme", "value"),
        Output("present", "value"),
        Output("territory-shown", "value"),
        Output("territory-position", "value"),
    ]

    @app.callback(
        *control_outputs,
        Output("url", "search"),
        Output("view", "data"),
        Output("notices", "children"),
        Input("url", "search"),
        Input("date-from", "value"),
        Input("date-to", "value"),
        Input("date-slider", "value"),
        Input("types", "value"),
        Input("sub-types", "value"),
        Input("countries", "value"),
        Input("regions", "value"),
        Input("actors", "value"),
        Input("text", "value"),
        Input("mode", "value"),
        Input("theme", "value"),
        Input("present", "value"),
        Input("territory-shown", "value"),
        Input("territory-position", "value"),
        Input("timeline", "selectedData"),
        Input("map", "clickData"),
        Input("reset", "n_clicks"),
        Input("map", "relayoutData"),
        State("view", "data"),
    )
    def sync_view(search, date_from, date_to, slider, types, sub_types, countries, regions, actors, text, mode, theme, present, territory_shown, position, timeline_selection, map_click, reset, relayout, current_query):
        trigger = ctx.triggered_id
        notices: list[str] = []
        if trigger is None or trigger == "url":
            view, notices = view_from_query(search or "")
            if trigger == "url" and current_query is not None and (search or "").lstrip("?") == current_query:
                return (no_update,) * (len(control_outputs) + 3)
        elif trigger == "reset":
            view = DEFAULT_VIEW.replace(theme=theme or "light", present=bool(present), mode=mode or "points")
        else:
            if trigger == "date-slider" and slider:
                date_from = (store.bounds.first_day + dt.timedelta(days=int(slider[0]))).isoformat()
                date_to = (store.bounds.first_day + dt.timedelta(days=int(slider[1]))).isoformat()
            if trigger == "timeline" and timeline_selection and timeline_selection.get("range"):
                start, end = timeline_selection["range"]["x"][:2]
                date_from, date_to = _round_day(start), _round_day(end)
            if trigger == "map" and map_click and mode == "choropleth":
                point = (map_click.get("points") or [{}])[0]
                if point.get("location"):
                    regions = [point["location"]]
            view = view_from_controls(store, date_from, date_to, types, sub_types, countries, regions, actors, text, mode, theme, present, territory_shown, position, _map_centre(relayout))
            if view.date_from and view.date_to and view.date_from > view.date_to:
                view = view.replace(date_from=view.date_to, date_to=view.date_from)
                notices.append("The start date was after the end date; they were swapped.")
        view, fit_notices = fit_view_to_data(view, store.bounds)
        notices += fit_notices
        # Dates equal to the data's ends are the default: keep links short.
        if view.date_from == store.bounds.first_day:
            view = view.replace(date_from=None)
        if view.date_to == store.bounds.last_day:
            view = view.replace(date_to=None)
        query = view_to_query(view)
        controls = controls_from_view(view, store)
        return (
            controls["date_from"],
            controls["date_to"],
            controls["slider"],
            controls["types"],
            controls["sub_types"],
            controls["countries"],
            controls["regions"],
            controls["actors"],
            controls["text"],
            controls["mode"],
            controls["theme"],
            controls["present"],
            controls["territory_shown"],
            controls["position"],
            ("?" + query) if query else "",
            query,
            [html.P(n, className="notice") for n in notices],
        )

    @app.callback(
        Output("map", "figure"),
        Output("timeline", "figure"),
        Output("count", "children"),
        Output("summary", "children"),
        Output("types", "options"),
        Output("sub-types", "options"),
        Output("table", "rowData"),
        Output("table-note", "children"),
        Output("root", "className"),
        Output("title", "children"),
        Input("view", "data"),
        Input("table", "selectedRows"),
        Input("map", "selectedData"),
    )
    def render_view(query, selected_rows, map_selection):
        view, _ = view_from_query(query or "")
        view, _ = fit_view_to_data(view, store.bounds)
        selected_ids = tuple(row.get("event_id") for row in selected_rows or () if isinstance(row, dict))
        map_ids = None
        if ctx.triggered_id == "map" and map_selection and map_selection.get("points"):
            map_ids = [p["customdata"][0] for p in map_selection["points"] if p.get("customdata")]
        out = render_outputs(data, view, selected_ids, map_ids)
        root_class = f"root theme-{view.theme}" + (" present" if view.present else "")
        return (
            out["map"],
            out["timeline"],
            out["count"],
            out["summary"],
            out["type_options"],
            out["sub_type_options"],
            out["table"],
            out["table_note"],
            root_class,
            "Conflict events" if not view.present else f"Conflict events · {data.data_label}",
        )

    @app.callback(Output("detail", "children"), Input("map", "clickData"), Input("table", "selectedRows"), State("mode", "value"))
    def show_detail(map_click, selected_rows, mode):
        event_id = None
        if ctx.triggered_id == "map" and map_click and mode == "points":
            point = (map_click.get("points") or [{}])[0]
            custom = point.get("customdata")
            event_id = custom[0] if custom else None
        elif ctx.triggered_id == "table" and selected_rows:
            event_id = selected_rows[-1].get("event_id")
        if event_id is None:
            return no_update
        return detail_panel(store.record(str(event_id)))

    @app.callback(Output("download", "data"), Input("download-button", "n_clicks"), State("view", "data"), prevent_initial_call=True)
    def download_csv(_, query):
        view, _ = view_from_query(query or "")
        view, _ = fit_view_to_data(view, store.bounds)
        records = store.records(store.query(view)).sort_values(["event_date", "event_id"])
        return dcc.send_string(events_to_csv(records), "events.csv")

    app.clientside_callback(
        "function(search) { return window.location.href; }",
        Output("copy-link", "content"),
        Input("copy-link", "n_clicks"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    return app


def _round_day(value) -> str:
    # A brushed range ends mid-day; each end is taken to the nearest day.
    stamp = np.datetime64(str(value).replace(" ", "T")[:19])
    return str((stamp + np.timedelta64(12, "h")).astype("datetime64[D]"))


def _map_centre(relayout) -> dict | None:
    if not relayout or "map.center" not in relayout:
        return None
    centre = relayout.get("map.center") or {}
    zoom = relayout.get("map.zoom")
    if "lat" in centre and "lon" in centre and zoom is not None:
        return {"lat": round(centre["lat"], 4), "lon": round(centre["lon"], 4), "zoom": round(zoom, 2)}
    return None


def __getattr__(name):
    # `gunicorn 'dashboard.app:server'`: build the app on first access, per worker.
    if name == "server":
        data = [p for p in os.environ.get("DASHBOARD_DATA", "").split(os.pathsep) if p] or None
        app = create_app(data=data, territory=os.environ.get("DASHBOARD_TERRITORY") or None)
        globals()["server"] = app.server
        return app.server
    raise AttributeError(name)
