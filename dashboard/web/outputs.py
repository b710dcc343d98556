"""Everything one view shows on the page, from the store through the contract."""
from __future__ import annotations

from dash import Patch, html, no_update

from ..render.map import map_figure
from ..render.plain import PlainFigure
from ..render.territory import territory_for_view
from .legend_outputs import follows_position, map_legend
from ..render.timeline import range_shading, same_bars, timeline_figure
from ..schema import type_colour
from ..store.dataset import Dataset
from ..view import ViewState
from .panels import TABLE_FIELDS, table_rows
from .words import filters_line, page_title, source_text

TABLE_LIMIT = 500  # rows sent to the table (50 pages); the CSV download has them all
PRESENT_MAP_SCALE, PRESENT_TIMELINE_SCALE = 1.5, 1.4  # presentation mode: bigger marks and text


def render_outputs(data: Dataset, view: ViewState, selected_ids=(), map_selection_ids=None, saved=None,
                   timeline_bars: bool = True, table: bool = True) -> dict:
    """Everything the view shows; the main callback returns these.

    saved: (name, query) of the saved view last opened, for the title;
    timeline_bars: False when the page's timeline already has this view's bars (only its shading is made);
    table: False while the page has no table yet (its rows are None, not asked for)."""
    store = data.store
    count = store.count(view)
    territory_layers, territory_label, territory_sentence = territory_for_view(data, view)
    marks, legend = map_legend(data, view, territory_layers)
    figure = map_figure(
        view,
        store,
        territory=territory_layers,
        territory_label=territory_label,
        basemap=data.basemap,
        selected_ids=tuple(selected_ids),
        scale=PRESENT_MAP_SCALE if view.present else 1.0,
        marks=marks,
        legend_traces=False,  # the legend is beside the map (legend_outputs)
        plain=True,  # sent as built: no go.Figure checks and copies
    )
    if view.present:
        figure = for_the_room(figure)
    figure = whole_number_colour_bars(figure)
    if timeline_bars:
        timeline = timeline_figure(view, store, scale=PRESENT_TIMELINE_SCALE if view.present else 1.0)
    else:
        timeline = {"layout": {"shapes": [range_shading(view, store)]}}
    type_counts = store.counts_by_type(view.replace(types=None, sub_types=None))
    sub_counts = store.counts_by_sub_type(view.replace(sub_types=None))
    rows, table_note = table_part(store, view, count, map_selection_ids, table)
    title, summary = page_title(view, store, *(saved or (None, None))), filters_line(view, store, count)
    return {
        "map": figure,
        "legend": legend,
        "timeline": timeline,
        "count": f"{count:,} of {store.total:,} events",
        "summary": summary,
        "title": title,
        "title_hint": title,  # the header keeps one line so the map never jumps; the whole text on hover
        "summary_hint": summary,
        "source_line": source_text(data, view),
        "type_options": [
            {
                "label": html.Span(
                    [
                        html.Span(className="swatch", style={"background": type_colour(t, store.custom_types, store.bounds.types)}),
                        html.Span(f"{t} ({type_counts.get(t, 0):,})", className="type-name"),
                        # A button inside the label: a click on it does not tick the box (HTML's label rules).
                        html.Button("only", className="only", **{"data-type": t, "aria-label": f"Only {t}", "type": "button"}),
                    ],
                    className="type-option",
                ),
                "value": t,
            }
            for t in store.bounds.types
        ],
        "sub_type_options": [{"label": f"{s} · {t} ({n:,})", "value": s} for (t, s), n in sorted(sub_counts.items()) if s],
        "table": rows,
        "table_note": table_note,
        "territory": territory_sentence,
    }


def table_part(store, view: ViewState, count: int, map_selection_ids=None, rows: bool = True) -> tuple[list[dict] | None, str]:
    """The table's rows (None when not wanted: the page has no table yet) and the note above it."""
    if map_selection_ids:
        records = store.records(view, columns=TABLE_FIELDS)
        records = records[records["event_id"].isin(map_selection_ids)].head(TABLE_LIMIT)
        return (table_rows(records) if rows else None), f"{len(records):,} events selected on the map"
    note = f"Newest {TABLE_LIMIT:,} of {count:,} events; download the CSV for all." if count > TABLE_LIMIT else f"{count:,} events"
    return (table_rows(store.records(view, TABLE_LIMIT, TABLE_FIELDS)) if rows else None), note


# What only the operator needs, said on the map by the renderer; not for a room.
OPERATOR_HINTS = ("Narrow the filters", "No events match these filters")


def for_the_room(figure: PlainFigure) -> PlainFigure:
    """Presentation: the map's notes without advice to the operator (the count says when nothing matches)."""
    kept = []
    for note in figure.layout.get("annotations") or ():
        text = note.get("text") or ""
        for hint in OPERATOR_HINTS:
            text = text.split(hint)[0].strip() if hint in text else text
        if text:
            kept.append({**note, "text": text})
    figure.layout["annotations"] = kept
    return figure


def whole_number_colour_bars(figure: PlainFigure) -> PlainFigure:
    """Density colour bars count events: whole-number ticks, one per event when there are few."""
    for trace in figure.data:
        z = trace.get("z")
        if trace.get("type") == "densitymap" and z is not None and len(z):
            trace["colorbar"] = {**(trace.get("colorbar") or {}), "tickformat": ",d", **({"dtick": 1} if max(z) <= 6 else {})}
    return figure


# What a view shows on the page: output key -> (component id, property).
SHOWN = {
    "map": ("map", "figure"),
    "legend": ("map-legend-body", "children"),
    "timeline": ("timeline", "figure"),
    "count": ("count", "children"),
    "summary": ("summary", "children"),
    "source_line": ("source-line", "children"),
    "type_options": ("types", "options"),
    "sub_type_options": ("sub-types", "options"),
    "table_note": ("table-note", "children"),
    "root_class": ("root", "className"),
    "territory": ("territory-summary", "children"),
    "title": ("title", "children"),
    "title_hint": ("title", "title"),
    "summary_hint": ("summary", "title"),
}
# The table's, set with set_props once the page has a table (callbacks.show_table puts it there
# when scrolled to): a declared Output must exist in the page from the start.
TABLE_PROPS = {"table": "rowData", "table_class": "className"}
# Changing these redraws the figures whole (new layers, colours, sizes); any
# other change of filters sends only the figures' data.
REDRAW_FIELDS = ("mode", "theme", "present", "territory", "territory_opacity")
POSITION_FIELDS = ("center_lat", "center_lon", "zoom")


def redraw_kind(before: ViewState | None, after: ViewState, data: Dataset | None = None) -> str:
    """"full" (first draw, or mode/theme/presentation changed), "none" (only the map moved) or "patch".

    A move is "patch" when what the map draws follows the position: the
    clusters and region circles of another zoom, or basemap files of
    another area (legend_outputs.follows_position)."""
    if before is None or any(getattr(before, f) != getattr(after, f) for f in REDRAW_FIELDS):
        return "full"
    changed = [f for f in ViewState.__dataclass_fields__ if getattr(before, f) != getattr(after, f)]
    if not changed:
        return "none"
    if set(changed) <= set(POSITION_FIELDS):
        return "patch" if data is not None and follows_position(data, before, after) else "none"
    return "patch"


def shown_outputs(data: Dataset, view: ViewState, kind: str, selected_ids=(), map_selection_ids=None, saved=None,
                  move_map: bool = False, before: ViewState | None = None, table: bool = True) -> dict:
    """The SHOWN outputs for a view: everything ("full"), nothing ("none"), or the figures' data only ("patch").

    saved: (name, query) of the open saved view, for the title; move_map: the
    patch also moves the map to the view's centre and zoom (a row chosen in the table);
    before: the view the page shows now (a patch resends the basemap's style only when the position changed);
    table: False while the page has no table (its rows and class are no_update: not made, not sent)."""
    if kind == "none":
        return {key: no_update for key in SHOWN}
    # A new range leaves the timeline's bars as they are (they ignore the dates): redrawing
    # a few thousand bars of SVG costs the browser ~0.2 s, for the same picture.
    bars = kind != "patch" or before is None or not same_bars(before, view)
    out = render_outputs(data, view, selected_ids, map_selection_ids, saved, timeline_bars=bars, table=table)
    out["root_class"] = f"root theme-{view.theme}" + (" present" if view.present else "")
    out["table_class"] = table_class(view) if table else no_update
    if not table:
        out["table"] = no_update
    if kind == "patch":
        moved = (("map", "center"), ("map", "zoom")) if move_map else ()
        # The style (~30 KB) follows only the position: the basemap files of the area in view.
        restyle = (("map", "style"),) if move_map or position_changed(before, view) else ()
        out["map"] = figure_patch(out["map"], ("annotations", "showlegend", ("map", "layers")) + restyle + moved)
        out["timeline"] = figure_patch(out["timeline"], ("shapes", "yaxis") if bars else ("shapes",), data=bars)
    return out


def table_class(view: ViewState) -> str:
    return "ag-theme-quartz-dark" if view.theme == "dark" else "ag-theme-quartz"


def position_changed(before: ViewState | None, after: ViewState) -> bool:
    return before is None or any(getattr(before, f) != getattr(after, f) for f in POSITION_FIELDS)


def figure_patch(figure, layout_keys, data: bool = True) -> Patch:
    """A Dash Patch that replaces a figure's traces and the named layout parts, keeping the rest.

    The browser keeps the map's style, boundary sources and position; only
    what the filters change travels (and Plotly redraws only that)."""
    whole = figure.to_plotly_json() if hasattr(figure, "to_plotly_json") else figure
    patch = Patch()
    if data:
        patch["data"] = whole.get("data", [])
    layout = whole.get("layout", {})
    for key in layout_keys:
        if isinstance(key, tuple):
            parent, child = key
            patch["layout"][parent][child] = layout.get(parent, {}).get(child, [])
        else:
            patch["layout"][key] = layout.get(key, [] if key != "showlegend" else False)
    return patch
