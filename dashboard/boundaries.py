"""The admin-1 and country boundaries in data/geo, read once per process.

Read-only after loading, so every worker process holds the same thing.
"""
from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd

GEO_DIR = Path(__file__).resolve().parent.parent / "data" / "geo"
ADMIN1_PATH = GEO_DIR / "admin1.geojson"
COUNTRIES_PATH = GEO_DIR / "countries.geojson"
ATTRIBUTION = "Boundaries: Natural Earth (public domain)"
BOUNDARY_PATHS = {"countries": COUNTRIES_PATH, "admin1": ADMIN1_PATH}
# Where figures find the files: the page serves them at these URLs, and the
# export's renderer holds them under the same names, so both draw one figure.
BOUNDARY_URLS = {name: f"/geo/{name}.geojson" for name in BOUNDARY_PATHS}


@functools.lru_cache(maxsize=1)
def load_admin1() -> gpd.GeoDataFrame:
    frame = gpd.read_file(ADMIN1_PATH, engine="pyogrio")
    for column in ("name_uk", "name_ru", "gn_a1_code"):
        frame[column] = frame[column].fillna("")
    return frame


@functools.lru_cache(maxsize=1)
def load_countries() -> gpd.GeoDataFrame:
    return gpd.read_file(COUNTRIES_PATH, engine="pyogrio")


def admin1_names() -> dict[str, str]:
    frame = load_admin1()
    return dict(zip(frame["admin1_code"], frame["admin1_name"]))
