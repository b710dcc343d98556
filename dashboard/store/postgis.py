"""The team store: events in PostgreSQL + PostGIS, every question answered in SQL.

`PostgisStore.open(url)` connects (one sentence and StoreUnavailable when it
cannot), checks the schema and reads the small tables the import keeps
(event_values, dataset, event_counts) for the bounds, names and version.
The worker holds a connection pool and those few kilobytes, never the events.

How each answer is made (sql.where turns the view into a WHERE clause):

    count, counts by type / sub-type / day+type / date precision, country-level
              one GROUP BY per set of non-date, non-type filters, summed
              in pg_summary; when the view filters only dates and types,
              from the event_counts table, which each worker holds (read
              again when the data changes); when it filters actors besides,
              from the actor count tables (pg_derived.py)
    regions   whole months: when the view filters only dates, types and
              perhaps actors, from the region_months tables; otherwise from
              the view's summary query, which groups per month and region in
              the same pass; the days at either end of a range from the events
    points    ORDER BY event_date DESC, seq LIMIT cap (index on both)
    grid      floor((lat + 90) / size), floor((lon + 180) / size), GROUP BY
    clusters  the same cells per type, the cell's mean position by window
    records   ORDER BY event_date DESC, seq, streamed with COPY into Arrow
    record    by primary key

The attributes (bounds, total, version...) follow the database: at most every
REFRESH_S seconds the store reads the data version, and after an import
reloads them, so running workers serve the new data without a restart.

Territory: `attach_territory` classes the events in Python on the store's
coordinates (as memory.py does) and writes the classes to the
territory_positions table under a key made of the classes and the data
version; workers with the same layer share one copy, and the filter is a
semi-join on it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd

from ..schema import GEO_PRECISIONS, TYPE_COLOURS
from ..view import DataBounds, ViewState
from . import pg_marks, pg_summary
from .contract import GRID_COLUMNS, POINT_COLUMNS, REGION_COUNT_COLUMNS
from .migrate import require_current
from .pg import Database, safe_url
from .pg_frames import copy_frame
from .sql import (
    EVENT_COLUMNS, edge_days, filters_only, only_actors_day_and_type, only_day_and_type, region_months_query, summary_query,
    where, whole_months, without_day_and_type,
)

REFRESH_S = 2.0
SUMMARIES_KEPT = 16
SUMMARY_KINDS = {"event_date": "date", "event_type": "text", "sub_event_type": "text", "country_level": "int",
                 "date_precision": "text", "n": "int"}
PARTS_KINDS = {"by_region": "int", **SUMMARY_KINDS, "admin1_code": "text"}


class PostgisStore:
    def __init__(self, database: Database):
        self.db = database
        self._lock = threading.Lock()
        self._summaries: OrderedDict = OrderedDict()
        self._layer = None
        self._layer_key: str | None = None
        self._checked_at = 0.0
        self._data_version = ""
        with self.db.connection() as conn:
            self._load(conn)

    @classmethod
    def open(cls, url: str) -> "PostgisStore":
        database = Database(url)
        database.check()
        with database.connection() as conn:
            require_current(conn, safe_url(url))
        return cls(database)

    # ------------------------------------------------- what the data holds

    def _load(self, conn) -> None:
        row = conn.execute("SELECT version, west, south, east, north FROM dataset WHERE id = 1").fetchone()
        values = conn.execute("SELECT kind, value, detail FROM event_values ORDER BY kind, value, detail").fetchall()
        first, last, total = conn.execute("SELECT min(event_date), max(event_date), coalesce(sum(n), 0) FROM event_counts").fetchone()
        of = {kind: [] for kind in ("type", "sub", "country", "region", "actor", "precision")}
        for kind, value, detail in values:
            of.setdefault(kind, []).append((value, detail))
        types = [v for v, _ in of["type"]]
        self._pairs = [(v, d) for v, d in of["sub"]]
        self._total = int(total)
        self._extent = tuple(float(x) for x in row[1:]) if self._total and None not in row[1:] else None
        self._bounds = DataBounds(
            first_day=first or dt.date(2025, 1, 1),
            last_day=last or first or dt.date(2025, 1, 1),
            types=tuple(types),
            sub_types=tuple(sorted({s for _, s in self._pairs} - {""})),
            countries=tuple(v for v, _ in of["country"] if v),
            regions=tuple(v for v, _ in of["region"] if v),
            actors=frozenset(v for v, _ in of["actor"]),
        )
        self._region_names = {v: d for v, d in of["region"]}
        self._precisions = [p for p in GEO_PRECISIONS if p in {v for v, _ in of["precision"]}]
        self._custom_types = sorted(set(types) - set(TYPE_COLOURS))
        all_events = pg_summary.summary_frame(self._copy_frame(
            "SELECT event_date, event_type, sub_event_type, country_level::int, date_precision, n FROM event_counts", [],
            SUMMARY_KINDS, conn))
        self._data_version = row[0]
        self._checked_at = time.monotonic()
        with self._lock:
            self._summaries.clear()
            self._all_events = all_events

    def _fresh(self) -> None:
        """Reload what the data holds when an import has changed it (checked every REFRESH_S)."""
        if time.monotonic() - self._checked_at < REFRESH_S:
            return
        self._checked_at = time.monotonic()
        try:
            with self.db.connection() as conn:
                version = conn.execute("SELECT version FROM dataset WHERE id = 1").fetchone()[0]
                if version != self._data_version:
                    self._load(conn)
                    if self._layer is not None:
                        self._attach(conn, self._layer)
        except Exception:  # noqa: BLE001 - a database down now is said by the next query, not here
            return

    @property
    def bounds(self) -> DataBounds:
        self._fresh()
        return self._bounds

    @property
    def total(self) -> int:
        self._fresh()
        return self._total

    @property
    def custom_types(self) -> list[str]:
        self._fresh()
        return self._custom_types

    @property
    def region_names(self) -> dict[str, str]:
        self._fresh()
        return self._region_names

    @property
    def precisions(self) -> list[str]:
        self._fresh()
        return self._precisions

    @property
    def version(self) -> str:
        self._fresh()
        return self._data_version + (f"+{self._layer_key[:12]}" if self._layer_key else "")

    def extent(self):
        self._fresh()
        return self._extent

    def label(self) -> str:
        """The imported files' names, for titles and source lines."""
        return ", ".join(Path(r.source).name for r in self.import_reports()) or "team database"

    def import_reports(self) -> list:
        """The latest import of each file (FileReport), so the page says what was rejected."""
        rows = self._rows(
            "SELECT DISTINCT ON (source) source, format, rows_read, rows_loaded, rows_rejected FROM imports "
            "ORDER BY source, id DESC"
        )
        return [_report(row) for row in rows]

    # ------------------------------------------------------------ queries

    def _where(self, view: ViewState, prefix: str = "") -> tuple[str, list]:
        return where(view, self._pairs, self._layer_key, prefix)

    def _rows(self, query: str, params=()) -> list[tuple]:
        with self.db.connection() as conn:
            return conn.execute(query, params).fetchall()

    def _summary(self, view: ViewState) -> pd.DataFrame:
        """Matching events per day, type, sub-type, country-level flag and date precision, before date and type filters."""
        return self._parts(view)[0]

    def _parts(self, view: ViewState) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """(the summary, the same events per month, type, sub-type and region or None), read once per key."""
        if only_day_and_type(view):
            return self._all_events, None
        key = (self._data_version, self._layer_key, without_day_and_type(view))
        with self._lock:
            if key in self._summaries:
                self._summaries.move_to_end(key)
                return self._summaries[key]
        frame = self._copy_frame(*summary_query(view, self._pairs, self._layer_key), PARTS_KINDS)
        by_region = frame["by_region"].to_numpy(dtype=np.int64) == 1
        months = pg_summary.months_frame(frame[by_region & (frame["admin1_code"] != "").to_numpy()])
        parts = (pg_summary.summary_frame(frame[~by_region]), months)
        with self._lock:
            self._summaries[key] = parts
            while len(self._summaries) > SUMMARIES_KEPT:
                self._summaries.popitem(last=False)
        return parts

    def _matching_summary(self, view: ViewState) -> pd.DataFrame:
        self._fresh()
        return pg_summary.matching(self._summary(view), view, self._pairs)

    def count(self, view: ViewState) -> int:
        return pg_summary.total(self._matching_summary(view))

    def counts_by_type(self, view: ViewState) -> dict[str, int]:
        return pg_summary.by_type(self._matching_summary(view), self.bounds.types)

    def counts_by_sub_type(self, view: ViewState) -> dict[tuple[str, str], int]:
        return pg_summary.by_sub_type(self._matching_summary(view), self._pairs)

    def counts_by_day_and_type(self, view: ViewState) -> pd.DataFrame:
        return pg_summary.by_day_and_type(self._matching_summary(view))

    def counts_by_date_precision(self, view: ViewState) -> dict[str, int]:
        return pg_summary.by_date_precision(self._matching_summary(view))

    def country_level_count(self, view: ViewState) -> int:
        return pg_summary.country_level(self._matching_summary(view))

    def counts_by_region(self, view: ViewState) -> pd.DataFrame:
        view = filters_only(view)
        first, end = whole_months(view.date_from, view.date_to)
        if only_day_and_type(view) or only_actors_day_and_type(view):
            rows = self._rows(*region_months_query(view, self._pairs))
        elif first is not None and end is not None and first >= end:  # no whole month: the date index finds the days
            condition, params = self._where(view)
            rows = self._rows(f"SELECT admin1_code, count(*) FROM events WHERE {condition} AND admin1_code <> '' GROUP BY 1", params)
        else:  # whole months from the view's summary, the days at either end from the events
            self._fresh()
            counts = pg_summary.region_totals(self._parts(view)[1], view, self._pairs, first, end)
            edges, edge_params = edge_days(view, first, end)
            if edges:
                others, params = self._where(view.replace(date_from=None, date_to=None))
                days = dict(self._rows(f"SELECT admin1_code, count(*) FROM events WHERE {others} AND admin1_code <> '' "
                                       f"AND ({' OR '.join(edges)}) GROUP BY 1", [*params, *edge_params]))
                counts = counts.add(pd.Series(days, dtype=np.int64), fill_value=0)
            rows = [(code, int(n)) for code, n in sorted(counts.items()) if n > 0]
        table = pd.DataFrame(rows, columns=REGION_COUNT_COLUMNS)
        table["admin1_code"] = table["admin1_code"].astype(str)
        table["count"] = table["count"].astype(np.int64)
        return table.sort_values("admin1_code", ignore_index=True)

    def points(self, view: ViewState, cap: int) -> pd.DataFrame:
        condition, params = self._where(filters_only(view))
        shown = ", ".join(c for c in POINT_COLUMNS if c not in ("day",))
        frame = self._copy_frame(
            f"SELECT to_char(event_date, 'YYYY-MM-DD') AS day, {shown} FROM ("
            f"SELECT seq, event_date, {shown} FROM events WHERE {condition} ORDER BY event_date DESC, seq LIMIT %s) newest ORDER BY seq",
            [*params, int(cap)],
            {"day": "text", **{c: EVENT_COLUMNS[c] for c in POINT_COLUMNS if c != "day"}},
        )
        frame["latitude"] = frame["latitude"].astype(np.float32)
        frame["longitude"] = frame["longitude"].astype(np.float32)
        return frame[POINT_COLUMNS]

    def grid_counts(self, view: ViewState, max_cells: int = 20_000) -> tuple[pd.DataFrame, float]:
        """Events per occupied cell; cells of 0.05° doubled until at most max_cells (memory.py's rule)."""
        view = filters_only(view)
        condition, params = self._where(view)
        located = f"{condition} AND latitude IS NOT NULL AND longitude IS NOT NULL"
        if view == ViewState() and self._extent:
            west, south, east, north = self._extent
        else:
            south, north, west, east = self._rows(
                f"SELECT min(latitude), max(latitude), min(longitude), max(longitude) FROM events WHERE {located}", params
            )[0]
        size = 0.05
        if south is not None:
            area = max((north - south) * (east - west), 1e-9)
            while area / (size * size) > 4 * max_cells:
                size *= 2
        rows = self._rows(
            f"SELECT floor((latitude + 90) / %s)::bigint, floor((longitude + 180) / %s)::bigint, count(*) "
            f"FROM events WHERE {located} GROUP BY 1, 2",
            [size, size, *params],
        ) if south is not None else []
        cells = np.array(rows, dtype=np.int64).reshape(-1, 3)
        while len(cells) > max_cells:  # each coarser cell is exactly two by two of the finer ones
            size *= 2
            merged = pd.DataFrame({"r": cells[:, 0] // 2, "c": cells[:, 1] // 2, "n": cells[:, 2]}).groupby(["r", "c"])["n"].sum()
            cells = np.column_stack([merged.index.get_level_values(0), merged.index.get_level_values(1), merged.to_numpy()])
        table = pd.DataFrame(
            {
                "latitude": ((cells[:, 0] + 0.5) * size - 90).astype(np.float32),
                "longitude": ((cells[:, 1] + 0.5) * size - 180).astype(np.float32),
                "count": cells[:, 2].astype(np.int64),
            },
            columns=GRID_COLUMNS,
        )
        return table, size

    def clusters(self, view: ViewState, cell_deg: float, precisions: tuple[str, ...] | None = None,
                 extent: tuple[float, float, float, float] | None = None) -> pd.DataFrame:
        return pg_marks.clusters(self, view, cell_deg, precisions, extent)

    def coarse_counts(self, view: ViewState) -> pd.DataFrame:
        return pg_marks.coarse_counts(self, view)

    # --------------------------------------------------------------- records

    def _columns(self, columns) -> dict[str, str]:
        known = dict(EVENT_COLUMNS)
        if self._layer_key:
            known["territory_position"] = "text"
        if columns is None:
            return known
        missing = [c for c in columns if c not in known]
        if missing:
            raise KeyError(f"no such event column: {', '.join(missing)}")
        return {c: known[c] for c in columns}

    def _select_list(self, kinds: dict[str, str]) -> str:
        return ", ".join("coalesce(t.position, '') AS territory_position" if c == "territory_position" else f"e.{c}" for c in kinds)

    def _territory_join(self) -> tuple[str, list]:
        if not self._layer_key:
            return "", []
        return " LEFT JOIN territory_positions t ON t.layer_key = %s AND t.seq = e.seq", [self._layer_key]

    def records(self, view: ViewState, limit: int | None = None, columns: list[str] | None = None,
                precisions: tuple[str, ...] | None = None) -> pd.DataFrame:
        """The matching events, newest first (ties in import order)."""
        kinds = self._columns(columns)
        condition, params = self._where(filters_only(view), prefix="e.")
        if precisions is not None:
            condition, params = f"({condition}) AND e.geo_precision = ANY(%s)", [*params, list(precisions)]
        join, join_params = self._territory_join()
        query = f"SELECT {self._select_list(kinds)} FROM events e{join} WHERE {condition} ORDER BY e.event_date DESC, e.seq"
        if limit is not None:
            query += " LIMIT %s"
            params = [*params, max(int(limit), 0)]
        return self._copy_frame(query, [*join_params, *params], kinds)

    def record(self, event_id: str) -> dict | None:
        if not isinstance(event_id, str):
            return None
        kinds = self._columns(None)
        join, join_params = self._territory_join()
        rows = self._rows(f"SELECT {self._select_list(kinds)} FROM events e{join} WHERE e.event_id = %s", [*join_params, event_id])
        if not rows:
            return None
        return {name: _plain(value) for name, value in zip(kinds, rows[0])}

    def _copy_frame(self, query: str, params, kinds: dict[str, str], using=None) -> pd.DataFrame:
        with contextlib.nullcontext(using) if using is not None else self.db.connection() as conn:
            return copy_frame(conn, query, params, kinds)

    # ------------------------------------------------------------- territory

    def attach_territory(self, layer) -> None:
        """Class every event inside or outside the layer on its own day (kept in the database per layer)."""
        with self.db.connection() as conn:
            self._attach(conn, layer)
        self._layer = layer

    def _attach(self, conn, layer) -> None:
        from ..territory import classify_points

        places = self._copy_frame(
            "SELECT seq, event_date, longitude, latitude FROM events ORDER BY seq", [],
            {"seq": "int", "event_date": "date", "longitude": "float", "latitude": "float"},
        )
        days = places["event_date"].to_numpy().astype("datetime64[D]")
        positions = classify_points(layer, days, places["longitude"].to_numpy(float), places["latitude"].to_numpy(float))
        seqs = places["seq"].to_numpy(dtype=np.int64)
        digest = hashlib.sha256(self._data_version.encode() + seqs.tobytes() + "\n".join(positions.tolist()).encode())
        key = digest.hexdigest()[:24]
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))
            if not conn.execute("SELECT 1 FROM territory_layers WHERE layer_key = %s", (key,)).fetchone():
                conn.execute(
                    "DELETE FROM territory_positions WHERE layer_key IN (SELECT layer_key FROM territory_layers WHERE data_version <> %s)",
                    (self._data_version,),
                )
                conn.execute("DELETE FROM territory_layers WHERE data_version <> %s", (self._data_version,))
                with conn.cursor().copy("COPY territory_positions (layer_key, seq, position) FROM STDIN") as copy:
                    for seq, position in zip(seqs.tolist(), positions.tolist()):
                        copy.write_row((key, seq, position))
                conn.execute("INSERT INTO territory_layers (layer_key, data_version) VALUES (%s, %s)", (key, self._data_version))
        self._layer_key = key
        with self._lock:
            self._summaries.clear()


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return value


def _report(row):
    """An `imports` row as the FileReport the page's notices read."""
    from ..ingest.prepare import FileReport

    source, fmt, read, loaded, rejected = row
    return FileReport(source, fmt, int(read), int(loaded), int(rejected), pd.DataFrame(columns=["row", "column", "reason", "value"]))
