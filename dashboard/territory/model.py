"""Territorial control over time: the layer, its snapshots and the change between two days.


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

import functools
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
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
        self._dates, self._states = index_states(self.snapshots)
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
        return int(np.searchsorted(self._dates, as_day(day), side="right")) - 1

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


def first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def polygons_of(geometry: BaseGeometry) -> list:
    polygons = []
    for part in shapely.get_parts(geometry):
        if part.geom_type == "Polygon":
            polygons.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            polygons.extend(polygons_of(part))
    return polygons


def polygonal(geometry: BaseGeometry) -> BaseGeometry:
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    return shapely.MultiPolygon(polygons_of(geometry))


def union_all(geometries) -> BaseGeometry:
    return geometries[0] if len(geometries) == 1 else polygonal(shapely.union_all(geometries))


def index_states(snapshots: gpd.GeoDataFrame) -> tuple[np.ndarray, list[Snapshot]]:
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
        union = parts[0] if len(parts) == 1 else (union_all(np.array(parts, dtype=object)) if parts else shapely.Polygon())
        shapely.prepare(union)
        states.append(Snapshot(date=pd.Timestamp(day), geometry=union, by_status=by_status))
    return unique_dates, states


def date_part(text: str) -> str:
    return text.strip().split("T")[0].split(" ")[0]


def as_timestamp(day) -> pd.Timestamp:
    """The calendar day of ``day`` as written (a time zone is dropped, not converted)."""
    stamp = pd.Timestamp(day)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def as_day(day) -> np.datetime64:
    return np.datetime64(as_timestamp(day).to_datetime64(), "ns")


def as_days(days) -> np.ndarray:
    values = pd.to_datetime(days if isinstance(days, pd.Series) else pd.Series(np.asarray(days)))
    if values.dt.tz is not None:
        values = values.dt.tz_localize(None)
    return values.dt.normalize().to_numpy(dtype="datetime64[ns]")


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
