"""The admin-1 and country boundaries in data/geo, read once per process.

Admin-1 regions are stored one file per country (data/geo/admin1/<CC>.geojson,
CC = ISO alpha-2) with an index (admin1/index.json), so a process reads only
the countries its data needs; countries.geojson covers the whole world.
admin1.geojson (Ukraine and Russia) is the app's single admin-1 layer until
the page loads per-country files.  Read-only after loading, so every worker
process holds the same thing.  No imports from the rest of the package.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd

GEO_DIR = Path(__file__).resolve().parent.parent / "data" / "geo"
ADMIN1_DIR = GEO_DIR / "admin1"
ADMIN1_INDEX_PATH = ADMIN1_DIR / "index.json"
ADMIN1_PATH = GEO_DIR / "admin1.geojson"  # Ukraine and Russia (transitional)
COUNTRIES_PATH = GEO_DIR / "countries.geojson"
ATTRIBUTION = "Boundaries: Natural Earth (public domain); Kyiv city and Sevastopol: geoBoundaries (CC BY 3.0 IGO)"
SHORT_ATTRIBUTION = "Boundaries: Natural Earth, geoBoundaries"  # for one-line source texts
BOUNDARY_PATHS = {"countries": COUNTRIES_PATH, "admin1": ADMIN1_PATH}
# Where figures find the files: the page serves them at these URLs, and the
# export's renderer holds them under the same names, so both draw one figure.
BOUNDARY_URLS = {name: f"/geo/{name}.geojson" for name in BOUNDARY_PATHS}
ADMIN1_URL_PREFIX = "/geo/admin1/"
ADMIN1_COLUMNS = ["admin1_code", "admin1_name", "name_uk", "name_ru", "country_code", "country_name", "gn_a1_code"]


@functools.lru_cache(maxsize=1)
def admin1_index() -> dict[str, dict]:
    """Country code -> {"country_name", "regions", "bbox" [W, S, E, N], "bytes"} for every bundled file."""
    return json.loads(ADMIN1_INDEX_PATH.read_text(encoding="utf-8"))


def admin1_country_codes() -> list[str]:
    return sorted(admin1_index())


def _country_code(country_code: str) -> str:
    code = str(country_code).strip().upper()
    if code not in admin1_index():
        raise KeyError(f"no admin-1 boundaries for country {country_code!r}")
    return code


def admin1_path_for(country_code: str) -> Path:
    """The admin-1 file of one country (KeyError if none is bundled)."""
    return ADMIN1_DIR / f"{_country_code(country_code)}.geojson"


def admin1_url_for(country_code: str) -> str:
    """The URL the page serves a country's admin-1 file at: /geo/admin1/<CC>.geojson."""
    return f"{ADMIN1_URL_PREFIX}{_country_code(country_code)}.geojson"


def admin1_urls(country_codes: Iterable[str]) -> dict[str, Path]:
    """URL -> file for the given countries' admin-1 files (unknown codes skipped), e.g.
    for an exporter that must hold every file a figure names."""
    known = admin1_index()
    codes = sorted({str(c).strip().upper() for c in country_codes} & set(known))
    return {admin1_url_for(code): admin1_path_for(code) for code in codes}


def boundary_path_for_url(url: str) -> Path | None:
    """The file behind a boundary URL (BOUNDARY_URLS or /geo/admin1/<CC>.geojson), else None."""
    for name, known in BOUNDARY_URLS.items():
        if url == known:
            return BOUNDARY_PATHS[name]
    if url.startswith(ADMIN1_URL_PREFIX) and url.endswith(".geojson"):
        code = url[len(ADMIN1_URL_PREFIX):-len(".geojson")]
        if code.isalpha() and len(code) == 2 and code.upper() == code and code in admin1_index():
            return admin1_path_for(code)
    return None


def _normalise(country_codes: Iterable[str] | None) -> tuple[str, ...] | None:
    if country_codes is None:
        return None
    if isinstance(country_codes, str):
        country_codes = [country_codes]
    known = admin1_index()
    return tuple(sorted({str(c).strip().upper() for c in country_codes} & set(known)))


def load_admin1(country_codes: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Admin-1 regions of the given countries (ISO alpha-2; codes with no file are
    skipped), or of every country when None.  Same columns as before, in a stable
    order (country, then code); cached per set of countries."""
    return _load_admin1(_normalise(country_codes))


@functools.lru_cache(maxsize=8)
def _load_admin1(codes: tuple[str, ...] | None) -> gpd.GeoDataFrame:
    codes = admin1_country_codes() if codes is None else codes
    frames = [_load_country_admin1(code) for code in codes]
    if not frames:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in ADMIN1_COLUMNS}, geometry=[], crs="EPSG:4326")
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")


@functools.lru_cache(maxsize=None)
def _load_country_admin1(code: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(admin1_path_for(code), engine="pyogrio")
    for column in ("name_uk", "name_ru", "gn_a1_code"):
        frame[column] = frame[column].fillna("")
    return frame[ADMIN1_COLUMNS + ["geometry"]]


@functools.lru_cache(maxsize=1)
def load_countries() -> gpd.GeoDataFrame:
    """Every country of the world (country_code, country_name), so no land is drawn as sea."""
    return gpd.read_file(COUNTRIES_PATH, engine="pyogrio")


def admin1_names(country_codes: Iterable[str] | None = None) -> dict[str, str]:
    frame = load_admin1(country_codes)
    return dict(zip(frame["admin1_code"], frame["admin1_name"]))
