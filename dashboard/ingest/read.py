"""Reading event files into text tables: CSV, GeoJSON, GeoParquet, GeoPackage and Excel .xlsx.

Every reader returns a `RawTable`: every field as text (so checks see what the
file says, not what a reader guessed), a `_row` column and the rows that
could not be split into fields (malformed).  A file that cannot be read at
all raises `LoadError` with one sentence for the user.

Row numbers are where a user finds the row:
  CSV    the line the record starts on; the header is line 1, and a quoted
         field holding a line break makes the later records' numbers larger;
  .xlsx  the spreadsheet's row number (the header is row 1);
  GeoJSON, GeoParquet, GeoPackage  the feature's number, counting from 1.
"""
from __future__ import annotations

import codecs
import csv
import os
import stat
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from .rawtable import MAX_COLUMNS, LoadError, RawTable, check_names, empty_problems  # noqa: F401

CONTAINERS = ["csv", "geojson", "geoparquet", "gpkg", "xlsx"]
SUFFIXES = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".geojson": "geojson", ".json": "geojson",
    ".parquet": "geoparquet", ".geoparquet": "geoparquet", ".gpkg": "gpkg", ".xlsx": "xlsx", ".xlsm": "xlsx",
}
CHUNK = 1 << 24


def check_path(path: Path) -> None:
    """A regular, non-empty file, or one sentence saying what it is instead."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise LoadError(f"{path}: a symbolic link to a file that does not exist.") from None
        raise LoadError(f"{path}: no such file.") from None
    except OSError as error:  # ELOOP, ENAMETOOLONG, EACCES ...
        raise LoadError(f"{path}: cannot be opened ({error.strerror or error}).") from None
    if stat.S_ISDIR(info.st_mode):
        raise LoadError(f"{path}: is a folder, not a file.")
    if not stat.S_ISREG(info.st_mode):
        raise LoadError(f"{path}: not a regular file (a device, pipe or socket); give an event file.")
    if info.st_size == 0:
        raise LoadError(f"{path.name}: the file is empty.")


def check_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError, ValueError):
        raise LoadError(f"unknown text encoding {encoding!r} (e.g. utf-8, cp1251, latin-1, utf-16).") from None


def container_of(path: Path, forced: str | None = None) -> str:
    if forced:
        return forced
    suffix = path.suffix.lower()
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    if suffix == ".xls":
        raise LoadError(f"{path.name}: old Excel .xls files cannot be read; save it as .xlsx or CSV.")
    with open(path, "rb") as handle:
        magic = handle.read(16)
    if magic.startswith(b"PK\x03\x04"):
        return "xlsx"
    if magic.startswith(b"PAR1"):
        return "geoparquet"
    if magic.startswith(b"SQLite format 3"):
        return "gpkg"
    if magic.lstrip().startswith(b"{"):
        return "geojson"
    return "csv"


def read_table(path: Path, container: str, encoding: str = "utf-8") -> RawTable:
    if container == "csv":
        return read_csv_strings(path, encoding)
    if container == "xlsx":
        from .read_xlsx import read_xlsx

        return read_xlsx(path)
    from .read_geo import read_geo

    return read_geo(path, container)


# --------------------------------------------------------------------- CSV


def _text_encoding(encoding: str) -> str:
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


def read_header(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[str]]:
    """(trimmed names, names as written) of the first record, checked."""
    csv.field_size_limit(sys.maxsize)  # a header or a field may be long; memory, not a limit, bounds it
    try:
        with open(path, "r", encoding=_text_encoding(encoding), newline="") as handle:
            try:
                written = next(csv.reader(handle))
            except StopIteration:
                written = []
    except UnicodeError as error:
        raise LoadError(_not_text(path, encoding, error)) from None
    except csv.Error as error:
        raise LoadError(f"{path.name}: the header row cannot be read as CSV ({error}).") from None
    except OSError as error:
        raise LoadError(f"{path}: cannot be read ({error.strerror or error}).") from None
    if not any(name.strip() for name in written):
        raise LoadError(f"{path.name}: the file is empty (no header row).")
    if len(written) > MAX_COLUMNS:
        raise LoadError(f"{path.name}: the header has {len(written):,} columns; an event file has at most {MAX_COLUMNS:,}.")
    return check_names(path, [h.strip() for h in written]), written


def _not_text(path: Path, encoding: str, error: UnicodeError) -> str:
    where = ""
    if isinstance(error, UnicodeDecodeError):
        where = f" (byte 0x{error.object[error.start]:02x} at offset {error.start})"
    return (
        f"{path.name}: not readable as {encoding} text{where}; save it as UTF-8 or pass --encoding (e.g. cp1251)."
    )


def read_csv_strings(path: Path, encoding: str = "utf-8") -> RawTable:
    """All fields as text; pyarrow reads on several threads, and when a record
    has the wrong number of fields (which pyarrow cannot place) the csv module
    reads the file again and names it."""
    header, written = read_header(path, encoding)
    malformed_seen = []

    def on_invalid_row(row):
        malformed_seen.append(row)
        return "skip"

    size = path.stat().st_size
    table = None
    for block in (1 << 20, min(max(size + 1, 1 << 20), 1 << 31 - 1)):
        try:
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(encoding=encoding, use_threads=True, block_size=block),
                parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid_row),
                convert_options=pacsv.ConvertOptions(
                    # large_string: pandas' own text storage, so to_pandas copies nothing (~0.3 s a million rows)
                    column_types={name: pa.large_string() for name in written},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            break
        except pa.ArrowInvalid as error:
            text = str(error)
            if "Empty CSV file" in text:  # a header with no line break after it: no rows
                return RawTable(_empty_frame(header), empty_problems(), "csv", header)
            if "straddling" in text or "block size" in text:  # a field longer than a block: one block
                malformed_seen.clear()
                continue
            if "UTF8" in text or "utf8" in text.lower() or "decod" in text.lower():
                raise LoadError(f"{path.name}: not readable as {encoding} text; save it as UTF-8 or pass --encoding (e.g. cp1251).") from None
            break  # anything else: the careful reader says where
        except (pa.ArrowException, OSError, ValueError):
            break
    if table is None or malformed_seen or len(set(written)) != len(written):
        return _read_csv_strings_slowly(path, encoding, header)
    lines = record_lines(path, encoding, table.num_rows)
    if lines is None:  # the scan and pyarrow disagree on the records: trust the careful reader
        return _read_csv_strings_slowly(path, encoding, header)
    frame = table.to_pandas()
    frame.columns = header
    frame["_row"] = lines
    return RawTable(frame, empty_problems(), "csv", header)


def _empty_frame(header: list[str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=object) for name in header} | {"_row": pd.Series([], dtype="int64")})


def record_lines(path: Path, encoding: str, records: int) -> np.ndarray | None:
    """The line each non-blank record after the header starts on, or None if
    the count differs from `records` (or the encoding is not byte-compatible
    with ASCII, so the bytes cannot be scanned).

    Lines end at "\n", "\r\n" or a lone "\r" (universal newlines, as
    Python's csv module counts them).  Chunked numpy over the bytes: a line
    break ends a record when an even number of quote characters precede it."""
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        return None
    if _one_line_each(path, records):
        return np.arange(2, records + 2, dtype=np.int64)
    ends_line, blank = [], []
    quotes_before = breaks_before = 0
    previous_end, previous_byte = -1, b""
    offset = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            while chunk.endswith(b"\r"):  # is it "\r\n"? the next byte says
                more = handle.read(1)
                if not more:
                    break
                chunk += more
            data = np.frombuffer(chunk, dtype=np.uint8)
            quotes = np.flatnonzero(data == 34)
            following = np.append(data[1:], np.uint8(0))
            breaks = np.flatnonzero((data == 10) | ((data == 13) & (following != 10)))
            parity = (quotes_before + np.searchsorted(quotes, breaks)) % 2
            term = breaks[parity == 0]
            if len(term):
                starts = np.concatenate([[previous_end - offset], term[:-1]]) + 1
                length = term - starts
                before = np.where(term > 0, data[np.maximum(term - 1, 0)], ord(previous_byte or b"\0"))
                blank.append((length == 0) | ((length == 1) & (before == 13) & (data[term] == 10)))
                ends_line.append(breaks_before + np.searchsorted(breaks, term) + 1)
                previous_end = int(term[-1] + offset)
            quotes_before += len(quotes)
            breaks_before += len(breaks)
            previous_byte = chunk[-1:]
            offset += len(chunk)
    ends_line = np.concatenate(ends_line) if ends_line else np.zeros(0, dtype=np.int64)
    blank = np.concatenate(blank) if blank else np.zeros(0, dtype=bool)
    # Record k (0 = header) starts on the line after terminator k-1's line.
    starts = np.concatenate([[1], ends_line + 1])
    is_blank = np.concatenate([blank, [offset - 1 <= previous_end]])  # the tail after the last break
    lines = starts[1:][~is_blank[1:]]
    return lines.astype(np.int64) if len(lines) == records else None


def _one_line_each(path: Path, records: int) -> bool:
    """True if the file holds no carriage return and exactly as many lines as
    records and header: as each takes at least one line, every record then
    sits on a line of its own, with no blank line and no line break inside a
    field (a byte count, ~10x cheaper than record_lines' scan of the quotes)."""
    breaks, last = 0, b""
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            if b"\r" in chunk:
                return False
            breaks += chunk.count(b"\n")
            last = chunk[-1:]
    return breaks + (last != b"\n") == records + 1


def _read_csv_strings_slowly(path: Path, encoding: str, header: list[str]) -> RawTable:
    frames, problems = [], []
    for frame, malformed in careful_csv_chunks(path, encoding, header):
        frames.append(frame)
        problems.append(malformed)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    malformed = pd.concat(problems, ignore_index=True) if len(problems) > 1 else problems[0]
    return RawTable(frame, malformed, "csv", header)


def careful_csv_chunks(path: Path, encoding: str, header: list[str], rows: int | None = None):
    """The csv module's reading, `rows` records at a time (all at once if None):
    (frame with `_row`, malformed problems) pairs; at least one pair."""
    rows_, malformed = [], []
    try:
        with open(path, "r", encoding=_text_encoding(encoding), newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            start = reader.line_num + 1
            for fields in reader:
                line, start = start, reader.line_num + 1
                if not fields:  # a blank line is not a record
                    continue
                if len(fields) == len(header):
                    rows_.append([line, *fields])
                else:
                    malformed.append({
                        "row": line, "column": "",
                        "reason": f"has {len(fields)} fields, the header has {len(header)}",
                        "value": ",".join(fields)[:200],
                    })
                if rows and len(rows_) + len(malformed) >= rows:
                    yield _careful_chunk(rows_, malformed, header)
                    rows_, malformed = [], []
    except UnicodeError as error:
        raise LoadError(_not_text(path, encoding, error)) from None
    except csv.Error as error:
        raise LoadError(f"{path.name}: not a readable CSV file ({error}).") from None
    yield _careful_chunk(rows_, malformed, header)


def _careful_chunk(rows, malformed, header):
    frame = pd.DataFrame(rows, columns=["_row", *header], dtype=object) if rows else _empty_frame(header)
    frame["_row"] = frame["_row"].astype("int64")
    frame = frame[[*header, "_row"]]
    problems = pd.DataFrame(malformed, columns=["row", "column", "reason", "value"]) if malformed else empty_problems()
    problems["row"] = problems["row"].astype("int64")
    return frame, problems
