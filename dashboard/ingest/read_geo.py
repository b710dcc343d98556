"""GeoJSON, GeoParquet and GeoPackage: properties as text, coordinates from Point geometry.

A layer whose declared CRS does not fit its numbers (EPSG:3857 declared over
degrees, degrees declared over metres) is refused, naming the CRS and a
sample: reprojecting it would put every event somewhere else without a word.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .rawtable import LoadError, RawTable, check_names, empty_problems


def read_geo(path: Path, container: str) -> RawTable:
    import geopandas as gpd
    import shapely

    names = {"geojson": "GeoJSON", "geoparquet": "GeoParquet", "gpkg": "GeoPackage"}
    try:
        # GDAL's and GeoPandas' own warnings (a point with no coordinates, a
        # property that is not JSON) are about rows the checks below report.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = gpd.read_parquet(path) if container == "geoparquet" else gpd.read_file(path, engine="pyogrio")
    except Exception as error:  # pyogrio/pyarrow raise many kinds; the user needs one line
        text = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise LoadError(f"{path.name}: not a readable {names[container]} file ({text}).") from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise LoadError(f"{path.name}: the {names[container]} file has no geometry column.")
    geometry = frame.geometry.values
    is_point = np.asarray(shapely.get_type_id(geometry) == 0)
    is_missing = np.asarray(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    coords = np.full((len(frame), 2), np.nan)
    if is_point.any():
        coords[is_point] = shapely.get_coordinates(geometry[is_point])
    coords = _to_degrees(path, frame.crs, coords, is_point)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    header = check_names(path, [str(c).strip() for c in table.columns])
    table.columns = header
    for column in header:
        table[column] = _as_text(table[column])
    lower = {c.lower(): c for c in header}
    lon_column, lat_column = lower.get("longitude", "longitude"), lower.get("latitude", "latitude")
    table[lon_column] = np.where(is_point, _numbers_text(coords[:, 0]), table[lon_column] if lon_column in table else "")
    table[lat_column] = np.where(is_point, _numbers_text(coords[:, 1]), table[lat_column] if lat_column in table else "")
    table["_geometry_problem"] = np.where(~is_point & ~is_missing, "geometry is not a point", "")
    table["_row"] = np.arange(1, len(table) + 1, dtype=np.int64)
    header = list(dict.fromkeys([*header, lon_column, lat_column]))
    return RawTable(table, empty_problems(), container, header)


def _to_degrees(path: Path, crs, coords: np.ndarray, is_point: np.ndarray) -> np.ndarray:
    """Longitude/latitude, after checking that the numbers fit the declared CRS."""
    if crs is None or not is_point.any():
        return coords
    name = crs.to_string() if crs.to_epsg() is None else f"EPSG:{crs.to_epsg()}"
    given = coords[is_point]
    finite = given[np.isfinite(given).all(axis=1)]
    if not len(finite):
        return coords
    looks_like_degrees = (np.abs(finite[:, 0]) <= 180).all() and (np.abs(finite[:, 1]) <= 90).all()
    sample = ", ".join(f"{v:.6g}" for v in finite[np.argmax(np.abs(finite).sum(axis=1))])
    if crs.is_geographic:
        if not looks_like_degrees:
            raise LoadError(
                f"{path.name}: declares {name} (degrees) but holds coordinates like ({sample}), which are not "
                "degrees; fix the file's CRS (metres are usually EPSG:3857 or a UTM zone)."
            )
        if crs.to_epsg() == 4326 or crs.equals("OGC:CRS84"):
            return coords
    elif looks_like_degrees and np.abs(finite).max() > 1e-6:
        raise LoadError(
            f"{path.name}: declares {name} (metres) but holds coordinates like ({sample}), which look like "
            "degrees; fix the file's CRS (longitude/latitude is EPSG:4326)."
        )
    from pyproj import Transformer

    try:
        transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lon, lat = transformer.transform(coords[:, 0], coords[:, 1])
    except Exception as error:
        raise LoadError(f"{path.name}: its coordinates cannot be converted from {name} to longitude/latitude ({error}).") from None
    out = np.column_stack([lon, lat]).astype(float)
    out[~np.isfinite(out).all(axis=1)] = np.nan  # outside the projection's domain: no position
    return out


def _numbers_text(values: np.ndarray) -> np.ndarray:
    text = pd.Series(values, dtype="float64").astype(str)  # shortest round-trip form, as repr()
    return text.where(~np.isnan(values), "").to_numpy(dtype=object)


def _as_text(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").fillna("")
    if pd.api.types.is_float_dtype(series):  # 3.0 written as "3", as a CSV would hold it
        whole = series.notna() & (series % 1 == 0) & (series.abs() < 2**53)
        text = series.astype(object).where(series.notna(), "").astype(str)
        return text.where(~whole, series[whole].astype("int64").astype(str) if whole.any() else text)
    return series.astype(object).where(series.notna(), "").astype(str)
