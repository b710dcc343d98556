"""Territorial control over time: time-versioned area layers.

A layer answers one question -- "what stood on day d?" -- for sources such as
DeepStateMap's daily occupied-territory polygons.  Two input shapes are
accepted and compiled into the same representation:

* dated snapshots: a folder of ``*_YYYYMMDD.geojson`` files, or one file whose
  rows carry a ``date``.  Each date is a complete picture that stays in force
  until the next date.
* validity intervals: one file whose rows carry ``valid_from`` / ``valid_to``
  (a row is in force on days valid_from <= d <= valid_to; an empty valid_to
  is open-ended).

Both become intervals first, and the intervals are materialised as a step
function: ``TerritoryLayer.snapshots`` holds one row per (date, status) at
every date where what is in force changes, dissolved per status.  The state
on day d is then the latest row-date on or before d, whatever the input was.

Nothing is silently dropped: every repaired or skipped feature is recorded as
a ``LayerIssue``; input that cannot be used at all raises ``TerritoryError``
with one plain sentence.
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import gzip
import http.client
import io
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

DEEPSTATE_SOURCE = "DeepStateMap (deepstatemap.live), via github.com/cyterat/deepstate-map-data"
DEEPSTATE_LICENCE = "GPL-3.0"
DEFAULT_FETCH_URL = (
    "https://raw.githubusercontent.com/cyterat/deepstate-map-data/main/deepstate-map-data.geojson.gz"
)
DEFAULT_DATA_DIR = Path("data/territory")

STATUSES = ("occupied", "contested", "claimed")
DEFAULT_STATUS = "occupied"
# Status of the single empty row written for a date on which nothing is in
# force (after every valid_to of an interval layer).
NOTHING_IN_FORCE = "none"

SNAPSHOT_NAME = re.compile(r"_(\d{8})\.geojson(\.gz)?$", re.IGNORECASE)
LAYER_SUFFIXES = (".geojson", ".geojson.gz", ".json", ".json.gz", ".parquet", ".geoparquet", ".gpkg")

# Edges are straight in lon/lat (RFC 7946); densify them before projecting so
# the projected polygon follows the same lines (matters for long edges only).
EDGE_STEP_DEG = 0.05
DISPLAY_DECIMALS = 5  # ~1 m: more is invisible on a map and only bloats JSON
DISPLAY_CACHE_SIZE = 1024
ONE_DAY = np.timedelta64(1, "D")


class TerritoryError(Exception):
    """Input that cannot be used as a territory layer, said in one sentence."""


@dataclass
class LayerIssue:
    where: str  # file name and feature number, e.g. "x_20250102.geojson feature 3"
    reason: str  # plain words
    action: str  # "repaired" or "skipped"

    def __str__(self) -> str:
        return f"{self.where}: {self.reason} ({self.action})"


@dataclass(eq=False)
class Snapshot:
    """What stood on a date.

    ``geometry`` is the union of every status (what the layer covers, used
    for point tests and change), prepared for fast point queries;
    ``by_status`` keeps each status apart (for DeepStateMap all is
    "occupied").
    """

    date: pd.Timestamp
    geometry: BaseGeometry
    by_status: dict[str, BaseGeometry]

    @cached_property
    def area_km2(self) -> float:
        return area_km2(self.geometry, equal_area_crs(self.geometry))


@dataclass(eq=False)
class TerritoryLayer:
    """A time-versioned area layer; see the module docstring for the model.

    ``snapshots``: GeoDataFrame sorted by date with columns date
    (datetime64[ns], day), status and geometry, one row per status at every
    date where the state changes.
    """

    name: str
    source: str
    licence: str
    snapshots: gpd.GeoDataFrame
    issues: list[LayerIssue] = field(default_factory=list)
    _dates: np.ndarray = field(init=False, repr=False)
    _states: list[Snapshot] = field(init=False, repr=False)
    _display_cached: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.snapshots = self.snapshots.sort_values(["date", "status"], kind="stable").reset_index(drop=True)
        self._dates, self._states = _index_states(self.snapshots)
        # Per instance, so each layer has its own cache; keyed by snapshot
        # index and tolerance, so every day mapping to one snapshot shares it.
        self._display_cached = functools.lru_cache(maxsize=DISPLAY_CACHE_SIZE)(self._build_display)

    @property
    def dates(self) -> pd.DatetimeIndex:
        """The dates at which the state changes (one per snapshot)."""
        return pd.DatetimeIndex(self._dates)

    def snapshot_on(self, day) -> Snapshot | None:
        """The latest snapshot on or before ``day``; None before the first."""
        index = self._index_on(day)
        return None if index < 0 else self._states[index]

    def display_geojson(self, day, tolerance_deg: float) -> tuple[pd.Timestamp | None, dict]:
        """(snapshot date, FeatureCollection) of what stood on ``day``,
        simplified for display.  Cached per (snapshot, tolerance): the
        returned dict is shared between calls, so do not modify it."""
        index = self._index_on(day)
        if index < 0:
            return None, {"type": "FeatureCollection", "features": []}
        return self._states[index].date, self._display_cached(index, round(float(tolerance_deg), 9))

    def display_cache_info(self):
        return self._display_cached.cache_info()

    def _index_on(self, day) -> int:
        return int(np.searchsorted(self._dates, _as_day(day), side="right")) - 1

    def _build_display(self, index: int, tolerance_deg: float) -> dict:
        state = self._states[index]
        day = state.date.strftime("%Y-%m-%d")
        features = []
        for status, geometry in state.by_status.items():
            simple = shapely.simplify(geometry, tolerance_deg, preserve_topology=True) if tolerance_deg else geometry
            rounded = shapely.transform(simple, lambda xy: np.round(xy, DISPLAY_DECIMALS))
            features.append({
                "type": "Feature",
                "properties": {"layer": self.name, "status": status, "date": day},
                "geometry": json.loads(shapely.to_geojson(rounded)),
            })
        return {"type": "FeatureCollection", "features": features}


@dataclass
class Change:
    """What changed between the snapshots in force on two days.

    gained: in force at date_to but not at date_from (newly occupied);
    lost: the reverse.  net_km2 = gained_km2 - lost_km2, so the printed
    figures add up; it equals area_to - area_from up to rounding.
    """

    date_from: pd.Timestamp
    date_to: pd.Timestamp
    gained: BaseGeometry
    lost: BaseGeometry
    gained_km2: float
    lost_km2: float
    area_from_km2: float
    area_to_km2: float

    @property
    def net_km2(self) -> float:
        return self.gained_km2 - self.lost_km2

    def to_geojson(self) -> dict:
        """One feature per changed polygon, largest first, with its area."""
        crs = equal_area_crs(self.gained, self.lost)
        features = []
        for kind, geometry in (("gained", self.gained), ("lost", self.lost)):
            parts = shapely.get_parts(geometry)
            parts = parts[~shapely.is_empty(parts)]
            areas = area_km2_each(parts, crs)
            for order in np.argsort(-areas, kind="stable"):
                rounded = shapely.transform(parts[order], lambda xy: np.round(xy, 6))
                features.append({
                    "type": "Feature",
                    "properties": {
                        "change": kind,
                        "area_km2": round(float(areas[order]), 3),
                        "date_from": self.date_from.strftime("%Y-%m-%d"),
                        "date_to": self.date_to.strftime("%Y-%m-%d"),
                    },
                    "geometry": json.loads(shapely.to_geojson(rounded)),
                })
        return {"type": "FeatureCollection", "features": features}


# --------------------------------------------------------------------------
# Areas


def equal_area_crs(*geometries: BaseGeometry) -> pyproj.CRS:
    """Lambert azimuthal equal-area centred on the geometries.

    Equal-area so areas are true; centred on the data so shape and distance
    distortion stay low across it (it grows only with distance from centre).
    """
    present = [g for g in geometries if g is not None and not g.is_empty]
    if not present:
        return pyproj.CRS.from_proj4("+proj=laea +lat_0=0 +lon_0=0 +datum=WGS84 +units=m")
    min_x, min_y, max_x, max_y = shapely.total_bounds(present)
    return pyproj.CRS.from_proj4(
        f"+proj=laea +lat_0={(min_y + max_y) / 2:.6f} +lon_0={(min_x + max_x) / 2:.6f} +datum=WGS84 +units=m"
    )


def area_km2_each(geometries, crs: pyproj.CRS) -> np.ndarray:
    """Area of each lon/lat geometry in km², measured in ``crs``."""
    if len(geometries) == 0:
        return np.zeros(0)
    dense = shapely.segmentize(np.asarray(geometries, dtype=object), EDGE_STEP_DEG)
    return gpd.GeoSeries(dense, crs="EPSG:4326").to_crs(crs).area.to_numpy() / 1e6


def area_km2(geometry: BaseGeometry, crs: pyproj.CRS) -> float:
    if geometry is None or geometry.is_empty:
        return 0.0
    return float(area_km2_each([geometry], crs)[0])


# --------------------------------------------------------------------------
# Change and point classification


def change_between(layer: TerritoryLayer, day_from, day_to) -> Change:
    """Gained and lost areas between the snapshots in force on two days."""
    before = _snapshot_or_error(layer, day_from)
    after = _snapshot_or_error(layer, day_to)
    gained = _polygonal(shapely.difference(after.geometry, before.geometry))
    lost = _polygonal(shapely.difference(before.geometry, after.geometry))
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
            f"{layer.name} has no snapshot on or before {_as_timestamp(day):%Y-%m-%d}; its first is {first}."
        )
    return snapshot


def classify_points(layer: TerritoryLayer, days, lons, lats) -> np.ndarray:
    """"inside" / "outside" the layer as it stood on each point's own day,
    "no layer" when the day is before the first snapshot (or missing).

    Points on a boundary, in a hole or without coordinates (NaN) are
    outside.  Points are grouped by
    the snapshot in force, then tested in one vectorised call per group.
    """
    day_values = _as_days(days)
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


def load_layer(path, **metadata) -> TerritoryLayer:
    """A snapshot folder or a single layer file, whichever ``path`` is.

    A folder without dated snapshot files but with exactly one layer file
    (e.g. the download of ``fetch-territory``) loads that file.
    """
    path = Path(path)
    if not path.exists():
        raise TerritoryError(f"{path} does not exist.")
    if path.is_dir():
        if any(SNAPSHOT_NAME.search(p.name) for p in _snapshot_candidates(path)):
            return load_snapshot_folder(path, **metadata)
        layer_files = [p for p in sorted(path.iterdir()) if p.is_file() and p.name.lower().endswith(LAYER_SUFFIXES)]
        if len(layer_files) == 1:
            return load_layer_file(layer_files[0], **metadata)
        if not layer_files:
            raise TerritoryError(f"No snapshot files (*_YYYYMMDD.geojson) or layer file in {path}.")
        names = ", ".join(p.name for p in layer_files)
        raise TerritoryError(f"{path} holds several layer files ({names}); give one of them.")
    return load_layer_file(path, **metadata)


def load_snapshot_folder(
    path, name: str = "DeepStateMap", source: str = DEEPSTATE_SOURCE, licence: str = DEEPSTATE_LICENCE
) -> TerritoryLayer:
    """Files named ``*_YYYYMMDD.geojson`` (or ``.geojson.gz``); the date
    comes from the name.  A file that cannot be read, or has no usable
    feature, is reported and skipped, so the previous day stays in force
    (an empty day is never taken as "nothing occupied")."""
    folder = Path(path)
    if not folder.is_dir():
        raise TerritoryError(f"{folder} is not a folder.")
    issues: list[LayerIssue] = []
    pieces: list[Intervals] = []
    seen_days: dict[np.datetime64, str] = {}
    for file in _snapshot_candidates(folder):
        day = _day_from_file_name(file.name, issues)
        if day is None:
            continue
        if day in seen_days:
            issues.append(LayerIssue(file.name, f"{seen_days[day]} already gives this date", "skipped"))
            continue
        try:
            features = _read_features(file)
        except TerritoryError as error:
            issues.append(LayerIssue(file.name, str(error).removeprefix(f"{file.name} "), "skipped"))
            continue
        found = RowIssues(file.name)
        rows, statuses, geometries = _clean_rows(features, found)
        issues.extend(found.in_row_order())
        if len(rows) == 0:
            issues.append(LayerIssue(file.name, "no usable feature, so the day before stays in force", "skipped"))
            continue
        seen_days[day] = file.name
        no_end = np.full(len(rows), np.datetime64("NaT", "ns"))
        pieces.append(Intervals(np.full(len(rows), day), no_end, statuses, geometries))
    if not pieces:
        raise TerritoryError(_no_snapshots_message(folder, issues))
    intervals = _dated_rows_as_intervals(Intervals.concat(pieces))
    return _layer_from_intervals(intervals, name, source, licence, issues)


def load_layer_file(
    path, name: str | None = None, source: str | None = None, licence: str | None = None
) -> TerritoryLayer:
    """One file (GeoJSON, GeoJSON.gz, GeoParquet, anything pyogrio reads)
    whose rows carry ``date`` or ``valid_from``/``valid_to``, optionally
    ``status`` (occupied, contested, claimed) and ``name``.  The format is
    recognised from the content, so a ``.part`` download loads too."""
    path = Path(path)
    features = _read_features(path)
    if len(features) == 0:
        raise TerritoryError(f"{path.name} has no features.")
    name, source, licence = _metadata_for(path, features, name, source, licence)
    found = RowIssues(path.name)
    columns = set(features.columns)
    if "valid_from" in columns:
        intervals = _intervals_from_validity(features, found)
    elif "valid_to" in columns:
        raise TerritoryError(f"{path.name} has a valid_to column but no valid_from column.")
    elif "date" in columns:
        intervals = _intervals_from_date_column(features, found)
    else:
        raise TerritoryError(
            f"{path.name} has no 'date' or 'valid_from' column, so its areas cannot be placed in time."
        )
    issues = found.in_row_order()
    if len(intervals) == 0:
        raise TerritoryError(_no_snapshots_message(path, issues))
    return _layer_from_intervals(intervals, name, source, licence, issues)


def _metadata_for(path: Path, features: Features, name, source, licence) -> tuple[str, str, str]:
    deepstate = "deepstate" in path.name.lower()
    if name is None:
        names = {str(v).strip() for v in features.columns.get("name", []) if not _is_blank(v)}
        if len(names) == 1:
            name = names.pop()
        else:
            name = "DeepStateMap" if deepstate else _stem(path.name)
    if source is None:
        source = DEEPSTATE_SOURCE if deepstate else str(path)
    if licence is None:
        licence = DEEPSTATE_LICENCE if deepstate else "unknown"
    return name, source, licence


def _stem(file_name: str) -> str:
    for suffix in (".part",) + LAYER_SUFFIXES:
        if file_name.lower().endswith(suffix):
            file_name = file_name[: -len(suffix)]
    return file_name


def _no_snapshots_message(path: Path, issues: list[LayerIssue]) -> str:
    if not issues:
        return f"No snapshot files (*_YYYYMMDD.geojson) in {path}."
    return f"Nothing usable in {path}: {len(issues)} problem(s), the first being {issues[0]}."


def _snapshot_candidates(folder: Path) -> list[Path]:
    """Every .geojson / .geojson.gz file: those without a date in the name
    are reported, not ignored."""
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith((".geojson", ".geojson.gz"))
    )


def _day_from_file_name(file_name: str, issues: list[LayerIssue]) -> np.datetime64 | None:
    match = SNAPSHOT_NAME.search(file_name)
    if match is None:
        issues.append(LayerIssue(file_name, "no date in the file name (expected NAME_YYYYMMDD.geojson)", "skipped"))
        return None
    try:
        day = dt.datetime.strptime(match.group(1), "%Y%m%d")
    except ValueError:
        issues.append(LayerIssue(file_name, f"'{match.group(1)}' in the file name is not a real date", "skipped"))
        return None
    return np.datetime64(day, "ns")


@dataclass
class Features:
    """One file's features: attribute columns, and lon/lat geometries with
    None where a geometry is missing or malformed."""

    columns: dict[str, np.ndarray]
    geometry: np.ndarray

    def __len__(self) -> int:
        return len(self.geometry)


def _read_features(path: Path) -> Features:
    """Any supported file, the format recognised from its content."""
    if not path.is_file():
        raise TerritoryError(f"{path} does not exist or is not a file.")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
        if not magic:
            raise TerritoryError(f"{path.name} is empty.")
        if magic[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as handle:
                return _read_ogr(io.BytesIO(handle.read()))
        if magic == b"PAR1":
            return _features_of_frame(gpd.read_parquet(path))
        return _read_ogr(path)
    except TerritoryError:
        raise
    except Exception as error:  # any reader failure is the same for the user
        raise TerritoryError(f"{path.name} could not be read as a geographic file ({_first_line(error)}).") from None


def _read_ogr(source) -> Features:
    # Raw read: a malformed geometry (e.g. an unclosed ring) becomes None and
    # is reported per feature instead of failing the whole file.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meta, _, wkb, values = pyogrio.raw.read(source)
    columns = {str(column): value for column, value in zip(meta["fields"], values)}
    if wkb is None:
        raise ValueError("it has no geometry")
    geometry = shapely.from_wkb(wkb, on_invalid="ignore")
    return Features(columns, _to_lonlat(geometry, meta.get("crs")))


def _features_of_frame(frame: gpd.GeoDataFrame) -> Features:
    columns = {str(c): frame[c].to_numpy() for c in frame.columns if c != frame.geometry.name}
    return Features(columns, _to_lonlat(frame.geometry.to_numpy(), frame.crs))


def _to_lonlat(geometry: np.ndarray, crs) -> np.ndarray:
    """No CRS means lon/lat already; a projected CRS is converted."""
    geometry = np.asarray(geometry, dtype=object)
    if crs is not None and not pyproj.CRS(crs).is_geographic:
        geometry = gpd.GeoSeries(geometry, crs=crs).to_crs("EPSG:4326").to_numpy()
    return np.asarray(geometry, dtype=object)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


# --------------------------------------------------------------------------
# Validation


class RowIssues:
    """The problems found in one file's rows, reported in feature order."""

    def __init__(self, file_name: str):
        self.file_name = file_name
        self._found: list[tuple[int, LayerIssue]] = []

    def add(self, row: int, reason: str, action: str = "skipped") -> None:
        self._found.append((row, LayerIssue(f"{self.file_name} feature {row + 1}", reason, action)))

    def in_row_order(self) -> list[LayerIssue]:
        return [issue for _, issue in sorted(self._found, key=lambda pair: pair[0])]


def _clean_rows(features: Features, found: RowIssues, keep=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row numbers, statuses, geometries) of the rows with a usable
    geometry and status.  ``keep`` pre-selects rows (those with good dates)."""
    keep = np.ones(len(features), dtype=bool) if keep is None else keep.copy()
    statuses = _statuses(features, found, keep)
    geometries = _clean_geometries(features.geometry, found, keep)
    rows = np.flatnonzero(keep)
    return rows, statuses[rows], geometries[rows]


def _statuses(features: Features, found: RowIssues, keep: np.ndarray) -> np.ndarray:
    if "status" not in features.columns:
        return np.full(len(features), DEFAULT_STATUS, dtype=object)
    statuses = np.empty(len(features), dtype=object)
    for row, value in enumerate(features.columns["status"]):
        text = "" if _is_blank(value) else str(value).strip().lower()
        statuses[row] = text or DEFAULT_STATUS
        if keep[row] and statuses[row] not in STATUSES:
            found.add(row, f"status '{value}' is not one of {', '.join(STATUSES)}")
            keep[row] = False
    return statuses


def _clean_geometries(geometries: np.ndarray, found: RowIssues, keep: np.ndarray) -> np.ndarray:
    """Repair or reject each geometry; updates ``keep`` in place.

    Coordinate rule: longitude (x) must lie in [-180, 180] and latitude (y)
    in [-90, 90]; anything else (latitude/longitude swapped far from the
    equator, projected metres, infinities) is an error and the feature is
    skipped.  Swaps that stay within both ranges cannot be told apart from
    real places and are not detected.
    """
    geometries = shapely.force_2d(geometries.astype(object))
    cleaned = geometries.copy()
    missing = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    with np.errstate(invalid="ignore"):
        bounds = shapely.bounds(geometries)
        in_range = (np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1) & (np.abs(bounds[:, [1, 3]]) <= 90).all(axis=1)
    plain_polygon = np.isin(shapely.get_type_id(geometries), [3, 6])  # Polygon, MultiPolygon
    valid = shapely.is_valid(geometries)
    for row in np.flatnonzero(keep & ~(~missing & in_range & plain_polygon & valid)):
        if missing[row]:
            problem = "no geometry (missing, empty or malformed)"
        elif not in_range[row]:
            problem = _range_problem(bounds[row])
        else:
            cleaned[row], problem, repaired = _repair(geometries[row])
            if repaired:
                found.add(row, problem, "repaired")
                continue
        found.add(row, problem)
        keep[row] = False
    return cleaned


def _range_problem(bounds: np.ndarray) -> str:
    min_x, min_y, max_x, max_y = (round(float(v), 3) for v in bounds)
    return (
        f"coordinates outside longitude -180..180 / latitude -90..90 (x {min_x}..{max_x}, y {min_y}..{max_y});"
        " latitude and longitude swapped, or not in degrees?"
    )


def _repair(geometry: BaseGeometry) -> tuple[BaseGeometry | None, str, bool]:
    """(geometry, what was wrong, whether it could be repaired)."""
    kind = geometry.geom_type
    if kind not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        return None, f"a {kind}, not a polygon", False
    reason = f"a {kind}: kept its polygon parts"
    if kind == "GeometryCollection":
        geometry = shapely.MultiPolygon(_polygons_of(geometry))
        if geometry.is_empty:
            return None, "a GeometryCollection with no polygon in it", False
    if not geometry.is_valid:
        reason = f"invalid polygon ({shapely.is_valid_reason(geometry)}), fixed with make_valid"
        # "structure" keeps only polygonal output for polygonal input.
        geometry = _polygonal(shapely.make_valid(geometry, method="structure", keep_collapsed=False))
        if geometry.is_empty:
            return None, "invalid polygon with no area left after repair", False
    return geometry, reason, True


def _polygons_of(geometry: BaseGeometry) -> list:
    polygons = []
    for part in shapely.get_parts(geometry):
        if part.geom_type == "Polygon":
            polygons.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            polygons.extend(_polygons_of(part))
    return polygons


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    return shapely.MultiPolygon(_polygons_of(geometry))


def _is_blank(value) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


# --------------------------------------------------------------------------
# Dates and intervals


def _parse_day_column(values, column: str, found: RowIssues, keep: np.ndarray,
                      allow_blank: bool = False) -> np.ndarray:
    """ISO 8601 days (YYYY-MM-DD) as datetime64[ns], NaT for blanks.  The
    calendar day as written counts: a time or UTC offset after it is
    ignored.  A value that is not a date, or a blank where one is required,
    drops the row."""
    series = pd.Series(values).reset_index(drop=True)
    blank = series.map(_is_blank).to_numpy(dtype=bool)
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = series
    else:
        text = series.map(lambda value: None if _is_blank(value) else _date_part(str(value)))
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_localize(None)
    days = parsed.dt.normalize().to_numpy(dtype="datetime64[ns]")
    bad = np.isnat(days) & (~blank | (not allow_blank))
    for row in np.flatnonzero(bad & keep):
        text = "is empty" if blank[row] else f"'{series.iloc[row]}' is not a date (expected YYYY-MM-DD)"
        found.add(row, f"{column} {text}")
        keep[row] = False
    return days


@dataclass
class Intervals:
    """The common form of every input: each row in force on days
    valid_from <= d <= valid_to (valid_to NaT: open-ended)."""

    valid_from: np.ndarray  # datetime64[ns]
    valid_to: np.ndarray  # datetime64[ns]
    status: np.ndarray
    geometry: np.ndarray

    def __len__(self) -> int:
        return len(self.geometry)

    @staticmethod
    def concat(pieces: list[Intervals]) -> Intervals:
        return Intervals(*(np.concatenate([getattr(p, name) for p in pieces]) for name in
                           ("valid_from", "valid_to", "status", "geometry")))


def _intervals_from_date_column(features: Features, found: RowIssues) -> Intervals:
    keep = np.ones(len(features), dtype=bool)
    days = _parse_day_column(features.columns["date"], "date", found, keep)
    rows, statuses, geometries = _clean_rows(features, found, keep)
    no_end = np.full(len(rows), np.datetime64("NaT", "ns"))
    return _dated_rows_as_intervals(Intervals(days[rows], no_end, statuses, geometries))


def _dated_rows_as_intervals(rows: Intervals) -> Intervals:
    """Each date (in valid_from) is a complete picture, in force until the
    day before the next date; the last is open-ended."""
    dates = np.unique(rows.valid_from)
    day_before_next = np.append(dates[1:] - ONE_DAY, np.datetime64("NaT", "ns"))
    valid_to = day_before_next[np.searchsorted(dates, rows.valid_from)]
    return Intervals(rows.valid_from, valid_to, rows.status, rows.geometry)


def _intervals_from_validity(features: Features, found: RowIssues) -> Intervals:
    keep = np.ones(len(features), dtype=bool)
    starts = _parse_day_column(features.columns["valid_from"], "valid_from", found, keep)
    ends = (
        _parse_day_column(features.columns["valid_to"], "valid_to", found, keep, allow_blank=True)
        if "valid_to" in features.columns
        else np.full(len(features), np.datetime64("NaT", "ns"))
    )
    for row in np.flatnonzero(keep & (ends < starts)):
        found.add(row, "valid_to is before valid_from")
        keep[row] = False
    rows, statuses, geometries = _clean_rows(features, found, keep)
    return Intervals(starts[rows], ends[rows], statuses, geometries)


def _layer_from_intervals(intervals: Intervals, name: str, source: str, licence: str, issues) -> TerritoryLayer:
    snapshots = _states_from_intervals(intervals)
    return TerritoryLayer(name=name, source=source, licence=licence, snapshots=snapshots, issues=issues)


def _states_from_intervals(intervals: Intervals) -> gpd.GeoDataFrame:
    """Materialise the step function: at every date where the set of rows
    in force changes, one row per status with their union."""
    starts, ends, statuses = intervals.valid_from, intervals.valid_to, intervals.status
    open_ended = np.isnat(ends)
    breakpoints = np.unique(np.concatenate([starts, ends[~open_ended] + ONE_DAY]))
    records = []
    for day in breakpoints:
        in_force = np.flatnonzero((starts <= day) & (open_ended | (ends >= day)))
        if len(in_force) == 0:
            records.append((day, NOTHING_IN_FORCE, shapely.Polygon()))
        for status in sorted(set(statuses[in_force])):
            members = in_force[statuses[in_force] == status]
            records.append((day, status, _union(intervals.geometry[members])))
    dates, status_column, geometry_column = zip(*records)
    return gpd.GeoDataFrame(
        {"date": np.array(dates, dtype="datetime64[ns]"), "status": list(status_column)},
        geometry=list(geometry_column),
        crs="EPSG:4326",
    )


def _union(geometries) -> BaseGeometry:
    return geometries[0] if len(geometries) == 1 else _polygonal(shapely.union_all(geometries))


def _index_states(snapshots: gpd.GeoDataFrame) -> tuple[np.ndarray, list[Snapshot]]:
    """Sorted unique dates and one prepared Snapshot per date."""
    dates = snapshots["date"].to_numpy(dtype="datetime64[ns]")
    unique_dates, starts = np.unique(dates, return_index=True)
    ends = np.append(starts[1:], len(dates))
    statuses = snapshots["status"].to_numpy(dtype=object)
    geometries = snapshots.geometry.to_numpy()
    states = []
    for day, start, end in zip(unique_dates, starts, ends):
        by_status = {statuses[i]: geometries[i] for i in range(start, end) if not geometries[i].is_empty}
        parts = list(by_status.values())
        union = parts[0] if len(parts) == 1 else (_union(np.array(parts, dtype=object)) if parts else shapely.Polygon())
        shapely.prepare(union)
        states.append(Snapshot(date=pd.Timestamp(day), geometry=union, by_status=by_status))
    return unique_dates, states


def _date_part(text: str) -> str:
    return text.strip().split("T")[0].split(" ")[0]


def _as_timestamp(day) -> pd.Timestamp:
    """The calendar day of ``day`` as written (a time zone is dropped, not converted)."""
    stamp = pd.Timestamp(day)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def _as_day(day) -> np.datetime64:
    return np.datetime64(_as_timestamp(day).to_datetime64(), "ns")


def _as_days(days) -> np.ndarray:
    values = pd.to_datetime(days if isinstance(days, pd.Series) else pd.Series(np.asarray(days)))
    if values.dt.tz is not None:
        values = values.dt.tz_localize(None)
    return values.dt.normalize().to_numpy(dtype="datetime64[ns]")


# --------------------------------------------------------------------------
# CLI: territory


def add_territory_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layer", required=True, help="snapshot folder (*_YYYYMMDD.geojson) or layer file")
    parser.add_argument("--from", dest="day_from", required=True, metavar="DATE", help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="day_to", required=True, metavar="DATE", help="second day, YYYY-MM-DD")
    parser.add_argument("--geojson", metavar="OUT", help="write the gained/lost polygons to this GeoJSON file")


def run_territory_command(args: argparse.Namespace) -> int:
    """Area on two days and what was gained and lost between them.
    Exit 0 when done, 2 on unreadable input or a bad date."""
    try:
        day_from = _parse_cli_day(args.day_from, "--from")
        day_to = _parse_cli_day(args.day_to, "--to")
        layer = load_layer(args.layer)
        change = change_between(layer, day_from, day_to)
    except TerritoryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(_change_report(layer, change, day_from, day_to))
    if args.geojson:
        try:
            Path(args.geojson).write_text(json.dumps(change.to_geojson()), encoding="utf-8")
        except OSError as error:
            print(f"error: could not write {args.geojson} ({error.strerror or error}).", file=sys.stderr)
            return 2
        print(f"Change polygons written to {args.geojson}")
    return 0


def _parse_cli_day(text: str, option: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(dt.date.fromisoformat(text.strip()))
    except ValueError:
        raise TerritoryError(f"{option} '{text}' is not a date; use YYYY-MM-DD.") from None


def _km2(value: float, signed: bool = False) -> str:
    return f"{value:{'+' if signed else ''},.1f} km2"


def _change_report(layer: TerritoryLayer, change: Change, day_from, day_to) -> str:
    first, last = layer.dates[0], layer.dates[-1]
    lines = [
        f"Layer: {layer.name} ({len(layer.dates)} snapshots, {first:%Y-%m-%d} to {last:%Y-%m-%d}; "
        f"source: {layer.source}; licence: {layer.licence})",
        f"From {day_from:%Y-%m-%d}: snapshot of {change.date_from:%Y-%m-%d}, area {_km2(change.area_from_km2)}",
        f"To   {day_to:%Y-%m-%d}: snapshot of {change.date_to:%Y-%m-%d}, area {_km2(change.area_to_km2)}",
        f"Gained: {_km2(change.gained_km2)}",
        f"Lost:   {_km2(change.lost_km2)}",
        f"Net:    {_km2(change.net_km2, signed=True)}",
    ]
    if not layer.issues:
        lines.append("Validation: no issues.")
    else:
        lines.append(f"Validation: {len(layer.issues)} issue(s):")
        lines.extend(f"  {issue}" for issue in layer.issues)
    return "\n".join(lines)


# --------------------------------------------------------------------------
# CLI: fetch-territory


def add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=DEFAULT_FETCH_URL, help="where to download the layer from")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="folder to save it in")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the server")


def run_fetch_command(args: argparse.Namespace) -> int:
    """Download, validate, then replace.  Exit 0 when saved, 1 when the
    download or its validation failed (any previous file is kept)."""
    folder = Path(args.data_dir)
    target = folder / _file_name_from_url(args.url)
    part = target.with_name(target.name + ".part")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        download_resumable(args.url, part, timeout=args.timeout)
    except (urllib.error.URLError, http.client.HTTPException, OSError, DownloadError) as error:
        resume = f"; run again to resume from {part}" if part.exists() and part.stat().st_size else ""
        print(f"error: could not download {args.url} ({_download_reason(error)}){resume}.", file=sys.stderr)
        return 1
    try:
        layer = load_layer_file(part)
    except TerritoryError as error:
        part.unlink(missing_ok=True)  # a bad file must not be resumed from
        kept = f"{target} is kept unchanged" if target.exists() else "nothing was saved"
        print(f"error: the download is not a usable territory layer ({error}); {kept}.", file=sys.stderr)
        return 1
    os.replace(part, target)
    first, last = layer.dates[0], layer.dates[-1]
    print(f"Saved {target}: {len(layer.dates)} snapshots from {first:%Y-%m-%d} to {last:%Y-%m-%d}, "
          f"{len(layer.issues)} validation issue(s).")
    return 0


class DownloadError(Exception):
    """The server answered, but not with the whole file."""


def _file_name_from_url(url: str) -> str:
    name = Path(urllib.parse.urlparse(url).path).name
    return name or "territory.geojson"


def _download_reason(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return _first_line(error)


def download_resumable(url: str, part: Path, timeout: float = 60.0, progress=None) -> None:
    """Download ``url`` into ``part``, continuing an earlier partial
    download with an HTTP Range request when the server allows it."""
    progress = progress or sys.stderr
    label = part.name.removesuffix(".part")
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing past our end: already complete
            return
        raise
    with response:
        if offset and getattr(response, "status", None) != 206:
            offset = 0  # the server ignored the Range header: start again
        elif offset:
            _check_range_start(response.headers.get("Content-Range", ""), offset)
            print(f"Resuming {label} at {_size(offset)}", file=progress)
        total = _expected_total(response, offset)
        with open(part, "ab" if offset else "wb") as out:
            received = _copy_with_progress(response, out, offset, total, label, progress)
    if total is not None and received != total:
        raise DownloadError(f"the transfer stopped at {received:,} of {total:,} bytes")


def _check_range_start(content_range: str, offset: int) -> None:
    match = re.match(r"bytes (\d+)-", content_range)
    if not match or int(match.group(1)) != offset:
        raise DownloadError(f"the server sent the range '{content_range}', not one starting at byte {offset}")


def _expected_total(response, offset: int) -> int | None:
    content_range = response.headers.get("Content-Range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def _copy_with_progress(response, out, received: int, total: int | None, label: str, progress) -> int:
    last_shown = 0.0
    while chunk := response.read(1 << 16):
        out.write(chunk)
        received += len(chunk)
        now = time.monotonic()
        if now - last_shown > 0.25:
            _show_progress(progress, label, received, total, end="\r")
            last_shown = now
    _show_progress(progress, label, received, total, end="\n")
    return received


def _show_progress(stream, label: str, received: int, total: int | None, end: str) -> None:
    text = f"Downloading {label}: {_size(received)}"
    if total:
        text += f" of {_size(total)} ({100 * received / total:.0f}%)"
    print(text, end=end, file=stream, flush=True)


def _size(count: int) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 1e6 else f"{count / 1e3:,.1f} KB"


# --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Standalone parser (``python -m dashboard.territory``); the app's own
    CLI adds the same subcommands with the add_*_arguments functions."""
    parser = argparse.ArgumentParser(prog="python -m dashboard.territory", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    territory = commands.add_parser("territory", help="area and change between two days")
    add_territory_arguments(territory)
    territory.set_defaults(run=run_territory_command)
    fetch = commands.add_parser("fetch-territory", help="download the DeepStateMap history")
    add_fetch_arguments(fetch)
    fetch.set_defaults(run=run_fetch_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
