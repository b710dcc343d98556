"""The store contract: everything render, web, export and the CLI ask of the events.

It is the only door to the data.  Every question takes a `ViewState` (the
filters) and answers with plain values -- numbers, dicts, lists and pandas
frames with the columns named here -- never positions into one
implementation's arrays, so another backend (PostGIS, say) answers the same
questions with SQL and nothing above the store changes.

`tests/test_store_contract.py` runs one suite against every implementation,
including a fake built from this file alone.
"""
from __future__ import annotations

import math

from typing import Protocol, runtime_checkable

import pandas as pd

from ..view import DataBounds, ViewState

# Columns of `points()`: one row per event drawn on the map.
POINT_COLUMNS = [
    "event_id",
    "day",  # ISO date text
    "event_type",
    "sub_event_type",
    "place",
    "admin1_name",
    "country_code",
    "summary",
    "geo_precision",
    "latitude",
    "longitude",
]
# Columns of `counts_by_day_and_type()`: only non-zero cells.
DAY_TYPE_COLUMNS = ["day", "event_type", "count"]
# Columns of `counts_by_region()`: only regions with events, no empty code.
REGION_COUNT_COLUMNS = ["admin1_code", "count"]
# Columns of the first frame of `grid_counts()`: cell centres.
GRID_COLUMNS = ["latitude", "longitude", "count"]
# Columns of `clusters()`: one row per (cell, event type); latitude and
# longitude are the mean position of all the cell's events (every type), so
# the rows of one cell share them.
CLUSTER_COLUMNS = ["cell", "latitude", "longitude", "event_type", "count"]
# Events placed only to a region or a country: counted, not listed (a third of a
# million events in a realistic file; the map draws them as region circles and a note).
COARSE_PRECISIONS = ("region", "country")
COARSE_COUNT_COLUMNS = ["geo_precision", "admin1_code", "event_type", "count", "latitude", "longitude"]


class StoreUnavailable(RuntimeError):
    """The store's backend is not answering (a team database that is down or
    unreachable).  The message is one sentence for the page or the terminal;
    the in-memory store never raises it.  Callers keep what they showed and
    ask again later."""


@runtime_checkable
class EventStore(Protocol):
    """What a store answers.  Attributes are fixed once the store is built.

    bounds        the data's dates and the values each filter can take
    total         number of events in the store
    custom_types  event types outside ACLED's taxonomy, in colour order
    region_names  admin-1 code -> name, for every region with events
    precisions    the geo precisions present, finest first (schema.GEO_PRECISIONS order)
    version       changes whenever the data changes; caches key on it
    """

    bounds: DataBounds
    total: int
    custom_types: list[str]
    region_names: dict[str, str]
    precisions: list[str]
    version: str

    def extent(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) of every event, or None for an empty store."""

    def count(self, view: ViewState) -> int:
        """Events matching the view."""

    def counts_by_day_and_type(self, view: ViewState) -> pd.DataFrame:
        """DAY_TYPE_COLUMNS: day (datetime64), event_type, count."""

    def counts_by_region(self, view: ViewState) -> pd.DataFrame:
        """REGION_COUNT_COLUMNS, regions with at least one matching event."""

    def counts_by_type(self, view: ViewState) -> dict[str, int]:
        """Every type in bounds.types -> matching events (0 included)."""

    def counts_by_sub_type(self, view: ViewState) -> dict[tuple[str, str], int]:
        """(type, sub-type) -> matching events, for every pair in the data."""

    def counts_by_date_precision(self, view: ViewState) -> dict[str, int]:
        """schema.DATE_PRECISIONS ("day", "week", "month", "year") -> matching events (0 included)."""

    def country_level_count(self, view: ViewState) -> int:
        """Matching events whose place is known only to the country."""

    def points(self, view: ViewState, cap: int) -> pd.DataFrame:
        """POINT_COLUMNS for at most `cap` matching events, the most recent kept."""

    def grid_counts(self, view: ViewState, max_cells: int) -> tuple[pd.DataFrame, float]:
        """GRID_COLUMNS per occupied cell, and the cell size in degrees (at most max_cells cells)."""

    def clusters(self, view: ViewState, cell_deg: float, precisions: tuple[str, ...] | None = None,
                 extent: tuple[float, float, float, float] | None = None) -> pd.DataFrame:
        """CLUSTER_COLUMNS: matching events grouped on a grid of `cell_deg` degrees, counted per type.

        `cell` is a stable text key of the grid cell (e.g. "12:345"); map
        clustering at a zoom picks the cell size and draws one mark per cell.
        `precisions`: only events of these geo precisions (the marks leave out
        events placed only to a region or country); `extent`: only the cells
        that meet (west, south, east, north), whole (extent_cells: a zoomed-in
        map asks for the cells around what it shows, not for every event on Earth)."""

    def coarse_counts(self, view: ViewState) -> pd.DataFrame:
        """COARSE_COUNT_COLUMNS: matching events of a COARSE_PRECISIONS geo precision, counted per
        precision, region code and type, with their mean position (a region without an outline is drawn there)."""

    def records(self, view: ViewState, limit: int | None = None, columns: list[str] | None = None,
                precisions: tuple[str, ...] | None = None) -> pd.DataFrame:
        """The matching events, newest first; `limit` the first N, `columns` only these;
        `precisions` only events of these geo precisions (the map's region and country
        marks need a few per cent of a million events, not all of them)."""

    def record(self, event_id: str) -> dict | None:
        """One event's every field as plain Python values, or None."""

    def attach_territory(self, layer) -> None:
        """Class every event inside or outside a control layer on its own day.

        Adds the `territory_position` column and makes the view's
        territory_position filter work."""


def extent_cells(extent: tuple[float, float, float, float], cell_deg: float) -> tuple[int, int, int, int]:
    """(first row, last row, first column, last column) of the grid cells that meet the extent.

    A cell is row floor((latitude + 90) / cell_deg), column floor((longitude + 180) / cell_deg);
    whole cells, so a store may answer from sums per cell."""
    west, south, east, north = extent
    size = float(cell_deg)
    return (math.floor((south + 90) / size), math.floor((north + 90) / size),
            math.floor((west + 180) / size), math.floor((east + 180) / size))
