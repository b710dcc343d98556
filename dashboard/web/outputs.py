"""Everything one view shows on the page, from the store through the contract."""
from __future__ import annotations

from dash import html

from ..render.describe import describe_view
from ..render.map import map_figure
from ..render.territory import territory_for_view
from .legend_outputs import map_legend
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
        "legend": legend,
        "timeline": timeline,
        "count": f"{count:,} of {store.total:,} events",
        "summary": describe_view(view, store, count),
        "type_options": [
            {
                "label": html.Span([html.Span(className="swatch", style={"background": type_colour(t, store.custom_types, store.bounds.types)}), f"{t} ({type_counts.get(t, 0):,})"]),
                "value": t,
            }
            for t in store.bounds.types
        ],
        "sub_type_options": [{"label": f"{s} · {t} ({n:,})", "value": s} for (t, s), n in sorted(sub_counts.items()) if s],
        "table": table_rows(records),
        "table_note": table_note,
        "territory": territory_sentence,
    }
