"""The store contract, run against every store: the same tests, the same answers.

`STORES` names each implementation and how to build it from joined events.
The fake (tests/fake_store.py) is built from the contract alone; it is also
the reference the others are compared with on random views.  The PostGIS
stores need the local PostgreSQL and Redis (tests/setup_machine.sh); they
fail under CI and skip locally when those are absent.  Render and
export must work on any store, so every figure and export is drawn from
each one here too.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_store import FakeStore
from pg_databases import postgis_redis_store, postgis_store
from dashboard.ingest.prepare import prepare_events
from dashboard.render.describe import describe_view
from dashboard.render.map import map_figure
from dashboard.render.timeline import timeline_figure
from dashboard.store.contract import CLUSTER_COLUMNS, DAY_TYPE_COLUMNS, GRID_COLUMNS, POINT_COLUMNS, REGION_COUNT_COLUMNS, EventStore
from dashboard.store.dataset import Dataset
from dashboard.store.memory import InMemoryEventStore
from dashboard.view import ViewState

STORES = {
    "memory": InMemoryEventStore,
    "fake": FakeStore,
    # A fresh database per store, filled through the import path (tests/pg_databases.py).
    "postgis": postgis_store,
    # As a team deploys it: PostGIS behind the Redis response cache.
    "postgis+redis": postgis_redis_store,
}


@pytest.fixture(scope="module")
def article_events(tmp_path_factory) -> pd.DataFrame:
    return prepare_events(cache_dir=tmp_path_factory.mktemp("cache")).events


def synthetic_events(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    types = rng.choice(["Battles", "Riots", "Explosions/Remote violence"], rows)
    subs = np.where(types == "Battles", rng.choice(["Armed clash", ""], rows), rng.choice(["Mob violence", "Air/drone strike"], rows))
    regions = rng.choice(["UA-14", "UA-46", "RU-BEL", ""], rows)
    return pd.DataFrame(
        {
            "event_id": [f"E{i}" for i in range(rows)],
            "event_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 40, rows), unit="D"),
            "event_type": types,
            "sub_event_type": subs,
            "actor1": rng.choice(["Army A", "Army B", "Militia"], rows),
            "actor2": rng.choice(["", "Civilians"], rows),
            "place": rng.choice(["Pokrovsk", "Kursk", "Liski depot"], rows),
            "summary": rng.choice(["oil depot fire", "drone attack", "clash near the line"], rows),
            "latitude": rng.uniform(45, 52, rows),
            "longitude": rng.uniform(25, 40, rows),
            "geo_precision": np.where(regions == "", "country", rng.choice(["town", "near", "region"], rows)),
            "date_precision": rng.choice(["day", "day", "week", "month"], rows),
            "admin1_code": regions,
            "admin1_name": pd.Series(regions).map({"UA-14": "Donetsk", "UA-46": "Lviv", "RU-BEL": "Belgorod", "": ""}),
            "country_code": np.where(pd.Series(regions).str.startswith("RU"), "RU", "UA"),
        }
    )


@pytest.fixture(scope="module", params=sorted(STORES))
def store(request, article_events) -> EventStore:
    return STORES[request.param](article_events)


@pytest.fixture(scope="module")
def synthetic():
    events = synthetic_events(3_000)
    return {name: make(events) for name, make in STORES.items()}


# ------------------------------------------------------------- the shape


def test_store_answers_the_whole_contract(store):
    assert isinstance(store, EventStore)
    assert store.total == 12 and store.version
    assert store.bounds.first_day == dt.date(2025, 1, 11) and store.bounds.last_day == dt.date(2025, 1, 21)
    assert store.bounds.types == ("Battles", "Explosions/Remote violence", "Strategic developments")
    assert store.precisions == ["town", "near", "region", "country"]
    assert store.region_names["UA-14"] == "Donetsk"
    west, south, east, north = store.extent()
    assert 30 < west < east < 50 and 45 < south < north < 56


def test_filters_by_type_date_region_text_and_actor(store):
    assert store.count(ViewState()) == 12
    assert store.count(ViewState(types=("Battles", "Strategic developments"))) == 7
    one_day = store.records(ViewState(date_from=dt.date(2025, 1, 16), date_to=dt.date(2025, 1, 16)))
    assert list(one_day["event_id"]) == ["RFERL-20250121-06"]
    assert store.count(ViewState(regions=("UA-14",))) == 3
    assert store.records(ViewState(text="OIL DEPOT"))["place"].tolist() == ["Liski", "Liski"]
    assert store.count(ViewState(types=())) == 0
    assert store.count(ViewState(actors=("no such actor",))) == 0


def test_region_counts_leave_out_country_level_events(store):
    counts = store.counts_by_region(ViewState())
    assert list(counts.columns) == REGION_COUNT_COLUMNS
    table = dict(zip(counts["admin1_code"], counts["count"]))
    assert table["UA-14"] == 3 and "" not in table
    assert sum(table.values()) == 11  # 12 events, one located only to Ukraine
    assert store.country_level_count(ViewState()) == 1


def test_counts_by_type_and_sub_type_cover_the_data(store):
    by_type = store.counts_by_type(ViewState(types=("Battles",)))
    assert by_type == {"Battles": 2, "Explosions/Remote violence": 0, "Strategic developments": 0}
    by_sub = store.counts_by_sub_type(ViewState())
    assert sum(by_sub.values()) == 12 and by_sub[("Battles", "Armed clash")] == 1


def test_day_counts_sum_to_the_count(store):
    counts = store.counts_by_day_and_type(ViewState())
    assert list(counts.columns) == DAY_TYPE_COLUMNS and counts["count"].sum() == 12
    assert pd.api.types.is_datetime64_any_dtype(counts["day"])


def test_points_keep_the_newest_and_name_their_columns(store):
    points = store.points(ViewState(), 3)
    assert list(points.columns) == POINT_COLUMNS and len(points) == 3
    assert sorted(points["day"]) == ["2025-01-21"] * 3


def test_records_newest_first_with_limit_and_columns(store):
    records = store.records(ViewState(), limit=4, columns=["event_id", "event_date"])
    assert list(records.columns) == ["event_id", "event_date"] and len(records) == 4
    assert records["event_date"].is_monotonic_decreasing


def test_records_of_some_precisions_only(store):
    coarse = store.records(ViewState(), columns=["event_id", "geo_precision", "event_date"], precisions=("region", "country"))
    assert len(coarse) == 4 and set(coarse["geo_precision"]) == {"region", "country"}
    assert coarse["event_date"].is_monotonic_decreasing
    assert store.records(ViewState(types=("Battles",)), precisions=("country",)).empty


def test_date_precision_counts_cover_every_precision(store):
    assert store.counts_by_date_precision(ViewState()) == {"day": 10, "week": 2, "month": 0, "year": 0}
    assert store.counts_by_date_precision(ViewState(types=("Battles",))) == {"day": 2, "week": 0, "month": 0, "year": 0}


def test_record_returns_every_field_as_plain_values_or_none(store):
    record = store.record("RFERL-20250121-03")
    assert record["place"] == "Kazan" and record["admin1_code"] == "RU-TA" and record["event_date"] == "2025-01-20"
    assert all(isinstance(v, (str, int, float, bool)) or v is None for v in record.values())
    assert store.record("nope") is None


def test_grid_counts_keep_every_event(synthetic):
    for store in synthetic.values():
        cells, size = store.grid_counts(ViewState(), 50)
        assert list(cells.columns) == GRID_COLUMNS
        assert len(cells) <= 50 and cells["count"].sum() == 3_000 and size > 0.05


def test_points_cap_takes_the_most_recent(synthetic):
    for store in synthetic.values():
        points = store.points(ViewState(), 500)
        newest = store.records(ViewState(), limit=500)["event_date"].min()
        assert len(points) == 500 and (pd.to_datetime(points["day"]) >= newest).all()


def test_clusters_count_every_event_once_per_cell_and_type(synthetic):
    for name, store in synthetic.items():
        clusters = store.clusters(ViewState(types=("Battles", "Riots")), 1.0)
        assert list(clusters.columns) == CLUSTER_COLUMNS, name
        assert clusters["count"].sum() == store.count(ViewState(types=("Battles", "Riots"))), name
        assert not clusters.duplicated(["cell", "event_type"]).any(), name
        centres = clusters.groupby("cell")[["latitude", "longitude"]].nunique()
        assert (centres == 1).all().all(), name  # one position per cell


def test_clusters_at_one_place_are_one_cell(store):
    kazan = store.clusters(ViewState(text="kazan"), 0.01)
    assert kazan["cell"].nunique() == 1 and kazan["count"].sum() == store.count(ViewState(text="kazan")) == 3


# ---------------------------------------------- every store, the same answer

views = st.builds(
    ViewState,
    date_from=st.none() | st.dates(dt.date(2024, 12, 25), dt.date(2025, 2, 15)),
    date_to=st.none() | st.dates(dt.date(2024, 12, 25), dt.date(2025, 2, 15)),
    types=st.none() | st.lists(st.sampled_from(["Battles", "Riots", "Explosions/Remote violence", "Protests"]), unique=True).map(tuple),
    sub_types=st.none() | st.lists(st.sampled_from(["Armed clash", "Mob violence", "Air/drone strike"]), unique=True).map(tuple),
    countries=st.lists(st.sampled_from(["UA", "RU", "BY"]), unique=True, max_size=2).map(tuple),
    regions=st.lists(st.sampled_from(["UA-14", "UA-46", "RU-BEL"]), unique=True, max_size=2).map(tuple),
    actors=st.lists(st.sampled_from(["Army A", "Militia", "Civilians"]), unique=True, max_size=2).map(tuple),
    text=st.sampled_from(["", "oil", "DRONE", "kursk", "nothing"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(view=views)
def test_every_store_answers_like_the_reference(synthetic, view):
    reference = synthetic["fake"]
    expected_ids = set(reference.records(view)["event_id"])
    for name, store in synthetic.items():
        assert store.count(view) == len(expected_ids), name
        assert set(store.records(view)["event_id"]) == expected_ids, name
        assert store.counts_by_type(view) == reference.counts_by_type(view), name
        assert store.counts_by_sub_type(view) == reference.counts_by_sub_type(view), name
        assert store.country_level_count(view) == reference.country_level_count(view), name
        assert store.counts_by_date_precision(view) == reference.counts_by_date_precision(view), name
        coarse = store.records(view, columns=["event_id", "geo_precision"], precisions=("region", "country"))
        assert set(coarse["event_id"]) == set(reference.records(view, precisions=("region", "country"))["event_id"]), name
        regions = store.counts_by_region(view).sort_values("admin1_code").reset_index(drop=True)
        pd.testing.assert_frame_equal(regions, reference.counts_by_region(view).sort_values("admin1_code").reset_index(drop=True),
                                      check_dtype=False)
        clusters = store.clusters(view, 0.5).sort_values(["cell", "event_type"]).reset_index(drop=True)
        expected_clusters = reference.clusters(view, 0.5).sort_values(["cell", "event_type"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(clusters, expected_clusters, check_dtype=False, atol=1e-4)
        # The map's marks: the finer events near what the map shows, and the coarse ones counted.
        near = store.clusters(view, 0.5, precisions=("town", "near"), extent=(30.0, 47.0, 36.5, 50.0))
        near = near.sort_values(["cell", "event_type"]).reset_index(drop=True)
        expected_near = reference.clusters(view, 0.5, precisions=("town", "near"), extent=(30.0, 47.0, 36.5, 50.0))
        pd.testing.assert_frame_equal(near, expected_near.sort_values(["cell", "event_type"]).reset_index(drop=True),
                                      check_dtype=False, atol=1e-4)
        keys = ["geo_precision", "admin1_code", "event_type"]
        coarse_counts = store.coarse_counts(view).sort_values(keys).reset_index(drop=True)
        expected_coarse = reference.coarse_counts(view).sort_values(keys).reset_index(drop=True)
        pd.testing.assert_frame_equal(coarse_counts, expected_coarse, check_dtype=False, atol=1e-4)
        assert coarse_counts["count"].sum() == len(coarse), name
        days = store.counts_by_day_and_type(view).sort_values(["day", "event_type"]).reset_index(drop=True)
        expected_days = reference.counts_by_day_and_type(view).sort_values(["day", "event_type"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(days, expected_days, check_dtype=False)


# Region counts of views of dates and types only: the PostGIS store sums whole
# months from a summary and counts the days at either end (the data spans
# 1 Jan - 9 Feb 2025), so every kind of range edge is asked for here.
MONTH_EDGES = [
    (dt.date(2025, 1, 1), dt.date(2025, 1, 31)), (dt.date(2025, 1, 2), dt.date(2025, 1, 31)),
    (dt.date(2025, 1, 1), dt.date(2025, 1, 30)), (dt.date(2025, 1, 15), dt.date(2025, 2, 3)),
    (dt.date(2024, 12, 31), dt.date(2025, 2, 1)), (dt.date(2025, 1, 20), dt.date(2025, 1, 20)),
    (None, dt.date(2025, 1, 20)), (dt.date(2025, 1, 10), None), (dt.date(2025, 2, 1), None), (None, dt.date(2025, 1, 31)),
    (dt.date(2025, 1, 31), dt.date(2025, 2, 1)), (dt.date(2025, 2, 5), dt.date(2025, 1, 5)),
]


@pytest.mark.parametrize("date_from, date_to", MONTH_EDGES)
def test_region_counts_of_date_ranges_match_the_reference(synthetic, date_from, date_to):
    for types, sub_types in ((None, None), (("Battles",), None), (None, ("Armed clash",))):
        view = ViewState(date_from=date_from, date_to=date_to, types=types, sub_types=sub_types)
        expected = synthetic["fake"].counts_by_region(view).sort_values("admin1_code").reset_index(drop=True)
        assert expected["count"].sum() > 0 or date_from == dt.date(2025, 2, 5)
        for name, store in synthetic.items():
            regions = store.counts_by_region(view).sort_values("admin1_code").reset_index(drop=True)
            pd.testing.assert_frame_equal(regions, expected, check_dtype=False, obj=name)


# ------------------------------------------- figures and exports on any store


@pytest.mark.parametrize("mode", ["points", "choropleth", "density"])
def test_every_figure_renders_from_the_store(store, mode):
    view = ViewState(mode=mode, types=("Battles", "Explosions/Remote violence"))
    figure = map_figure(view, store)
    assert figure.layout.map.style["version"] == 8 and len(figure.data) >= 1
    timeline = timeline_figure(view, store)
    assert sum(sum(np.asarray(t.y)) for t in timeline.data) == 7
    assert describe_view(view, store, store.count(view)).startswith("7 of 12 events")


@pytest.mark.parametrize("mode", ["points", "choropleth", "density"])
def test_every_export_figure_builds_from_the_store(store, mode):
    from dashboard.export.figure import build_export_figure

    figure = build_export_figure(ViewState(mode=mode), Dataset(store=store, label="test events"), width=1280, height=720)
    texts = " ".join(a.text for a in figure.layout.annotations)
    assert "12 of 12 events" in texts and "test events" in texts
