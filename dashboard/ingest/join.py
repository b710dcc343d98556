"""Spatial join: every event gets country, admin-1 code and admin-1 name.

First the country each point falls in (the world's countries layer), then
the admin-1 regions of only those countries, each point tested against its
own country's regions: start-up reads a handful of the 239 region files, and
every country's events get regions.  The points left over (at sea, or where
the two layers disagree) are tested against the regions of every country
whose regions come near one of them as well, so a point's region never
depends on which other points come with it (a whole file, or one chunk of a
streamed import).

A point just outside every region -- a coastline, a border, rounded
coordinates, the simplified boundaries -- takes the nearest region within
NEAREST_TOLERANCE_KM and is flagged; one farther out keeps no region and is
reported.  The nearest-region search is bounded by that tolerance (a spatial
index `dwithin` query), so points far at sea cost no distance computations.
An event located only to a country keeps its country and no region.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from ..boundaries import admin1_index, load_admin1, load_countries

# The boundaries are simplified to ~1 km and sources round coordinates to
# 0.01 degrees (~1 km); 5 km covers both with room, yet is far smaller than
# any region, so a snapped point cannot land two regions away.
NEAREST_TOLERANCE_KM = 5.0
KM_PER_DEGREE = 111.32
GRID_DEGREES = 0.25  # locate's cells: ~90% of the benchmark's points lie in a cell wholly inside one region


def join_admin1(events: pd.DataFrame, admin1=None, countries=None) -> tuple[pd.DataFrame, list[str]]:
    """Return (events with country_code, admin1_code, admin1_name, join_note; notes for the user).

    `admin1` given: those regions only (tests); else the regions of the countries the points are in or near."""
    countries = load_countries() if countries is None else countries
    lon = events["longitude"].to_numpy(dtype=float)
    lat = events["latitude"].to_numpy(dtype=float)
    # One sort by longitude serves every polygon search below (locate's binary search); undone after.
    order = np.argsort(lon, kind="stable")
    country_index, region_index, region_km, regions = _locate_all(lon[order], lat[order], countries, admin1)
    country_index, region_index, region_km = (_unsorted(a, order) for a in (country_index, region_index, region_km))

    country_level = (events["geo_precision"] == "country").to_numpy() if "geo_precision" in events else np.zeros(len(lon), bool)
    has_region = (region_index >= 0) & ~country_level
    codes = regions["admin1_code"].to_numpy(dtype=object)
    names = regions["admin1_name"].to_numpy(dtype=object)
    region_country = regions["country_code"].to_numpy(dtype=object)
    country_codes = countries["country_code"].to_numpy(dtype=object)

    # Each text column as a few distinct values and each point's choice among
    # them (arrow's take): no million Python strings are made.
    none = len(regions)  # the "" after the regions' values
    region = np.where(has_region, region_index, none)
    # The region's country where there is one (the two layers agree by
    # construction), else the country polygon the point falls in.
    country = np.where(region_index >= 0, region_index, np.where(country_index >= 0, none + 1 + country_index, none))
    note = np.full(len(lon), "", dtype=object)
    snapped = has_region & (region_km > 0)
    note[snapped] = [f"nearest region, {km:.1f} km away" for km in region_km[snapped]]
    outside = (region_index < 0) & (country_index < 0)
    note[outside] = "outside every region"
    note[country_level] = "country-level event: no region"
    out = events.assign(
        admin1_code=_texts([*codes, ""], region, events.index),
        admin1_name=_texts([*names, ""], region, events.index),
        country_code=_texts([*region_country, "", *country_codes], country, events.index),
        join_note=pd.Series(note, index=events.index, dtype=object).astype(str),
    )

    flagged = np.flatnonzero(snapped | outside)
    rows = out["source_row"].to_numpy()[flagged] if "source_row" in out else flagged + 1
    notes = [f"row {row} ({event_id}): {text}" for row, event_id, text in zip(rows, out["event_id"].to_numpy()[flagged], note[flagged])]
    return out, notes


def _texts(values: list, choice: np.ndarray, index) -> pd.Series:
    """values[choice] as a text column (a missing value stays missing, as astype(str) leaves it)."""
    values = pa.array([None if v is None or v != v else str(v) for v in values], pa.string())
    return pd.Series(pd.array(values.take(pa.array(choice)), dtype="str"), index=index)


def _unsorted(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[order] = values
    return out


def _locate_all(lon, lat, countries, admin1):
    """(country index, region index, km to the region, the regions indexed) for points sorted by longitude.

    Each point is tested against its own country's regions first (a Ukrainian
    point is never tested against Russia's 83 regions); the points left over --
    at sea, or where the country and region layers disagree -- against every
    region loaded, with the nearest-region rule.  For those, the regions of
    every country near a left-over point are loaded too, so a point gets the
    same region whichever other points come with it (a whole file, or one
    chunk of a streamed import)."""
    country_index, _ = locate(lon, lat, countries.geometry.values, nearest=False)
    labels, code_of_row = np.unique(countries["country_code"].to_numpy(dtype=object).astype(str), return_inverse=True)
    point_code = np.where(country_index >= 0, code_of_row[np.maximum(country_index, 0)], -1)
    present = np.unique(point_code[point_code >= 0])
    given = admin1 is not None
    if not given:
        admin1 = load_admin1(sorted(code for code in labels[present] if code))
    region_index = np.full(len(lon), -1, dtype=np.int64)
    region_country = admin1["country_code"].to_numpy(dtype=object)
    geometries = admin1.geometry.values
    for number in present:
        theirs = np.flatnonzero(region_country == labels[number])
        if not labels[number] or not len(theirs):
            continue
        mine = np.flatnonzero(point_code == number)
        found, _ = locate(lon[mine], lat[mine], geometries[theirs], nearest=False)
        hit = found >= 0
        region_index[mine[hit]] = theirs[found[hit]]
    region_km = np.zeros(len(lon))
    regions = admin1[["admin1_code", "admin1_name", "country_code"]]
    left = np.flatnonzero(region_index < 0)
    if not len(left):
        return country_index, region_index, region_km, regions
    everywhere = admin1
    if not given:
        loaded = set(admin1["country_code"].unique())
        near = _countries_near(lon[left], lat[left])
        if not near <= loaded:
            everywhere = load_admin1(sorted(loaded | near))
    found, region_km[left] = locate(lon[left], lat[left], everywhere.geometry.values)
    if everywhere is not admin1:  # the left-over points' regions, numbered after the first ones
        found = np.where(found >= 0, found + len(admin1), -1)
        regions = pd.concat([regions, everywhere[regions.columns]], ignore_index=True)
    region_index[left] = found
    return country_index, region_index, region_km, regions


def _countries_near(lon, lat) -> set[str]:
    """The countries whose regions' bounding box (admin1 index) comes within twice
    NEAREST_TOLERANCE_KM of a point (sorted by longitude): among them are all the
    regions that can hold one of the points or be the nearest to it."""
    margin = 2 * NEAREST_TOLERANCE_KM / KM_PER_DEGREE
    near = set()
    for code, entry in admin1_index().items():
        west, south, east, north = entry["bbox"]
        wide = margin / max(np.cos(np.radians(min(max(abs(south), abs(north)) + margin, 89.0))), 0.05)
        low, high = np.searchsorted(lon, west - wide, "left"), np.searchsorted(lon, east + wide, "right")
        if ((lat[low:high] >= south - margin) & (lat[low:high] <= north + margin)).any():
            near.add(code)
    return near


def locate(lon: np.ndarray, lat: np.ndarray, geometries, nearest: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Index of the polygon each point is in (-1 if none within tolerance) and
    the distance in km for points placed by the nearest-polygon rule (0 inside)."""
    # Polygon by polygon: the points in its bounding box found by binary
    # search over the points sorted by longitude, then GEOS's prepared
    # point-in-polygon test on those only.  (Querying an STRtree of polygons
    # with a million points tests each point against an unprepared polygon
    # and was ~40x slower.)  A point on a shared border goes to the polygon
    # of the smaller bounding box.
    order = None if len(lon) < 2 or (lon[1:] >= lon[:-1]).all() else np.argsort(lon, kind="stable")
    if order is not None:
        lon, lat = lon[order], lat[order]
    distance = np.zeros(len(lon))
    if len(lon) == 0 or len(geometries) == 0:
        found = np.full(len(lon), -1, dtype=np.int64)
        return found, np.where(found < 0, np.inf, distance) if nearest else distance
    bounds = shapely.bounds(geometries)
    # Smallest bounding box first: a point in Ukraine meets Ukraine before
    # Russia, whose box spans the globe.
    first_to_last = np.argsort((bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1]), kind="stable")
    found = _in_whole_cells(lon, lat, geometries, first_to_last)
    for index in first_to_last:
        polygon, (west, south, east, north) = geometries[index], bounds[index]
        low, high = int(np.searchsorted(lon, west, side="left")), int(np.searchsorted(lon, east, side="right"))
        if low >= high:
            continue
        window = slice(low, high)
        candidates = low + np.flatnonzero((lat[window] >= south) & (lat[window] <= north) & (found[window] < 0))
        if not len(candidates):
            continue
        shapely.prepare(polygon)
        hit = shapely.intersects_xy(polygon, lon[candidates], lat[candidates])
        found[candidates[hit]] = index
    missing = np.flatnonzero((found < 0) & np.isfinite(lon) & np.isfinite(lat))
    if nearest and len(missing):
        point_rows, polygon_rows, km = _within_tolerance(lon[missing], lat[missing], geometries)
        best = pd.DataFrame({"point": point_rows, "polygon": polygon_rows, "km": km}).sort_values(["point", "km"], kind="stable")
        best = best.drop_duplicates("point")
        found[missing[best["point"].to_numpy()]] = best["polygon"].to_numpy()
        distance[missing] = np.inf
        distance[missing[best["point"].to_numpy()]] = best["km"].to_numpy()
    if order is not None:
        found, distance = _unsorted(found, order), _unsorted(distance, order)
    return found, distance


def _in_whole_cells(lon, lat, geometries, first_to_last) -> np.ndarray:
    """The polygon of each point whose grid cell lies wholly inside the first
    polygon (in first_to_last's order) that touches the cell, else -1.

    Such a point can only be in that polygon, and is in it: the rule of the
    polygon-by-polygon search, decided for ~90% of a million points with a few
    thousand cell tests instead of a point-in-polygon test each."""
    found = np.full(len(lon), -1, dtype=np.int64)
    usable = np.flatnonzero((np.abs(lon) <= 180) & (np.abs(lat) <= 90))  # finite, and so a cell number
    if not len(usable):
        return found
    column = np.floor(lon[usable] / GRID_DEGREES).astype(np.int64) + 1000
    row = np.floor(lat[usable] / GRID_DEGREES).astype(np.int64) + 1000
    cell_of_point, cells = pd.factorize(column * 10_000 + row)  # hashing, not sorting, a million cell numbers
    # Each cell's box widened by a hair, so a point that rounding put in the cell is in its box.
    west, south = (cells // 10_000 - 1000) * GRID_DEGREES - 1e-9, (cells % 10_000 - 1000) * GRID_DEGREES - 1e-9
    boxes = shapely.box(west, south, west + GRID_DEGREES + 2e-9, south + GRID_DEGREES + 2e-9)
    shapely.prepare(geometries)
    polygon_rows, box_rows = shapely.STRtree(boxes).query(geometries, predicate="intersects")
    rank = np.empty(len(geometries), dtype=np.int64)
    rank[first_to_last] = np.arange(len(geometries))
    first = np.full(len(boxes), len(geometries), dtype=np.int64)
    np.minimum.at(first, box_rows, rank[polygon_rows])
    touched = np.flatnonzero(first < len(geometries))
    polygon = first_to_last[first[touched]]
    whole = shapely.contains_properly(geometries[polygon], boxes[touched])
    cell_polygon = np.full(len(boxes), -1, dtype=np.int64)
    cell_polygon[touched[whole]] = polygon[whole]
    found[usable] = cell_polygon[cell_of_point]
    return found


def _within_tolerance(lon, lat, geometries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, polygon, km) for every polygon within NEAREST_TOLERANCE_KM of a point.

    The index query is in degrees, wide enough at each polygon's highest
    latitude (a degree of longitude shrinks with cos(latitude)); the pairs it finds are
    then measured in Web Mercator scaled back by cos(latitude), true to well
    under 1% at 5 km."""
    scale = np.cos(np.radians(lat))
    # The points go in the index and each polygon, prepared, asks for those
    # within its distance: ~100x faster than asking a tree of polygons point by
    # point, where every big polygon's bounding box takes in every point at sea.
    bounds = shapely.bounds(geometries)
    widest = np.minimum(np.maximum(np.abs(bounds[:, 1]), np.abs(bounds[:, 3])), 89.0)
    degrees = NEAREST_TOLERANCE_KM / KM_PER_DEGREE / np.maximum(np.cos(np.radians(widest)), 0.05)
    shapely.prepare(geometries)
    polygon_rows, point_rows = shapely.STRtree(shapely.points(lon, lat)).query(geometries, predicate="dwithin", distance=degrees)
    if not len(point_rows):
        return point_rows, polygon_rows, np.zeros(0)
    from pyproj import Transformer

    to_mercator = Transformer.from_crs(4326, 3857, always_xy=True)
    used = np.unique(polygon_rows)
    projected = dict(zip(used, shapely.transform(geometries[used], lambda xy: np.column_stack(to_mercator.transform(xy[:, 0], xy[:, 1])))))
    px, py = to_mercator.transform(lon[point_rows], lat[point_rows])
    metres = shapely.distance(np.array([projected[p] for p in polygon_rows], dtype=object), shapely.points(px, py))
    km = metres * scale[point_rows] / 1000
    close = km <= NEAREST_TOLERANCE_KM
    return point_rows[close], polygon_rows[close], km[close]


def country_warnings(joined: pd.DataFrame) -> pd.DataFrame:
    """row, column, reason, value for events whose stated country is not where their coordinates are."""
    from .gazetteer import country_code_for

    stated = joined["country"].astype(str).str.strip() if "country" in joined else pd.Series("", index=joined.index)
    given = (stated != "").to_numpy()
    if not given.any():  # no country stated: nothing to disagree with
        return pd.DataFrame({"row": pd.Series([], dtype="int64"), "column": [], "reason": [], "value": []})
    codes = {name: country_code_for(name) or "" for name in stated[given].unique()}
    stated_code = stated.map(codes).fillna("")
    found = joined["country_code"]
    # Crimea and Sevastopol are Ukraine's in the boundaries: "Russia" there is the de facto claim, not a typo.
    disputed = joined["admin1_code"].isin(["UA-43", "UA-40"]) & (stated_code == "RU")
    wrong = (stated_code != "") & (found != "") & (stated_code != found) & ~disputed
    rows = joined[wrong]
    return pd.DataFrame(
        {
            "row": rows["source_row"].astype("int64").to_numpy(),
            "column": "country",
            "reason": ("the coordinates are in " + rows["country_code"] + ", not " + stated_code[wrong]).to_numpy(dtype=object),
            "value": rows["country"].to_numpy(dtype=object),
        }
    )
