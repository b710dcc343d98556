"""A store built from the contract alone: plain pandas, every question filters the whole frame.

Slow and obviously right.  The contract suite runs against it beside the
real stores (so the suite checks the contract, not one implementation), and
it renders every figure and export: nothing above the store may reach past
the contract.  It imports only the contract, the view and the schema.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dashboard.schema import GEO_PRECISIONS, TYPE_COLOURS
from dashboard.store.contract import (
    CLUSTER_COLUMNS, COARSE_COUNT_COLUMNS, COARSE_PRECISIONS, DAY_TYPE_COLUMNS, GRID_COLUMNS, POINT_COLUMNS, REGION_COUNT_COLUMNS,
    extent_cells,
)
from dashboard.view import DataBounds, ViewState


class FakeStore:
    def __init__(self, events: pd.DataFrame):
        self.frame = events.reset_index(drop=True).copy()
        self.frame["event_date"] = pd.to_datetime(self.frame["event_date"]).dt.normalize()
        self.total = len(self.frame)
        types = sorted(self.frame["event_type"].astype(str).unique())
        subs = sorted(set(self.frame["sub_event_type"].astype(str)) - {""})
        days = self.frame["event_date"]
        self.bounds = DataBounds(
            first_day=days.min().date() if self.total else dt.date(2025, 1, 1),
            last_day=days.max().date() if self.total else dt.date(2025, 1, 1),
            types=tuple(types),
            sub_types=tuple(subs),
            countries=tuple(sorted(set(self.frame["country_code"]) - {""})),
            regions=tuple(sorted(set(self.frame["admin1_code"]) - {""})),
            actors=frozenset(self.frame["actor1"]) | frozenset(self.frame["actor2"]),
        )
        self.custom_types = [t for t in types if t not in TYPE_COLOURS]
        self.region_names = dict(zip(self.frame["admin1_code"], self.frame["admin1_name"]))
        self.precisions = [p for p in GEO_PRECISIONS if p in set(self.frame["geo_precision"])]
        self.version = f"fake-{self.total}"
        self.layer = None

    def _match(self, view: ViewState) -> pd.DataFrame:
        f = self.frame
        keep = pd.Series(True, index=f.index)
        if view.date_from:
            keep &= f["event_date"] >= pd.Timestamp(view.date_from)
        if view.date_to:
            keep &= f["event_date"] <= pd.Timestamp(view.date_to)
        if view.types is not None:
            keep &= f["event_type"].isin(view.types)
        if view.sub_types is not None:
            covered = set(f.loc[f["sub_event_type"].isin(view.sub_types), "event_type"])
            keep &= f["sub_event_type"].isin(view.sub_types) | ~f["event_type"].isin(covered)
        if view.countries:
            keep &= f["country_code"].isin(view.countries)
        if view.regions:
            keep &= f["admin1_code"].isin(view.regions)
        if view.actors:
            keep &= f["actor1"].isin(view.actors) | f["actor2"].isin(view.actors)
        if view.text.strip():
            needle = view.text.strip().lower()
            text = (f["place"] + " \x1f " + f["summary"] + " \x1f " + f["actor1"] + " \x1f " + f["actor2"]).str.lower()
            keep &= text.str.contains(needle, regex=False)
        if view.territory_position and "territory_position" in f:
            keep &= f["territory_position"] == view.territory_position
        return f[keep]

    def extent(self):
        if not self.total:
            return None
        f = self.frame
        return float(f["longitude"].min()), float(f["latitude"].min()), float(f["longitude"].max()), float(f["latitude"].max())

    def count(self, view):
        return len(self._match(view))

    def counts_by_day_and_type(self, view):
        rows = self._match(view)
        table = rows.groupby([rows["event_date"].rename("day"), "event_type"]).size().reset_index(name="count")
        table["day"] = table["day"].astype("datetime64[s]")
        return table[DAY_TYPE_COLUMNS]

    def counts_by_region(self, view):
        rows = self._match(view)
        rows = rows[rows["admin1_code"] != ""]
        return rows.groupby("admin1_code").size().reset_index(name="count")[REGION_COUNT_COLUMNS]

    def counts_by_type(self, view):
        counts = self._match(view)["event_type"].value_counts()
        return {t: int(counts.get(t, 0)) for t in self.bounds.types}

    def counts_by_sub_type(self, view):
        rows = self._match(view)
        pairs = self.frame[["event_type", "sub_event_type"]].drop_duplicates()
        counts = rows.groupby(["event_type", "sub_event_type"]).size()
        return {(t, s): int(counts.get((t, s), 0)) for t, s in pairs.itertuples(index=False)}

    def counts_by_date_precision(self, view):
        counts = self._match(view)["date_precision"].value_counts()
        return {p: int(counts.get(p, 0)) for p in ("day", "week", "month", "year")}

    def country_level_count(self, view):
        return int((self._match(view)["geo_precision"] == "country").sum())

    def points(self, view, cap):
        rows = self._match(view).sort_values("event_date", kind="stable").tail(cap)
        out = rows.assign(day=rows["event_date"].dt.strftime("%Y-%m-%d"))
        return out[POINT_COLUMNS].reset_index(drop=True)

    def grid_counts(self, view, max_cells):
        rows = self._match(view)
        size = 0.05
        while True:
            cells = rows.groupby([np.floor((rows["latitude"] + 90) / size), np.floor((rows["longitude"] + 180) / size)]).size()
            if len(cells) <= max_cells:
                break
            size *= 2
        table = pd.DataFrame(
            {
                "latitude": [(r + 0.5) * size - 90 for r, _ in cells.index],
                "longitude": [(c + 0.5) * size - 180 for _, c in cells.index],
                "count": cells.to_numpy(),
            }
        )
        return table[GRID_COLUMNS], size

    def clusters(self, view, cell_deg, precisions=None, extent=None):
        rows = self._match(view).copy()
        if precisions is not None:
            rows = rows[rows["geo_precision"].isin(list(precisions))]
        if extent is not None:
            first_row, last_row, first_col, last_col = extent_cells(extent, cell_deg)
            rows = rows[np.floor((rows["latitude"] + 90) / cell_deg).between(first_row, last_row)
                        & np.floor((rows["longitude"] + 180) / cell_deg).between(first_col, last_col)]
        if rows.empty:
            return pd.DataFrame(columns=CLUSTER_COLUMNS)
        rows["cell"] = (
            np.floor((rows["latitude"] + 90) / cell_deg).astype(int).astype(str) + ":"
            + np.floor((rows["longitude"] + 180) / cell_deg).astype(int).astype(str)
        )
        centres = rows.groupby("cell")[["latitude", "longitude"]].mean()
        counts = rows.groupby(["cell", "event_type"]).size().rename("count").reset_index()
        return counts.join(centres, on="cell")[CLUSTER_COLUMNS]

    def coarse_counts(self, view):
        rows = self._match(view)
        rows = rows[rows["geo_precision"].isin(list(COARSE_PRECISIONS))]
        keys = ["geo_precision", "admin1_code", "event_type"]
        table = rows.groupby(keys).agg(count=("event_id", "size"), latitude=("latitude", "mean"), longitude=("longitude", "mean"))
        return table.reset_index()[COARSE_COUNT_COLUMNS]

    def records(self, view, limit=None, columns=None, precisions=None):
        rows = self._match(view).sort_values("event_date", ascending=False, kind="stable")
        if precisions is not None:
            rows = rows[rows["geo_precision"].isin(list(precisions))]
        if limit is not None:
            rows = rows.head(limit)
        return rows if columns is None else rows[columns]

    def record(self, event_id):
        rows = self.frame[self.frame["event_id"] == event_id]
        if len(rows) != 1:
            return None
        out = {}
        for key, value in rows.iloc[0].items():
            if isinstance(value, pd.Timestamp):
                value = value.date().isoformat()
            elif value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                value = ""
            elif isinstance(value, np.generic):
                value = value.item()
            out[key] = value
        return out

    def attach_territory(self, layer) -> None:
        from dashboard.territory import classify_points

        days = self.frame["event_date"].to_numpy().astype("datetime64[D]")
        self.frame["territory_position"] = classify_points(
            layer, days, self.frame["longitude"].to_numpy(float), self.frame["latitude"].to_numpy(float)
        )
        self.layer = layer
