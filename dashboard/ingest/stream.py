"""prepare.prepare_events for a bulk import, in bounded memory: the same events and reports, chunk by chunk.

Each file is read twice (chunks.py): a cheap first pass decides what needs
the whole file (which ids repeat, each date column's day/month order); the
second sends each chunk through load_events' and prepare_file's stages
(normalise_raw, adapt, validate, join_admin1, country_warnings) and hands
its joined events to `sink` at once.  The rows whose id repeats are held
back and settled together at the end of the file (dedupe.py needs all the
rows of an id), so the repeated-id rules give what they give on the whole
file.  Rejects, warnings, folded rows and join notes are kept (they are
small) and put in the order the whole-file path puts them, so each file's
report is the one `prepare_events` makes, and LoadResult's accounting rule
is checked for the whole file.  Ids repeated across files follow
prepare._reject_ids_seen_before's rule.

Rows whose id is empty get one made from their content (validate), which
another row may share: those rows are held back too, so a file of rows
without ids is held whole.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from .chunks import CHUNK_ROWS, Source, id_hashes, scan
from .dates import DateOrderError
from .dedupe import empty_folded, settle_duplicates
from .formats import LAYOUTS, actor_columns, adapt, detect_layout, normalise_raw
from .gazetteer import Gazetteer
from .join import country_warnings, join_admin1
from .load import _with, check_options, check_rows
from .prepare import FileReport
from .read import CONTAINERS, LoadError, check_encoding, check_path, container_of
from .validate import attach_warnings, empty_table, validate

CONTENT_ID = r"^row-[0-9a-f]{12}$"  # formats.content_ids(..., "row"), as validate names a row without an id


def stream_events(paths, sink, fmt="auto", mapping=None, type_values=None, encoding="utf-8",
                  date_order=None, on_duplicate="keep", chunk_rows: int = CHUNK_ROWS) -> list[FileReport]:
    """Each file's joined events to sink(events, base) chunk by chunk; the files' reports.

    base: a number that, added to an event's source_row, orders the events of
    all the files as prepare_events' frame orders them (file, then row)."""
    gazetteer = Gazetteer.on_demand()
    seen = SeenIds()
    reports, base = [], 0
    paths = [Path(p) for p in paths]
    for number, path in enumerate(paths):
        file = _File(path, dict(fmt=fmt, mapping=mapping, type_values=type_values, encoding=encoding,
                                date_order=date_order, on_duplicate=on_duplicate), gazetteer, seen, chunk_rows)
        reports.append(file.run(sink, base, remember=number < len(paths) - 1))
        base += file.last_row + 1
    return reports


class SeenIds:
    """The ids loaded from earlier files, each with its file and row (prepare._reject_ids_seen_before's
    `seen`), held as sorted 64-bit hashes beside the ids themselves (a hash match is confirmed on the text)."""

    def __init__(self):
        self.names: list[str] = []
        self.hashes = np.zeros(0, np.uint64)
        self.ids = pa.array([], pa.large_string())
        self.files = np.zeros(0, np.int32)
        self.rows = np.zeros(0, np.int64)

    def add(self, name: str, ids: list[pa.Array], rows: list[np.ndarray]) -> None:
        new = pa.concat_arrays([i.cast(pa.large_string()) for i in ids]) if ids else pa.array([], pa.large_string())
        rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        self.names.append(name)
        hashes = np.concatenate([self.hashes, id_hashes(new)])
        order = np.argsort(hashes, kind="stable")
        self.hashes, self.ids = hashes[order], pa.concat_arrays([self.ids, new]).take(pa.array(order))
        self.files = np.concatenate([self.files, np.full(len(new), len(self.names) - 1, np.int32)])[order]
        self.rows = np.concatenate([self.rows, rows])[order]

    def find(self, ids: pd.Series) -> np.ndarray:
        """"file row N" where an id was loaded before, else None."""
        out = np.full(len(ids), None, dtype=object)
        if not len(self.hashes) or not len(ids):
            return out
        hashes = id_hashes(ids)
        at = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
        for index in np.flatnonzero(self.hashes[at] == hashes):
            for place in range(at[index], len(self.hashes)):  # equal hashes sit together
                if self.hashes[place] != hashes[index]:
                    break
                if self.ids[place].as_py() == ids.iat[index]:
                    out[index] = f"{self.names[self.files[place]]} row {self.rows[place]}"
                    break
        return out


class _File:
    def __init__(self, path: Path, options: dict, gazetteer, seen: SeenIds, chunk_rows: int):
        self.path, self.options, self.gazetteer, self.seen = path, options, gazetteer, seen
        fmt, date_order, on_duplicate = options["fmt"], options["date_order"], options["on_duplicate"]
        check_options(fmt, date_order, on_duplicate)  # load.load_events' checks, in its order and words
        check_path(path)
        self.encoding = check_encoding(options["encoding"])
        self.container = container_of(path, fmt if fmt in CONTAINERS else None)
        self.source = Source(path, self.container, self.encoding, chunk_rows)
        mapping = options["mapping"]
        self.layout, self.what = ("mapped", "columns mapped with --map") if mapping else detect_layout(self.source.header)
        if fmt in LAYOUTS and fmt != self.layout:
            self.layout, self.what = fmt, {"native": "native events", "acled": "ACLED export", "ucdp": "UCDP GED file", "mapped": "mapped file"}[fmt]
        self.last_row = 0
        # What the report is made of, each in the order the whole-file path makes it.
        self.rejects, self.malformed, self.warnings, self.country, self.notes = [], [], [], [], []
        self.held, self.held_raw, self.held_stamps, self.held_warnings = [], [], [], []
        self.cross, self.tilde = [], set()
        self.loaded = self.twice = None  # a mark per row number (1 byte a row), and rows loaded twice (a bug)
        self.remembered_ids, self.remembered_rows = [], []

    def run(self, sink, base: int, remember: bool) -> FileReport:
        mapping = self.options["mapping"]
        found = scan(self.source, self.layout, self.what, mapping, self.options["date_order"])
        self.last_row = found.last_row
        if found.rows_read == 0:
            raise LoadError(f"{self.path.name}: the file has a header but no rows.")
        if isinstance(found.orders["event_date"], DateOrderError):
            raise LoadError(f"{self.path.name}: {found.orders['event_date']}")
        self.remember, self.sink, self.base = remember, sink, base
        self.loaded, self.twice = np.zeros(found.last_row + 1, dtype=bool), []
        for frame, malformed in self.source.chunks():
            self.malformed.append(malformed)
            if len(frame):
                self._chunk(frame, found)
            # Arrow's allocator keeps freed memory for reuse; given back, the
            # process stays near one chunk's size however long the file.
            pa.default_memory_pool().release_unused()
        settled_rejects, settled_warnings, folded = self._settle_held()
        return self._report(found.rows_read, settled_rejects, settled_warnings, folded)

    def _chunk(self, frame: pd.DataFrame, found) -> None:
        raw = normalise_raw(frame, self.layout)
        adapted = adapt(raw, self.layout, self.path, self.options["mapping"], self.what)
        if "_geometry_problem" in raw:
            adapted["_geometry_problem"] = raw["_geometry_problem"].to_numpy()
        events, rejects, warnings = validate(
            adapted, known_types_only=not self.options["mapping"], gazetteer=self.gazetteer,
            type_values=self.options["type_values"], date_order=found.orders,
        )
        self.rejects.append(rejects)
        ids = events["event_id"]
        held = np.isin(id_hashes(ids), found.repeated) | ids.astype(str).str.match(CONTENT_ID).to_numpy(dtype=bool)
        if held.any():
            rows = events.loc[held, "source_row"].to_numpy()
            self.held.append(events[held])
            self.held_raw.append(raw[raw["_row"].isin(rows)])
            if "_timestamp" in adapted:
                self.held_stamps.append(adapted.loc[adapted["_row"].isin(rows)].set_index("_row")["_timestamp"])
            mine = warnings["row"].isin(rows).to_numpy()
            self.held_warnings.append(warnings[mine])
            events, warnings = events[~held].reset_index(drop=True), warnings[~mine].reset_index(drop=True)
        self.warnings.append(warnings)
        kept = ids[~held]
        self.tilde.update(kept[kept.str.contains("~", regex=False)])  # a clash's new ID~N must not take one
        self._emit(events, warnings)

    def _settle_held(self):
        """dedupe.settle_duplicates over the held rows, as load_events runs it over the whole file."""
        if not self.held:
            return [], [], empty_folded()
        events = pd.concat(self.held, ignore_index=True)
        raw = pd.concat(self.held_raw, ignore_index=True)
        stamps = pd.concat(self.held_stamps) if self.held_stamps else None
        events, more_rejects, more_warnings, folded = settle_duplicates(
            events, raw, actor_columns(self.layout, self.options["mapping"]), stamps, self.options["on_duplicate"], taken=self.tilde,
        )
        warnings = _with(pd.concat(self.held_warnings, ignore_index=True), None, more_warnings)
        warnings = warnings[warnings["row"].isin(set(events["source_row"]))].reset_index(drop=True)
        if more_warnings:
            events = attach_warnings(events, warnings)
        self.warnings.append(pd.concat(self.held_warnings, ignore_index=True))  # validate's, with the other rows'
        self._emit(events, warnings)
        return more_rejects, more_warnings, folded

    def _emit(self, events: pd.DataFrame, warnings: pd.DataFrame) -> None:
        """prepare_file's join and country check, then _reject_ids_seen_before's rule; to the sink."""
        joined, notes = join_admin1(events)
        self.notes += [(int(note.split(" ", 2)[1]), note) for note in notes]  # "row N (id): ..."
        mismatched = country_warnings(joined)
        if len(mismatched):
            self.country.append(mismatched)
            both = pd.concat([warnings, mismatched], ignore_index=True).sort_values(["row", "column"], kind="stable", ignore_index=True)
            joined = attach_warnings(joined, both)
        earlier = self.seen.find(joined["event_id"])
        repeated = pd.notna(earlier)
        if repeated.any():
            self.cross.append(pd.DataFrame({
                "row": joined.loc[repeated, "source_row"].to_numpy(), "column": "event_id",
                "reason": ["duplicate event_id (already loaded from " + w + ")" for w in earlier[repeated]],
                "value": joined.loc[repeated, "event_id"].to_numpy(),
            }))
            joined = joined[~repeated].reset_index(drop=True)
        joined = joined.assign(source_file=self.path.name)
        rows = joined["source_row"].to_numpy(dtype=np.int64)
        values, counts = np.unique(rows, return_counts=True)
        self.twice += [rows[self.loaded[rows]], values[counts > 1]]
        self.loaded[rows] = True
        if self.remember:
            self.remembered_ids.append(pa.array(joined["event_id"].to_numpy(dtype=object), pa.string()))
            self.remembered_rows.append(joined["source_row"].to_numpy(dtype=np.int64))
        if len(joined):
            self.sink(joined, self.base)

    def _report(self, rows_read: int, settled_rejects, settled_warnings, folded) -> FileReport:
        malformed = [m for m in self.malformed if len(m)]
        rejects = _sorted([*self.rejects, *malformed, _table(settled_rejects)])
        loaded = np.concatenate([np.flatnonzero(self.loaded), *self.twice])
        self.loaded = None
        if self.cross:  # as _reject_ids_seen_before adds them (its sort by row alone included)
            extra = pd.concat(self.cross, ignore_index=True).sort_values("row", kind="stable", ignore_index=True)
            rejects = pd.concat([rejects, extra], ignore_index=True).sort_values("row", ignore_index=True)
        # validate's warnings, then dedupe's, then the country check's: the order of equal (row, column) pairs.
        warnings = _sorted([*self.warnings, _table(settled_warnings), *self.country])
        gone = np.concatenate([folded["row"].to_numpy(dtype=np.int64), _table(settled_rejects)["row"].to_numpy(dtype=np.int64),
                               *(c["row"].to_numpy(dtype=np.int64) for c in self.cross)])
        if len(gone):
            warnings = warnings[~warnings["row"].isin(gone)].reset_index(drop=True)
        check_rows(str(self.path), rows_read, loaded, rejects, folded)
        if self.remember:
            self.seen.add(self.path.name, self.remembered_ids, self.remembered_rows)
        notes = [note for _, note in sorted(self.notes, key=lambda pair: pair[0])]
        detected = f"{self.what} in .{self.container}" if self.container != "csv" else f"{self.what} in CSV"
        return FileReport(str(self.path), self.layout, rows_read, len(loaded), int(rejects["row"].nunique()) if len(rejects) else 0,
                          rejects, notes, warnings, folded, detected)


def _table(lines) -> pd.DataFrame:
    table = pd.DataFrame(lines, columns=["row", "column", "reason", "value"]) if len(lines) else empty_table()
    table["row"] = table["row"].astype("int64")
    return table


def _sorted(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_table()
    table = pd.concat(parts, ignore_index=True)
    table["row"] = table["row"].astype("int64")
    return table.sort_values(["row", "column"], kind="stable", ignore_index=True)

