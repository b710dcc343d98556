"""The page's layout: header, filters, map, timeline, table, playback, saved views.

Elements with the class "operator" are the operator's controls: presentation
mode folds them away (CSS in assets/style.css).  The page is an app shell:
the header on top, the filters in a sidebar (a drawer on a phone), and the
map and timeline filling the rest of the screen, the table below them.
Groups of radios and checkboxes carry `data-label`: assets/a11y.js gives
Dash's option lists the right roles and these names.
"""
from __future__ import annotations

import dash_ag_grid as dag
from dash import dcc, html

from ..basemap import ATTRIBUTION as BASEMAP_ATTRIBUTION
from ..boundaries import ATTRIBUTION
from .dates import day_marks, show_day
from .export_control import export_controls
from .legend import legend_panel

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

KEYS = [
    ("← / →", "step one day back / forward"),
    ("Space", "play / pause"),
    ("p", "presentation mode on / off"),
    ("f", "fullscreen"),
    ("Page Up / Page Down", "previous / next saved view"),
    ("?", "show / hide this list"),
]
TABLE_HEIGHT = "430px"
TYPE_SEARCH_FROM = 11  # more types than this many-1 get a search box above the list

__all__ = ["TABLE_COLUMNS", "KEYS", "build_layout", "day_marks", "detail_placeholder", "table_grid"]


def _control(label, *children, label_for=None, **kwargs):
    heading = html.Label(label, htmlFor=label_for, className="control-label") if label_for else html.H3(label, className="control-label")
    return html.Div([heading, *children], className="control", **kwargs)


def _group(label, component, **kwargs):
    """A radio or checkbox group with an accessible name (assets/a11y.js reads data-label)."""
    return html.Div(component, **{"data-label": label}, className="group " + kwargs.pop("className", ""), **kwargs)


def _region_options(store):
    names = store.region_names
    return [{"label": f"{names.get(c, c)} ({c})", "value": c} for c in store.bounds.regions]


def detail_placeholder():
    return [html.H2("Event record"), html.P("Click an event on the map, or a row in the table, to read its record and source.", className="muted")]


def _dates(bounds):
    n_days = max((bounds.last_day - bounds.first_day).days, 1)
    first, last = show_day(bounds.first_day), show_day(bounds.last_day)
    return _control(
        "Dates",
        html.Div(
            [
                html.Label("From", htmlFor="date-from", className="small"),
                dcc.Input(id="date-from", type="text", debounce=True, placeholder=first, className="date-input", autoComplete="off"),
                html.Label("to", htmlFor="date-to", className="small"),
                dcc.Input(id="date-to", type="text", debounce=True, placeholder=last, className="date-input", autoComplete="off"),
            ],
            className="date-inputs",
        ),
        html.Div(
            dcc.RangeSlider(
                id="date-slider", min=0, max=n_days, step=1, value=[0, n_days],
                marks=day_marks(bounds.first_day, bounds.last_day), allowCross=False, updatemode="mouseup",
                allow_direct_input=False,
            ),
            className="slider-box", **{"data-first-day": bounds.first_day.isoformat()},
        ),
        html.P(f"{first} – {last}", id="date-readout", className="date-readout small", **{"data-first-day": bounds.first_day.isoformat()}),
    )


def _playback():
    return _control(
        "Playback",
        html.Div(
            [
                html.Button("◀", id="step-back", title="One day back (←)", className="button", **{"aria-label": "One day back"}),
                html.Button("▶ Play", id="play", title="Play / pause (Space)", className="button play"),
                html.Button("▶|", id="step-forward", title="One day forward (→)", className="button", **{"aria-label": "One day forward"}),
            ],
            className="button-row",
        ),
        _group(
            "Playback shows",
            dcc.RadioItems(
                id="play-mode",
                options=[{"label": "day by day", "value": "day"}, {"label": "window", "value": "window"}, {"label": "cumulative", "value": "cumulative"}],
                value="day", inline=True,
            ),
        ),
        html.Div(
            [
                html.Label("window days", htmlFor="window-days"),
                dcc.Input(id="window-days", type="number", min=1, max=365, step=1, value=7, className="small-number"),
                _group(
                    "Seconds per day",
                    dcc.RadioItems(
                        id="speed",
                        options=[{"label": "¼ s", "value": 250}, {"label": "½ s", "value": 500}, {"label": "1 s", "value": 1000},
                                 {"label": "2 s", "value": 2000}],
                        value=1000, inline=True, className="speed",
                    ),
                ),
            ],
            className="playback-options",
        ),
    )


def _types(bounds):
    searchable = len(bounds.types) >= TYPE_SEARCH_FROM
    return html.Div(
        [
            html.Div(
                [
                    html.H3("Event type", className="control-label"),
                    html.Button("All", id="types-all", className="button link", **{"aria-label": "All event types"}),
                    html.Button("None", id="types-none", className="button link", **{"aria-label": "None of the event types"}),
                ],
                className="types-head",
            ),
            html.Div(
                [
                    html.Label("Find a type", htmlFor="types-search", className="small"),
                    dcc.Input(id="types-search", type="search", placeholder="e.g. protest", className="wide", autoComplete="off"),
                ],
                hidden=not searchable, className="types-search",
            ),
            _group("Event types", dcc.Checklist(id="types", options=[], value=list(bounds.types), className="checklist")),
        ],
        className="control types-control",
    )


def _filters(data):
    store, bounds = data.store, data.store.bounds
    return [
        html.Div(
            [html.H2("Filters", className="sidebar-title"),
             html.Button("Close", id="drawer-close", className="button drawer-close", **{"aria-label": "Close the filters"})],
            className="sidebar-head",
        ),
        _dates(bounds),
        _playback(),
        _types(bounds),
        html.Details(
            [html.Summary("Sub-types"), _group("Sub-types", dcc.Checklist(id="sub-types", options=[], value=list(bounds.sub_types), className="checklist small"))],
            className="control",
        ),
        _control("Country", dcc.Dropdown(id="countries", options=list(bounds.countries), multi=True, placeholder="Any country"), **{"data-label": "Country"}),
        _control("Region (admin-1)", dcc.Dropdown(id="regions", options=_region_options(store), multi=True, placeholder="Any region"), **{"data-label": "Region"}),
        _control("Actor", dcc.Dropdown(id="actors", options=sorted(a for a in bounds.actors if a), multi=True, placeholder="Any actor"), **{"data-label": "Actor"}),
        _control(
            "Search place, summary and actors",
            dcc.Input(id="text", type="search", debounce=True, placeholder="e.g. oil depot", autoComplete="off"),
            label_for="text",
        ),
        html.Div(
            [
                _control(
                    "Events against the control line",
                    _group(
                        "Events against the control line",
                        dcc.RadioItems(
                            id="territory-position",
                            options=[{"label": "all", "value": ""}, {"label": "inside", "value": "inside"}, {"label": "outside", "value": "outside"}],
                            value="", inline=True,
                        ),
                    ),
                ),
                _group("Control layer", dcc.Checklist(id="territory-shown", options=[{"label": "Show control layer", "value": "on"}], value=["on"])),
                _control(
                    "Layer opacity",
                    html.Div(
                        dcc.Slider(id="territory-opacity", min=0.05, max=1, step=0.05, value=0.35, marks={0.05: "5%", 0.5: "50%", 1: "100%"},
                                   allow_direct_input=False),
                        className="opacity-box",
                    ),
                ),
            ],
            hidden=data.territory is None,
        ),
        html.Button("Reset filters", id="reset", className="button"),
        export_controls(),
        _saved_views(),
    ]


def _saved_views():
    return html.Details(
        [
            html.Summary("Saved views (briefing slides)"),
            html.Div(
                [
                    html.Label("Name", htmlFor="view-name", className="small"),
                    dcc.Input(id="view-name", type="text", placeholder="Name this view", maxLength=80, debounce=False, autoComplete="off"),
                    html.Button("Save", id="save-view", className="button"),
                ],
                className="button-row",
            ),
            html.Div(dcc.Dropdown(id="saved-list", options=[], placeholder="Open a saved view", clearable=True), **{"data-label": "Saved view"}),
            html.Div(
                [
                    html.Button("◀ Previous", id="prev-view", className="button", title="Page Up"),
                    html.Button("Next ▶", id="next-view", className="button", title="Page Down"),
                    html.Button("Delete", id="delete-view", className="button"),
                ],
                className="button-row",
            ),
            html.Div(
                [
                    html.Button("Export views", id="export-views", className="button"),
                    # A span, not a button: the upload's own file input is the control (no nested buttons).
                    dcc.Upload(html.Span("Import views", className="button"), id="import-views", accept=".json,application/json",
                               className="upload"),
                    dcc.Download(id="views-download"),
                ],
                className="button-row",
            ),
            html.P(id="views-message", className="muted small", role="status"),
        ],
        className="control saved-views",
        open=True,
    )


def _header(data):
    return html.Header(
        [
            html.Button("☰ Filters", id="drawer-button", className="button drawer-button operator",
                        **{"aria-controls": "sidebar", "aria-expanded": "false"}),
            html.Div(
                [
                    html.H1(data.title or "Conflict events", id="title"),
                    html.P([html.Span(id="count", className="count"), html.Span(id="summary", className="summary")], className="status-line"),
                    html.P(id="source-line", className="source-line"),
                ],
                className="title-block",
            ),
            html.Div(
                [
                    _group(
                        "Map view",
                        dcc.RadioItems(
                            id="mode",
                            options=[{"label": "Points", "value": "points"}, {"label": "Regions", "value": "choropleth"}, {"label": "Density", "value": "density"}],
                            value="points", inline=True, className="mode",
                        ),
                    ),
                    _group("Theme", dcc.RadioItems(id="theme", options=[{"label": "Light", "value": "light"}, {"label": "Dark", "value": "dark"}], value="light",
                                                   inline=True, className="theme")),
                    _group("Presentation", dcc.Checklist(id="present", options=[{"label": "Presentation", "value": "on"}], value=[], className="present-toggle")),
                    html.Button("Fullscreen", id="fullscreen", title="Fullscreen (f)", className="button"),
                    html.Button("Copy link", id="copy-link", title="Copy a link to this view", className="button"),
                    html.Span(id="copy-status", className="small copy-status", role="status"),
                    html.Button("?", id="help-button", title="Keyboard shortcuts (?)", className="button icon", **{"aria-label": "Keyboard shortcuts"}),
                ],
                className="header-controls operator",
            ),
            html.Button("Exit presentation (p)", id="exit-present", className="button exit-present"),
        ],
        className="header",
    )


def table_grid(rows: list[dict], class_name: str = "ag-theme-quartz"):
    """The events table, made once the table is first scrolled to (callbacks.show_table): the
    grid's own code (async-community.js, 0.9 MB) and its rows stay off the first load."""
    return dag.AgGrid(
        id="table",
        columnDefs=[
            {"field": f, "headerName": h, "width": w}
            # ISO in the data (it sorts); 11 Jan 2025 on screen, as everywhere on the page.
            | ({"valueFormatter": {"function": "isoText(params.value)"}}
               if f == "event_date" else {})
            for f, h, w in TABLE_COLUMNS
        ],
        rowData=rows,
        getRowId="params.data.event_id",
        defaultColDef={"sortable": True, "resizable": True, "filter": False},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 10,
            "paginationPageSizeSelector": False,
            "rowSelection": {"mode": "multiRow", "enableClickSelection": True, "checkboxes": False, "headerCheckbox": False},
        },
        className=class_name,
        style={"height": TABLE_HEIGHT},
    )


def table_holder():
    """Where the table goes: the grid's height kept (the page does not jump when it arrives)."""
    return html.Div(html.P("The table is drawn when you scroll to it.", className="muted table-wait"),
                    id="table-holder", className="table-holder", style={"minHeight": TABLE_HEIGHT})


def build_layout(data):
    attribution = f"{ATTRIBUTION}. {BASEMAP_ATTRIBUTION}. Events: {data.label}." + (
        f" Control line: {data.territory.source} ({data.territory.licence})." if data.territory else ""
    )
    stage = html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            dcc.Graph(id="map", config={"displaylogo": False, "scrollZoom": True, "modeBarButtonsToRemove": ["toImage"]},
                                      className="map"),
                            html.Aside(
                                [
                                    html.Button("×", id="detail-close", className="button icon detail-close", **{"aria-label": "Close the record"}),
                                    html.Div(detail_placeholder(), id="detail-body"),
                                ],
                                id="detail", className="detail operator", **{"aria-label": "Event record"},
                            ),
                        ],
                        className="map-area",
                    ),
                    legend_panel(),  # beside the map (web/legend.py, assets/map.css)
                ],
                className="map-wrap",
            ),
            html.P(id="territory-summary", className="territory-summary", hidden=data.territory is None),
            html.P(attribution, id="attribution", className="attribution"),
            dcc.Graph(id="timeline", config={"displayModeBar": False}, className="timeline"),
        ],
        className="stage",
    )
    main = html.Main(
        [
            html.Div(id="notices", role="status", className="notices operator-notices"),
            stage,
            html.Section(
                [
                    html.Div(
                        [
                            html.H2("Events", className="table-title"),
                            html.Span(id="table-note", className="table-note"),
                            html.Button("Download CSV", id="download-button", className="button"),
                            dcc.Download(id="download"),
                        ],
                        className="table-bar",
                    ),
                    table_holder(),
                ],
                className="table-section operator", **{"aria-label": "Table of the events"},
            ),
        ],
        className="main",
    )
    help_overlay = html.Div(
        [html.H2("Keyboard"), html.Dl([item for key, what in KEYS for item in (html.Dt(key), html.Dd(what))]), html.P("Press ? or Esc to close.", className="muted")],
        id="help", className="help", hidden=True, role="dialog", **{"aria-label": "Keyboard shortcuts"},
    )
    return html.Div(
        [
            dcc.Location(id="url", refresh=False),
            dcc.Store(id="view"),
            dcc.Store(id="selection"),
            dcc.Store(id="table-shown", data=False),  # set once the table is scrolled to (assets/table.js)
            dcc.Store(id="fly-to"),
            dcc.Store(id="map-moved"),  # the map's relayoutData, pans and zooms only (callbacks.py)
            dcc.Interval(id="player", interval=1000, disabled=True),
            dcc.Store(id="play-step"),  # the player's tick, let through once the map has drawn the last day (assets/page.js)
            # Asks again while the store is not answering (app.store_trouble turns it on).
            dcc.Interval(id="store-retry", interval=5000, disabled=True),
            _header(data),
            html.Div(
                [html.Aside(_filters(data), id="sidebar", className="sidebar operator", **{"aria-label": "Filters"}), main],
                className="body",
            ),
            html.Div(id="drawer-backdrop", className="drawer-backdrop"),
            help_overlay,
        ],
        id="root",
        className="root theme-light",
    )
