"""Points mode: every matching event on the map, clustered on the server for the zoom.

Marks come from `store.clusters(view, cell_deg)`, with the cell chosen from
the zoom so neighbouring marks do not overlap: one mark per occupied cell,
sized by its count, coloured by its most frequent type, the count written
in it.  Events located only to a region are not a point: each region with
such events is one circle of the region's own size in kilometres (its
equal-area radius), recomputed for every zoom.  Events located only to a
country are not drawn at all: they are counted in a note, since a mark on
the capital would claim a place nobody reported.  Every event is counted
once: in a mark, a region circle or the country note.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..boundaries import load_admin1
from ..schema import type_colour
from ..store.contract import COARSE_COUNT_COLUMNS, COARSE_PRECISIONS, EventStore
from ..view import ViewState

CLUSTER_PX = 44  # a cell's side on screen: the largest mark fits in it
DETAIL_CAP = 3_000  # events whose own hover text is sent; beyond, marks hover with counts only
LIST_LIMIT = 200  # events listed for one clicked mark
EARTH_M = 40_075_016.686
DETAIL_COLUMNS = [
    "event_id", "event_date", "date_precision", "event_type", "sub_event_type", "place", "admin1_code", "admin1_name",
    "country_code", "summary", "geo_precision", "latitude", "longitude",
]
COARSE = COARSE_PRECISIONS


# The largest map drawn (a 1440p screen or projector): marks are asked for
# the area around the map's centre that it shows, and half as much again for
# a small pan (a larger move asks the server again); so a map zoomed in on a
# town gets the cells about it, not a mark for each of a million events
# (81 MB at zoom 10 before).
SCREEN_PX = (2560, 1440)
PAN_MARGIN = 1.5


def marks_extent(view: ViewState, zoom: float, screen_px: tuple[int, int] = SCREEN_PX) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) the marks are needed for, or None (the whole world, or a map not yet placed).

    screen_px: the largest map this view is drawn on (an export gives its own size)."""
    if view.center_lat is None or view.center_lon is None:
        return None  # the first view: fitted to show every event
    degrees_per_px = 360 / (512 * 2 ** max(zoom, 0))
    # Latitude in degrees per pixel as at the equator: generous (Mercator stretches it away from it).
    half_x, half_y = (PAN_MARGIN * px / 2 * degrees_per_px for px in screen_px)
    west, east = view.center_lon - half_x, view.center_lon + half_x
    if west < -180 or east > 180:
        return None  # across the antimeridian, or the whole world in view
    return west, max(view.center_lat - half_y, -90.0), east, min(view.center_lat + half_y, 90.0)


def cell_deg_for_zoom(zoom: float, mark_px: int = CLUSTER_PX) -> float:
    """The grid cell, in degrees, that spans about `mark_px` pixels at `zoom` (a power of two, so zooms share cells)."""
    degrees = mark_px * 360 / (512 * 2 ** max(zoom, 0))
    return float(2.0 ** round(math.log2(min(max(degrees, 1e-4), 45.0))))


def cell_key(lat, lon, size: float) -> np.ndarray:
    """The store's cell key ("row:column") of positions, as the in-memory store computes it."""
    row = np.floor((np.asarray(lat, dtype=float) + 90) / size).astype(np.int64)
    col = np.floor((np.asarray(lon, dtype=float) + 180) / size).astype(np.int64)
    # Text only for the distinct cells: formatting a million keys one by one cost ~0.3 s.
    cells, where = np.unique(row * (1 << 32) + col, return_inverse=True)
    rows, cols = cells >> 32, cells & ((1 << 32) - 1)
    return np.array([f"{r}:{c}" for r, c in zip(rows.tolist(), cols.tolist())], dtype=object)[where.reshape(-1)] \
        if len(cells) else np.array([], dtype=object)


def mark_px(count) -> np.ndarray:
    """Mark diameter in pixels: one event 12 px, growing with the log of the count, at most ~40 px."""
    return 12 + 9 * np.log10(np.maximum(np.asarray(count, dtype=float), 1))


def metres_per_pixel(lat: float, zoom: float) -> float:
    return EARTH_M * math.cos(math.radians(lat)) / (512 * 2**zoom)


@dataclass
class Marks:
    """What points mode draws, all counted: marks + region circles + country_level == the view's count."""

    marks: pd.DataFrame  # cell, latitude, longitude, count, event_type (dominant), breakdown, single (row or None)
    regions: pd.DataFrame  # admin1_code, admin1_name, latitude, longitude, radius_km, count, event_type, breakdown
    country_level: int
    country_breakdown: dict
    cell_deg: float
    details: bool  # single events carry their own hover text


@functools.lru_cache(maxsize=8)
def region_shapes(codes: tuple[str, ...]) -> pd.DataFrame:
    """admin1_code -> label point (lat, lon) and equal-area radius in km, for the given regions."""
    countries = sorted({c.split("-")[0] for c in codes})
    regions = load_admin1(countries)
    regions = regions[regions["admin1_code"].isin(codes)]
    if regions.empty:
        return pd.DataFrame(columns=["admin1_code", "latitude", "longitude", "radius_km"])
    area_km2 = regions.to_crs(6933).area.to_numpy() / 1e6
    points = regions.geometry.representative_point()
    return pd.DataFrame({
        "admin1_code": regions["admin1_code"].to_numpy(),
        "latitude": points.y.to_numpy(),
        "longitude": points.x.to_numpy(),
        "radius_km": np.sqrt(area_km2 / math.pi),
    })


def _breakdown(frame: pd.DataFrame, key: str, order: list[str]) -> pd.DataFrame:
    """Per key: total, the most frequent type (ties: the first in the data's order) and "type n · type n" text."""
    if frame.empty:  # no matching event: no marks (and pandas' apply on nothing returns a frame)
        return pd.DataFrame({"count": pd.Series(dtype=int), "event_type": pd.Series(dtype=object), "breakdown": pd.Series(dtype=object)},
                            index=pd.Index([], name=key, dtype=object))
    rank = {t: i for i, t in enumerate(order)}
    frame = frame.assign(_rank=frame["event_type"].map(rank).fillna(len(rank)))
    frame = frame.sort_values([key, "count", "_rank"], ascending=[True, False, True])
    frame["_part"] = [f"{t} {n:,}" for t, n in zip(frame["event_type"].tolist(), frame["count"].tolist())]
    grouped = frame.groupby(key, sort=False)
    return pd.DataFrame({
        "count": grouped["count"].sum(),
        "event_type": grouped["event_type"].first(),
        "breakdown": grouped["_part"].agg(" · ".join),  # a join per group, not a Python frame per group
    })


REGION_IDS_CAP = 200  # event ids carried by one region circle


def compute_marks(view: ViewState, store: EventStore, zoom: float, screen_px: tuple[int, int] = SCREEN_PX) -> Marks:
    """Marks, region circles and the country-level count of the view at `zoom` (on a map of at most `screen_px`)."""
    size = cell_deg_for_zoom(zoom)
    total = store.count(view)
    order = list(store.bounds.types)
    details = total <= DETAIL_CAP
    fine = tuple(p for p in store.precisions if p not in COARSE)
    if details:
        events = store.records(view, columns=DETAIL_COLUMNS)
        coarse_events = events[events["geo_precision"].isin(COARSE)]
        coarse = _coarse_counts(coarse_events)
    else:
        # Counts only: the coarse events themselves (a third of a million in a
        # realistic file at 1M) never leave the store.
        events = coarse_events = None
        coarse = store.coarse_counts(view)
    cells = store.clusters(view, size, precisions=fine, extent=marks_extent(view, zoom, screen_px))
    positions = cells.groupby("cell", sort=False)[["latitude", "longitude"]].first()
    marks = _breakdown(cells, "cell", order).join(positions).reset_index()
    marks["single"] = None
    if details and len(marks):
        precise = events[~events["geo_precision"].isin(COARSE)].copy()
        precise["cell"] = cell_key(precise["latitude"], precise["longitude"], size)
        firsts = precise.drop_duplicates("cell").set_index("cell")
        singles = marks["count"] == 1
        marks.loc[singles, "single"] = pd.Series(
            [firsts.loc[c].to_dict() for c in marks.loc[singles, "cell"]], index=marks.index[singles], dtype=object
        )
        same_place = precise.groupby("cell").apply(
            lambda g: g["latitude"].round(4).nunique() == 1 and g["longitude"].round(4).nunique() == 1, include_groups=False
        )
        marks["same_place"] = marks["cell"].map(same_place).fillna(False).astype(bool)
        marks["ids"] = marks["cell"].map(joined_ids(precise["cell"], precise["event_id"])).fillna("")
    else:
        marks["same_place"] = False
        marks["ids"] = ""  # beyond the detail cap the ids stay on the server; a click lists them
    regions = _region_circles(coarse[coarse["geo_precision"] == "region"], order, store, view, coarse_events)
    country = coarse[coarse["geo_precision"] == "country"]
    country_breakdown = {t: int(n) for t, n in country.groupby("event_type")["count"].sum().sort_values(ascending=False, kind="stable").items()}
    marks = marks.sort_values(["count", "cell"], ascending=[False, True], ignore_index=True)  # big first: small marks drawn on top
    return Marks(marks, regions, int(country["count"].sum()), country_breakdown, size, details)


def _coarse_counts(events: pd.DataFrame) -> pd.DataFrame:
    """store.coarse_counts' table from the coarse events' own rows (a view small enough to send them all)."""
    keys = ["geo_precision", "admin1_code", "event_type"]
    table = events.groupby(keys, sort=False).agg(
        count=("event_id", "size"), latitude=("latitude", "mean"), longitude=("longitude", "mean")
    )
    return table.reset_index()[COARSE_COUNT_COLUMNS]


def _region_circles(counts: pd.DataFrame, order: list[str], store: EventStore, view: ViewState,
                    coarse_events: pd.DataFrame | None) -> pd.DataFrame:
    """One circle per region with region-level events; counts: coarse_counts' rows of precision "region"."""
    columns = ["admin1_code", "admin1_name", "latitude", "longitude", "radius_km", "count", "event_type", "breakdown"]
    if counts.empty:
        return pd.DataFrame(columns=columns + ["ids"])
    counted = counts.groupby(["admin1_code", "event_type"], as_index=False)["count"].sum()
    summary = _breakdown(counted, "admin1_code", order).reset_index()
    shapes = region_shapes(tuple(sorted(summary["admin1_code"])))
    out = summary.merge(shapes, on="admin1_code", how="left")
    # A region with no bundled outline: the events' own mean position and a 50 km circle.
    weighted = counts.assign(lat=counts["latitude"] * counts["count"], lon=counts["longitude"] * counts["count"])
    sums = weighted.groupby("admin1_code")[["lat", "lon", "count"]].sum()
    for axis, total in (("latitude", "lat"), ("longitude", "lon")):
        out[axis] = out[axis].fillna(out["admin1_code"].map(sums[total] / sums["count"]))
    out["radius_km"] = out["radius_km"].fillna(50.0)
    names = store.region_names
    out["admin1_name"] = [names.get(code) or code for code in out["admin1_code"]]
    # Ids travel with a circle only when it is small enough to list; a big one is listed by the server on a click
    # (a million events otherwise sent 3.7 MB of ids with every answer).
    small = tuple(out.loc[out["count"] <= REGION_IDS_CAP, "admin1_code"])
    if coarse_events is not None:
        listed = coarse_events[(coarse_events["geo_precision"] == "region") & coarse_events["admin1_code"].isin(small)]
    elif small:
        listed = store.records(view.replace(regions=small), columns=["event_id", "admin1_code"], precisions=("region",))
    else:
        listed = ()
    ids = joined_ids(listed["admin1_code"], listed["event_id"]) if len(listed) else {}
    out["ids"] = [ids.get(code, "") for code in out["admin1_code"]]
    columns.append("ids")
    return out[columns].sort_values("count", ascending=False, ignore_index=True)


def joined_ids(keys, ids) -> dict:
    """key -> its ids joined by commas, in their order: groupby(...).agg(",".join) without a Python call per group."""
    keys, ids = np.asarray(keys), np.asarray(ids, dtype=object)
    order = np.argsort(keys, kind="stable")
    keys, ids = keys[order], ids[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return {key: ",".join(group) for key, group in zip(keys[starts], np.split(ids, starts[1:]))}


def region_px(radius_km, lat, zoom: float) -> np.ndarray:
    """Diameter in pixels of circles `radius_km` in radius at latitudes `lat`."""
    lat = np.asarray(lat, dtype=float)
    metres = EARTH_M * np.cos(np.radians(lat)) / (512 * 2**zoom)
    return 2 * np.asarray(radius_km, dtype=float) * 1000 / metres


def colours_for(types, store: EventStore) -> list[str]:
    return [type_colour(t, store.custom_types, store.bounds.types) for t in types]


def events_in_cell(store: EventStore, view: ViewState, lat: float, lon: float, cell_deg: float, limit: int = LIST_LIMIT):
    """(events of the clicked mark's cell, newest first, at most `limit`; how many in all)."""
    fine = tuple(p for p in store.precisions if p not in COARSE)
    events = store.records(view, columns=DETAIL_COLUMNS, precisions=fine)
    key = cell_key([lat], [lon], cell_deg)[0]
    inside = events[cell_key(events["latitude"], events["longitude"], cell_deg) == key]
    return inside.head(limit), len(inside)


def events_in_region(store: EventStore, view: ViewState, code: str, limit: int = LIST_LIMIT):
    events = store.records(view, columns=DETAIL_COLUMNS, precisions=("region",))
    inside = events[events["admin1_code"] == code]
    return inside.head(limit), len(inside)


def country_level_events(store: EventStore, view: ViewState, limit: int = LIST_LIMIT):
    inside = store.records(view, columns=DETAIL_COLUMNS, precisions=("country",))
    return inside.head(limit), len(inside)
