"""Reading control layers: a folder of daily snapshots or one file of dated or valid_from/valid_to rows.

Every repaired or skipped feature is recorded as a LayerIssue; input that
cannot be used at all raises TerritoryError with one plain sentence.
"""
from __future__ import annotations

import datetime as dt
import gzip
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from .model import (
    DEEPSTATE_LICENCE,
    DEEPSTATE_SOURCE,
    DEFAULT_STATUS,
    LAYER_SUFFIXES,
    NOTHING_IN_FORCE,
    ONE_DAY,
    SNAPSHOT_NAME,
    STATUSES,
    LayerIssue,
    TerritoryError,
    TerritoryLayer,
    date_part,
    first_line,
    union_all,
)
from .repair import clean_geometries


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
        raise TerritoryError(f"{path.name} could not be read as a geographic file ({first_line(error)}).") from None


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
    geometries = clean_geometries(features.geometry, found, keep)
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
        text = series.map(lambda value: None if _is_blank(value) else date_part(str(value)))
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
            records.append((day, status, union_all(intervals.geometry[members])))
    dates, status_column, geometry_column = zip(*records)
    return gpd.GeoDataFrame(
        {"date": np.array(dates, dtype="datetime64[ns]"), "status": list(status_column)},
        geometry=list(geometry_column),
        crs="EPSG:4326",
    )














# --------------------------------------------------------------------------
# CLI: territory
