"""The page's layout: header, filters, map, timeline, table, playback, saved views.

Elements with the class "operator" are the operator's controls: presentation
mode folds them away (CSS in assets/style.css).
"""
from __future__ import annotations

import datetime as dt

import dash_ag_grid as dag
from dash import dcc, html

from ..basemap import ATTRIBUTION as BASEMAP_ATTRIBUTION
from ..boundaries import ATTRIBUTION
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


def day_marks(first: dt.date, last: dt.date) -> dict:
    """Slider marks at a readable step: days, weeks, months or years."""
    days = (last - first).days
    step = next(s for s in (1, 2, 7, 14, 30, 61, 91, 182, 365, 730, 10_000) if days / s <= 6)
    marks = {offset: (first + dt.timedelta(days=offset)).strftime("%-d %b" if days < 300 else "%b %Y") for offset in range(0, days, step)}
    marks[days] = last.strftime("%-d %b %Y")
    return marks


def _control(label, *children, **kwargs):
    return html.Div([html.Label(label, className="control-label"), *children], className="control", **kwargs)


def _region_options(store):
    names = store.region_names
    return [{"label": f"{names.get(c, c)} ({c})", "value": c} for c in store.bounds.regions]


def detail_placeholder():
    return [html.H2("Event record"), html.P("Click an event on the map, or a row in the table, to read its record and source.", className="muted")]


def _filters(data):
    store, bounds = data.store, data.store.bounds
    n_days = max((bounds.last_day - bounds.first_day).days, 1)
    return [
        _control(
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
                id="date-slider", min=0, max=n_days, step=1, value=[0, n_days],
                marks=day_marks(bounds.first_day, bounds.last_day), allowCross=True, updatemode="mouseup",
            ),
        ),
        _control(
            "Playback",
            html.Div(
                [
                    html.Button("◀", id="step-back", title="One day back (←)", className="button"),
                    html.Button("▶ Play", id="play", title="Play / pause (Space)", className="button play"),
                    html.Button("▶|", id="step-forward", title="One day forward (→)", className="button"),
                ],
                className="button-row",
            ),
            dcc.RadioItems(
                id="play-mode",
                options=[{"label": "day by day", "value": "day"}, {"label": "window", "value": "window"}, {"label": "cumulative", "value": "cumulative"}],
                value="day",
                inline=True,
            ),
            html.Div(
                [
                    html.Label("window days", htmlFor="window-days"),
                    dcc.Input(id="window-days", type="number", min=1, max=365, step=1, value=7, className="small-number"),
                    html.Label("per day:", htmlFor="speed"),
                    dcc.RadioItems(
                        id="speed",
                        options=[{"label": "½ s", "value": 500}, {"label": "1 s", "value": 1000}, {"label": "2 s", "value": 2000}],
                        value=1000, inline=True, className="speed",
                    ),
                ],
                className="playback-options",
            ),
        ),
        _control("Event type", dcc.Checklist(id="types", options=[], value=list(bounds.types), className="checklist")),
        html.Details(
            [html.Summary("Sub-types"), dcc.Checklist(id="sub-types", options=[], value=list(bounds.sub_types), className="checklist small")],
            className="control",
        ),
        _control("Country", dcc.Dropdown(id="countries", options=list(bounds.countries), multi=True, placeholder="Any country")),
        _control("Region (admin-1)", dcc.Dropdown(id="regions", options=_region_options(store), multi=True, placeholder="Any region")),
        _control("Actor", dcc.Dropdown(id="actors", options=sorted(a for a in bounds.actors if a), multi=True, placeholder="Any actor")),
        _control("Search place, summary and actors", dcc.Input(id="text", type="search", debounce=True, placeholder="e.g. oil depot")),
        html.Div(
            [
                _control(
                    "Events against the control line",
                    dcc.RadioItems(
                        id="territory-position",
                        options=[{"label": "all", "value": ""}, {"label": "inside", "value": "inside"}, {"label": "outside", "value": "outside"}],
                        value="", inline=True,
                    ),
                ),
                dcc.Checklist(id="territory-shown", options=[{"label": "Show control layer", "value": "on"}], value=["on"]),
                _control(
                    "Layer opacity",
                    dcc.Slider(id="territory-opacity", min=0.05, max=1, step=0.05, value=0.35, marks={0.05: "5%", 0.5: "50%", 1: "100%"}),
                ),
            ],
            hidden=data.territory is None,
        ),
        html.Button("Reset filters", id="reset", className="button"),
        export_controls(),
        html.Details(
            [
                html.Summary("Saved views (briefing slides)"),
                html.Div(
                    [
                        dcc.Input(id="view-name", type="text", placeholder="Name this view", maxLength=80, debounce=False),
                        html.Button("Save", id="save-view", className="button"),
                    ],
                    className="button-row",
                ),
                dcc.Dropdown(id="saved-list", options=[], placeholder="Open a saved view", clearable=True),
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
                        dcc.Upload(html.Button("Import views", className="button"), id="import-views", accept=".json,application/json"),
                        dcc.Download(id="views-download"),
                    ],
                    className="button-row",
                ),
                html.P(id="views-message", className="muted small"),
            ],
            className="control saved-views",
            open=True,
        ),
    ]


def _header(data):
    return html.Header(
        [
            html.Div([html.H1("Conflict events", id="title"), html.P(id="summary", className="summary"), html.P(id="source-line", className="source-line")], className="title-block"),
            html.Div(
                [
                    html.Span(id="count", className="count"),
                    dcc.RadioItems(
                        id="mode",
                        options=[{"label": "Points", "value": "points"}, {"label": "Regions", "value": "choropleth"}, {"label": "Density", "value": "density"}],
                        value="points", inline=True, className="mode",
                    ),
                    dcc.RadioItems(id="theme", options=[{"label": "Light", "value": "light"}, {"label": "Dark", "value": "dark"}], value="light", inline=True, className="theme"),
                    dcc.Checklist(id="present", options=[{"label": "Presentation", "value": "on"}], value=[], className="present-toggle"),
                    html.Button("Fullscreen", id="fullscreen", title="Fullscreen (f)", className="button"),
                    html.Span([dcc.Clipboard(id="copy-link", title="Copy a link to this view", className="copy-link"), html.Span("Copy link", className="small")], className="copy"),
                    html.Button("?", id="help-button", title="Keyboard shortcuts (?)", className="button icon"),
                ],
                className="header-controls operator",
            ),
            html.Button("Exit presentation (p)", id="exit-present", className="button exit-present"),
        ],
        className="header",
    )


def build_layout(data):
    table = dag.AgGrid(
        id="table",
        columnDefs=[{"field": f, "headerName": h, "width": w} for f, h, w in TABLE_COLUMNS],
        rowData=[],
        getRowId="params.data.event_id",
        defaultColDef={"sortable": True, "resizable": True, "filter": False},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 10,
            "paginationPageSizeSelector": False,
            "rowSelection": {"mode": "multiRow", "enableClickSelection": True, "checkboxes": False, "headerCheckbox": False},
        },
        className="ag-theme-quartz",
        style={"height": "430px"},
    )
    main = html.Main(
        [
            html.Div(id="notices", role="status", className="notices"),
            html.Div(
                [
                    dcc.Graph(id="map", config={"displaylogo": False, "scrollZoom": True, "modeBarButtonsToRemove": ["toImage"]}, className="map"),
                    legend_panel(),
                    html.Aside(id="detail", className="detail operator", children=detail_placeholder()),
                ],
                className="map-row",
            ),
            html.P(id="territory-summary", className="territory-summary", hidden=data.territory is None),
            html.P(f"{ATTRIBUTION}. {BASEMAP_ATTRIBUTION}. Events: {data.label}." + (f" Control line: {data.territory.source} ({data.territory.licence})." if data.territory else ""), id="attribution", className="attribution"),
            dcc.Graph(id="timeline", config={"displayModeBar": False}, className="timeline"),
            html.Div(
                [
                    html.Span(id="table-note", className="table-note"),
                    html.Button("Download CSV", id="download-button", className="button"),
                    dcc.Download(id="download"),
                ],
                className="table-bar operator",
            ),
            html.Div(table, className="operator"),
        ],
        className="main",
    )
    help_overlay = html.Div(
        [html.H2("Keyboard"), html.Dl([item for key, what in KEYS for item in (html.Dt(key), html.Dd(what))]), html.P("Press ? or Esc to close.", className="muted")],
        id="help", className="help", hidden=True,
    )
    return html.Div(
        [
            dcc.Location(id="url", refresh=False),
            dcc.Store(id="view"),
            dcc.Store(id="selection"),
            dcc.Interval(id="player", interval=1000, disabled=True),
            # Asks again while the store is not answering (app.store_trouble turns it on).
            dcc.Interval(id="store-retry", interval=5000, disabled=True),
            _header(data),
            html.Div([html.Aside(_filters(data), className="sidebar operator"), main], className="body"),
            help_overlay,
        ],
        id="root",
        className="root theme-light",
    )
