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

import base64
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import dash
import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update
from flask import abort, send_file

from . import figures
from .boundaries import BOUNDARY_PATHS
from .layout import TABLE_COLUMNS, build_layout, detail_placeholder
from .load import events_to_csv, parse_mapping, parse_type_values
from .prepare import PreparedEvents, prepare_events
from .saved_views import SavedViewsError, delete_view, import_views, read_views, save_view, views_file_for
from .schema import type_colour
from .store import InMemoryEventStore
from .view import (
    DEFAULT_VIEW,
    MAP_MODES,
    ViewState,
    fit_view_to_data,
    playback_start,
    step_range,
    view_from_query,
    view_to_query,
)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
TABLE_LIMIT = 500  # rows sent to the table (50 pages); the CSV download has them all


@dataclass
class DashboardData:
    """Everything loaded at start; read-only afterwards."""

    store: InMemoryEventStore
    prepared: PreparedEvents
    territory: object | None = None  # territory.TerritoryLayer
    data_label: str = ""
    views_path: Path | None = None  # saved views, beside the data
    basemap: str | None = None  # optional tile URL ({z}/{x}/{y}) or style URL; None: fully offline
    change_cache: dict = field(default_factory=dict)  # territorial change per pair of snapshot dates


def load_dashboard_data(data=None, territory=None, fmt="auto", mapping=None, encoding="utf-8", type_values=None) -> DashboardData:
    prepared = prepare_events(data, fmt, parse_mapping(mapping) if mapping else None, parse_type_values(type_values), encoding)
    store = InMemoryEventStore(prepared.events, prepared.custom_types)
    layer = None
    if territory:
        from .territory import load_layer

        layer = load_layer(territory)
        store.attach_territory(layer)
    label = ", ".join(Path(r.source).name for r in prepared.reports)
    views_path = views_file_for([r.source for r in prepared.reports])
    return DashboardData(store, prepared, layer, label, views_path)


# -------------------------------------------------------------- callbacks


def view_from_controls(store, date_from, date_to, types, sub_types, countries, regions, actors, text, mode, theme, present, territory_shown, position, relayout_centre, opacity=None) -> ViewState:
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
        territory_position=position if position in ("inside", "outside") else "",
        territory_opacity=round(float(opacity), 2) if isinstance(opacity, (int, float)) and 0.05 <= opacity <= 1 else DEFAULT_VIEW.territory_opacity,
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
        "opacity": view.territory_opacity,
    }


def render_outputs(data: DashboardData, view: ViewState, selected_ids=(), map_selection_ids=None) -> dict:
    """Everything the view shows; the main callback returns these."""
    store = data.store
    result = store.query(view)
    undated = store.query(view, ignore_dates=True)
    territory_layers, territory_label, territory_sentence = territory_for_view(data, view)
    map_figure = figures.map_figure(
        view,
        store,
        result,
        territory=territory_layers,
        territory_label=territory_label,
        basemap=data.basemap,
        selected_ids=tuple(selected_ids),
        scale=1.5 if view.present else 1.0,
    )
    timeline = figures.timeline_figure(view, store, undated, scale=1.4 if view.present else 1.0)
    type_counts = store.counts_by_type(store.query(view.replace(types=None, sub_types=None)))
    sub_counts = store.counts_by_sub_type(store.query(view.replace(sub_types=None)))
    table_columns = [c for c, _, _ in TABLE_COLUMNS] + ["event_id"]
    records = store.records(result, TABLE_LIMIT, table_columns)
    if map_selection_ids:
        records = store.records(result, columns=table_columns)
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
        "territory": territory_sentence,
    }


def territory_for_view(data: DashboardData, view: ViewState):
    """Map layers, legend label and the on-screen sentence for the control layer.

    The layer as it stood on the end date; when the range spans two different
    snapshots, the ground gained and lost between them in two more colours.
    """
    layer = data.territory
    if layer is None or not view.territory:
        return [], "", ""
    bounds = data.store.bounds
    end = view.date_to or bounds.last_day
    start = view.date_from or bounds.first_day
    snapshot_date, geojson = layer.display_geojson(end, display_tolerance(view, data.store))
    if snapshot_date is None:
        return [], "", f"{layer.name}: no snapshot on or before {end:%-d %b %Y}."
    label = f"{layer.name} as of {snapshot_date:%-d %b %Y}"
    sentence = f"Control line: {label}."
    change = _change_cached(data, start, end)
    change_geojson = None
    if change is not None and change.date_from != change.date_to:
        change_geojson = change.to_geojson()
        sentence += (
            f" Between {change.date_from:%-d %b} and {change.date_to:%-d %b %Y}: {change.gained_km2:,.1f} km² gained (orange), "
            f"{change.lost_km2:,.1f} km² lost (purple), net {change.net_km2:+,.1f} km²."
        )
    return figures.territory_layers(geojson, view.territory_opacity, change_geojson), label, sentence


def display_tolerance(view: ViewState, store) -> float:
    """Simplification for the control layer at the map's zoom: about a pixel.

    At zoom z a 512-px world shows 360/(512·2^z) degrees per pixel; finer
    detail is invisible and only makes the response larger.
    """
    zoom = view.zoom if view.zoom is not None else figures.fit_map_view(*store.extent())[2]
    degrees_per_pixel = 360 / (512 * 2**zoom)
    # Steps of 2x so nearby zooms share one cached simplification.
    return float(2.0 ** round(np.log2(max(degrees_per_pixel, 1e-5))))


def _change_cached(data: DashboardData, start, end):
    from .territory import TerritoryError, change_between

    layer = data.territory
    first, last = layer.snapshot_on(start), layer.snapshot_on(end)
    if first is None or last is None:
        return None
    key = (first.date, last.date)
    if key not in data.change_cache:  # a cache of a pure function: every worker computes the same
        try:
            data.change_cache[key] = change_between(layer, start, end)
        except TerritoryError:
            data.change_cache[key] = None
    return data.change_cache[key]


def _table_rows(records) -> list[dict]:
    columns = [c for c, _, _ in TABLE_COLUMNS] + ["event_id"]
    table = records[columns].copy()
    table["event_date"] = table["event_date"].dt.strftime("%Y-%m-%d")
    return table.to_dict("records")


def detail_panel(record: dict | None):
    """Every field of one event, as text; the source link only for http(s) URLs."""
    if not record:
        return detail_placeholder()
    rows = []
    for key, value in record.items():
        rows.append(html.Dt(key.replace("_", " ")))
        if key == "source_url" and str(value).lower().startswith(("http://", "https://")):
            rows.append(html.Dd(html.A(str(value), href=str(value), target="_blank", rel="noopener noreferrer")))
        else:
            rows.append(html.Dd(str(value) if value not in (None, "") else "—"))
    return [html.H2("Event record"), html.Dl(rows, className="record")]




def source_line(data: DashboardData, view: ViewState) -> str:
    """Where the data comes from, for the title band."""
    bounds = data.store.bounds
    parts = [f"Events: {data.data_label} (to {bounds.last_day:%-d %b %Y})", "Boundaries: Natural Earth"]
    if data.territory is not None and view.territory:
        snapshot = data.territory.snapshot_on(view.date_to or bounds.last_day)
        parts.append(f"Control line: {data.territory.name}" + (f" as of {snapshot.date:%-d %b %Y}" if snapshot else ""))
    return " · ".join(parts)


# Each control's (component id, property) and its key in controls_from_view.
CONTROLS = [
    ("date-from", "value", "date_from"),
    ("date-to", "value", "date_to"),
    ("date-slider", "value", "slider"),
    ("types", "value", "types"),
    ("sub-types", "value", "sub_types"),
    ("countries", "value", "countries"),
    ("regions", "value", "regions"),
    ("actors", "value", "actors"),
    ("text", "value", "text"),
    ("mode", "value", "mode"),
    ("theme", "value", "theme"),
    ("present", "value", "present"),
    ("territory-shown", "value", "territory_shown"),
    ("territory-position", "value", "position"),
    ("territory-opacity", "value", "opacity"),
]
CONTROL_KEYS = [key for _, _, key in CONTROLS]


def controls_tuple(view: ViewState, store) -> tuple:
    controls = controls_from_view(view, store)
    return tuple(controls[key] for key in CONTROL_KEYS)


def next_view(store, trigger, search, controls: dict, events: dict, current_query, playing: bool, saved: dict):
    """The controller: from what changed to (view, notices, playing, saved view to show).

    A pure function of its inputs so that it is tested directly; the Dash
    callback only unpacks and packs values.
    """
    notices: list[str] = []
    bounds = store.bounds
    current, _ = view_from_query(current_query or "")
    if trigger is None or trigger == "url":
        view, notices = view_from_query(search or "")
    elif trigger == "reset":
        view = DEFAULT_VIEW.replace(theme=current.theme, present=current.present, mode=current.mode)
    elif trigger in ("player", "step-forward", "step-back", "play"):
        view = current
        if trigger == "play" and not playing:
            playing = True
            if view.date_to is None or view.date_to >= bounds.last_day:
                view = playback_start(view, bounds, events["play_mode"], events["window_days"])
        elif trigger == "play":
            playing = False
        else:
            view, at_end = step_range(view, bounds, -1 if trigger == "step-back" else 1, events["play_mode"], events["window_days"])
            if trigger == "player" and at_end:
                playing = False
            if trigger != "player":
                playing = False  # a manual step pauses playback
    elif trigger in ("saved-list", "prev-view", "next-view"):
        # The file is the source of truth: the list on the page may not have loaded yet.
        names = [v["name"] for v in saved.get("views") or []] or [o["value"] for o in saved.get("options") or []]
        chosen = saved.get("value")
        if trigger != "saved-list" and names:
            position = names.index(chosen) if chosen in names else -1
            position = (position + (1 if trigger == "next-view" else -1)) % len(names)
            chosen = names[position]
        query = next((o.get("query", "") for o in saved.get("views", []) if o["name"] == chosen), None)
        if query is None:
            view = current
        else:
            view, notices = view_from_query(query)
            view = view.replace(present=current.present or view.present)
        saved = {**saved, "value": chosen}
    elif trigger == "exit-present":
        view = current.replace(present=False)
    else:
        values = dict(controls)
        if trigger == "date-slider" and values.get("slider"):
            low, high = sorted(int(x) for x in values["slider"][:2])
            values["date_from"] = (bounds.first_day + dt.timedelta(days=low)).isoformat()
            values["date_to"] = (bounds.first_day + dt.timedelta(days=high)).isoformat()
        if trigger == "timeline" and events.get("timeline_selection") and events["timeline_selection"].get("range"):
            start, end = events["timeline_selection"]["range"]["x"][:2]
            values["date_from"], values["date_to"] = _round_day(start), _round_day(end)
        if trigger == "map" and events.get("map_click") and values.get("mode") == "choropleth":
            point = (events["map_click"].get("points") or [{}])[0]
            if point.get("location"):
                values["regions"] = [point["location"]]
        centre = _map_centre(events.get("relayout")) if trigger == "map-relayout" else None
        if centre is None:
            centre = {"lat": current.center_lat, "lon": current.center_lon, "zoom": current.zoom} if current.zoom is not None else None
        view = view_from_controls(
            store, values["date_from"], values["date_to"], values["types"], values["sub_types"], values["countries"],
            values["regions"], values["actors"], values["text"], values["mode"], values["theme"], values["present"],
            values["territory_shown"], values["position"], centre, values.get("opacity"),
        )
        if view.date_from and view.date_to and view.date_from > view.date_to:
            view = view.replace(date_from=view.date_to, date_to=view.date_from)
            notices.append("The start date was after the end date; they were swapped.")
    view, fit_notices = fit_view_to_data(view, bounds)
    # Dates at the data's ends are the default: links stay short and follow new data.
    if view.date_from == bounds.first_day and view.date_to in (None, bounds.last_day):
        view = view.replace(date_from=None)
    if view.date_to == bounds.last_day and view.date_from is None:
        view = view.replace(date_to=None)
    return view, notices + fit_notices, playing, saved


def create_app(
    data=None,
    territory=None,
    fmt="auto",
    mapping=None,
    encoding="utf-8",
    type_values=None,
    dashboard_data: DashboardData | None = None,
    basemap: str | None = None,
) -> dash.Dash:
    data = dashboard_data or load_dashboard_data(data, territory, fmt, mapping, encoding, type_values)
    data.basemap = basemap or os.environ.get("DASHBOARD_BASEMAP") or None
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
        path = BOUNDARY_PATHS.get(name)
        if path is None:
            abort(404)
        return send_file(path, mimetype="application/geo+json", max_age=3600)

    @app.callback(
        *[Output(i, p) for i, p, _ in CONTROLS],
        Output("url", "search"),
        Output("view", "data"),
        Output("notices", "children"),
        Output("player", "disabled"),
        Output("play", "children"),
        Output("saved-list", "value"),
        Input("url", "search"),
        *[Input(i, p) for i, p, _ in CONTROLS],
        Input("timeline", "selectedData"),
        Input("map", "clickData"),
        Input("map", "relayoutData"),
        Input("reset", "n_clicks"),
        Input("player", "n_intervals"),
        Input("play", "n_clicks"),
        Input("step-back", "n_clicks"),
        Input("step-forward", "n_clicks"),
        Input("exit-present", "n_clicks"),
        Input("saved-list", "value"),
        Input("prev-view", "n_clicks"),
        Input("next-view", "n_clicks"),
        State("view", "data"),
        State("player", "disabled"),
        State("play-mode", "value"),
        State("window-days", "value"),
        State("saved-list", "options"),
    )
    def sync_view(search, *args):
        control_values = args[: len(CONTROLS)]
        (timeline_selection, map_click, relayout, _reset, _tick, _play, _back, _forward, _exit, saved_value, _prev, _next,
         current_query, player_disabled, play_mode, window_days, saved_options) = args[len(CONTROLS):]
        trigger = ctx.triggered_id
        if trigger == "map" and "relayoutData" in (ctx.triggered[0]["prop_id"] if ctx.triggered else ""):
            trigger = "map-relayout"
        if trigger == "map-relayout" and not _map_centre(relayout):
            raise dash.exceptions.PreventUpdate  # a hover or resize, not a pan or zoom
        if trigger == "url" and current_query is not None and (search or "").lstrip("?") == current_query:
            raise dash.exceptions.PreventUpdate  # our own URL update coming back
        if trigger == "saved-list" and not saved_value:
            raise dash.exceptions.PreventUpdate
        # The saved-views file is read only when a saved view is being opened.
        slides = trigger in ("saved-list", "prev-view", "next-view")
        saved = {"options": saved_options or [], "value": saved_value, "views": _views_or_empty(data) if slides else []}
        if trigger is None:
            notices_at_start = load_notices(data)
        else:
            notices_at_start = []
        view, notices, playing, saved = next_view(
            store, trigger, search, dict(zip(CONTROL_KEYS, control_values)),
            {"timeline_selection": timeline_selection, "map_click": map_click, "relayout": relayout, "play_mode": play_mode or "day", "window_days": window_days or 7},
            current_query, not player_disabled, saved,
        )
        query = view_to_query(view)
        return (
            *controls_tuple(view, store),
            ("?" + query) if query else "",
            query,
            [html.P(n, className="notice") for n in notices_at_start + notices],
            not playing,
            "❚❚ Pause" if playing else "▶ Play",
            saved.get("value") if slides else no_update,
        )

    @app.callback(Output("player", "interval"), Input("speed", "value"))
    def set_speed(milliseconds):
        return int(milliseconds) if milliseconds in (500, 1000, 2000) else 1000

    @app.callback(
        Output("map", "figure"),
        Output("timeline", "figure"),
        Output("count", "children"),
        Output("summary", "children"),
        Output("source-line", "children"),
        Output("types", "options"),
        Output("sub-types", "options"),
        Output("table", "rowData"),
        Output("table-note", "children"),
        Output("root", "className"),
        Output("territory-summary", "children"),
        Input("view", "data"),
        Input("selection", "data"),
    )
    def render_view(query, selection):
        view, _ = fit_view_to_data(view_from_query(query or "")[0], store.bounds)
        selection = selection or {}
        selected_ids = tuple(selection.get("rows") or ())
        map_ids = selection.get("map")
        out = render_outputs(data, view, selected_ids, map_ids)
        root_class = f"root theme-{view.theme}" + (" present" if view.present else "")
        return (
            out["map"], out["timeline"], out["count"], out["summary"], source_line(data, view), out["type_options"],
            out["sub_type_options"], out["table"], out["table_note"], root_class, out["territory"],
        )

    # Selections reach the render through a store, set only when the user
    # selects: an Input on the lazily loaded grid or graph would hold the
    # first render back until their scripts have loaded (~1.5 s).
    @app.callback(
        Output("selection", "data"),
        Input("table", "selectedRows"),
        Input("map", "selectedData"),
        State("selection", "data"),
        prevent_initial_call=True,
    )
    def remember_selection(selected_rows, map_selection, previous):
        selection = dict(previous or {})
        if ctx.triggered_id == "table":
            selection["rows"] = [row.get("event_id") for row in selected_rows or () if isinstance(row, dict)]
        else:
            points = (map_selection or {}).get("points") or []
            selection["map"] = [p["customdata"][0] for p in points if p.get("customdata")] or None
        return selection

    @app.callback(Output("detail", "children"), Input("map", "clickData"), Input("table", "selectedRows"), State("mode", "value"))
    def show_detail(map_click, selected_rows, mode):
        event_id = None
        if ctx.triggered_id == "map" and map_click and mode == "points":
            custom = (map_click.get("points") or [{}])[0].get("customdata")
            event_id = custom[0] if custom else None
        elif ctx.triggered_id == "table" and selected_rows:
            event_id = selected_rows[-1].get("event_id")
        if event_id is None:
            return no_update
        return detail_panel(store.record(str(event_id)))

    @app.callback(Output("download", "data"), Input("download-button", "n_clicks"), State("view", "data"), prevent_initial_call=True)
    def download_csv(_, query):
        view, _ = fit_view_to_data(view_from_query(query or "")[0], store.bounds)
        records = store.records(store.query(view)).sort_values(["event_date", "event_id"])
        return dcc.send_string(events_to_csv(records), "events.csv")

    @app.callback(
        Output("saved-list", "options"),
        Output("views-message", "children"),
        Input("save-view", "n_clicks"),
        Input("delete-view", "n_clicks"),
        Input("import-views", "contents"),
        State("view-name", "value"),
        State("view", "data"),
        State("saved-list", "value"),
    )
    def manage_saved_views(_save, _delete, upload, name, query, chosen):
        message = ""
        try:
            if ctx.triggered_id == "save-view":
                views = save_view(data.views_path, name, query or "")
                message = f"Saved “{name.strip()}”."
            elif ctx.triggered_id == "delete-view" and chosen:
                views = delete_view(data.views_path, chosen)
                message = f"Deleted “{chosen}”."
            elif ctx.triggered_id == "import-views" and upload:
                text = base64.b64decode(upload.split(",", 1)[1]).decode("utf-8")
                views = import_views(data.views_path, text)
                message = f"Imported; {len(views)} saved views."
            else:
                views = read_views(data.views_path)
        except (SavedViewsError, UnicodeDecodeError, ValueError) as error:
            views, message = _views_or_empty(data), str(error)
        return [{"label": v["name"], "value": v["name"], "query": v["query"]} for v in views], message

    @app.callback(
        Output("export-download", "data"),
        Output("export-message", "children"),
        Input("export-button", "n_clicks"),
        State("view", "data"),
        State("export-format", "value"),
        State("export-size", "value"),
        State("export-width", "value"),
        State("export-height", "value"),
        State("export-title", "value"),
        prevent_initial_call=True,
    )
    def export_image(_, query, fmt, size, width, height, title):
        from .export import PRESETS, ExportError, export_bytes_for_page

        try:
            if size != "custom":
                width, height = PRESETS.get(size, PRESETS["slide"])
            if not isinstance(width, (int, float)) or not isinstance(height, (int, float)):
                raise ExportError("give a width and a height in pixels (100 to 8000)")
            content, name, _ = export_bytes_for_page(query or "", data, fmt, int(width), int(height), title)
        except ExportError as error:
            return no_update, f"Not exported: {error}."
        return dcc.send_bytes(content, name), f"Exported {name} ({len(content) / 1024:,.0f} KB)."

    @app.callback(Output("views-download", "data"), Input("export-views", "n_clicks"), prevent_initial_call=True)
    def export_saved_views(_):
        import json

        return dcc.send_string(json.dumps(_views_or_empty(data), ensure_ascii=False, indent=2), "saved_views.json")

    app.clientside_callback(
        "function(n) { return window.location.href; }",
        Output("copy-link", "content"),
        Input("copy-link", "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        """function(n) {
            const el = document.documentElement;
            if (document.fullscreenElement) { document.exitFullscreen(); }
            else if (el.requestFullscreen) { el.requestFullscreen().catch(() => {}); }
            return window.dash_clientside.no_update;
        }""",
        Output("fullscreen", "title"),
        Input("fullscreen", "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        "function(n, hidden) { return !hidden; }",
        Output("help", "hidden"),
        Input("help-button", "n_clicks"),
        State("help", "hidden"),
        prevent_initial_call=True,
    )
    return app


def load_notices(data: DashboardData) -> list[str]:
    """What the page says at start about rows that did not load."""
    notices = []
    for report in data.prepared.reports:
        if report.rows_rejected:
            notices.append(
                f"{Path(report.source).name}: {report.rows_rejected:,} of {report.rows_read:,} rows were rejected and are not shown; "
                f"`python -m dashboard validate {report.source}` lists them with their reasons."
            )
    return notices


def _views_or_empty(data: DashboardData) -> list[dict]:
    try:
        return read_views(data.views_path)
    except SavedViewsError:
        return []


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
