"""The team store beyond the contract: import, re-import, a failed import, migrations,
saved views in the database, the response cache, and failures said in one sentence.

Needs the local PostgreSQL + PostGIS and Redis (tests/setup_machine.sh): they
fail under CI and skip locally when absent (tests/pg_databases.py).
"""
from __future__ import annotations

import json
import threading
import time

import pandas as pd
import psycopg
import pytest

import pg_databases
from pg_databases import closed_port, new_database, redis_url
from dashboard import cli
from dashboard.ingest.prepare import prepare_events
from dashboard.store import pg_import
from dashboard.store.cached import CachedStore, LocalCache, RedisCache
from dashboard.store.contract import StoreUnavailable
from dashboard.store.migrate import latest_version, migration_files
from dashboard.store.open import open_dataset
from dashboard.store.pg import Database
from dashboard.store.pg_import import ImportFailed, load_events
from dashboard.store.pg_views import DatabaseSavedViews
from dashboard.store.postgis import PostgisStore
from dashboard.store.saved_views import SavedViewsError
from dashboard.view import ViewState

BUNDLED = "data/events/article_events.csv"


@pytest.fixture(scope="module")
def article_events(tmp_path_factory) -> pd.DataFrame:
    return prepare_events(cache_dir=tmp_path_factory.mktemp("cache")).events


@pytest.fixture
def database():
    url = new_database()
    yield url
    pg_databases.drop(url)


def rows_of(url, query, params=()):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


# ------------------------------------------------------------------ import


def test_import_command_reports_each_file_like_validate(database, tmp_path, capsys):
    bad = tmp_path / "two_rows.csv"
    original = open(BUNDLED, encoding="utf-8").read().splitlines()
    broken = original[2].replace("RFERL-20250121-02", "OTHER-2").replace(",2025-01-20,", ",not a date,", 1)
    bad.write_text("\n".join([original[0], original[1].replace("RFERL-20250121-01", "OTHER-1"), broken]) + "\n")
    code = cli.run(["import", BUNDLED, str(bad), "--into", database])
    out = capsys.readouterr().out
    assert code == 1  # done, but a row was rejected (as validate says it)
    assert f"{BUNDLED} (native): 12 rows read, 12 loaded, 0 rejected" in out
    assert "two_rows.csv (native): 2 rows read, 1 loaded, 1 rejected" in out
    assert "row 3, event_date" in out  # the file's line 3 (the header is line 1)
    assert "13 new, 0 updated, 0 unchanged events" in out
    assert rows_of(database, "SELECT count(*) FROM events")[0][0] == 13
    assert rows_of(database, "SELECT source, rows_read, rows_rejected FROM imports ORDER BY id") == [
        (BUNDLED, 12, 0), (str(bad), 2, 1)]


def test_reimport_updates_what_changed_keeps_the_rest_and_ids(database, article_events):
    first = load_events(database, article_events)
    before = dict(rows_of(database, "SELECT event_id, seq FROM events"))
    again = load_events(database, article_events)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 12) and again.version == first.version

    changed = article_events.copy()
    changed.loc[changed["event_id"] == "RFERL-20250121-03", "summary"] = "Corrected summary."
    newer = changed[changed["event_id"].isin(["RFERL-20250121-03", "RFERL-20250121-04"])]
    extra = newer.iloc[[1]].assign(event_id="NEW-1")
    result = load_events(database, pd.concat([newer, extra], ignore_index=True))
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 1)
    assert result.version != first.version
    after = dict(rows_of(database, "SELECT event_id, seq FROM events"))
    assert len(after) == 13 and all(after[k] == v for k, v in before.items())  # ids and order stable, others kept
    store = PostgisStore.open(database)
    assert store.record("RFERL-20250121-03")["summary"] == "Corrected summary."
    assert store.total == 13 and store.version == result.version


def test_replace_makes_the_data_exactly_the_files(database, article_events, monkeypatch):
    load_events(database, article_events)
    before = dict(rows_of(database, "SELECT event_id, seq FROM events"))
    changed = article_events.copy()
    changed.loc[changed["event_id"] == "RFERL-20250121-03", "summary"] = "Corrected summary."
    smaller = changed[~changed["event_id"].isin(["RFERL-20250121-01", "RFERL-20250121-02"])]
    newer = pd.concat([smaller, smaller.iloc[[0]].assign(event_id="NEW-1")], ignore_index=True)

    kept = load_events(database, newer)  # without replace: the two missing events stay, and the summary says so
    assert (kept.inserted, kept.updated, kept.unchanged, kept.removed, kept.kept) == (1, 1, 9, 0, 2)
    assert "2 events not in the files kept (--replace removes them)" in kept.sentence()

    # A replace that dies before it commits removes nothing.
    def deleted_then_lost(conn, summary, reports):
        assert summary.removed == 2 and conn.execute("SELECT count(*) FROM events").fetchone()[0] == 11
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:
        patch.setattr(pg_import, "_finish", deleted_then_lost)
        with pytest.raises(ImportFailed, match="changed nothing"):
            load_events(database, newer, replace=True)
    assert rows_of(database, "SELECT count(*) FROM events")[0][0] == 13

    replaced = load_events(database, newer, replace=True)
    assert (replaced.inserted, replaced.updated, replaced.unchanged, replaced.removed, replaced.kept) == (0, 0, 11, 2, 0)
    assert "11 unchanged events, 2 not in the files removed; data version" in replaced.sentence()
    assert replaced.version != kept.version
    after = dict(rows_of(database, "SELECT event_id, seq FROM events"))
    assert set(after) == set(newer["event_id"])
    assert all(after[k] == before[k] for k in after if k in before)  # the events kept keep their ids and order
    store = PostgisStore.open(database)
    assert store.total == 11 and store.record("RFERL-20250121-01") is None
    assert store.counts_by_region(ViewState())["count"].sum() == store.count(ViewState()) - store.country_level_count(ViewState())
    again = load_events(database, newer, replace=True)
    assert not again.changed and again.version == replaced.version


def test_import_command_replace_says_what_it_removed(database, tmp_path, capsys):
    extra = tmp_path / "one_row.csv"
    original = open(BUNDLED, encoding="utf-8").read().splitlines()
    extra.write_text("\n".join([original[0], original[1].replace("RFERL-20250121-01", "OTHER-1")]) + "\n")
    assert cli.run(["import", BUNDLED, str(extra), "--into", database]) == 0
    assert cli.run(["import", BUNDLED, "--into", database]) == 0
    assert "0 new, 0 updated, 12 unchanged events; 1 event not in the files kept (--replace removes them)" in capsys.readouterr().out
    assert cli.run(["import", BUNDLED, "--into", database, "--replace"]) == 0
    assert "0 new, 0 updated, 12 unchanged events, 1 not in the files removed; data version" in capsys.readouterr().out
    assert rows_of(database, "SELECT count(*) FROM events WHERE event_id = 'OTHER-1'")[0][0] == 0


def test_a_failed_import_leaves_the_previous_data_intact(database, article_events, monkeypatch):
    load_events(database, article_events)
    version = rows_of(database, "SELECT version FROM dataset")[0][0]
    changed = article_events.assign(summary="overwritten")
    changed = pd.concat([changed, changed.iloc[[0]].assign(event_id="NEW-1")], ignore_index=True)

    # 1. The database refuses a row midway through the COPY (second batch): a real server-side error.
    monkeypatch.setattr(pg_import, "COPY_BATCH_ROWS", 5)
    broken = changed.copy()
    broken.loc[11, "event_date"] = pd.NaT  # violates NOT NULL in the third batch
    with pytest.raises(ImportFailed, match="changed nothing"):
        load_events(database, broken)

    # 2. Everything was upserted, then the import dies before it commits.
    real_finish = pg_import._finish

    def finish_then_fail(conn, summary, reports):
        real_finish(conn, summary, reports)
        assert conn.execute("SELECT count(*) FROM events WHERE summary = 'overwritten'").fetchone()[0] == 13
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(pg_import, "_finish", finish_then_fail)
    with pytest.raises(ImportFailed, match="changed nothing: the database stopped answering"):
        load_events(database, changed)

    assert rows_of(database, "SELECT count(*) FROM events WHERE summary = 'overwritten'")[0][0] == 0
    assert rows_of(database, "SELECT count(*) FROM events")[0][0] == 12
    assert rows_of(database, "SELECT version FROM dataset")[0][0] == version
    assert rows_of(database, "SELECT sum(n) FROM event_counts")[0][0] == 12


def test_duplicate_ids_in_one_import_are_refused_with_a_sentence(database, article_events):
    twice = pd.concat([article_events, article_events.iloc[[2]]], ignore_index=True)
    with pytest.raises(ImportFailed, match="'RFERL-20250121-03' appears twice"):
        load_events(database, twice)


def test_nul_characters_are_dropped_before_the_copy(article_events):
    table = pg_import.arrow_events(article_events.assign(summary=article_events["summary"] + "\x00!"))
    summaries = table["summary"].to_pylist()
    assert all("\x00" not in s and s.endswith("!") for s in summaries)
    assert all("\x00" not in s for s in table["search_text"].to_pylist())


def test_migrations_apply_in_order_once_and_are_recorded(database, article_events):
    load_events(database, article_events)
    load_events(database, article_events)
    recorded = rows_of(database, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert recorded == [(v, name) for v, name, _ in migration_files()] and recorded[-1][0] == latest_version()
    indexes = {r[0] for r in rows_of(database, "SELECT indexname FROM pg_indexes WHERE tablename = 'events'")}
    assert set(pg_import.INDEXES) <= indexes


def test_a_first_import_leaves_every_page_all_visible(database):
    from test_store_contract import synthetic_events

    load_events(database, synthetic_events(5_000))  # COPY FREEZE: index-only scans need no vacuum first
    pages, visible = rows_of(database, "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'events'")[0]
    assert pages > 10 and visible == pages


def test_text_search_uses_the_trigram_index(database):
    from test_store_contract import synthetic_events

    load_events(database, synthetic_events(20_000))
    with psycopg.connect(database) as conn:
        conn.execute("SET enable_seqscan = off")  # the plan must be able to use the index at all
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN SELECT count(*) FROM events WHERE search_text LIKE '%kursk%'"))
    assert "events_search" in plan


# ----------------------------------------------------------- saved views


def test_saved_views_in_the_database_behave_like_the_file(database, article_events):
    load_events(database, article_events)
    views = DatabaseSavedViews(Database(database))
    assert views.list() == []
    views.save("Donetsk", "region=UA-14")
    views.save("Battles", "type=Battles")
    listed = views.save("Donetsk", "region=UA-14&type=Battles")  # replaced, moved to the end
    assert [v["name"] for v in listed] == ["Battles", "Donetsk"] and listed[1]["query"] == "type=Battles&region=UA-14"
    assert [v["name"] for v in views.delete("Battles")] == ["Donetsk"]
    imported = views.import_text(json.dumps([{"name": "Kursk", "query": "q=kursk"}, {"name": "Donetsk", "query": ""}]))
    assert [(v["name"], v["query"]) for v in imported] == [("Kursk", "q=kursk"), ("Donetsk", "")]
    with pytest.raises(SavedViewsError, match="Give the view a name"):
        views.save("  ", "q=x")
    with pytest.raises(SavedViewsError, match="not a saved-views JSON file"):
        views.import_text("{nope")


def test_concurrent_saves_all_persist(database, article_events):
    load_events(database, article_events)
    errors = []

    def save_many(worker):
        views = DatabaseSavedViews(Database(database))  # its own pool, as another worker would have
        for i in range(10):
            try:
                views.save(f"w{worker}-{i}", f"q=v{i}")
            except SavedViewsError as error:
                errors.append(error)

    threads = [threading.Thread(target=save_many, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(DatabaseSavedViews(Database(database)).list()) == 60


def test_saved_views_say_a_sentence_when_the_database_is_gone():
    views = DatabaseSavedViews(Database(f"postgresql://127.0.0.1:{closed_port()}/x"))
    with pytest.raises(SavedViewsError, match=r"^The saved views could not be read: Cannot use the database .*refused\.$"):
        views.list()
    with pytest.raises(SavedViewsError, match=r"^Not saved: "):
        views.save("a", "q=x")


# ------------------------------------------------------------------ cache


class CountingStore:
    """Passes to a store and counts the questions that reach it."""

    def __init__(self, store):
        self.store, self.calls = store, 0

    def __getattr__(self, name):
        attribute = getattr(self.store, name)
        if callable(attribute):
            def counted(*args, **kwargs):
                self.calls += 1
                return attribute(*args, **kwargs)
            return counted
        return attribute


def test_redis_cache_answers_repeats_and_follows_the_version(database, article_events):
    load_events(database, article_events)
    inner = CountingStore(PostgisStore.open(database))
    cached = CachedStore(inner, RedisCache(redis_url()))
    view = ViewState(types=("Battles", "Strategic developments"), center_lat=50, zoom=5)
    first = (cached.count(view), cached.points(view, 100), cached.grid_counts(view, 50), cached.counts_by_sub_type(view))
    asked = inner.calls
    again = (cached.count(view.replace(zoom=7)), cached.points(view, 100), cached.grid_counts(view, 50), cached.counts_by_sub_type(view))
    assert inner.calls == asked  # all four from Redis (map position does not change an answer)
    assert first[0] == again[0] == 7 and first[3] == again[3]
    pd.testing.assert_frame_equal(first[1], again[1])
    pd.testing.assert_frame_equal(first[2][0], again[2][0]) and first[2][1] == again[2][1]
    # A worker of another process shares the entries.
    other = CountingStore(PostgisStore.open(database))
    other_cached = CachedStore(other, RedisCache(redis_url()))
    assert other_cached.count(view) == 7 and other.calls == 0
    assert (other_cached.hits, other_cached.misses) == (1, 0)  # what bench_load adds up across workers
    # An import changes the version: the next answer is asked afresh.
    load_events(database, article_events.iloc[[0]].assign(event_id="NEW-1"))
    time.sleep(2.1)  # PostgisStore.REFRESH_S
    assert cached.count(ViewState(types=("Battles",))) == 3


def test_redis_down_means_no_cache_not_errors(article_events):
    from dashboard.store.memory import InMemoryEventStore

    inner = CountingStore(InMemoryEventStore(article_events))
    cache = RedisCache(f"redis://127.0.0.1:{closed_port()}/0")
    cached = CachedStore(inner, cache)
    start = time.perf_counter()
    for _ in range(20):
        assert cached.count(ViewState(types=("Battles",))) == 2
        assert len(cached.records(ViewState(), limit=3)) == 3
    assert inner.calls == 40 and cache.failures == 1  # asked every time; Redis tried once, then left alone
    assert time.perf_counter() - start < 2


def test_cached_store_counts_its_hits_and_misses(article_events):
    from dashboard.store.memory import InMemoryEventStore

    inner = CountingStore(InMemoryEventStore(article_events))
    cached = CachedStore(inner, LocalCache())
    battles, all_events = ViewState(types=("Battles",)), ViewState()
    for view in (battles, all_events, battles.replace(zoom=9), battles):
        cached.count(view)
    cached.records(all_events)  # no limit: not cached, so neither a hit nor a miss
    assert (cached.hits, cached.misses, inner.calls) == (2, 2, 3)


def test_local_cache_keeps_the_newest_answers():
    cache = LocalCache(entries=2)
    cache.set("a", b"1"), cache.set("b", b"2"), cache.get("a"), cache.set("c", b"3")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")


# ------------------------------------------------------- opening, failures


def test_open_dataset_with_a_store_url_serves_the_database(database, article_events, monkeypatch):
    from dashboard import config

    monkeypatch.setattr(config, "REDIS_URL", None)
    cli.run(["import", BUNDLED, "--into", database])
    data = open_dataset(store=database)
    assert isinstance(data.store, CachedStore) and isinstance(data.store.cache, LocalCache)
    assert data.store.total == 12 and data.label == "article_events.csv" and data.reports[0].rows_read == 12
    assert isinstance(data.views, DatabaseSavedViews)
    with pytest.raises(StoreUnavailable, match="Event files and a store URL were both given"):
        open_dataset(data=[BUNDLED], store=database)
    with pytest.raises(StoreUnavailable, match="is not a store URL"):
        open_dataset(store="mysql://x/y")


def test_commands_say_one_sentence_when_the_database_is_not_there(capsys):
    url = f"postgresql://127.0.0.1:{closed_port()}/events"
    for argv in (["serve", "--store", url, "--port", "1"], ["events", "--store", url], ["import", BUNDLED, "--into", url]):
        assert cli.run(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err == f"error: Cannot use the database at {url}: Connection refused.", argv


def test_an_empty_database_says_to_import_first(database, capsys):
    assert cli.run(["events", "--store", database]) == 2
    assert f"holds no events yet; import some first: python -m dashboard import FILE --into {database}" in capsys.readouterr().err


def test_a_lost_database_is_store_unavailable_not_a_driver_error(article_events):
    url = new_database()
    load_events(url, article_events)
    store = PostgisStore.open(url)
    assert store.count(ViewState(text="kursk")) == 2
    pg_databases.drop(url)  # connections are ended with it
    for ask in (lambda: store.count(ViewState(text="kazan")), lambda: store.records(ViewState(), limit=5),
                lambda: store.record("RFERL-20250121-03")):
        with pytest.raises(StoreUnavailable, match=r"^Cannot use the database at .*\.$"):
            ask()


def test_territory_classes_match_the_in_memory_store(database, article_events, tmp_path):
    from test_territory import SQUARE, multipolygon, ring, write_snapshot
    from dashboard.store.memory import InMemoryEventStore
    from dashboard.territory import load_layer

    folder = tmp_path / "layer"
    write_snapshot(folder, "20250115", multipolygon([ring(36, 47, 40, 52)]))  # Donetsk, Kharkiv, Voronezh area
    write_snapshot(folder, "20250118", SQUARE)
    layer = load_layer(folder)
    load_events(database, article_events)
    memory, postgis = InMemoryEventStore(article_events), PostgisStore.open(database)
    version = postgis.version
    memory.attach_territory(layer), postgis.attach_territory(layer)
    assert postgis.version != version  # cached answers of the unclassified store are not reused
    for position in ("inside", "outside"):
        view = ViewState(territory_position=position)
        assert postgis.count(view) == memory.count(view) > 0
        assert set(postgis.records(view)["event_id"]) == set(memory.records(view)["event_id"])
    assert postgis.record("RFERL-20250121-01")["territory_position"] == memory.record("RFERL-20250121-01")["territory_position"]
    assert PostgisStore.open(database).attach_territory(layer) is None  # a second worker reuses the stored classes
    assert rows_of(database, "SELECT count(*) FROM territory_layers")[0][0] == 1
