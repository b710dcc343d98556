"""Counts per day, type, sub-type, country-level flag and date precision: six of the contract's answers from one query.

The database aggregates the matching events (millions of rows) into this
summary (at most days x sub-types x 2 rows, tens of thousands); the counts
the page asks for -- total, per type, per sub-type, per day and type,
country-level, per date precision -- are sums over it, and the dates, types and sub-types of a
view are filters on it.  So one SQL query per set of the *other* filters
(countries, regions, actors, text, territory) serves the four views one
render asks about (the timeline's without dates, the type legend's without
types...) and every step of playback.  With no other filter the summary is
the `event_counts` table the import keeps, read without touching `events`;
with only actors, it is summed from the actor count tables (sql.summary_query).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..schema import DATE_PRECISIONS
from ..view import ViewState
from .contract import DAY_TYPE_COLUMNS
from .sql import covered_types

SUMMARY_COLUMNS = ["event_date", "event_type", "sub_event_type", "country_level", "date_precision", "n"]


def summary_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """SUMMARY_COLUMNS with their types, from the query's frame (country_level as 0/1)."""
    frame = frame[SUMMARY_COLUMNS].copy()
    frame["event_date"] = frame["event_date"].astype("datetime64[s]")
    frame["country_level"] = frame["country_level"].astype(bool)
    frame["n"] = frame["n"].astype(np.int64)
    return frame


def matching(summary: pd.DataFrame, view: ViewState, pairs) -> pd.DataFrame:
    """The summary rows of the view's dates, types and sub-types (sql.where's rules)."""
    keep = np.ones(len(summary), dtype=bool)
    if view.date_from:
        keep &= (summary["event_date"] >= pd.Timestamp(view.date_from)).to_numpy()
    if view.date_to:
        keep &= (summary["event_date"] <= pd.Timestamp(view.date_to)).to_numpy()
    if view.types is not None:
        keep &= summary["event_type"].isin(list(view.types)).to_numpy()
    if view.sub_types is not None:
        covered = covered_types(view.sub_types, pairs)
        if covered:
            keep &= (summary["sub_event_type"].isin(list(view.sub_types)) | ~summary["event_type"].isin(covered)).to_numpy()
    return summary[keep]


def total(rows: pd.DataFrame) -> int:
    return int(rows["n"].sum())


def by_type(rows: pd.DataFrame, types) -> dict[str, int]:
    counts = rows.groupby("event_type")["n"].sum()
    return {t: int(counts.get(t, 0)) for t in types}


def by_sub_type(rows: pd.DataFrame, pairs) -> dict[tuple[str, str], int]:
    counts = rows.groupby(["event_type", "sub_event_type"])["n"].sum()
    return {(t, s): int(counts.get((t, s), 0)) for t, s in pairs}


def by_day_and_type(rows: pd.DataFrame) -> pd.DataFrame:
    table = rows.groupby(["event_date", "event_type"], sort=True)["n"].sum().reset_index()
    table = table[table["n"] > 0]
    return pd.DataFrame(
        {
            "day": table["event_date"].to_numpy().astype("datetime64[s]"),
            "event_type": table["event_type"].astype(str).to_numpy(dtype=object),
            "count": table["n"].to_numpy(dtype=np.int64),
        },
        columns=DAY_TYPE_COLUMNS,
    )


def country_level(rows: pd.DataFrame) -> int:
    return int(rows.loc[rows["country_level"], "n"].sum())


def by_date_precision(rows: pd.DataFrame) -> dict[str, int]:
    counts = rows.groupby("date_precision")["n"].sum()
    return {p: int(counts.get(p, 0)) for p in DATE_PRECISIONS}


def months_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The summary query's per-month rows of regions (event_date: the month's first day)."""
    frame = frame[["event_date", "event_type", "sub_event_type", "admin1_code", "n"]].copy()
    frame["event_date"] = frame["event_date"].astype("datetime64[s]")
    frame["n"] = frame["n"].astype(np.int64)
    return frame


def region_totals(months: pd.DataFrame, view: ViewState, pairs, first, end) -> pd.Series:
    """Events per region in the whole months [first, end) of a view's range (None: open), from
    the summary's per-month rows (event_date the month's first day), with the view's types."""
    last = end - dt.timedelta(days=1) if end is not None else None
    rows = matching(months, view.replace(date_from=first, date_to=last), pairs)
    return rows.groupby("admin1_code")["n"].sum()
