"""The control layer on the map: the snapshot in force on the end date, and
the ground gained and lost across the range (the page and exports share it)."""
from __future__ import annotations

import numpy as np

from ..store.dataset import Dataset
from ..territory import TerritoryError, change_between
from ..view import ViewState
from .map import fit_store_extent, territory_layers
from .style import CONTROL_COLOUR_NAMES, control_colours


def territory_for_view(data: Dataset, view: ViewState):
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
        names = CONTROL_COLOUR_NAMES.get(view.theme, CONTROL_COLOUR_NAMES["light"])  # the colours drawn in this theme
        sentence += (
            f" Between {change.date_from:%-d %b} and {change.date_to:%-d %b %Y}: {change.gained_km2:,.1f} km² gained ({names['gained']}), "
            f"{change.lost_km2:,.1f} km² lost ({names['lost']}), net {change.net_km2:+,.1f} km²."
        )
    return territory_layers(geojson, view.territory_opacity, change_geojson, view.theme), label, sentence


def territory_legend(data: Dataset, view: ViewState) -> dict | None:
    """What the control layer's shading means, for the legend: "Occupied as of <date>, per <source>", and
    the ground gained and lost over the range with their colours and km² (None when no layer is drawn)."""
    layer = data.territory
    if layer is None or not view.territory:
        return None
    bounds = data.store.bounds
    end, start = view.date_to or bounds.last_day, view.date_from or bounds.first_day
    snapshot = layer.snapshot_on(end)
    if snapshot is None:
        return None
    colours = control_colours(view.theme)
    legend = {"label": f"Occupied as of {snapshot.date:%-d %b %Y}, per {layer.name}", "colour": colours["occupied"],
              "opacity": view.territory_opacity, "gained_colour": colours["gained"], "lost_colour": colours["lost"], "gained_km2": None}
    change = _change_cached(data, start, end)
    if change is not None and change.date_from != change.date_to:
        legend.update(gained_km2=change.gained_km2, lost_km2=change.lost_km2, **{"from": change.date_from, "to": change.date_to})
    return legend


def display_tolerance(view: ViewState, store) -> float:
    """Simplification for the control layer at the map's zoom: about a pixel.

    At zoom z a 512-px world shows 360/(512·2^z) degrees per pixel; finer
    detail is invisible and only makes the response larger.
    """
    zoom = view.zoom if view.zoom is not None else fit_store_extent(store)[2]
    degrees_per_pixel = 360 / (512 * 2**zoom)
    # Steps of 2x so nearby zooms share one cached simplification.
    return float(2.0 ** round(np.log2(max(degrees_per_pixel, 1e-5))))


def _change_cached(data: Dataset, start, end):
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
