"""One event file read a chunk of rows at a time, and what must be decided over the whole file first.

A CSV file is read with pyarrow's streaming reader (every field as text, as
read.read_csv_strings reads it), its rows' line numbers from one numpy pass
over the bytes (record_lines: 8 bytes a row).  When the fast reader cannot
place a record (a malformed line, a field longer than a block, a line count
that disagrees) the whole file is read by the csv module instead, still in
chunks, as read.read_csv_strings falls back to it.  Other containers
(.xlsx, GeoJSON, GeoParquet, GeoPackage) are read whole, as today: they are
small in practice.

`scan` is the first, cheap pass (stream.py makes the second): it counts the
rows, finds the event ids that occur more than once (as 64-bit hashes: a
collision only holds back one more row, never changes a result) and decides
each date column's day/month order over the whole column, as dates.py does
when it sees the whole file.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .dates import _NUMERIC, parse_dates
from .formats import adapt, normalise_raw
from .read import LoadError, careful_csv_chunks, read_header, read_table, record_lines
from .validate import _unquoted

CHUNK_ROWS = 50_000  # ~2.4 GB a million rows through the stages: ~120 MB a chunk
BLOCK_BYTES = 1 << 22
DATE_COLUMNS = ("event_date", "report_date")
SAMPLES_PER_DATE = 3  # infer_order names at most 3 ambiguous values


class _Careful(Exception):
    """The fast reader cannot read this file: the csv module reads it."""


class Source:
    """A file's rows as (frame with `_row`, malformed problems) chunks, read again on each iteration."""

    def __init__(self, path: Path, container: str, encoding: str, rows: int = CHUNK_ROWS):
        self.path, self.container, self.encoding, self.rows = path, container, encoding, rows
        self.careful = False
        self.lines: np.ndarray | None = None
        self.table = None
        if container == "csv":
            self.header, written = read_header(path, encoding)
            self.written = written
            self.careful = len(set(written)) != len(written)
        else:  # read whole, once
            self.table = read_table(path, container, encoding)
            self.header = self.table.header

    def chunks(self, columns: list[str] | None = None) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        """columns: only these are read from a CSV when the fast reader can (the others come empty)."""
        if self.table is not None:
            yield self.table.frame, self.table.malformed
        elif self.careful:
            start = 0
            for frame, malformed in careful_csv_chunks(self.path, self.encoding, self.header, self.rows):
                frame.index = pd.RangeIndex(start, start + len(frame))
                start += len(frame)
                yield frame, malformed
        else:
            yield from self._fast_chunks(columns)

    def _fast_chunks(self, columns):
        start = 0
        chosen = [i for i, name in enumerate(self.header) if columns is None or name in columns]
        for table in _rechunk(self._fast_batches([self.written[i] for i in chosen]), self.rows):
            frame = table.to_pandas()
            frame.columns = [self.header[i] for i in chosen]
            if len(chosen) < len(self.header):
                frame = frame.assign(**{name: "" for name in self.header if name not in set(frame.columns)})[self.header]
            frame.index = pd.RangeIndex(start, start + len(frame))
            # Before the scan has counted the records the line numbers are not known: positions stand in.
            frame["_row"] = (self.lines[start:start + len(frame)] if self.lines is not None else np.arange(start, start + len(frame))).astype(np.int64)
            start += len(frame)
            yield frame, _no_problems()

    def _fast_batches(self, included: list[str]):
        invalid = []

        def on_invalid_row(row):
            invalid.append(row)
            return "skip"

        try:
            reader = pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(encoding=self.encoding, use_threads=True, block_size=BLOCK_BYTES),
                parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid_row),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in self.written}, include_columns=included,
                    strings_can_be_null=False, quoted_strings_can_be_null=False,
                ),
            )
            for batch in reader:
                if invalid:
                    raise _Careful
                yield batch
            if invalid:
                raise _Careful
        except pa.ArrowInvalid as error:
            text = str(error)
            if "Empty CSV file" in text:  # a header with no line break after it: no rows
                return
            if "straddling" not in text and "block size" not in text and ("utf8" in text.lower() or "decod" in text.lower()):
                raise LoadError(f"{self.path.name}: not readable as {self.encoding} text; save it as UTF-8 or pass --encoding (e.g. cp1251).") from None
            raise _Careful from None
        except (pa.ArrowException, OSError, ValueError):
            raise _Careful from None


def _rechunk(batches, rows: int):
    """Record batches (a block of bytes each) -> tables of `rows` rows (the last one shorter)."""
    pending, count = [], 0
    for batch in batches:
        while batch.num_rows:
            taken = min(rows - count, batch.num_rows)
            pending.append(batch.slice(0, taken))
            count += taken
            batch = batch.slice(taken)
            if count == rows:
                yield pa.Table.from_batches(pending)
                pending, count = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def _no_problems() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series([], dtype="int64"), "column": [], "reason": [], "value": []})


@dataclass
class Scan:
    rows_read: int = 0
    repeated: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))  # sorted hashes of ids seen twice
    orders: dict = field(default_factory=dict)  # column -> order, or the DateOrderError the column raised
    last_row: int = 0  # the largest row number


_PRIME = 0x100000001B3  # odd, so invertible modulo 2**64
_INVERSE = pow(_PRIME, -1, 2**64)


def id_hashes(ids) -> np.ndarray:
    """A 64-bit hash of each text (uint64), computed over Arrow's bytes without
    a Python string per value: a polynomial hash of the bytes, its length mixed
    in, then splitmix64's finaliser.  Equal texts hash equal whatever the
    container (pandas str or object, Arrow string or large_string)."""
    array = _large_text(ids)
    if not len(array):
        return np.zeros(0, np.uint64)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset:array.offset + len(array) + 1]
    data = array.buffers()[2]
    data = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]] if data is not None else np.zeros(0, np.uint8)
    starts, lengths = offsets[:-1] - offsets[0], np.diff(offsets)
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 on purpose
        one = np.ones(1, np.uint64)
        powers = np.concatenate([one, np.cumprod(np.full(len(data), _PRIME, dtype=np.uint64))])  # P**i
        inverse = np.concatenate([one, np.cumprod(np.full(len(data), _INVERSE, dtype=np.uint64))])  # P**-i
        prefix = np.concatenate([np.zeros(1, np.uint64), np.cumsum(data.astype(np.uint64) * powers[:-1], dtype=np.uint64)])
        value = (prefix[starts + lengths] - prefix[starts]) * inverse[starts]
        value ^= lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        value = (value ^ (value >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        value = (value ^ (value >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return value ^ (value >> np.uint64(31))


def _large_text(ids) -> pa.Array:
    values = ids.array if isinstance(ids, pd.Series) else ids
    try:
        array = pa.array(values) if not isinstance(values, np.ndarray) or values.dtype != object else None
    except (pa.ArrowException, TypeError, ValueError):
        array = None
    if array is None or not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pa.array(np.asarray(ids, dtype=object), type=pa.large_string(), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.large_string())


def scan(source: Source, layout: str, what: str, mapping, date_order) -> Scan:
    """The first pass: see the module's text.  Falls back to the careful reader as read_csv_strings does."""
    while True:
        try:
            found = _scan(source, layout, what, mapping, date_order)
        except _Careful:
            source.careful = True
            continue
        if source.container == "csv" and not source.careful:
            source.lines = record_lines(source.path, source.encoding, found.rows_read)
            if source.lines is None:  # the scan and pyarrow disagree on the records: trust the careful reader
                source.careful = True
                continue
            found.last_row = int(source.lines[-1]) if len(source.lines) else 0
            if found.last_row < 2**31:  # kept for the second pass: 4 bytes a row
                source.lines = source.lines.astype(np.int32)
        return found


# The columns of each layout that the first pass needs (its id and dates), as normalise_raw names them.
SCAN_COLUMNS = {"native": ["event_id", "event_date", "report_date"], "acled": ["event_id_cnty", "event_date", "timestamp"],
                "ucdp": ["id", "date_start", "source_date"]}


def scan_columns(header: list[str], layout: str, mapping) -> list[str] | None:
    """The header's names the first pass reads, or None for all of them."""
    if mapping:
        if mapping.get("event_id", "event_id") not in header:  # ids made from every column's content
            return None
        return [name for name in header if name in {mapping.get(c, c) for c in ("event_id", *DATE_COLUMNS)}]
    if layout not in SCAN_COLUMNS:
        return None
    lowered = layout in ("acled", "ucdp")
    return [name for name in header if (name.lower() if lowered else name) in SCAN_COLUMNS[layout]]


def _scan(source, layout, what, mapping, date_order) -> Scan:
    found, hashes, position = Scan(), [], 0
    witnesses = {column: _Witnesses() for column in DATE_COLUMNS}
    for frame, malformed in source.chunks(scan_columns(source.header, layout, mapping)):
        found.rows_read += len(frame) + len(malformed)
        rows = [frame["_row"].max() if len(frame) else 0, malformed["row"].max() if len(malformed) else 0]
        found.last_row = max(found.last_row, *(int(r) for r in rows))
        if not len(frame):
            continue
        adapted = adapt(normalise_raw(frame, layout), layout, source.path, mapping, what)
        # As validate reads them (stripped, a formula's apostrophe taken off).
        hashes.append(id_hashes(_unquoted(adapted["event_id"].astype(str).str.strip())))
        if date_order is None:
            for column in DATE_COLUMNS:
                witnesses[column].add(_unquoted(adapted[column].astype(str).str.strip()), position)
        position += len(frame)
        pa.default_memory_pool().release_unused()
    every = np.sort(np.concatenate(hashes)) if hashes else np.zeros(0, np.uint64)
    found.repeated = np.unique(every[1:][every[1:] == every[:-1]])
    for column in DATE_COLUMNS:
        found.orders[column] = date_order if date_order is not None else witnesses[column].order(column)
    return found


class _Witnesses:
    """The values of a date column that decide its day/month order, in file order.

    dates.infer_order looks at numeric dates only and uses the first value
    proving each order and the first three distinct ambiguous values; the
    proof depends on the three numbers alone.  So the first SAMPLES_PER_DATE
    distinct texts of each triple of numbers, in the order they first occur,
    decide exactly as the whole column would (a few thousand values, not
    ten million)."""

    def __init__(self):
        self.kept: dict[tuple, list[tuple[int, str]]] = {}

    def add(self, text: pd.Series, position: int) -> None:
        values = pa.array(text.array) if not pd.api.types.is_object_dtype(text) else pa.array(text.to_numpy(), type=pa.string())
        if isinstance(values, pa.ChunkedArray):  # a chunk of rows read in several blocks
            values = values.combine_chunks()
        values = pc.utf8_trim_whitespace(values.cast(pa.string()))
        # Most files write ISO dates: a cheap test first, the full pattern only if a day or month could come first.
        if not pc.any(pc.match_substring_regex(values, r"^\d{1,2}[/.\-]")).as_py():
            return
        parts = pc.extract_regex(values, _NUMERIC)
        hit = np.asarray(parts.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        if hit.any():  # a year first (2025/01/20) decides nothing
            hit &= np.asarray(pc.fill_null(pc.less_equal(pc.utf8_length(pc.struct_field(parts, [0])), 2), False), dtype=bool)
        if not hit.any():
            return
        where = np.flatnonzero(hit)
        written = values.filter(pa.array(hit)).to_numpy(zero_copy_only=False)
        matched = parts.filter(pa.array(hit))
        numbers = zip(*(matched.field(k).to_numpy(zero_copy_only=False) for k in ("a", "b", "c")))
        first = pd.Series(written).drop_duplicates()  # distinct texts, first occurrence kept
        keys = list(numbers)
        for index, value in first.items():
            texts = self.kept.setdefault(keys[index], [])
            if len(texts) < SAMPLES_PER_DATE and all(value != t for _, t in texts):
                texts.append((position + int(where[index]), value))

    def order(self, column: str):
        """The order to read every chunk with: "dmy", "mdy", None (nothing to decide), or the DateOrderError."""
        from .dates import DateOrderError

        texts = [t for _, t in sorted(p for kept in self.kept.values() for p in kept)]
        if not texts:
            return None
        values = pd.Series(texts, dtype=object)
        try:
            inferred = parse_dates(values, None, column)
        except DateOrderError as error:
            return error
        # infer_order answers "dmy" or "mdy"; read with the one that gives the same days.
        return "dmy" if parse_dates(values, "dmy", column).equals(inferred) else "mdy"
