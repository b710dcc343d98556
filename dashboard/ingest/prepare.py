"""Load + geocode + join, cached on disk: the events the app and CLI start from.

The joined result of a set of files is written as GeoParquet under the cache
folder, keyed by the files' paths, sizes and modification times, the
boundaries, the import options and the code of the stages that made it, so
any change to an input rebuilds it and nothing stale is served.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import config
from ..boundaries import ADMIN1_PATH, COUNTRIES_PATH, load_admin1
from .gazetteer import Gazetteer
from .join import join_admin1
from .load import LoadResult, load_events

PACKAGE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_DATA = [PACKAGE_DIR.parent / "data" / "events" / "article_events.csv"]
# The code that makes the cached result: a change to any of it rebuilds the cache.
STAGE_SOURCES = [PACKAGE_DIR / "schema.py", *sorted((PACKAGE_DIR / "ingest").glob("*.py"))]


def default_cache_dir() -> Path:
    return config.CACHE_DIR


@dataclass
class FileReport:
    source: str
    format: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rejects: pd.DataFrame
    join_notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.rows_read} rows read, {self.rows_loaded} loaded, {self.rows_rejected} rejected"


@dataclass
class PreparedEvents:
    events: pd.DataFrame
    reports: list[FileReport]
    from_cache: bool = False

    @property
    def custom_types(self) -> list[str]:
        from ..schema import ACLED_TAXONOMY

        return sorted(set(self.events["event_type"].unique()) - set(ACLED_TAXONOMY))


def prepare_events(
    paths=None,
    fmt: str = "auto",
    mapping: dict | None = None,
    type_values: dict | None = None,
    encoding: str = "utf-8",
    cache_dir: Path | None = None,
    use_cache: bool = True,
) -> PreparedEvents:
    paths = [Path(p) for p in (paths or DEFAULT_DATA)]
    cache_dir = Path(cache_dir or default_cache_dir())
    key = cache_key(paths, fmt, mapping, type_values, encoding)
    if use_cache:
        cached = _read_cache(cache_dir, key)
        if cached is not None:
            return cached
    prepared = _prepare_uncached(paths, fmt, mapping, type_values, encoding)
    if use_cache:
        _write_cache(cache_dir, key, prepared)
    return prepared


def _prepare_uncached(paths, fmt, mapping, type_values, encoding) -> PreparedEvents:
    gazetteer = Gazetteer.from_admin1(load_admin1())
    frames, reports, seen = [], [], []
    for path in paths:
        result = load_events(path, fmt, mapping, type_values, encoding, gazetteer)
        result = _reject_ids_seen_before(result, seen)
        joined, notes = join_admin1(result.events)
        joined["source_file"] = path.name
        frames.append(joined)
        reports.append(
            FileReport(str(path), result.format, result.rows_read, result.rows_loaded, result.rows_rejected, result.rejects, notes)
        )
    events = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return PreparedEvents(events, reports)


def _reject_ids_seen_before(result: LoadResult, seen: list[pd.Series]) -> LoadResult:
    """An id already loaded from an earlier file is a duplicate here too.

    `seen` holds, per earlier file, a Series event_id -> "file row N"."""
    events = result.events
    if seen:
        earlier = pd.concat(seen)
        repeated = events["event_id"].isin(earlier.index)
        if repeated.any():
            ids = events.loc[repeated, "event_id"]
            extra = pd.DataFrame(
                {
                    "row": events.loc[repeated, "source_row"].to_numpy(),
                    "column": "event_id",
                    "reason": ("duplicate event_id (already loaded from " + ids.map(earlier) + ")").to_numpy(),
                    "value": ids.to_numpy(),
                }
            )
            result.rejects = pd.concat([result.rejects, extra], ignore_index=True).sort_values("row", ignore_index=True)
            result.events = events[~repeated].reset_index(drop=True)
    name = Path(result.source).name
    where = name + " row " + result.events["source_row"].astype(str)
    seen.append(pd.Series(where.to_numpy(), index=result.events["event_id"].to_numpy()))
    return result


def cache_key(paths, fmt, mapping, type_values, encoding) -> str:
    digest = hashlib.sha256()
    for path in [*paths, ADMIN1_PATH, COUNTRIES_PATH]:
        stat = Path(path).stat() if Path(path).exists() else None
        digest.update(f"{Path(path).resolve()}|{stat and stat.st_size}|{stat and stat.st_mtime_ns}\n".encode())
    for source in STAGE_SOURCES:
        digest.update(source.read_bytes())
    digest.update(json.dumps([fmt, mapping, type_values, encoding], sort_keys=True, default=str).encode())
    return digest.hexdigest()[:24]


def _read_cache(cache_dir: Path, key: str) -> PreparedEvents | None:
    events_path, meta_path, rejects_path = _cache_paths(cache_dir, key)
    if not (events_path.exists() and meta_path.exists() and rejects_path.exists()):
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        # The store needs coordinates, not shapely points: skip decoding the geometry.
        events = pd.read_parquet(events_path, columns=meta["columns"])
        rejects = pd.read_parquet(rejects_path)
    except (OSError, ValueError, KeyError):
        return None  # a damaged cache is rebuilt, not trusted
    reports = []
    for report in meta["reports"]:
        mine = rejects[rejects["file"] == report["source"]].drop(columns="file").reset_index(drop=True)
        reports.append(FileReport(**report, rejects=mine))
    return PreparedEvents(events, reports, from_cache=True)


def _write_cache(cache_dir: Path, key: str, prepared: PreparedEvents) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    events_path, meta_path, rejects_path = _cache_paths(cache_dir, key)
    events = prepared.events
    rejects = pd.concat(
        [r.rejects.assign(file=r.source) for r in prepared.reports] or [pd.DataFrame(columns=["row", "column", "reason", "value", "file"])],
        ignore_index=True,
    )
    for column in ("column", "reason", "value", "file"):
        rejects[column] = rejects[column].astype(str)
    meta = {
        "columns": list(events.columns),
        "reports": [
            {k: getattr(r, k) for k in ("source", "format", "rows_read", "rows_loaded", "rows_rejected", "join_notes")}
            for r in prepared.reports
        ],
    }
    # Write beside, then rename: a second process reading at the same moment
    # sees the old file or the new one, never half of one.
    for target, write in (
        (events_path, lambda p: write_geoparquet_points(events, p)),
        (rejects_path, lambda p: rejects.to_parquet(p, index=False)),
        (meta_path, lambda p: Path(p).write_text(json.dumps(meta), encoding="utf-8")),
    ):
        handle, temporary = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        os.close(handle)
        write(temporary)
        os.replace(temporary, target)


def write_geoparquet_points(events: pd.DataFrame, path) -> None:
    """Events as GeoParquet 1.1 with the native "point" encoding.

    The geometry column is a struct of the longitude and latitude arrays, so
    no million shapely points are built and serialised as WKB (~0.8 s saved
    per million events); GeoPandas reads it as a point layer.
    """
    table = pa.Table.from_pandas(events, preserve_index=False)
    points = pa.StructArray.from_arrays(
        [pa.array(events["longitude"].to_numpy(dtype=float)), pa.array(events["latitude"].to_numpy(dtype=float))], names=["x", "y"]
    )
    table = table.append_column("geometry", points)
    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        # No "crs": GeoParquet's default is OGC:CRS84, longitude/latitude.
        "columns": {"geometry": {"encoding": "point", "geometry_types": ["Point"]}},
    }
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"geo": json.dumps(geo).encode()})
    pq.write_table(table, path)


def _cache_paths(cache_dir: Path, key: str):
    return cache_dir / f"events-{key}.parquet", cache_dir / f"events-{key}.json", cache_dir / f"rejects-{key}.parquet"
