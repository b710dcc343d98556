"""Load one event file: read (read.py) -> detect and adapt the layout (formats.py)
-> check every row (validate.py) -> settle repeated ids (dedupe.py) -> `LoadResult`.

The accounting is a real check, not an assert (which `python -O` removes):
rows read = rows loaded (events) + rows rejected + rows folded into another
event (identical copies, one-row-per-actor rows, older ACLED revisions).
Warnings are counted beside: a warned row is a loaded row.

Row numbers: a CSV's line numbers (the header is line 1), an .xlsx sheet's
row numbers, a GeoJSON/GeoParquet/GeoPackage feature's number from 1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..schema import ACLED_TAXONOMY
from .dates import DATE_ORDERS, DateOrderError
from .dedupe import ON_DUPLICATE, empty_folded, fold_counts, settle_duplicates
from .formats import (  # noqa: F401  (re-exported: the ingest stage's public names)
    ACLED_COLUMNS,
    LAYOUTS,
    UCDP_COLUMNS,
    actor_columns,
    adapt,
    detect_layout,
    normalise_raw,
    parse_mapping,
    parse_type_values,
)
from .read import CONTAINERS, LoadError, check_encoding, check_path, container_of, read_table
from .validate import empty_table, validate

FORMATS = ["auto", *LAYOUTS, *CONTAINERS]


class AccountingError(RuntimeError):
    """Rows were lost or counted twice: a bug in the loader, never the user's file."""


@dataclass
class LoadResult:
    source: str
    format: str  # the layout: native, acled, ucdp or mapped
    rows_read: int
    events: pd.DataFrame
    rejects: pd.DataFrame  # row, column, reason, value (one line per problem)
    custom_types: list[str] = field(default_factory=list)
    warnings: pd.DataFrame = field(default_factory=empty_table)  # row, column, reason, value of loaded rows
    folded: pd.DataFrame = field(default_factory=empty_folded)  # row, event_id, how, into_row
    container: str = "csv"
    detected: str = ""  # "ACLED export (API layout) in .xlsx"

    @property
    def rows_rejected(self) -> int:
        return int(self.rejects["row"].nunique()) if len(self.rejects) else 0

    @property
    def rows_loaded(self) -> int:
        return len(self.events)

    @property
    def rows_folded(self) -> int:
        return len(self.folded)

    @property
    def rows_warned(self) -> int:
        return int(self.warnings["row"].nunique()) if len(self.warnings) else 0

    def summary(self) -> str:
        return summary_line(self.rows_read, self.rows_loaded, self.rows_rejected, self.folded, len(self.warnings))

    def check(self) -> None:
        """rows read = loaded + rejected + folded, and no row counted twice; else AccountingError."""
        loaded = self.events["source_row"].to_numpy(dtype="int64") if "source_row" in self.events else np.zeros(0, np.int64)
        check_rows(self.source, self.rows_read, loaded, self.rejects, self.folded)


def check_rows(source: str, rows_read: int, loaded: np.ndarray, rejects: pd.DataFrame, folded: pd.DataFrame) -> None:
    """LoadResult.check's rule over row numbers, on numpy arrays (a streamed
    import checks ten million rows at once: Python sets of them cost gigabytes)."""
    if len(loaded) > 1 and not (loaded[1:] >= loaded[:-1]).all():
        loaded = np.sort(loaded)
    twice = int(np.count_nonzero(loaded[1:] == loaded[:-1])) if len(loaded) > 1 else 0
    rejected = np.unique(rejects["row"].to_numpy(dtype="int64")) if len(rejects) else np.zeros(0, np.int64)
    folded_rows = folded["row"].to_numpy(dtype="int64") if len(folded) else np.zeros(0, np.int64)
    total = len(loaded) + len(rejected) + len(folded_rows)

    def loaded_among(rows):
        at = np.minimum(np.searchsorted(loaded, rows), max(len(loaded) - 1, 0))
        return rows[(loaded[at] == rows)] if len(loaded) else rows[:0]

    unique_folded = np.unique(folded_rows)
    overlap = np.union1d(np.union1d(loaded_among(rejected), loaded_among(unique_folded)), np.intersect1d(rejected, unique_folded))
    if total != rows_read or len(overlap) or twice:
        raise AccountingError(
            f"{source}: {rows_read} rows read but {len(loaded)} loaded + {len(rejected)} rejected + "
            f"{len(folded_rows)} folded (rows counted twice: {overlap[:5].tolist()}); please report this bug."
        )


def check_options(fmt: str, date_order: str | None, on_duplicate: str) -> None:
    """The import options, or LoadError naming the one that is not known (also ingest/stream.py's check)."""
    if fmt not in FORMATS:
        raise LoadError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}.")
    if date_order not in (None, *DATE_ORDERS):
        raise LoadError(f"unknown date order {date_order!r}; choose from {', '.join(DATE_ORDERS)}.")
    if on_duplicate not in ON_DUPLICATE:
        raise LoadError(f"unknown --on-duplicate {on_duplicate!r}; choose from {', '.join(ON_DUPLICATE)}.")


def summary_line(read: int, loaded: int, rejected: int, folded: pd.DataFrame, warnings: int) -> str:
    parts = [f"{read} rows read, {loaded} loaded, {rejected} rejected", *fold_counts(folded)]
    line = ", ".join(parts)
    return line + (f"; {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")


def load_events(
    path,
    fmt: str = "auto",
    mapping: dict[str, str] | None = None,
    type_values: dict[str, tuple[str, str]] | None = None,
    encoding: str = "utf-8",
    gazetteer=None,
    date_order: str | None = None,
    on_duplicate: str = "keep",
) -> LoadResult:
    """Read and check one event file; LoadError (one sentence) if it cannot be read at all."""
    path = Path(path)
    check_options(fmt, date_order, on_duplicate)
    check_path(path)
    encoding = check_encoding(encoding)
    container = container_of(path, fmt if fmt in CONTAINERS else None)
    table = read_table(path, container, encoding)
    rows_read = len(table.frame) + len(table.malformed)
    if rows_read == 0:
        raise LoadError(f"{path.name}: the file has a header but no rows.")

    layout, what = ("mapped", "columns mapped with --map") if mapping else detect_layout(table.header)
    if fmt in LAYOUTS and fmt != layout:
        layout, what = fmt, {"native": "native events", "acled": "ACLED export", "ucdp": "UCDP GED file", "mapped": "mapped file"}[fmt]
    raw = normalise_raw(table.frame, layout)
    frame = adapt(raw, layout, path, mapping, what)
    if "_geometry_problem" in raw:
        frame["_geometry_problem"] = raw["_geometry_problem"].to_numpy()
    try:
        events, rejects, warnings = validate(
            frame, known_types_only=not mapping, gazetteer=gazetteer, type_values=type_values, date_order=date_order
        )
    except DateOrderError as error:
        raise LoadError(f"{path.name}: {error}") from None
    timestamps = frame.set_index("_row")["_timestamp"] if "_timestamp" in frame else None
    events, more_rejects, more_warnings, folded = settle_duplicates(
        events, raw, actor_columns(layout, mapping), timestamps, on_duplicate
    )
    rejects = _with(rejects, table.malformed, more_rejects)
    warnings = _with(warnings, None, more_warnings)
    warnings = warnings[warnings["row"].isin(events["source_row"].to_numpy())].reset_index(drop=True)
    if more_warnings:
        from .validate import attach_warnings

        events = attach_warnings(events, warnings)
    custom = sorted(set(events["event_type"].unique()) - set(ACLED_TAXONOMY))
    result = LoadResult(
        str(path), layout, rows_read, events, rejects, custom, warnings, folded, container,
        f"{what} in .{container}" if container != "csv" else f"{what} in CSV",
    )
    result.check()
    return result


def _with(table: pd.DataFrame, other: pd.DataFrame | None, lines: list[tuple]) -> pd.DataFrame:
    parts = [table]
    if other is not None and len(other):
        parts.append(other)
    if lines:
        parts.append(pd.DataFrame(lines, columns=["row", "column", "reason", "value"]))
    if len(parts) == 1:
        return table
    out = pd.concat(parts, ignore_index=True)
    out["row"] = out["row"].astype("int64")
    return out.sort_values(["row", "column"], kind="stable", ignore_index=True)
