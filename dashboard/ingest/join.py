"""Spatial join: every event gets country, admin-1 code and admin-1 name.

GeoPandas' spatial index (an STRtree) finds the region each point falls in.
A point just outside every region -- a coastline, a border, rounded
coordinates, the simplified boundaries -- takes the nearest region within
NEAREST_TOLERANCE_KM and is flagged; one farther out keeps no region and is
reported.  An event located only to a country keeps its country and no
region, so that no region's count is inflated by it.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..boundaries import load_admin1, load_countries

# The boundaries are simplified to ~1 km and sources round coordinates to
# 0.01 degrees (~1 km); 5 km covers both with room, yet is far smaller than
# any region, so a snapped point cannot land two regions away.
NEAREST_TOLERANCE_KM = 5.0


def join_admin1(events: pd.DataFrame, admin1=None, countries=None) -> tuple[pd.DataFrame, list[str]]:
    """Return (events with country_code, admin1_code, admin1_name, join_note; notes for the user)."""
    admin1 = load_admin1() if admin1 is None else admin1
    countries = load_countries() if countries is None else countries
    lon = events["longitude"].to_numpy(dtype=float)
    lat = events["latitude"].to_numpy(dtype=float)
    region_index, region_km = locate(lon, lat, admin1)
    # The country polygon matters only where no region was found.
    country_index = np.full(len(lon), -1, dtype=np.int64)
    no_region = np.flatnonzero(region_index < 0)
    if len(no_region):
        country_index[no_region] = locate(lon[no_region], lat[no_region], countries)[0]

    country_level = (events["geo_precision"] == "country").to_numpy()
    has_region = (region_index >= 0) & ~country_level
    codes = admin1["admin1_code"].to_numpy(dtype=object)
    names = admin1["admin1_name"].to_numpy(dtype=object)
    region_country = admin1["country_code"].to_numpy(dtype=object)
    country_codes = countries["country_code"].to_numpy(dtype=object)

    out = events.copy()
    out["admin1_code"] = np.where(has_region, codes[region_index], "")
    out["admin1_name"] = np.where(has_region, names[region_index], "")
    # The region's country where there is one (the two layers agree by
    # construction), else the country polygon the point falls in.
    out["country_code"] = np.where(
        region_index >= 0, region_country[region_index], np.where(country_index >= 0, country_codes[country_index], "")
    )
    note = np.full(len(out), "", dtype=object)
    snapped = has_region & (region_km > 0)
    note[snapped] = [f"nearest region, {km:.1f} km away" for km in region_km[snapped]]
    outside = (region_index < 0) & (country_index < 0)
    note[outside] = "outside every region"
    note[country_level] = "country-level event: no region"
    out["join_note"] = note
    for column in ("admin1_code", "admin1_name", "country_code", "join_note"):
        out[column] = out[column].astype(str)

    flagged = np.flatnonzero(snapped | outside)
    rows = out["source_row"].to_numpy()[flagged] if "source_row" in out else flagged + 1
    notes = [
        f"row {row} ({event_id}): {text}"
        for row, event_id, text in zip(rows, out["event_id"].to_numpy()[flagged], note[flagged])
    ]
    return out, notes


def locate(lon: np.ndarray, lat: np.ndarray, polygons: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Index of the polygon each point is in (-1 if none within tolerance) and
    the distance in km for points placed by the nearest-region rule (0 inside)."""
    found = np.full(len(lon), -1, dtype=np.int64)
    distance = np.zeros(len(lon))
    # Polygon by polygon: a bounding-box pre-filter in numpy, then GEOS's
    # prepared point-in-polygon test on the candidates only.  (Querying an
    # STRtree of polygons with a million points tests each point against an
    # unprepared polygon and was ~40x slower.)  A point on a shared border
    # goes to the first region that covers it.
    geometries = polygons.geometry.values
    bounds = shapely.bounds(geometries)
    for index, (polygon, (west, south, east, north)) in enumerate(zip(geometries, bounds)):
        candidates = np.flatnonzero((found < 0) & (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
        if not len(candidates):
            continue
        shapely.prepare(polygon)
        hit = shapely.intersects_xy(polygon, lon[candidates], lat[candidates])
        found[candidates[hit]] = index
    missing = np.flatnonzero(found < 0)
    if len(missing):
        index, km = _nearest_within(lon[missing], lat[missing], polygons)
        found[missing] = index
        distance[missing] = np.where(index >= 0, km, np.inf)
    return found, distance


def _nearest_within(lon, lat, polygons) -> tuple[np.ndarray, np.ndarray]:
    # Web Mercator stretches lengths by 1/cos(latitude); scaling back by
    # cos(latitude) gives true distances to well under 1% at 5 km.
    projected = polygons.to_crs(3857)  # only for the few points outside every polygon
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(3857)
    scale = np.cos(np.radians(lat))
    max_metres = NEAREST_TOLERANCE_KM * 1000 / np.maximum(scale, 0.05)
    point_rows, polygon_rows = projected.sindex.nearest(points.values, return_all=False)
    metres = projected.geometry.values[polygon_rows].distance(points.values[point_rows])
    index = np.full(len(lon), -1, dtype=np.int64)
    km = np.full(len(lon), np.inf)
    close = metres <= max_metres[point_rows]
    index[point_rows[close]] = polygon_rows[close]
    km[point_rows] = metres * scale[point_rows] / 1000
    return index, km
