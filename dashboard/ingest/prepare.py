"""Load + geocode + join, cached on disk: the events the app and CLI start from.

The joined result of a set of files is cached (cache.py) under a key made
of the files' paths, sizes and modification times, the boundaries, the
import options and the code of the stages that made it, so any change to an
input rebuilds it and nothing stale is served.  A cache that cannot be
written is said once in `PreparedEvents.notices`, and the events are served
all the same.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import config
from ..boundaries import ADMIN1_INDEX_PATH, COUNTRIES_PATH
from . import cache
from .dedupe import empty_folded
from .gazetteer import Gazetteer
from .join import country_warnings, join_admin1
from .load import LoadResult, load_events, summary_line
from .validate import attach_warnings, empty_table

PACKAGE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_DATA = [PACKAGE_DIR.parent / "data" / "events" / "article_events.csv"]
# The code that makes the cached result: a change to any of it rebuilds the cache.
STAGE_SOURCES = [PACKAGE_DIR / "schema.py", PACKAGE_DIR / "boundaries.py", *sorted((PACKAGE_DIR / "ingest").glob("*.py"))]


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
    warnings: pd.DataFrame = field(default_factory=empty_table)
    folded: pd.DataFrame = field(default_factory=empty_folded)
    detected: str = ""

    @property
    def rows_folded(self) -> int:
        return len(self.folded)

    def summary(self) -> str:
        return summary_line(self.rows_read, self.rows_loaded, self.rows_rejected, self.folded, len(self.warnings))


@dataclass
class PreparedEvents:
    events: pd.DataFrame
    reports: list[FileReport]
    from_cache: bool = False
    notices: list[str] = field(default_factory=list)  # said once, on the page and by the CLI

    @property
    def custom_types(self) -> list[str]:
        from ..schema import ACLED_TAXONOMY

        return sorted(set(self.events["event_type"].unique()) - set(ACLED_TAXONOMY)) if len(self.events) else []


def prepare_events(
    paths=None,
    fmt: str = "auto",
    mapping: dict | None = None,
    type_values: dict | None = None,
    encoding: str = "utf-8",
    cache_dir: Path | None = None,
    use_cache: bool = True,
    date_order: str | None = None,
    on_duplicate: str = "keep",
) -> PreparedEvents:
    paths = [Path(p) for p in (paths or DEFAULT_DATA)]
    cache_dir = Path(cache_dir or default_cache_dir())
    options = dict(fmt=fmt, mapping=mapping, type_values=type_values, encoding=encoding, date_order=date_order, on_duplicate=on_duplicate)
    key = cache_key(paths, options)
    if use_cache:
        cached = _from_cache(cache_dir, key)
        if cached is not None:
            return cached
    prepared = _prepare_uncached(paths, options)
    if use_cache:
        try:
            cache.write_entry(cache_dir, key, prepared.events, _problem_table(prepared.reports), _report_dicts(prepared.reports))
        except cache.CacheUnwritable as error:
            prepared.notices.append(
                f"The cache could not be written ({error}); the events are served uncached, "
                "so the next start reads the files again."
            )
    return prepared


def prepare_file(path: Path, options: dict, gazetteer: Gazetteer | None = None) -> tuple[pd.DataFrame, LoadResult, list[str]]:
    """One file loaded, joined and checked against its countries: (joined events, result, join notes)."""
    result = load_events(path, gazetteer=gazetteer or Gazetteer.on_demand(), **options)
    joined, notes = join_admin1(result.events)
    mismatched = country_warnings(joined)
    if len(mismatched):
        result.warnings = pd.concat([result.warnings, mismatched], ignore_index=True).sort_values(["row", "column"], kind="stable", ignore_index=True)
        joined = attach_warnings(joined, result.warnings)
    result.events = joined
    return joined, result, notes


def _prepare_uncached(paths, options) -> PreparedEvents:
    gazetteer = Gazetteer.on_demand()
    frames, reports, seen = [], [], []
    for path in paths:
        joined, result, notes = prepare_file(path, options, gazetteer)
        result = _reject_ids_seen_before(result, seen)
        joined = result.events.assign(source_file=path.name)
        frames.append(joined)
        reports.append(
            FileReport(
                str(path), result.format, result.rows_read, result.rows_loaded, result.rows_rejected, result.rejects,
                notes, result.warnings, result.folded, result.detected,
            )
        )
    events = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return PreparedEvents(events, reports)


def _reject_ids_seen_before(result: LoadResult, seen: list[tuple[str, pd.DataFrame]]) -> LoadResult:
    """An id already loaded from an earlier file is a duplicate here too.

    `seen` holds, per earlier file, its name and its events' event_id and
    source_row; the "file row N" texts are made only when a later file comes
    (a million of them cost ~0.3 s, wasted on a single file)."""
    events = result.events
    if seen:
        earlier = pd.concat([
            pd.Series((name + " row " + ids["source_row"].astype(str)).to_numpy(), index=ids["event_id"].to_numpy())
            for name, ids in seen
        ])
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
            result.warnings = result.warnings[result.warnings["row"].isin(result.events["source_row"].to_numpy())].reset_index(drop=True)
            result.check()
    seen.append((Path(result.source).name, result.events[["event_id", "source_row"]]))
    return result


def cache_key(paths, options: dict) -> str:
    digest = hashlib.sha256()
    for path in [*paths, ADMIN1_INDEX_PATH, COUNTRIES_PATH]:
        try:
            stat = Path(path).stat()
            digest.update(f"{Path(path).resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{path}|missing\n".encode())
    for source in STAGE_SOURCES:
        digest.update(source.read_bytes())
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:24]


def _problem_table(reports: list[FileReport]) -> pd.DataFrame:
    parts = []
    for report in reports:
        for name, table in (("rejects", report.rejects), ("warnings", report.warnings)):
            parts.append(table.assign(file=report.source, table=name))
        folded = report.folded
        parts.append(pd.DataFrame({
            "file": report.source, "table": "folded", "row": folded["row"].astype("int64"),
            "column": folded["event_id"].astype(str), "reason": folded["how"].astype(str), "value": folded["into_row"].astype(str),
        }))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cache.PROBLEM_COLUMNS)
    table = table[cache.PROBLEM_COLUMNS]
    table["row"] = table["row"].astype("int64")
    for column in ("file", "table", "column", "reason", "value"):
        table[column] = table[column].astype(str)
    return table


def _report_dicts(reports: list[FileReport]) -> list[dict]:
    return [{k: getattr(r, k) for k in cache.REPORT_FIELDS} for r in reports]


def _from_cache(cache_dir: Path, key: str) -> PreparedEvents | None:
    entry = cache.read_entry(cache_dir, key)
    if entry is None:
        return None
    events, problems, report_dicts = entry
    reports = []
    for fields in report_dicts:
        mine = problems[problems["file"] == fields["source"]]

        def table(name, mine=mine):
            part = mine[mine["table"] == name].drop(columns=["file", "table"]).reset_index(drop=True)
            part["row"] = part["row"].astype("int64")
            return part

        folded = table("folded")
        folded = pd.DataFrame({"row": folded["row"], "event_id": folded["column"], "how": folded["reason"],
                               "into_row": pd.to_numeric(folded["value"]).astype("int64")})
        reports.append(FileReport(**fields, rejects=table("rejects"), warnings=table("warnings"), folded=folded))
    return PreparedEvents(events, reports, from_cache=True)
