"""The page's callbacks: each gathers its inputs, calls a pure function, hands back the result.

One carries the page: `update_page` turns what changed into the next view,
keeps the controls and the URL in step with it (a shared link restores the
view; back and forward step through views) and sends what the view shows,
all in one round trip.  Inputs and outputs of the controls come from the
table in controls.py.  Every value
from the browser is checked before use: a crafted request gets the page's
fallback and a notice, never a server error.
"""
from __future__ import annotations

import base64
import binascii
import json

import dash
from dash import Input, Output, State, ctx, dcc, html, no_update, set_props

from ..ingest.write import events_to_csv
from ..store.dataset import Dataset
from ..store.saved_views import FileSavedViews, SavedViewsError, views_file_for
from ..view import fit_view_to_data, view_from_query, view_to_query
from .controller import SLIDE_TRIGGERS, map_centre, next_view
from .controls import CONTROLS, controls_from_view
from .map_clicks import country_level_detail, detail_for_click
from .answers import remembered_outputs
from .layout import table_grid
from .outputs import SHOWN, TABLE_PROPS, redraw_kind, table_class, table_part
from .panels import detail_panel, load_notices

SPEEDS_MS = (250, 500, 1000, 2000)
DETAIL_OPEN, DETAIL_CLOSED = "detail operator open", "detail operator"  # the record panel opens over the map only when used
# Buttons win over the controls they fire with: Reset right after typing commits the text and
# clicks Reset in one request, and Reset is what was meant.
BUTTONS = ("reset", "play", "step-back", "step-forward", "exit-present", "prev-view", "next-view")
MAX_SELECTED = 5_000  # ids in one table or map selection


def current_view(data: Dataset, query):
    """The view in the page's view store (a query string), valid for the data."""
    view, _ = view_from_query(query if isinstance(query, str) else "")
    return fit_view_to_data(view, data.store.bounds)[0]


def first_trigger():
    """The id that changed; a button when one did, whatever else changed with it."""
    changed = [t["prop_id"].split(".")[0] for t in ctx.triggered or []]
    # A table row fires the selection and the fly-to together: the fly-to carries the selection with it.
    return next((b for b in BUTTONS + ("fly-to",) if b in changed), ctx.triggered_id)


def _saved_slide(value, options):
    """(name, query) of the saved view chosen in the list, for the title."""
    if not isinstance(value, str) or not isinstance(options, list):
        return None
    query = next((o.get("query") for o in options if isinstance(o, dict) and value in (o.get("value"), o.get("name"))), None)
    return (value, query) if isinstance(query, str) else None


def register_view_callbacks(app: dash.Dash, data: Dataset) -> None:
    store = data.store

    @app.callback(
        output={
            "controls": {c.id: Output(c.id, c.prop) for c in CONTROLS},
            "search": Output("url", "search"),
            "view": Output("view", "data"),
            "notices": Output("notices", "children"),
            "player_disabled": Output("player", "disabled"),
            "play_label": Output("play", "children"),
            "saved_value": Output("saved-list", "value"),
            "shown": {key: Output(i, p) for key, (i, p) in SHOWN.items()},
            "retry_off": Output("store-retry", "disabled"),
        },
        inputs={
            "search": Input("url", "search"),
            "controls": {c.id: Input(c.id, c.prop) for c in CONTROLS},
            "timeline_selection": Input("timeline", "selectedData"),
            "map_click": Input("map", "clickData"),
            "relayout": Input("map-moved", "data"),
            "buttons": [Input(i, "n_clicks") for i in BUTTONS],
            "fly_to": Input("fly-to", "data"),
            "tick": Input("play-step", "data"),  # the player's tick, once the last day is drawn (register_page_helpers)
            "saved_value": Input("saved-list", "value"),
            "selection": Input("selection", "data"),
            "retry": Input("store-retry", "n_intervals"),  # on while the store is not answering (app.store_trouble)
            "current_query": State("view", "data"),
            "player_disabled": State("player", "disabled"),
            "play_mode": State("play-mode", "value"),
            "window_days": State("window-days", "value"),
            "saved_options": State("saved-list", "options"),
            "table_shown": State("table-shown", "data"),  # no table yet: no rows made or sent (show_table)
        },
    )
    def update_page(search, controls, timeline_selection, map_click, relayout, buttons, fly_to, tick, saved_value, selection, retry,
                    current_query, player_disabled, play_mode, window_days, saved_options, table_shown):
        """One round trip per action: the new view, its URL and what it shows, in one response.

        What the page already shows is not sent again: a pan or zoom sends
        nothing to draw, a filter change sends only the figures' data
        (Dash Patch), and only a change of mode, theme or presentation
        redraws the figures whole (see outputs.redraw_kind)."""
        trigger = first_trigger()
        trigger = "player" if trigger == "play-step" else trigger
        search = search if isinstance(search, str) else ""
        current_query = current_query if isinstance(current_query, str) else None
        if trigger == "map-moved":
            trigger = "map-relayout"
            if not map_centre(relayout):
                raise dash.exceptions.PreventUpdate
        if trigger == "url" and current_query is not None and search.lstrip("?") == current_query:
            raise dash.exceptions.PreventUpdate  # our own URL update coming back
        if trigger == "saved-list" and not saved_value:
            raise dash.exceptions.PreventUpdate
        if trigger == "player" and player_disabled is True:
            raise dash.exceptions.PreventUpdate  # a tick that arrives after Pause (assets/page.js catches up late ticks)
        slides = trigger in SLIDE_TRIGGERS
        saved = {"options": saved_options if isinstance(saved_options, list) else [], "value": saved_value, "views": []}
        notices = load_notices(data) if trigger is None else []
        if slides:  # the saved-views file is read only when a saved view is being opened
            try:
                saved["views"] = data_views(data).list()
            except SavedViewsError as error:
                notices.append(str(error))
        if trigger == "selection":
            view, view_notices, playing = current_view(data, current_query), [], not player_disabled
        else:
            view, view_notices, playing, saved = next_view(
                store.bounds, trigger, search, controls,
                {"timeline_selection": timeline_selection, "map_click": map_click, "relayout": relayout,
                 "play_mode": play_mode, "window_days": window_days, "fly_to": fly_to},
                current_query, not player_disabled, saved,
            )
        query = view_to_query(view)
        before = None if trigger is None or current_query is None else current_view(data, current_query)
        selection = selection if isinstance(selection, dict) else {}
        kind = "patch" if trigger in ("selection", "fly-to") else redraw_kind(before, view, data)
        if trigger == "store-retry":
            kind = "full"  # the store was not answering: the failed draw may have been the first
        slide = _saved_slide(saved.get("value") if slides else saved_value, (saved.get("views") or []) + saved["options"])
        return {
            "controls": changed_controls(controls_from_view(view, store.bounds), controls),
            "search": ("?" + query) if query else "",
            "view": query,
            "notices": [html.P(n, className="notice") for n in notices + view_notices],
            "player_disabled": not playing,
            "play_label": "❚❚ Pause" if playing else "▶ Play",
            "saved_value": saved.get("value") if slides else no_update,
            "shown": _with_table(remembered_outputs(data, view, kind, _ids(selection.get("rows")), _ids(selection.get("map")) or None,
                                                    slide, move_map=trigger == "fly-to", before=before, table=table_shown is True)),
            "retry_off": True,  # answered: stop asking again
        }

    def _with_table(shown: dict) -> dict:
        """The SHOWN outputs; the table's props go to the table with set_props (it is in the page only once scrolled to)."""
        table = {prop: shown.pop(key, no_update) for key, prop in TABLE_PROPS.items()}
        table = {prop: value for prop, value in table.items() if value is not no_update}
        if table:
            set_props("table", table)
        return shown

    @app.callback(Output("player", "interval"), Input("speed", "value"))
    def set_speed(milliseconds):
        return milliseconds if milliseconds in SPEEDS_MS else 1000

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
        selection = dict(previous) if isinstance(previous, dict) else {}
        if ctx.triggered_id == "table":
            rows = selected_rows if isinstance(selected_rows, list) else []
            selection["rows"] = _ids([row.get("event_id") for row in rows if isinstance(row, dict)])
        else:
            points = (map_selection or {}).get("points") if isinstance(map_selection, dict) else None
            custom = [p.get("customdata") for p in points or [] if isinstance(p, dict)]
            # A mark stands for the events whose ids it carries (render/points.py), or for its own id.
            selection["map"] = _ids([i for c in custom if isinstance(c, list) and c
                                     for i in (c[6].split(",") if len(c) > 6 and isinstance(c[6], str) and c[6] else [c[0]])]) or None
        return selection

    @app.callback(
        Output("detail-body", "children"),
        Output("detail", "className"),
        Output("fly-to", "data"),
        Input("map", "clickData"),
        Input("table", "selectedRows"),
        Input("detail-close", "n_clicks"),
        State("mode", "value"),
        State("view", "data"),
        prevent_initial_call=True,
    )
    def show_detail(map_click, selected_rows, _close, mode, query):
        if ctx.triggered_id == "detail-close":
            return no_update, DETAIL_CLOSED, no_update
        if ctx.triggered_id == "map":  # an event's record, or the list behind a cluster, stack or region (map_clicks.py)
            shown = detail_for_click(data, current_view(data, query), map_click) if mode == "points" else None
            return (shown, DETAIL_OPEN, no_update) if shown is not None else (no_update, no_update, no_update)
        event_id = None
        if ctx.triggered_id == "table" and isinstance(selected_rows, list) and selected_rows and isinstance(selected_rows[-1], dict):
            event_id = selected_rows[-1].get("event_id")
        if not isinstance(event_id, str):
            return no_update, no_update, no_update
        record = store.record(event_id)
        if record is None:
            return detail_panel(None), DETAIL_OPEN, no_update
        # A row chosen in the table brings the map to its event; a click on the map is already there.
        fly = {"lat": record.get("latitude"), "lon": record.get("longitude"), "precision": record.get("geo_precision"), "id": event_id}
        return detail_panel(record, data), DETAIL_OPEN, fly

    @app.callback(
        Output("detail-body", "children", allow_duplicate=True),
        Output("detail", "className", allow_duplicate=True),
        Input("country-level-request", "data"),  # a click on the legend's button (assets/page.js)
        State("view", "data"),
        prevent_initial_call=True,
    )
    def list_country_level(clicks, query):
        return (country_level_detail(data, current_view(data, query)), DETAIL_OPEN) if clicks else (no_update, no_update)

    @app.callback(
        Output("table-holder", "children"),
        Input("table-shown", "data"),
        State("view", "data"),
        State("selection", "data"),
        prevent_initial_call=True,
    )
    def show_table(shown, query, selection):
        """The table, once scrolled to: the grid with the rows of the view the page shows (update_page sends them from then on)."""
        if shown is not True:
            raise dash.exceptions.PreventUpdate
        view = current_view(data, query)
        selection = selection if isinstance(selection, dict) else {}
        rows, _ = table_part(store, view, store.count(view), _ids(selection.get("map")) or None)
        return table_grid(rows, table_class(view))

    @app.callback(Output("download", "data"), Input("download-button", "n_clicks"), State("view", "data"), prevent_initial_call=True)
    def download_csv(_, query):
        records = store.records(current_view(data, query)).sort_values(["event_date", "event_id"])
        return dcc.send_string(events_to_csv(records), "events.csv")


def data_views(data: Dataset):
    """The dataset's saved views (a file beside the data, or the team database)."""
    return data.views if data.views is not None else FileSavedViews(views_file_for([]))


def register_saved_view_callbacks(app: dash.Dash, data: Dataset) -> None:
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
        views_store = data_views(data)
        message = ""
        try:
            if ctx.triggered_id == "save-view":
                views = views_store.save(name, query if isinstance(query, str) else "")
                message = f"Saved “{name.strip()}”."
            elif ctx.triggered_id == "delete-view" and isinstance(chosen, str):
                views = views_store.delete(chosen)
                message = f"Deleted “{chosen}”."
            elif ctx.triggered_id == "import-views" and upload:
                views = views_store.import_text(_uploaded_text(upload))
                message = f"Imported; {len(views)} saved views."
            else:
                views = views_store.list()
        except SavedViewsError as error:
            message = str(error)
            try:
                views = views_store.list()
            except SavedViewsError:
                views = []
        return [{"label": v["name"], "value": v["name"], "query": v["query"]} for v in views], message

    @app.callback(Output("views-download", "data"), Input("export-views", "n_clicks"), prevent_initial_call=True)
    def export_saved_views(_):
        try:
            views = data_views(data).list()
        except SavedViewsError:
            views = []
        return dcc.send_string(json.dumps(views, ensure_ascii=False, indent=2), "saved_views.json")


def _uploaded_text(upload) -> str:
    """The text of a dcc.Upload data URL ("data:...;base64,...")."""
    if not isinstance(upload, str) or "," not in upload:
        raise SavedViewsError("That upload could not be read; choose a .json file exported from this page.")
    try:
        return base64.b64decode(upload.split(",", 1)[1], validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise SavedViewsError("That file is not UTF-8 JSON; choose a .json file exported from this page.") from None


def changed_controls(new: dict, shown) -> dict:
    """The controls whose widgets do not already show the view; the others are not sent.

    A widget sent its own value again is drawn again by the page, and every
    callback listening to it runs: work in the browser on each action for
    nothing.  Values are compared as the JSON that travels."""
    shown = shown if isinstance(shown, dict) else {}

    def same(a, b) -> bool:
        try:
            return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
        except (TypeError, ValueError):
            return False

    return {key: no_update if key in shown and same(value, shown[key]) else value for key, value in new.items()}


def _ids(values) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(v for v in values[:MAX_SELECTED] if isinstance(v, str))


def register_page_helpers(app: dash.Dash) -> None:
    """Browser-only bookkeeping: copy link, fullscreen, the keyboard help, the date readout (assets/page.js)."""
    # Only pans and zooms reach the server. Plotly also reports an autosize when the map
    # is first laid out; sent to update_page, that call superseded the first answer still
    # in flight (Dash keeps only the newest call of a callback), so a page whose first
    # answer took seconds (a million events) never drew at all.
    app.clientside_callback(
        """function(relayout) {
            return relayout && relayout['map.center'] ? relayout : window.dash_clientside.no_update;
        }""",
        Output("map-moved", "data"),
        Input("map", "relayoutData"),
        prevent_initial_call=True,
    )
    # Playback steps no faster than the map draws: a tick while the last day is
    # still being drawn is held (the newest only) and sent once it is drawn, so
    # days never queue up behind the repaint and a slow day costs no whole interval.
    app.clientside_callback(
        "function(n) { return window.dashboardPage.playStep(n); }",
        Output("play-step", "data"),
        Input("player", "n_intervals"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        "function(n) { return window.dashboardPage.copyLink(); }",
        Output("copy-status", "children"),
        Input("copy-link", "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        """function(drag, value) {
            const t = ((window.dash_clientside.callback_context.triggered || [])[0] || {}).prop_id || '';
            return window.dashboardPage.readout(t.indexOf('drag_value') >= 0 ? drag : value);
        }""",
        Output("date-readout", "children"),
        Input("date-slider", "drag_value"),
        Input("date-slider", "value"),
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
