"""Import event files into the team database: `python -m dashboard import FILE... --into URL [--replace]`.

The files go through the app's own read, validation and join, a chunk at a
time (`ingest.stream`: the same events and reports as
`ingest.prepare.prepare_events`, in memory bounded by a chunk), so the
database holds exactly what the embedded store would show, and each file's
rows read / loaded / rejected are reported as `validate` reports them.
`load_events` loads a frame prepare_events made.  In ONE transaction (a
failure anywhere, reading the files included, leaves the previous data as it was):

1. the schema is brought up to date (migrate.py);
2. into an empty table the events are COPYed directly (streamed: by way of
   a sorted spill file, pg_stream.py), its indexes and keys dropped first
   and built after (a sorted build, not a million random inserts);
   otherwise they are COPYed into a staging table and upserted: `INSERT ... ON CONFLICT (event_id) DO UPDATE ... WHERE changed`,
   so an event whose fields are all equal is left alone and ids stay
   stable.  Events not in the files are kept, or with `replace` deleted, so
   the data becomes exactly the files.  Indexes are kept while upserting,
   so workers serving the old data are never blocked;
3. when anything changed, the derived tables (the count tables of
   pg_derived.py, event_values, the extent) are rebuilt and the data
   version changes;
4. the import of each file is recorded in `imports`.
"""
from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import psycopg

from .contract import StoreUnavailable
from .migrate import migrate
from .pg import connect, reason
from .pg_derived import rebuild_counts
from .pg_stream import SortedSpill, order_of, sort_keys
from .sql import EVENT_COLUMNS, SEARCH_FIELDS, SEARCH_SEPARATOR

IMPORT_LOCK = 4_231_978_552  # one import at a time per database
COPY_BATCH_ROWS = 100_000
LOADED_COLUMNS = [*EVENT_COLUMNS, "search_text"]
SQL_TYPES = {"text": "text", "date": "date", "float": "double precision", "int": "bigint"}

# What makes each query fast (postgis.py says which query uses which).
INDEXES = {
    "events_newest": "CREATE INDEX IF NOT EXISTS events_newest ON events (event_date DESC, seq)",
    # A region's or country's newest events straight from the index (filter and order at once);
    # its counts per day and type, and per region, from the index alone (an index-only scan).
    "events_region": "CREATE INDEX IF NOT EXISTS events_region ON events (admin1_code, event_date DESC, seq) "
                     "INCLUDE (event_type, sub_event_type, geo_precision, date_precision)",
    "events_country": "CREATE INDEX IF NOT EXISTS events_country ON events (country_code, event_date DESC, seq) "
                      "INCLUDE (admin1_code, event_type, sub_event_type, geo_precision, date_precision)",
    # An actor's events, newest first from the index (records and points of a rare actor).
    "events_actor1_newest": "CREATE INDEX IF NOT EXISTS events_actor1_newest ON events (actor1, event_date DESC, seq)",
    "events_actor2_newest": "CREATE INDEX IF NOT EXISTS events_actor2_newest ON events (actor2, event_date DESC, seq)",
    "events_search": "CREATE INDEX IF NOT EXISTS events_search ON events USING gin (search_text gin_trgm_ops)",
    "events_geom": "CREATE INDEX IF NOT EXISTS events_geom ON events USING gist (geom)",
}


class ImportFailed(ValueError):
    """An import that changed nothing; the message says why in one sentence."""


@dataclass
class ImportSummary:
    inserted: int
    updated: int
    unchanged: int
    version: str
    removed: int = 0  # events not in the files, deleted (replace)
    kept: int = 0  # events not in the files, left as they were (no replace)

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.removed)

    def sentence(self) -> str:
        text = f"{self.inserted:,} new, {self.updated:,} updated, {self.unchanged:,} unchanged events"
        if self.removed:
            text += f", {self.removed:,} not in the files removed"
        if self.kept:
            text += f"; {self.kept:,} event{'s' if self.kept != 1 else ''} not in the files kept (--replace removes them)"
        return f"{text}; data version {self.version}" + ("" if self.changed else " (nothing changed)")


def prepare_for_import(paths, fmt="auto", mapping=None, type_values=None, encoding="utf-8"):
    """The files read, validated and joined as the app does, whole, in memory (PreparedEvents:
    .events, .reports): what import_files streams, for load_events and for comparing the two."""
    from ..ingest.prepare import prepare_events

    # No on-disk cache: the database is where these events will be read from.
    return prepare_events(paths, fmt, mapping, type_values, encoding, cache_dir=None, use_cache=False)


def import_files(url: str, paths, fmt="auto", mapping=None, type_values=None, encoding="utf-8", replace=False,
                 chunk_rows: int | None = None):
    """The files read, validated and joined as the app does, a chunk at a time,
    each chunk COPYed as it is ready (ingest/stream.py, pg_stream.py): memory
    bounded by a chunk, not the files.  (reports, ImportSummary)."""
    from ..ingest.stream import CHUNK_ROWS, stream_events

    reports = []

    def load(conn, empty: bool) -> ImportSummary:
        def prepared(sink):
            reports.extend(stream_events(paths, sink, fmt, mapping, type_values, encoding, chunk_rows=chunk_rows or CHUNK_ROWS))

        return _stream_into_empty(conn, prepared) if empty else _stream_upsert(conn, prepared, replace)

    return reports, _in_transaction(url, load, reports)


def load_events(url: str, events: pd.DataFrame, reports=(), replace: bool = False) -> ImportSummary:
    """Load joined events (prepare_events' frame) into the database, in one transaction.

    replace: the data becomes exactly these events (the others are deleted);
    otherwise events already there and not among these are kept.
    """
    table = arrow_events(events)

    def load(conn, empty: bool) -> ImportSummary:
        return _load_into_empty(conn, table) if empty else _upsert(conn, table, replace)

    return _in_transaction(url, load, reports)


def _in_transaction(url: str, load, reports) -> ImportSummary:
    """load(conn, table_is_empty) then _finish, in one transaction; database errors as ImportFailed."""
    with connect(url, autocommit=True) as conn:
        try:
            migrate(conn)
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (IMPORT_LOCK,))
                # For this transaction only: index builds, the upsert's hash joins
                # and the summaries' GROUP BYs in memory rather than spilled to disk.
                conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
                conn.execute("SET LOCAL work_mem = '256MB'")
                empty = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM events)").fetchone()[0]
                summary = _finish(conn, load(conn, empty), reports)
        except (StoreUnavailable, ImportFailed):
            raise
        except psycopg.OperationalError as error:
            raise ImportFailed(f"The import failed and changed nothing: the database stopped answering ({reason(error)}).") from None
        except psycopg.Error as error:
            raise ImportFailed(f"The import failed and changed nothing: {reason(error)}.") from None
    return summary


def arrow_events(events: pd.DataFrame) -> pa.Table:
    """The events as the table's columns: missing columns empty, text never null, search text lower-cased."""
    if events["event_id"].duplicated().any():
        repeated = events.loc[events["event_id"].duplicated(), "event_id"].iloc[0]
        raise ImportFailed(f"Event id {repeated!r} appears twice in the events to import; each id must be unique.")
    arrays = {}
    rows = len(events)
    for name, kind in EVENT_COLUMNS.items():
        values = events[name] if name in events else None
        if kind == "text":
            if values is None:
                array = pa.array([""] * rows, type=pa.string())
            else:  # Arrow-backed text passes without a Python object per value
                array = pa.array(values if isinstance(values.dtype, pd.StringDtype) else values.astype("str"), from_pandas=True)
                array = array.cast(pa.string()) if array.type != pa.string() else array
            array = pc.fill_null(array, "")
            if pc.any(pc.match_substring(array, "\x00")).as_py():  # PostgreSQL text cannot hold NUL
                array = pc.replace_substring(array, "\x00", "")
            arrays[name] = array
        elif kind == "date":
            days = pd.to_datetime(values, errors="coerce") if values is not None else pd.Series(pd.NaT, index=range(rows))
            arrays[name] = pa.array(days.to_numpy(dtype="datetime64[ms]"), from_pandas=True).cast(pa.date32())
        elif kind == "float":
            arrays[name] = pa.array(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float) if values is not None
                                    else np.full(rows, np.nan), from_pandas=True)
        else:
            numbers = pd.to_numeric(values, errors="coerce").astype("Int64") if values is not None else pd.Series(pd.NA, index=range(rows), dtype="Int64")
            arrays[name] = pa.array(numbers, type=pa.int64(), from_pandas=True)
    text = pc.binary_join_element_wise(*(arrays[f] for f in SEARCH_FIELDS), SEARCH_SEPARATOR)
    arrays["search_text"] = pc.utf8_lower(text)
    return pa.table(arrays)


def _copy(conn, target: str, tables, freeze: bool = False) -> None:
    """COPY a table, or each table of an iterable in turn, in one COPY of CSV batches
    (valid values quoted, so "" is text and an empty field is NULL)."""
    tables = iter([tables]) if isinstance(tables, pa.Table) else iter(tables)
    first = next(tables, None)
    if first is None:
        return
    columns = ", ".join(first.column_names)
    with conn.cursor().copy(f"COPY {target} ({columns}) FROM STDIN (FORMAT csv{', FREEZE true' if freeze else ''})") as copy:
        _write(copy, first)
        for table in tables:
            _write(copy, table)


def _write(copy, table: pa.Table) -> None:
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    for start in range(0, table.num_rows, COPY_BATCH_ROWS):
        buffer = io.BytesIO()
        pacsv.write_csv(table.slice(start, COPY_BATCH_ROWS), buffer, options)
        copy.write(buffer.getbuffer())


def _empty_for_copy(conn) -> None:
    for name in INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    # The keys too (ids are unique: checked, or settled by the stream): built once after the COPY.
    conn.execute("ALTER TABLE events DROP CONSTRAINT IF EXISTS events_pkey, DROP CONSTRAINT IF EXISTS events_seq_key")
    # Truncated (it is empty) so that COPY may write the rows frozen and
    # all-visible: index-only scans work from the first query, and no vacuum
    # rewrites every page later.  Rolled back with the rest on failure.
    conn.execute("TRUNCATE events")


def _keys_and_indexes(conn, rows: int) -> ImportSummary:
    conn.execute("ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (event_id), ADD CONSTRAINT events_seq_key UNIQUE (seq)")
    _create_indexes(conn)
    return ImportSummary(inserted=rows, updated=0, unchanged=0, version="")


def _load_into_empty(conn, table: pa.Table) -> ImportSummary:
    _empty_for_copy(conn)
    # Stored in date order (ties in file order, as the in-memory store keeps
    # them): "newest first" then reads neighbouring pages, not one page per row.
    order = pc.sort_indices(table, sort_keys=[("event_date", "ascending")])
    _copy(conn, "events", table.take(order), freeze=True)
    return _keys_and_indexes(conn, table.num_rows)


def _stream_into_empty(conn, prepared) -> ImportSummary:
    """The chunks spilled to disk each in date order, then COPYed FREEZE in date order (pg_stream.py says why)."""
    spill = SortedSpill()
    try:
        def sink(events, base):
            table = arrow_events(events)
            spill.add(table, sort_keys(table, order_of(events, base)))

        prepared(sink)
        _empty_for_copy(conn)
        rows = spill.rows
        _copy(conn, "events", spill.sorted_tables(), freeze=True)
    finally:
        spill.close()
    return _keys_and_indexes(conn, rows)


def _stage(conn) -> None:
    columns = ", ".join(f"{name} {SQL_TYPES[EVENT_COLUMNS.get(name, 'text')]}" for name in LOADED_COLUMNS)
    # ord: the events' order in prepare_events' frame, the order new events take their seq in.
    conn.execute(f"CREATE TEMP TABLE staging (ord bigint NOT NULL, {columns}) ON COMMIT DROP")


def _upsert(conn, table: pa.Table, replace: bool) -> ImportSummary:
    _stage(conn)
    _copy(conn, "staging", table.append_column("ord", pa.array(np.arange(table.num_rows, dtype=np.int64))))
    return _merge_staging(conn, table.num_rows, replace)


def _stream_upsert(conn, prepared, replace: bool) -> ImportSummary:
    """Each chunk into the one COPY into the staging table as it is ready, then the upsert."""
    _stage(conn)
    rows = 0
    columns = ", ".join(["ord", *LOADED_COLUMNS])
    with conn.cursor().copy(f"COPY staging ({columns}) FROM STDIN (FORMAT csv)") as copy:
        def sink(events, base):
            nonlocal rows
            table = arrow_events(events)
            _write(copy, pa.table({"ord": pa.array(order_of(events, base)), **{n: table[n] for n in LOADED_COLUMNS}}))
            rows += table.num_rows

        prepared(sink)
    return _merge_staging(conn, rows, replace)


def _merge_staging(conn, rows: int, replace: bool) -> ImportSummary:
    names = ", ".join(LOADED_COLUMNS)
    updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in LOADED_COLUMNS if n != "event_id")
    current = ", ".join(f"events.{n}" for n in LOADED_COLUMNS)
    incoming = ", ".join(f"EXCLUDED.{n}" for n in LOADED_COLUMNS)
    inserted, updated = conn.execute(
        f"WITH up AS (INSERT INTO events ({names}) SELECT {names} FROM staging ORDER BY ord "
        f"ON CONFLICT (event_id) DO UPDATE SET {updates} WHERE ({current}) IS DISTINCT FROM ({incoming}) "
        "RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"
    ).fetchone()
    removed = kept = 0
    if replace:
        removed = conn.execute(
            "DELETE FROM events e WHERE NOT EXISTS (SELECT 1 FROM staging s WHERE s.event_id = e.event_id)"
        ).rowcount
    else:
        kept = conn.execute("SELECT count(*) FROM events").fetchone()[0] - rows
    _create_indexes(conn)  # a database made by an older import may lack one
    return ImportSummary(inserted=inserted, updated=updated, unchanged=rows - inserted - updated, version="",
                         removed=removed, kept=kept)


def _create_indexes(conn) -> None:
    for statement in INDEXES.values():
        conn.execute(statement)


def _finish(conn, summary: ImportSummary, reports) -> ImportSummary:
    """Rebuild what is derived from the events and change the version, when anything changed."""
    if summary.changed:
        rebuild_counts(conn)
        # Countries, regions (named as their first event names them), precisions and the extent in one pass.
        conn.execute(
            "CREATE TEMP TABLE places ON COMMIT DROP AS SELECT country_code, admin1_code, geo_precision, min(seq) AS first_seq, "
            "min(longitude) AS west, min(latitude) AS south, max(longitude) AS east, max(latitude) AS north "
            "FROM events GROUP BY 1, 2, 3"
        )
        conn.execute("DELETE FROM event_values")
        conn.execute(
            "INSERT INTO event_values (kind, value, detail) "
            "SELECT DISTINCT 'type', event_type, '' FROM event_counts "
            "UNION ALL SELECT DISTINCT 'sub', event_type, sub_event_type FROM event_counts "
            "UNION ALL SELECT DISTINCT 'country', country_code, '' FROM places "
            "UNION ALL SELECT 'region', p.admin1_code, e.admin1_name FROM "
            "(SELECT admin1_code, min(first_seq) AS first_seq FROM places GROUP BY 1) p JOIN events e ON e.seq = p.first_seq "
            "UNION ALL SELECT DISTINCT 'precision', geo_precision, '' FROM places "
            "UNION SELECT 'actor', unnest(ARRAY[actor1, actor2]), '' FROM (SELECT actor1, actor2 FROM events GROUP BY 1, 2) pairs"
        )
        conn.execute(
            "UPDATE dataset SET version = (generation + 1)::text || '-' || %s, generation = generation + 1, changed_at = now(), "
            "west = e.west, south = e.south, east = e.east, north = e.north FROM ("
            "SELECT min(west) AS west, min(south) AS south, max(east) AS east, max(north) AS north FROM places) e "
            "WHERE id = 1",
            (secrets.token_hex(4),),
        )
        conn.execute("ANALYZE events")
    for report in reports:
        conn.execute(
            "INSERT INTO imports (source, format, rows_read, rows_loaded, rows_rejected) VALUES (%s, %s, %s, %s, %s)",
            (str(report.source), str(report.format), int(report.rows_read), int(report.rows_loaded), int(report.rows_rejected)),
        )
    summary.version = conn.execute("SELECT version FROM dataset WHERE id = 1").fetchone()[0]
    return summary
