"""The map's legend on the page: beside the map (under it on narrow screens), never on it.

`legend_panel()` is the empty container layout.py places next to the map;
`legend_children()` fills it from render.legend's entries on every render.
A type in the legend is a button: clicking it ticks or unticks that type in
the "Event type" checklist, the one place the filter lives.  Styles in
assets/map.css.
"""
from __future__ import annotations

import dash
from dash import Input, Output, dcc, html

from ..render.legend import Entry, Legend

VISIBLE_TYPES = 8  # types listed before "…and N more" (the rest fold away)


def legend_panel():
    return html.Aside(
        [
            html.Details([html.Summary("Legend", className="legend-title"), html.Div(id="map-legend-body", children=[html.Button(id="legend-country-level", hidden=True)])], id="map-legend-details", open=True),
            dcc.Store(id="map-zoom-request"),
            dcc.Store(id="country-level-request"),  # set by a click on legend-country-level (assets/page.js)
        ],
        id="map-legend",
        className="map-legend",
        **{"aria-label": "Map legend"},
    )


def _swatch(entry: Entry):
    size = max(min(entry.size_px, 40), 4)
    style = {"width": f"{size:.0f}px", "height": f"{size:.0f}px"}
    if entry.shape == "ramp":
        stops = ", ".join(entry.ramp)
        return html.Span(className="legend-ramp", style={"background": f"linear-gradient(to right, {stops})"})
    if entry.shape == "text" or not entry.colour:
        return None
    if entry.shape == "square":
        style.update(background=entry.colour, opacity=entry.opacity)
        return html.Span(className="legend-swatch square", style=style)
    if entry.shape == "ring":
        style.update(background=entry.colour, opacity=max(entry.opacity, 0.35), border=f"2px solid {entry.colour}")
        return html.Span(className="legend-swatch ring", style=style)
    style.update(background=entry.colour, opacity=entry.opacity)
    return html.Span(className="legend-swatch", style=style)


def _type_row(entry: Entry):
    label = f"{entry.label} ({entry.count:,})" if entry.count is not None else entry.label
    return html.Li(
        html.Button(
            [html.Span(_swatch(entry), className="legend-symbol"), html.Span(label, className="legend-label")],
            className="legend-type" + ("" if entry.active else " off"),
            **{"data-type": entry.event_type},  # a click ticks or unticks it in the checklist (assets/page.js)
            title=("Hide" if entry.active else "Show") + f" {entry.label} on the map",
            **{"aria-pressed": "true" if entry.active else "false"},
        )
        if entry.event_type
        else [html.Span(_swatch(entry), className="legend-symbol"), html.Span(label, className="legend-label")],
        className="legend-row",
    )


def _row(entry: Entry):
    swatch = _swatch(entry)
    children = [html.Span(swatch, className="legend-symbol")] if swatch is not None else []
    children.append(html.Span([entry.label] + ([html.Br(), html.Small(entry.note, className="muted")] if entry.note else []), className="legend-label"))
    return html.Li(children, className="legend-row")


def legend_children(legend: Legend, country_level: int = 0):
    """The legend's groups as HTML; the first VISIBLE_TYPES types shown, the rest behind "…and N more"."""
    blocks = []
    country_button = html.Button(
        f"List the {country_level:,} country-level event{'s' if country_level != 1 else ''}",
        id="legend-country-level", className="button small", hidden=not country_level,
    )
    for title, entries in legend.groups:
        if title == "Event type":
            typed = [e for e in entries if e.event_type]
            rows = [_type_row(e) for e in typed[:VISIBLE_TYPES]] + [_type_row(e) for e in entries if not e.event_type]  # "Other types" stays in sight
            more = [_type_row(e) for e in typed[VISIBLE_TYPES:]] + [_type_row(e) for e in legend.hidden_types]
            block = [html.H3(title), html.Ul(rows, className="legend-list")]
            if more:
                block.append(html.Details([html.Summary(f"…and {len(more)} more"), html.Ul(more, className="legend-list")], className="legend-more"))
        else:
            block = [html.H3(title), html.Ul([_row(e) for e in entries], className="legend-list")]
            if title == "Location precision":
                block.append(country_button)
                country_button = None
        blocks.append(html.Section(block, className="legend-group"))
    if country_button is not None:
        blocks.append(country_button)  # hidden, but always there to be found
    return blocks


def register_legend_callbacks(app: dash.Dash, data) -> None:
    # A type's button in the legend ticks or unticks it in the checklist in the
    # browser (assets/page.js): the legend is drawn again on every change, and a
    # callback on its buttons would be called each time they reappear.
    app.clientside_callback(
        """function(click) {
            const point = click && click.points && click.points[0];
            const custom = point && point.customdata;
            if (!custom || custom[1] !== "cluster") { return window.dash_clientside.no_update; }
            const graph = document.querySelector("#map .js-plotly-plot");
            if (!graph || !graph._fullLayout || !graph._fullLayout.map) { return window.dash_clientside.no_update; }
            const zoom = Math.min(graph._fullLayout.map.zoom + 2, 12);
            Plotly.relayout(graph, {"map.center": {lat: +custom[2], lon: +custom[3]}, "map.zoom": zoom});
            return [+custom[2], +custom[3], zoom];
        }""",
        Output("map-zoom-request", "data"),
        Input("map", "clickData"),
        prevent_initial_call=True,
    )

