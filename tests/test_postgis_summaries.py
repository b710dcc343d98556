"""The PostGIS store's count tables (store/pg_derived.py): actor views and date precisions.

Views of actors (with dates and types) are counted from the actor tables,
less the pairs of the view's actors, and date precisions from the per-day
summary; these tests hold those answers to the in-memory store's, on events
made to catch the cases a sum gets wrong: an event with both actors of the
view, an event whose actor1 and actor2 are the same, an empty actor, and a
re-import that moves an event to another precision, actor and region.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import psycopg
import pytest

import pg_databases
from pg_databases import new_database
from dashboard.store import migrate as migrate_module
from dashboard.store.memory import InMemoryEventStore
from dashboard.store.pg_import import load_events
from dashboard.store.postgis import PostgisStore
from dashboard.view import ViewState

ACTORS = ("Army A", "Army B", "Militia", "")


def events() -> pd.DataFrame:
    """Sixty events over three months: every actor pair, A with A, A with nobody."""
    rows = []
    for i in range(60):
        first, second = ACTORS[i % 3], ACTORS[(i // 3) % 4]
        if i % 10 == 0:
            second = first  # the same actor on both sides: one event, counted once
        rows.append({
            "event_id": f"S{i}",
            "event_date": dt.date(2025, 1, 1) + dt.timedelta(days=(i * 37) % 90),
            "event_type": ("Battles", "Riots", "Protests")[i % 3],
            "sub_event_type": ("Armed clash", "Mob violence", "Peaceful protest")[i % 3],
            "actor1": first,
            "actor2": second,
            "place": "Somewhere",
            "summary": "an event",
            "latitude": 48.0 + (i % 7) / 10,
            "longitude": 37.0 + (i % 5) / 10,
            "geo_precision": ("town", "region", "country")[i % 3 if i % 4 else 0],
            "date_precision": ("day", "week", "month", "day", "year")[i % 5],
            "admin1_code": ("UA-14", "UA-46", "")[i % 3 if i % 4 else 0],
            "admin1_name": {"UA-14": "Donetsk", "UA-46": "Lviv", "": ""}[("UA-14", "UA-46", "")[i % 3 if i % 4 else 0]],
            "country_code": "UA",
        })
    frame = pd.DataFrame(rows)
    frame["event_date"] = pd.to_datetime(frame["event_date"])
    return frame


VIEWS = [
    ViewState(actors=("Army A",)),
    ViewState(actors=("Army A", "Army B")),  # events holding both are counted once
    ViewState(actors=("Army B", "Army A", "Militia")),
    ViewState(actors=("",)),
    ViewState(actors=("Militia", "")),
    ViewState(actors=("Army A", "no such actor")),
    ViewState(actors=("Army A", "Army B"), types=("Battles", "Riots")),
    ViewState(actors=("Army A", "Militia"), date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 2, 28)),  # whole month
    ViewState(actors=("Army A", "Militia"), date_from=dt.date(2025, 1, 10), date_to=dt.date(2025, 3, 5)),  # month and edges
    ViewState(actors=("Army B",), date_from=dt.date(2025, 1, 3), date_to=dt.date(2025, 1, 20)),  # no whole month
    ViewState(actors=("Army A", "Army B"), sub_types=("Armed clash",)),
]


def answers(store, view) -> dict:
    regions = store.counts_by_region(view)
    return {
        "count": store.count(view),
        "types": store.counts_by_type(view.replace(types=None, sub_types=None)),
        "sub_types": store.counts_by_sub_type(view.replace(sub_types=None)),
        "day_type": store.counts_by_day_and_type(view.replace(date_from=None, date_to=None)).to_dict("list"),
        "precisions": store.counts_by_date_precision(view),
        "country_level": store.country_level_count(view),
        "regions": dict(zip(regions["admin1_code"], regions["count"])),
        "newest": list(store.records(view, 5, ["event_id"])["event_id"]),
    }


@pytest.fixture
def database():
    url = new_database()
    yield url
    pg_databases.drop(url)


def test_the_events_hold_what_the_tests_need():
    frame = events()
    both = frame[(frame["actor1"] == "Army A") & (frame["actor2"] == "Army B")]
    assert len(both) and ((frame["actor1"] == frame["actor2"]) & (frame["actor1"] != "")).any()
    assert set(frame["date_precision"]) == {"day", "week", "month", "year"}


@pytest.mark.parametrize("view", VIEWS, ids=str)
def test_actor_views_answer_like_the_in_memory_store(database, view):
    load_events(database, events())
    store = PostgisStore.open(database)
    reference = InMemoryEventStore(events())
    assert answers(store, view) == answers(reference, view)
    store.db.close()


def test_actor_counts_come_from_the_count_tables_not_the_events(database):
    load_events(database, events())
    store = PostgisStore.open(database)
    reference = InMemoryEventStore(events())
    with psycopg.connect(database) as conn:  # behind the store's back: the version stays, the events go
        conn.execute("DELETE FROM events")
    for view in (ViewState(actors=("Army A", "Army B")),
                 ViewState(actors=("Militia",), date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 3, 31))):
        assert store.count(view) == reference.count(view) > 0
        assert store.counts_by_date_precision(view) == reference.counts_by_date_precision(view)
        regions = store.counts_by_region(view)
        assert dict(zip(regions["admin1_code"], regions["count"])) == dict(
            zip(*reference.counts_by_region(view).to_dict("list").values()))
    assert store.counts_by_date_precision(ViewState()) == reference.counts_by_date_precision(ViewState())
    store.db.close()


def test_a_reimport_that_changes_an_event_changes_its_counts(database):
    load_events(database, events())
    store = PostgisStore.open(database)
    changed = events()
    changed.loc[0, ["date_precision", "actor1", "actor2", "admin1_code", "admin1_name", "geo_precision"]] = (
        "year", "Militia", "Army B", "UA-46", "Lviv", "region")
    summary = load_events(database, changed)
    assert (summary.inserted, summary.updated) == (0, 1)
    store._checked_at = 0  # the version is read again at once, not after REFRESH_S
    reference = InMemoryEventStore(changed)
    for view in [ViewState(), *VIEWS]:
        assert answers(store, view) == answers(reference, view), view
    store.db.close()


def test_a_database_imported_before_the_actor_tables_gets_them_filled(database, monkeypatch):
    older = [m for m in migrate_module.migration_files() if m[0] < 5]
    monkeypatch.setattr(migrate_module, "migration_files", lambda: older)
    monkeypatch.setattr("dashboard.store.pg_import.rebuild_counts", _old_rebuild)
    load_events(database, events())
    monkeypatch.undo()
    assert load_events(database, events()).changed is False  # nothing rebuilt by the import: the migration filled them
    store = PostgisStore.open(database)
    reference = InMemoryEventStore(events())
    for view in [ViewState(), *VIEWS]:
        assert answers(store, view) == answers(reference, view), view
    store.db.close()


def _old_rebuild(conn):
    """What the import derived before version 5 (no date precision, no actor tables)."""
    conn.execute("INSERT INTO event_counts SELECT event_date, event_type, sub_event_type, geo_precision = 'country', count(*) "
                 "FROM events GROUP BY 1, 2, 3, 4")
    conn.execute("INSERT INTO region_months SELECT date_trunc('month', event_date)::date, event_type, sub_event_type, admin1_code, "
                 "count(*) FROM events WHERE admin1_code <> '' GROUP BY 1, 2, 3, 4")


OTHER_VIEWS = [  # counted from the events, regions from the same pass as the other counts
    ViewState(text="event"),
    ViewState(text="event", date_from=dt.date(2025, 1, 10), date_to=dt.date(2025, 3, 5)),  # months and days at both ends
    ViewState(countries=("UA",), date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 3, 31), types=("Battles",)),
    ViewState(regions=("UA-14", "UA-46"), date_to=dt.date(2025, 2, 14)),
    ViewState(actors=("Army A",), text="event", date_from=dt.date(2025, 1, 2), date_to=dt.date(2025, 1, 30)),  # no whole month
    ViewState(actors=("Army A", "Army B"), countries=("UA",), sub_types=("Armed clash",), date_from=dt.date(2025, 1, 31)),
]


@pytest.mark.parametrize("view", OTHER_VIEWS, ids=str)
def test_views_of_other_filters_answer_like_the_in_memory_store(database, view):
    load_events(database, events())
    store = PostgisStore.open(database)
    reference = InMemoryEventStore(events())
    assert answers(store, view) == answers(reference, view)
    store.db.close()


def test_a_region_summary_reads_only_the_region_index(database):
    from test_store_contract import synthetic_events

    from dashboard.store.sql import summary_query

    load_events(database, synthetic_events(20_000))
    query, params = summary_query(ViewState(regions=("UA-14",)), [])
    with psycopg.connect(database) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN {query}", params))
    assert "Index Only Scan using events_region" in plan, plan
