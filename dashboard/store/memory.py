"""The embedded event store: every event in memory, answering the store contract.

The default for one person on one machine (contract.py says what a store
answers).  Built once at start; afterwards only `attach_territory` and the
small caches of recent answers change it, and both give every worker the
same answers.

Filtering a million events by view must take milliseconds, so the columns a
filter touches are turned once into integer codes (days since 1970, category
codes), and each filter is a lookup table indexed by those codes.
"""
from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import DATE_PRECISIONS, GEO_PRECISIONS, TYPE_COLOURS
from .contract import COARSE_COUNT_COLUMNS, COARSE_PRECISIONS, POINT_COLUMNS, extent_cells
from ..view import DataBounds, ViewState

EPOCH = np.datetime64("1970-01-01", "D")


class _Codes:
    """A text column as integer codes plus its sorted categories."""

    def __init__(self, values: pd.Series):
        codes, categories = pd.factorize(values.astype(str), sort=True)
        self.codes = codes.astype(np.int32)
        self.categories = [str(c) for c in categories]
        self.position = {c: i for i, c in enumerate(self.categories)}

    def allowed(self, wanted) -> np.ndarray:
        table = np.zeros(len(self.categories) + 1, dtype=bool)  # +1: code -1 never allowed
        for value in wanted:
            if value in self.position:
                table[self.position[value]] = True
        return table[self.codes]


class InMemoryEventStore:
    def __init__(self, events: pd.DataFrame, custom_types: list[str] | None = None, version: str | None = None):
        self.frame = _one_chunk_per_column(events)
        self.total = len(self.frame)
        days = self.frame["event_date"].to_numpy().astype("datetime64[D]")
        self.day = (days - EPOCH).astype(np.int32)
        self.type = _Codes(self.frame["event_type"])
        self.sub_type = _Codes(self.frame["event_type"] + "\x1f" + self.frame["sub_event_type"])
        self.country = _Codes(self.frame["country_code"])
        self.region = _Codes(self.frame["admin1_code"])
        self.actor1 = _Codes(self.frame["actor1"])
        self.actor2 = _Codes(self.frame["actor2"])
        self.precision = _Codes(self.frame["geo_precision"])
        self.latitude = self.frame["latitude"].to_numpy(dtype=np.float32)
        self.longitude = self.frame["longitude"].to_numpy(dtype=np.float32)
        self.custom_types = list(custom_types or sorted(set(self.type.categories) - set(TYPE_COLOURS)))
        self.territory_position = None  # set by the app when a control layer is loaded
        self.bounds = self._bounds()
        names = self.frame.drop_duplicates("admin1_code")
        self.region_names = dict(zip(names["admin1_code"], names["admin1_name"]))
        self._text_masks: dict[str, np.ndarray] = {}  # search text -> rows matching it
        self._rows: OrderedDict[ViewState, np.ndarray] = OrderedDict()  # recent views -> matching rows
        self.precisions = [p for p in GEO_PRECISIONS if p in self.precision.position]
        self._version = version

    # Built on first use, so a start from the cache stays cheap (the search
    # text alone is ~0.5 GB and 1 CPU-s per million events).
    @cached_property
    def version(self) -> str:
        return self._version or _data_version(self.frame)

    @cached_property
    def search_text(self) -> pa.Array:
        """Place, summary and actors of each event, lower-cased: free text searches this."""
        parts = [pc.utf8_lower(_one_chunk(self.frame[c]).cast(pa.large_string())) for c in ("place", "summary", "actor1", "actor2")]
        return pc.binary_join_element_wise(*parts, pa.scalar(" \x1f ", pa.large_string()))

    @cached_property
    def id_position(self) -> pd.Index:
        return pd.Index(self.frame["event_id"])

    def _bounds(self) -> DataBounds:
        first = EPOCH + int(self.day.min()) if self.total else np.datetime64("2025-01-01")
        last = EPOCH + int(self.day.max()) if self.total else first
        return DataBounds(
            first_day=_to_date(first),
            last_day=_to_date(last),
            types=tuple(self.type.categories),
            sub_types=tuple(sorted({s.split("\x1f")[1] for s in self.sub_type.categories} - {""})),
            countries=tuple(c for c in self.country.categories if c),
            regions=tuple(c for c in self.region.categories if c),
            actors=frozenset(self.actor1.categories) | frozenset(self.actor2.categories),
        )

    def attach_territory(self, layer) -> None:
        """Class every event inside or outside a control layer on its own day.

        Becomes a filter (ViewState.territory_position) and a column of the
        records ("inside", "outside", or "no layer" before its first snapshot).
        """
        from ..territory import classify_points

        days = self.frame["event_date"].to_numpy().astype("datetime64[D]")
        lons, lats = self.frame["longitude"].to_numpy(dtype=float), self.frame["latitude"].to_numpy(dtype=float)
        self.territory_position = classify_points(layer, days, lons, lats)
        self.frame["territory_position"] = self.territory_position
        self._rows.clear()

    # ---------------------------------------------------------------- query

    def rows(self, view: ViewState) -> np.ndarray:
        """Positions of the events matching the view, in store order.

        Internal to this store (the contract answers with values, not
        positions).  A render asks several questions of one view, so the
        last few answers are kept."""
        if view in self._rows:
            self._rows.move_to_end(view)
            return self._rows[view]
        mask = np.ones(self.total, dtype=bool)
        if view.date_from:
            mask &= self.day >= _day_number(view.date_from)
        if view.date_to:
            mask &= self.day <= _day_number(view.date_to)
        if view.types is not None:
            mask &= self.type.allowed(view.types)
        if view.sub_types is not None:
            wanted = [c for c in self.sub_type.categories if c.split("\x1f")[1] in view.sub_types]
            # Ticked types with no sub-type ticked keep all their sub-types.
            covered = {c.split("\x1f")[0] for c in wanted}
            wanted += [c for c in self.sub_type.categories if c.split("\x1f")[0] not in covered]
            mask &= self.sub_type.allowed(wanted)
        if view.countries:
            mask &= self.country.allowed(view.countries)
        if view.regions:
            mask &= self.region.allowed(view.regions)
        if view.actors:
            mask &= self.actor1.allowed(view.actors) | self.actor2.allowed(view.actors)
        if view.territory_position and self.territory_position is not None:
            mask &= self.territory_position == view.territory_position
        if view.text.strip():
            mask &= self.text_mask(view.text)
        rows = np.flatnonzero(mask)
        self._rows[view] = rows
        if len(self._rows) > 16:
            self._rows.popitem(last=False)
        return rows

    def count(self, view: ViewState) -> int:
        return len(self.rows(_filters_only(view)))

    def text_mask(self, text: str) -> np.ndarray:
        """Rows whose place, summary or actors contain `text` (case-insensitive).

        One pass over every row's text costs ~0.3 s per million events; a
        view is queried several times per render and the same text stays
        while other filters change, so the last few answers are kept.
        """
        needle = text.strip().lower()
        if needle not in self._text_masks:
            if len(self._text_masks) >= 8:
                self._text_masks.pop(next(iter(self._text_masks)))
            hits = pc.match_substring(self.search_text, needle)
            self._text_masks[needle] = hits.to_numpy(zero_copy_only=False)
        return self._text_masks[needle]

    def extent(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) of every event (for fitting the map)."""
        if not self.total:
            return None
        lon, lat = self.longitude, self.latitude
        return float(np.nanmin(lon)), float(np.nanmin(lat)), float(np.nanmax(lon)), float(np.nanmax(lat))

    # ----------------------------------------------------------- aggregates

    def counts_by_day_and_type(self, view: ViewState) -> pd.DataFrame:
        """Long table day, event_type, count (only non-zero cells)."""
        rows = self.rows(_filters_only(view))
        if not len(rows):
            return pd.DataFrame({"day": pd.Series([], dtype="datetime64[s]"), "event_type": [], "count": []})
        first = int(self.day.min())
        n_types = len(self.type.categories)
        key = (self.day[rows] - first).astype(np.int64) * n_types + self.type.codes[rows]
        counts = np.bincount(key)
        cells = np.flatnonzero(counts)
        return pd.DataFrame(
            {
                "day": (EPOCH + first + cells // n_types).astype("datetime64[s]"),
                "event_type": np.asarray(self.type.categories, dtype=object)[cells % n_types],
                "count": counts[cells],
            }
        )

    def counts_by_region(self, view: ViewState) -> pd.DataFrame:
        rows = self.rows(_filters_only(view))
        counts = np.bincount(self.region.codes[rows], minlength=len(self.region.categories))
        table = pd.DataFrame({"admin1_code": self.region.categories, "count": counts})
        return table[(table["admin1_code"] != "") & (table["count"] > 0)].reset_index(drop=True)

    def counts_by_type(self, view: ViewState) -> dict[str, int]:
        rows = self.rows(_filters_only(view))
        counts = np.bincount(self.type.codes[rows], minlength=len(self.type.categories))
        return {t: int(c) for t, c in zip(self.type.categories, counts)}

    def counts_by_sub_type(self, view: ViewState) -> dict[tuple[str, str], int]:
        rows = self.rows(_filters_only(view))
        counts = np.bincount(self.sub_type.codes[rows], minlength=len(self.sub_type.categories))
        return {tuple(c.split("\x1f")): int(n) for c, n in zip(self.sub_type.categories, counts)}

    def counts_by_date_precision(self, view: ViewState) -> dict[str, int]:
        rows = self.rows(_filters_only(view))
        counts = np.bincount(self.date_precision.codes[rows], minlength=len(self.date_precision.categories))
        found = dict(zip(self.date_precision.categories, counts))
        return {p: int(found.get(p, 0)) for p in DATE_PRECISIONS}

    @cached_property
    def date_precision(self) -> _Codes:
        return _Codes(self.frame["date_precision"])

    def country_level_count(self, view: ViewState) -> int:
        rows = self.rows(_filters_only(view))
        code = self.precision.position.get("country")
        return 0 if code is None else int((self.precision.codes[rows] == code).sum())

    def points(self, view: ViewState, cap: int) -> pd.DataFrame:
        """At most `cap` events for the map, the most recent kept; coordinates float32."""
        rows = self.rows(_filters_only(view))
        if len(rows) > cap:
            newest = np.argpartition(self.day[rows], len(rows) - cap)[len(rows) - cap :]
            rows = np.sort(rows[newest])
        # Only the shown rows are taken from the (single-chunk) text columns.
        columns = ["event_id", "event_type", "sub_event_type", "place", "admin1_name", "country_code", "summary", "geo_precision"]
        points = pd.DataFrame({c: self.frame[c].take(rows).to_numpy() for c in columns})
        points["day"] = (EPOCH + self.day[rows]).astype(str)
        points["latitude"] = self.latitude[rows]
        points["longitude"] = self.longitude[rows]
        return points[POINT_COLUMNS]

    def grid_counts(self, view: ViewState, max_cells: int = 20_000) -> tuple[pd.DataFrame, float]:
        """Events counted per grid cell (cell centres); cells of 0.05° doubled until at most max_cells are occupied."""
        rows = self.rows(_filters_only(view))
        lat, lon = self.latitude[rows], self.longitude[rows]
        size = 0.05
        if len(lat):
            # Start near the size the data's extent needs, to skip passes over all rows.
            area = max(float(np.ptp(lat)) * float(np.ptp(lon)), 1e-9)
            while area / (size * size) > 4 * max_cells:
                size *= 2
        while True:
            rows_ = ((lat + 90) / size).astype(np.int64)
            cols = ((lon + 180) / size).astype(np.int64)
            width = int(np.ceil(360 / size)) + 1
            counts = np.bincount(rows_ * width + cols) if len(rows_) else np.zeros(0, dtype=np.int64)
            cells = np.flatnonzero(counts)
            if len(cells) <= max_cells:
                break
            size *= 2
        table = pd.DataFrame(
            {
                "latitude": ((cells // width + 0.5) * size - 90).astype(np.float32),
                "longitude": ((cells % width + 0.5) * size - 180).astype(np.float32),
                "count": counts[cells],
            }
        )
        return table, size

    def clusters(self, view: ViewState, cell_deg: float, precisions: tuple[str, ...] | None = None,
                 extent: tuple[float, float, float, float] | None = None) -> pd.DataFrame:
        """Events per grid cell and type, with each cell's mean position."""
        rows = self._of_precisions(self.rows(_filters_only(view)), precisions)
        size = float(cell_deg)
        lat, lon = self.latitude[rows].astype(np.float64), self.longitude[rows].astype(np.float64)
        cell_row = np.floor((lat + 90) / size).astype(np.int64)
        cell_col = np.floor((lon + 180) / size).astype(np.int64)
        if extent is not None:
            first_row, last_row, first_col, last_col = extent_cells(extent, size)
            near = (cell_row >= first_row) & (cell_row <= last_row) & (cell_col >= first_col) & (cell_col <= last_col)
            rows, lat, lon, cell_row, cell_col = rows[near], lat[near], lon[near], cell_row[near], cell_col[near]
        width = int(np.ceil(360 / size)) + 1
        cell = cell_row * width + cell_col
        # A hash of the cells, then only the few distinct ones sorted: np.unique
        # sorted every event's cell (~40 ms per million).
        inverse, cells = pd.factorize(cell, sort=True)
        sums = np.bincount(inverse, minlength=len(cells))
        mean_lat = np.bincount(inverse, weights=lat, minlength=len(cells)) / np.maximum(sums, 1)
        mean_lon = np.bincount(inverse, weights=lon, minlength=len(cells)) / np.maximum(sums, 1)
        n_types = len(self.type.categories)
        pair = inverse.astype(np.int64) * n_types + self.type.codes[rows]
        counts = np.bincount(pair, minlength=len(cells) * n_types)
        occupied = np.flatnonzero(counts)
        which = occupied // n_types
        return pd.DataFrame(
            {
                "cell": [f"{r}:{c}" for r, c in zip(cells[which] // width, cells[which] % width)],
                "latitude": mean_lat[which],
                "longitude": mean_lon[which],
                "event_type": np.asarray(self.type.categories, dtype=object)[occupied % n_types],
                "count": counts[occupied],
            }
        )

    def coarse_counts(self, view: ViewState) -> pd.DataFrame:
        """Region- and country-level events per precision, region and type, with their mean position."""
        rows = self._of_precisions(self.rows(_filters_only(view)), COARSE_PRECISIONS)
        shape = (len(self.precision.categories), len(self.region.categories), len(self.type.categories))
        # One bin per (precision, region, type): a few hundred thousand bins at most, counted in one pass.
        key = np.ravel_multi_index((self.precision.codes[rows], self.region.codes[rows], self.type.codes[rows]), shape)
        size = int(np.prod(shape))
        counts = np.bincount(key, minlength=size)
        occupied = np.flatnonzero(counts)
        n = counts[occupied]
        lat = np.bincount(key, weights=self.latitude[rows].astype(np.float64), minlength=size)[occupied] / n
        lon = np.bincount(key, weights=self.longitude[rows].astype(np.float64), minlength=size)[occupied] / n
        precision, region, kind = np.unravel_index(occupied, shape)
        return pd.DataFrame(
            {
                "geo_precision": np.asarray(self.precision.categories, dtype=object)[precision],
                "admin1_code": np.asarray(self.region.categories, dtype=object)[region],
                "event_type": np.asarray(self.type.categories, dtype=object)[kind],
                "count": n.astype(np.int64),
                "latitude": lat,
                "longitude": lon,
            },
            columns=COARSE_COUNT_COLUMNS,
        )

    def _of_precisions(self, rows: np.ndarray, precisions: tuple[str, ...] | None) -> np.ndarray:
        if precisions is None:
            return rows
        allowed = np.zeros(len(self.precision.categories), dtype=bool)  # a lookup table, not np.isin's sort
        allowed[[self.precision.position[p] for p in precisions if p in self.precision.position]] = True
        return rows[allowed[self.precision.codes[rows]]]

    # --------------------------------------------------------------- records

    def records(self, view: ViewState, limit: int | None = None, columns: list[str] | None = None,
                precisions: tuple[str, ...] | None = None) -> pd.DataFrame:
        """The matching events, newest first (ties in store order); limit: the first N; columns: only these."""
        rows = self._of_precisions(self.rows(_filters_only(view)), precisions)
        key = -self.day[rows].astype(np.int64) * (self.total + 1) + np.arange(len(rows))
        if limit is not None and limit < len(rows):
            chosen = np.argpartition(key, limit)[:limit]  # sort only the N shown
            order = rows[chosen[np.argsort(key[chosen])]]
        else:
            order = rows[np.argsort(key)]
        return (self.frame if columns is None else self.frame[columns]).iloc[order]

    def record(self, event_id: str) -> dict | None:
        if event_id not in self.id_position:
            return None
        position = self.id_position.get_loc(event_id)
        if not isinstance(position, (int, np.integer)):
            return None
        row = self.frame.iloc[int(position)]
        return {k: _plain(v) for k, v in row.items()}



def _one_chunk_per_column(frame: pd.DataFrame) -> pd.DataFrame:
    """The events with each text column as one Arrow chunk (the frame is taken over, not copied).

    A Parquet or CSV read leaves each column in several chunks, and taking a
    few thousand rows from a chunked column is ~100x slower than from one
    chunk (10 ms against 0.1 ms per column at a million rows).
    """
    frame = frame.reset_index(drop=True)
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.StringDtype):
            values = pa.array(frame[column])
            if isinstance(values, pa.ChunkedArray) and values.num_chunks > 1:
                single = pa.chunked_array([values.combine_chunks()])
                frame[column] = pd.Series(pd.array(single, dtype=frame[column].dtype), index=frame.index)
    return frame


def _one_chunk(values: pd.Series) -> pa.Array:
    array = pa.array(values)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _filters_only(view: ViewState) -> ViewState:
    """The view without what does not filter (map position, theme...), so the
    row cache is shared by views that differ only there."""
    return ViewState(
        date_from=view.date_from, date_to=view.date_to, types=view.types, sub_types=view.sub_types,
        countries=view.countries, regions=view.regions, actors=view.actors, text=view.text.strip().lower(),
        territory_position=view.territory_position,
    )


def _data_version(frame: pd.DataFrame) -> str:
    """A digest of the events' ids, dates and places: equal data, equal version."""
    if frame.empty:
        return "empty"
    columns = [c for c in ("event_id", "event_date", "event_type", "latitude", "longitude") if c in frame]
    hashed = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
    return f"{len(frame)}-{int(np.bitwise_xor.reduce(hashed * np.arange(1, len(hashed) + 1, dtype=np.uint64))):016x}"


def _day_number(day: dt.date) -> int:
    return int((np.datetime64(day, "D") - EPOCH).astype(int))


def _to_date(value: np.datetime64) -> dt.date:
    return pd.Timestamp(value).date()


def _plain(value):
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, np.generic):
        return value.item()
    return value
