"""Areas in km² (equal-area projection centred on the geometry), change between days, events inside or outside the line."""
from __future__ import annotations


import numpy as np
import shapely

from .model import Change, Snapshot, TerritoryError, TerritoryLayer, as_days, as_timestamp, polygonal, area_km2, equal_area_crs








# --------------------------------------------------------------------------
# Change and point classification


def change_between(layer: TerritoryLayer, day_from, day_to) -> Change:
    """Gained and lost areas between the snapshots in force on two days."""
    before = _snapshot_or_error(layer, day_from)
    after = _snapshot_or_error(layer, day_to)
    gained = polygonal(shapely.difference(after.geometry, before.geometry))
    lost = polygonal(shapely.difference(before.geometry, after.geometry))
    # One projection for all four areas, so they are measured alike.
    crs = equal_area_crs(before.geometry, after.geometry)
    return Change(
        date_from=before.date,
        date_to=after.date,
        gained=gained,
        lost=lost,
        gained_km2=area_km2(gained, crs),
        lost_km2=area_km2(lost, crs),
        area_from_km2=area_km2(before.geometry, crs),
        area_to_km2=area_km2(after.geometry, crs),
    )


def _snapshot_or_error(layer: TerritoryLayer, day) -> Snapshot:
    snapshot = layer.snapshot_on(day)
    if snapshot is None:
        first = layer.dates[0].strftime("%Y-%m-%d")
        raise TerritoryError(
            f"{layer.name} has no snapshot on or before {as_timestamp(day):%Y-%m-%d}; its first is {first}."
        )
    return snapshot


def classify_points(layer: TerritoryLayer, days, lons, lats) -> np.ndarray:
    """"inside" / "outside" the layer as it stood on each point's own day,
    "no layer" when the day is before the first snapshot (or missing).

    Points on a boundary, in a hole or without coordinates (NaN) are
    outside.  Points are grouped by
    the snapshot in force, then tested in one vectorised call per group.
    """
    day_values = as_days(days)
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    result = np.full(len(day_values), "no layer", dtype="<U8")
    state_index = np.searchsorted(layer._dates, day_values, side="right") - 1
    state_index[np.isnat(day_values)] = -1
    order = np.argsort(state_index, kind="stable")
    sorted_index = state_index[order]
    groups, starts = np.unique(sorted_index, return_index=True)
    ends = np.append(starts[1:], len(order))
    for index, start, end in zip(groups, starts, ends):
        if index < 0:
            continue
        members = order[start:end]
        inside = shapely.contains_xy(layer._states[index].geometry, lons[members], lats[members])
        result[members] = np.where(inside, "inside", "outside")
    return result


# --------------------------------------------------------------------------
# Loading
