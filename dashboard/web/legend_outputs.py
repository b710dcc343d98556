"""The legend of one view, with the marks it describes (computed once for map and legend)."""
from __future__ import annotations

from ..render.basemap import basemap_style
from ..render.clusters import cell_deg_for_zoom, compute_marks
from ..render.legend import legend_entries
from ..render.map import first_view
from ..render.style import PAGE_MAP_SIZE, RAMPS
from ..render.territory import territory_legend
from ..store.dataset import Dataset
from ..view import ViewState
from .legend import legend_children

SCALE_NOTES = {
    "density": "Events per grid cell, on a log scale (1, 10, 100…) so cells with few events stay visible",
    "choropleth": "Events per admin-1 region, from zero",
}


def map_legend(data: Dataset, view: ViewState, territory_layers):
    """(marks for points mode or None, the legend's children)."""
    store = data.store
    zoom = view.zoom if view.zoom is not None else first_view(store, territory_layers)[2]
    marks = compute_marks(view, store, zoom) if view.mode == "points" else None
    legend = legend_entries(
        view, store, marks=marks, zoom=zoom, territory=territory_legend(data, view),
        scale_note=SCALE_NOTES.get(view.mode, ""), ramp=tuple(RAMPS[view.theme]),
        date_precisions=store.counts_by_date_precision(view),
    )
    return marks, legend_children(legend, marks.country_level if marks is not None else 0)


def follows_position(data: Dataset, before: ViewState, after: ViewState) -> bool:
    """Whether a pan or zoom changes what the map draws: in points mode the marks of another zoom
    (cells, region circles in km), in any mode the basemap files of the area now in view."""
    if before.zoom is None or after.zoom is None:
        return True
    if after.mode == "points" and (cell_deg_for_zoom(before.zoom) != cell_deg_for_zoom(after.zoom) or abs(before.zoom - after.zoom) > 0.01):
        return True

    def sources(view):
        style = basemap_style(view.theme, centre=(view.center_lat, view.center_lon), zoom=view.zoom, size_px=PAGE_MAP_SIZE,
                              countries=data.store.bounds.countries)
        return set(style["sources"])

    return sources(before) != sources(after)
