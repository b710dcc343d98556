"""The exported figure: the page's map of a view, framed for a slide or a page.

`build_export_figure` draws the view with render.map.map_figure (the page's
own map) and frames it (frame.py) with a title, the filters, the legend, the
scale bar, the sources and the export time, laid out in margins around the
map so nothing covers it.  The CLI (batch.py) and the page (the render
service) both start here; the figure names boundary files by their page
URLs and the renderer supplies the files.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import TYPE_CHECKING

from ..view import ViewState, fit_view_to_data, view_from_query
from .checks import check_format, image_size
from .frame import COLOURBAR_TITLES, MAP_SCALE, Entry, Frame, legend_groups

if TYPE_CHECKING:
    import plotly.graph_objects as go

LOCATOR_CELL_DEG = 0.1  # where the map's events are, near enough to tell their country

# plotly, the figures and the boundaries are imported where used: the CLI
# imports this package to check its options, and that should stay quick.


def export_view(view: ViewState, store) -> tuple[ViewState, list[str]]:
    """The view as the page would show it, except the dates.

    Values the data lacks are dropped, as on the page; dates are kept as
    asked, so a range outside the data exports a map that says no events
    match rather than quietly showing another range."""
    fitted, notices = fit_view_to_data(view, store.bounds)
    fitted = fitted.replace(date_from=view.date_from, date_to=view.date_to)
    notices = [n for n in notices if "is outside the data" not in n]
    first, last = store.bounds.first_day, store.bounds.last_day
    if any(day and not first <= day <= last for day in (view.date_from, view.date_to)):
        notices.append(f"The data runs from {first} to {last}.")
    return fitted, notices


def build_export_figure(
    view: ViewState,
    data,
    *,
    width: int,
    height: int,
    title: str | None = None,
    exported_at: dt.datetime | None = None,
) -> go.Figure:
    """The view's map framed for a slide or a page: title, filters, legend, sources, time.

    `data` is app.DashboardData.  The default title is the plain-language
    summary of the view (figures.describe_view); with a title of one's own
    the summary becomes the subtitle."""
    from ..boundaries import ATTRIBUTION
    from ..render.describe import describe_view
    from ..render.map import first_view, map_figure
    from ..render.style import THEMES
    from ..render.legend import control_entries
    from ..render.territory import territory_for_view, territory_legend  # the page's rules for the control layer
    from .locator import areas_px, frame_extent, marks_px, plan_locator

    store = data.store
    count = store.count(view)
    territory, territory_label, territory_sentence = territory_for_view(data, view)
    summary = describe_view(view, store, count)
    exported_at = (exported_at or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)

    headline = title.strip() if title and title.strip() else summary
    subtitle = [summary] if headline != summary else []
    from ..basemap import ATTRIBUTION as BASEMAP_ATTRIBUTION  # GeoNames' CC BY asks for credit wherever its names show

    sources = [f"Events: {data.label}", ATTRIBUTION, BASEMAP_ATTRIBUTION]
    if territory:
        subtitle.append(territory_sentence)
        layer = data.territory
        sources.append(f"Control line: {layer.source}" + (f" ({layer.licence})" if layer.licence else ""))
    sources.append(f"Exported {exported_at:%Y-%m-%d %H:%M} UTC")
    frame = Frame(width, height)
    figure = map_figure(
        view,
        store,
        territory=territory,
        territory_label=territory_label,
        scale=MAP_SCALE * frame.unit,
        # A missing snapshot is said on the map, as on the page.
        notes=() if territory or not territory_sentence else (territory_sentence,),
    )
    groups = legend_groups(figure, store.counts_by_type(view), territory)
    control = territory_legend(data, view)
    if control and "Territory" in groups:  # as the page's legend: what the shading means, and gained and lost ground with their km²
        size = groups.pop("Territory")[0].size
        groups["Control layer"] = [Entry(e.label, e.colour, size, e.opacity, square=True) for e in control_entries(control)]
    colourbar = next((trace for trace in figure.data if "colorbar" in trace), None)
    frame.set_text(headline, " · ".join(subtitle), " · ".join(sources))
    colourbar_title = COLOURBAR_TITLES.get(view.mode) if colourbar else None

    # Drawn again for the map's own size and zoom: clusters, region circles and basemap detail follow the zoom,
    # and so does the precision key's region circle, whose size can widen the panel and so change the zoom:
    # laid out again until the key matches the map drawn (once more at most, in practice).
    drawn_size = None
    for _ in range(3):
        frame.set_panel({group: [dataclasses.replace(e) for e in entries] for group, entries in groups.items()}, colourbar_title)
        map_width, map_height = frame.map_size()
        if (map_width, map_height) == drawn_size:
            break
        if view.center_lat is not None and view.center_lon is not None and view.zoom is not None:
            centre_lat, centre_lon, zoom = view.center_lat, view.center_lon, _zoom_for_size(view.zoom, map_width, map_height)
        else:
            centre_lat, centre_lon, zoom = first_view(store, territory, map_width, map_height)
        figure = map_figure(
            view.replace(center_lat=centre_lat, center_lon=centre_lon, zoom=zoom),
            store,
            territory=territory,
            territory_label=territory_label,
            scale=MAP_SCALE * frame.unit,
            width_px=map_width,
            height_px=map_height,
            notes=() if territory or not territory_sentence else (territory_sentence,),
        )
        drawn_size = (map_width, map_height)
        precision = legend_groups(figure, {}, territory).get("Location precision")
        if precision is None or precision == groups.get("Location precision"):
            break
        groups["Location precision"] = precision
    colourbar = next((trace for trace in figure.data if "colorbar" in trace), None)
    extent = frame_extent(centre_lat, centre_lon, zoom, map_width, map_height)
    cells = store.clusters(view, LOCATOR_CELL_DEG).groupby("cell").agg(longitude=("longitude", "first"), latitude=("latitude", "first"), count=("count", "sum"))
    locator = plan_locator(extent, cells["longitude"], cells["latitude"], cells["count"])
    if locator is not None:  # None: the map shows the whole country, and an inset would only repeat it
        frame.set_locator(locator, view.theme, marks_px(figure, extent, map_width, map_height), areas_px(figure, extent, map_width))
    frame.set_scale(centre_lat, zoom)
    if colourbar is not None:
        frame.style_colourbar(colourbar)
    frame.apply(figure, THEMES[view.theme])
    return figure



def _zoom_for_size(page_zoom: float, map_width: int, map_height: int) -> float:
    """A shared view's zoom is for the page's map; the export shows the same area.

    The page's map size is render.style.PAGE_MAP_SIZE; a map k times larger
    needs log2(k) more zoom."""
    from ..render.style import PAGE_MAP_SIZE

    page_width, page_height = PAGE_MAP_SIZE
    factor = min(map_width / page_width, map_height / page_height)
    return round(min(max(page_zoom + math.log2(factor), 0.0), 22.0), 2)



def export_filename(view: ViewState, store, fmt: str) -> str:
    first = view.date_from or store.bounds.first_day
    last = view.date_to or store.bounds.last_day
    mode = "" if view.mode == "points" else f"-{view.mode}"
    return f"conflict-events-{first}-to-{last}{mode}.{fmt}"



def page_export(query: str, data, fmt: str, width: int, height: int, title: str | None = None) -> tuple[str, str, str]:
    """(figure as JSON text, file name, format) of the view in a page's query string.

    The figure is built here, where the data is; drawing it is the render
    service's job.  Raises ExportError for a bad format or size."""
    fmt = check_format(fmt)
    width, height = image_size(width=int(width), height=int(height))
    view, _ = view_from_query(query or "")
    view, _ = export_view(view, data.store)
    figure = build_export_figure(view, data, width=width, height=height, title=title)
    return figure_text(figure), export_filename(view, data.store, fmt), fmt


def figure_text(figure) -> str:
    """The figure as JSON text, as plotly.js reads it (numpy arrays as lists)."""
    from plotly.io.json import to_json_plotly

    return to_json_plotly(figure if isinstance(figure, dict) else figure.to_plotly_json())


__all__ = ["build_export_figure", "export_filename", "export_view", "figure_text", "page_export"]
