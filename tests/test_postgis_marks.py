"""The PostGIS store's answers for the map's marks (store/pg_marks.py).

A view of dates and types is summed from the month tables (cell_months,
coarse_months) plus the days at either end of its range read from the
events; these tests hold every kind of range edge, cell size and map area to
the reference store built from the contract alone (tests/fake_store.py), and
show the month tables really answer (the events deleted behind the store's back).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import psycopg
import pytest

import pg_databases
from fake_store import FakeStore
from pg_databases import new_database
from dashboard.store.contract import COARSE_PRECISIONS
from dashboard.store.pg_import import load_events
from dashboard.store.postgis import PostgisStore
from dashboard.view import ViewState

FINE = ("town", "near")


def events(rows: int = 3_000, seed: int = 5) -> pd.DataFrame:
    """Four months of events over Ukraine and Russia, a fifth of them region- or country-level."""
    rng = np.random.default_rng(seed)
    types = rng.choice(["Battles", "Riots", "Explosions/Remote violence"], rows)
    regions = rng.choice(["UA-14", "UA-46", "RU-BEL", ""], rows)
    return pd.DataFrame({
        "event_id": [f"M{i}" for i in range(rows)],
        "event_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 120, rows), unit="D"),
        "event_type": types,
        "sub_event_type": np.where(types == "Battles", rng.choice(["Armed clash", ""], rows), "Mob violence"),
        "actor1": "Army A", "actor2": "", "place": "P", "summary": "s",
        "latitude": rng.uniform(44, 56, rows),
        "longitude": rng.uniform(22, 50, rows),
        "geo_precision": rng.choice(["town", "near", "region", "country"], rows, p=[0.5, 0.3, 0.15, 0.05]),
        "date_precision": "day",
        "admin1_code": regions,
        "admin1_name": pd.Series(regions).map({"UA-14": "Donetsk", "UA-46": "Lviv", "RU-BEL": "Belgorod", "": ""}),
        "country_code": np.where(pd.Series(regions).str.startswith("RU"), "RU", "UA"),
    })


RANGES = [
    (None, None), (dt.date(2025, 2, 1), dt.date(2025, 3, 31)),  # whole months only
    (dt.date(2025, 1, 10), dt.date(2025, 3, 5)), (dt.date(2025, 2, 3), None), (None, dt.date(2025, 2, 14)),  # months and edges
    (dt.date(2025, 1, 3), dt.date(2025, 1, 20)),  # no whole month: the events alone
]
AREAS = [None, (30.0, 47.0, 36.5, 50.0), (23.4, 44.0, 23.6, 44.2)]


@pytest.fixture(scope="module")
def stores():
    url = new_database()
    load_events(url, events())
    store = PostgisStore.open(url)
    yield store, FakeStore(events())
    store.db.close()
    pg_databases.drop(url)


def same_cells(a: pd.DataFrame, b: pd.DataFrame) -> None:
    order = ["cell", "event_type"]
    pd.testing.assert_frame_equal(a.sort_values(order).reset_index(drop=True), b.sort_values(order).reset_index(drop=True),
                                  check_dtype=False, atol=1e-6)


def same_coarse(a: pd.DataFrame, b: pd.DataFrame) -> None:
    keys = ["geo_precision", "admin1_code", "event_type"]
    pd.testing.assert_frame_equal(a.sort_values(keys).reset_index(drop=True), b.sort_values(keys).reset_index(drop=True),
                                  check_dtype=False, atol=1e-6)


@pytest.mark.parametrize("date_from, date_to", RANGES)
@pytest.mark.parametrize("types, sub_types", [(None, None), (("Battles", "Riots"), None), (None, ("Armed clash",))])
def test_marks_of_date_and_type_views_answer_like_the_reference(stores, date_from, date_to, types, sub_types):
    store, reference = stores
    view = ViewState(date_from=date_from, date_to=date_to, types=types, sub_types=sub_types)
    for size in (0.5, 1.0, 2.0, 4.0):  # 0.5: finer than the month table's grid, from the events
        for area in AREAS:
            same_cells(store.clusters(view, size, precisions=FINE, extent=area),
                       reference.clusters(view, size, precisions=FINE, extent=area))
    same_coarse(store.coarse_counts(view), reference.coarse_counts(view))
    assert reference.count(view) > 0


def test_other_views_group_their_events(stores):
    store, reference = stores
    for view in (ViewState(regions=("UA-14",)), ViewState(text="nothing"), ViewState(countries=("RU",), date_from=dt.date(2025, 2, 1))):
        same_cells(store.clusters(view, 2.0, precisions=FINE), reference.clusters(view, 2.0, precisions=FINE))
        same_coarse(store.coarse_counts(view), reference.coarse_counts(view))
    # All precisions (not the marks' question) from the events too.
    same_cells(store.clusters(ViewState(), 2.0), reference.clusters(ViewState(), 2.0))


def test_marks_of_whole_months_come_from_the_month_tables():
    url = new_database()
    try:
        load_events(url, events())
        store = PostgisStore.open(url)
        reference = FakeStore(events())
        with psycopg.connect(url) as conn:  # behind the store's back: the version stays, the events go
            conn.execute("DELETE FROM events")
        view = ViewState(date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 3, 31), types=("Battles", "Riots"))
        same_cells(store.clusters(view, 2.0, precisions=FINE, extent=AREAS[1]),
                   reference.clusters(view, 2.0, precisions=FINE, extent=AREAS[1]))
        coarse = store.coarse_counts(view)
        same_coarse(coarse, reference.coarse_counts(view))
        assert set(coarse["geo_precision"]) == set(COARSE_PRECISIONS)
        store.db.close()
    finally:
        pg_databases.drop(url)


def test_a_database_whose_region_months_were_left_empty_gets_them_filled():
    """Migration 0004 made region_months empty; an import that changed nothing rebuilt nothing."""
    url = new_database()
    try:
        load_events(url, events())
        with psycopg.connect(url) as conn:  # as a database at version 5 with 0004's empty table
            conn.execute("DELETE FROM region_months")
            conn.execute("DROP TABLE cell_months, coarse_months")
            conn.execute("DELETE FROM schema_migrations WHERE version = 6")
        assert load_events(url, events()).changed is False  # the import rebuilt nothing: the migration filled them
        store = PostgisStore.open(url)
        view = ViewState(date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 3, 31))
        expected = FakeStore(events()).counts_by_region(view)
        assert dict(zip(*store.counts_by_region(view).to_dict("list").values())) == dict(zip(*expected.to_dict("list").values()))
        same_coarse(store.coarse_counts(view), FakeStore(events()).coarse_counts(view))
        store.db.close()
    finally:
        pg_databases.drop(url)
