"""Everything one view shows on the page, from the store through the contract."""
from __future__ import annotations

from dash import Patch, html, no_update

from ..render.describe import describe_view, source_line
from ..render.map import map_figure
from ..render.territory import territory_for_view
from ..render.timeline import timeline_figure
from ..schema import type_colour
from ..store.dataset import Dataset
from ..view import ViewState
from .panels import TABLE_FIELDS, table_rows

TABLE_LIMIT = 500  # rows sent to the table (50 pages); the CSV download has them all
PRESENT_MAP_SCALE, PRESENT_TIMELINE_SCALE = 1.5, 1.4  # presentation mode: bigger marks and text


def render_outputs(data: Dataset, view: ViewState, selected_ids=(), map_selection_ids=None) -> dict:
    """Everything the view shows; the main callback returns these."""
    store = data.store
    count = store.count(view)
    territory_layers, territory_label, territory_sentence = territory_for_view(data, view)
    figure = map_figure(
        view,
        store,
        territory=territory_layers,
        territory_label=territory_label,
        basemap=data.basemap,
        selected_ids=tuple(selected_ids),
        scale=PRESENT_MAP_SCALE if view.present else 1.0,
    )
    timeline = timeline_figure(view, store, scale=PRESENT_TIMELINE_SCALE if view.present else 1.0)
    type_counts = store.counts_by_type(view.replace(types=None, sub_types=None))
    sub_counts = store.counts_by_sub_type(view.replace(sub_types=None))
    if map_selection_ids:
        records = store.records(view, columns=TABLE_FIELDS)
        records = records[records["event_id"].isin(map_selection_ids)].head(TABLE_LIMIT)
        table_note = f"{len(records):,} events selected on the map"
    else:
        records = store.records(view, TABLE_LIMIT, TABLE_FIELDS)
        table_note = (
            f"Newest {TABLE_LIMIT:,} of {count:,} events; download the CSV for all." if count > TABLE_LIMIT else f"{count:,} events"
        )
    return {
        "map": figure,
        "timeline": timeline,
        "count": f"{count:,} of {store.total:,} events",
        "summary": describe_view(view, store, count),
        "type_options": [
            {
                "label": html.Span([html.Span(className="swatch", style={"background": type_colour(t, store.custom_types)}), f"{t} ({type_counts.get(t, 0):,})"]),
                "value": t,
            }
            for t in store.bounds.types
        ],
        "sub_type_options": [{"label": f"{s} · {t} ({n:,})", "value": s} for (t, s), n in sorted(sub_counts.items()) if s],
        "table": table_rows(records),
        "table_note": table_note,
        "territory": territory_sentence,
    }


# What a view shows on the page: output key -> (component id, property).
SHOWN = {
    "map": ("map", "figure"),
    "timeline": ("timeline", "figure"),
    "count": ("count", "children"),
    "summary": ("summary", "children"),
    "source_line": ("source-line", "children"),
    "type_options": ("types", "options"),
    "sub_type_options": ("sub-types", "options"),
    "table": ("table", "rowData"),
    "table_note": ("table-note", "children"),
    "root_class": ("root", "className"),
    "territory": ("territory-summary", "children"),
}
# Changing these redraws the figures whole (new layers, colours, sizes); any
# other change of filters sends only the figures' data.
REDRAW_FIELDS = ("mode", "theme", "present", "territory", "territory_opacity")
POSITION_FIELDS = ("center_lat", "center_lon", "zoom")


def redraw_kind(before: ViewState | None, after: ViewState) -> str:
    """"full" (first draw, or mode/theme/presentation changed), "none" (only the map moved) or "patch"."""
    if before is None or any(getattr(before, f) != getattr(after, f) for f in REDRAW_FIELDS):
        return "full"
    changed = [f for f in ViewState.__dataclass_fields__ if getattr(before, f) != getattr(after, f)]
    if not changed or set(changed) <= set(POSITION_FIELDS):
        return "none"
    return "patch"


def shown_outputs(data: Dataset, view: ViewState, kind: str, selected_ids=(), map_selection_ids=None) -> dict:
    """The SHOWN outputs for a view: everything ("full"), nothing ("none"), or the figures' data only ("patch")."""
    if kind == "none":
        return {key: no_update for key in SHOWN}
    out = render_outputs(data, view, selected_ids, map_selection_ids)
    out["source_line"] = source_line(data, view)
    out["root_class"] = f"root theme-{view.theme}" + (" present" if view.present else "")
    if kind == "patch":
        out["map"] = figure_patch(out["map"], ("annotations", "showlegend", ("map", "layers")))
        out["timeline"] = figure_patch(out["timeline"], ("shapes",))
    return out


def figure_patch(figure, layout_keys) -> Patch:
    """A Dash Patch that replaces a figure's traces and the named layout parts, keeping the rest.

    The browser keeps the map's style, boundary sources and position; only
    what the filters change travels (and Plotly redraws only that)."""
    whole = figure.to_plotly_json() if hasattr(figure, "to_plotly_json") else figure
    patch = Patch()
    patch["data"] = whole.get("data", [])
    layout = whole.get("layout", {})
    for key in layout_keys:
        if isinstance(key, tuple):
            parent, child = key
            patch["layout"][parent][child] = layout.get(parent, {}).get(child, [])
        else:
            patch["layout"][key] = layout.get(key, [] if key != "showlegend" else False)
    return patch
