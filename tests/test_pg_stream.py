"""The streamed import (ingest/stream.py, store/pg_stream.py) against the whole-file path it replaces.

Files are streamed in chunks of a few rows, so every rule that needs the
whole file meets a chunk boundary: ids repeated across chunks (an ACLED
revision, an identical copy, one row per actor, a clash, and an explicit
ID~2 that the clash's new id must avoid), ids repeated across files, a
malformed line, rejected rows, warnings, day-first dates that only a later
chunk proves, and report dates whose order no value settles.  Each result
is compared with prepare_events' (and load_events') on the same files.

The database tests need the local PostgreSQL + PostGIS (tests/pg_databases.py).
"""
from __future__ import annotations

import pandas as pd
import psycopg
import pytest

import pg_databases
from pg_databases import new_database
from test_load import ACLED_EXPORT_COLUMNS, UCDP_GED_COLUMNS, acled_row, native_row, ucdp_row, write_csv
from dashboard.ingest.prepare import prepare_events
from dashboard.ingest.stream import stream_events
from dashboard.schema import NATIVE_COLUMNS
from dashboard.store import pg_import

REPORT_FIELDS = ["source", "format", "rows_read", "rows_loaded", "rows_rejected", "join_notes", "detected"]


def acled_file(tmp_path):
    rows = [
        acled_row("UKR7", fatalities="2", timestamp="1737504000", event_date="05/01/2025"),  # revised on line 15
        acled_row("UKR8", event_date="06/01/2025"),  # copied on line 14
        acled_row("UKR9", actor2="Civilians (Ukraine)"),  # its other actor on line 12
        acled_row("UKR10", fatalities="1"),  # a different event with this id on line 13
        acled_row("UKR11", event_type="Picnics"),  # rejected
        acled_row("UKR12", country="Russia"),  # a country warning
        acled_row("UKR10~2"),  # so the clash on line 13 is named UKR10~3
        acled_row("UKR13", inter2="Martians"),  # a warning
        acled_row("UKR14", latitude="46.30", longitude="30.80"),  # at sea off Odesa: a join note
        acled_row("UKR9", actor2="Military Forces of Ukraine (2019-)"),
        acled_row("UKR10", fatalities="7"),
        acled_row("UKR8", event_date="06/01/2025"),
        acled_row("UKR7", fatalities="5", notes="Revised: five killed.", timestamp="1737590400", event_date="05/01/2025"),
        acled_row("UKR15", event_date="13/01/2025"),  # the only value proving day-first
        acled_row("UKR16", latitude="", longitude=""),  # placed by the gazetteer, or rejected
    ]
    return write_csv(tmp_path / "acled.csv", ACLED_EXPORT_COLUMNS, rows)


def native_file(tmp_path, name="native.csv", summary="Clashes near Pokrovsk.", malformed=True):
    rows = [
        native_row("N1", summary=summary, report_date="05/02/2025"),
        native_row("N2", event_date="not a date"),  # rejected
        native_row("N3", report_date="06/02/2025"),
        ["N4", "2025-01-20", "too few fields"],  # malformed: the careful reader reads this file
        native_row("N5", fatalities="many"),
        native_row("N1", summary=summary, report_date="05/02/2025"),  # an identical copy of line 2
        native_row("", summary="No id: one is made from the content."),
        native_row("UKR8"),  # loaded from acled.csv already: rejected here
        native_row("N6", report_date="07/03/2025"),  # report dates stay ambiguous: left empty, with warnings
        native_row("", summary="No id: one is made from the content."),  # collapses into line 8
    ]
    if not malformed:
        rows.pop(3)
    return write_csv(tmp_path / name, NATIVE_COLUMNS, rows)


def ucdp_and_mapped_files(tmp_path):
    """A UCDP file (ids written 536001.0), and a mapped file whose ids are made from each row's content."""
    ucdp = write_csv(tmp_path / "ged.csv", UCDP_GED_COLUMNS, [
        ucdp_row("536001.0"), ucdp_row("536002", best="4"), ucdp_row("536001"), ucdp_row("536003", date_start="13/02/2024"),
        ucdp_row("536002", best="5"), ucdp_row("536004", date_start="02/03/2024"),
    ])
    header = ["when", "what", "lat", "lon", "note"]
    mapped = write_csv(tmp_path / "mapped.csv", header, [
        ["2025-01-20", "Battles", "48.28", "37.18", "one"], ["2025-01-21", "Battles", "48.28", "37.18", "two"],
        ["2025-01-20", "Battles", "48.28", "37.18", "one"], ["2025-01-22", "Protests", "48.28", "37.18", "three"],
    ])
    return ucdp, mapped


def streamed(paths, chunk_rows, **options):
    parts = []

    def sink(events, base):
        parts.append(events.assign(_order=base + events["source_row"]))

    reports = stream_events(paths, sink, chunk_rows=chunk_rows, **options)
    events = pd.concat(parts, ignore_index=True).sort_values("_order", kind="stable", ignore_index=True).drop(columns="_order")
    return events, reports


def assert_same_reports(got, expected):
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected):
        assert [getattr(mine, f) for f in REPORT_FIELDS] == [getattr(theirs, f) for f in REPORT_FIELDS]
        for table in ("rejects", "warnings", "folded"):
            pd.testing.assert_frame_equal(getattr(mine, table), getattr(theirs, table), check_dtype=False, obj=f"{mine.source} {table}")


@pytest.fixture
def files(tmp_path):
    return [acled_file(tmp_path), native_file(tmp_path)]


@pytest.mark.parametrize("chunk_rows", [1, 3, 4, 100])
def test_streamed_events_and_reports_are_the_whole_file_paths(files, tmp_path, chunk_rows):
    whole = compare(files, tmp_path, chunk_rows)
    # The cases the files were made for did happen (so the comparison above covers them).
    acled, native = whole.reports
    assert set(acled.folded["how"]) == {"revision", "identical", "actors"}
    assert {"UKR10", "UKR10~2", "UKR10~3"} <= set(whole.events["event_id"])
    assert whole.events.set_index("event_id").loc["UKR7", "event_date"] == pd.Timestamp("2025-01-05")
    assert any("has 3 fields" in r for r in native.rejects["reason"])
    assert any("already loaded from acled.csv" in r for r in native.rejects["reason"])
    assert any("left empty: the report_date column" in r for r in native.warnings["reason"])
    assert acled.join_notes and len(native.folded) == 2


def compare(paths, tmp_path, chunk_rows, **options):
    whole = prepare_events(paths, cache_dir=tmp_path / "cache", use_cache=False, **options)
    events, reports = streamed(paths, chunk_rows, **options)
    pd.testing.assert_frame_equal(events, whole.events[events.columns], check_dtype=False)
    assert_same_reports(reports, whole.reports)
    return whole


@pytest.mark.parametrize("chunk_rows", [2, 50])
def test_the_fast_reader_ucdp_and_mapped_files_stream_as_they_load(tmp_path, chunk_rows):
    clean = native_file(tmp_path, malformed=False)  # read by pyarrow's streaming reader, not the csv module
    ucdp, mapped = ucdp_and_mapped_files(tmp_path)
    whole = compare([clean, ucdp], tmp_path, chunk_rows)
    assert [r.format for r in whole.reports] == ["native", "ucdp"]
    assert {"536001~2", "536002~2"} <= set(whole.events["event_id"])  # 536001.0 reads 536001; clashes across chunks
    assert pd.Timestamp("2024-03-02") in set(whole.events["event_date"])  # day-first, proved by an earlier chunk
    mapping = {"event_date": "when", "event_type": "what", "latitude": "lat", "longitude": "lon", "summary": "note"}
    whole = compare([mapped], tmp_path, chunk_rows, mapping=mapping)
    assert whole.reports[0].rows_loaded == 3 and len(whole.reports[0].folded) == 1


def test_a_point_the_layers_disagree_on_gets_the_whole_files_region_in_its_own_chunk(tmp_path, monkeypatch):
    # A point "in Ukraine" by the countries layer but in Belarus's region BY-BR:
    # its chunk alone holds no Belarusian point, the whole file does (Minsk).
    from test_join import BY_BR_NEAR_UKRAINE, MINSK, countries_wrong_at_the_belarus_border

    monkeypatch.setattr("dashboard.ingest.join.load_countries", countries_wrong_at_the_belarus_border)
    rows = [native_row(f"B{n}", longitude=str(lon), latitude=str(lat)) for n, (lon, lat) in enumerate([BY_BR_NEAR_UKRAINE, MINSK])]
    path = write_csv(tmp_path / "border.csv", NATIVE_COLUMNS, rows)
    whole = compare([path], tmp_path, chunk_rows=1)
    assert whole.events["admin1_code"].tolist() == ["BY-BR", "BY-HM"]


def test_a_chunk_read_in_several_blocks_has_its_day_first_dates_scanned(tmp_path, monkeypatch):
    # Small read blocks: one chunk of rows is made of several record batches
    # (as every chunk of a real file is), and the first pass must still read
    # its numeric dates.
    from dashboard.ingest import chunks

    monkeypatch.setattr(chunks, "BLOCK_BYTES", 1 << 12)
    rows = [native_row(f"D{n}", event_date=f"{1 + n % 28:02d}/01/2025") for n in range(200)]
    path = write_csv(tmp_path / "dayfirst.csv", NATIVE_COLUMNS, rows)
    whole = compare([path], tmp_path, chunk_rows=1000)
    assert whole.events["event_date"].iloc[20] == pd.Timestamp("2025-01-21")


def test_a_file_that_no_chunk_can_date_alone_is_dated_as_a_whole(tmp_path):
    """The first chunk's 05/01/2025 alone could be either order; a later chunk's 13/01/2025 settles it."""
    path = acled_file(tmp_path)
    events, _ = streamed([path], 2)
    assert events.set_index("event_id").loc["UKR8", "event_date"] == pd.Timestamp("2025-01-06")


# ------------------------------------------------------------------ the database


def table_rows(url):
    with psycopg.connect(url) as conn:
        columns = [c for c in pg_import.LOADED_COLUMNS if c != "search_text"] + ["search_text"]
        events = conn.execute(f"SELECT seq, {', '.join(columns)} FROM events ORDER BY seq").fetchall()
        imports = conn.execute("SELECT source, format, rows_read, rows_loaded, rows_rejected FROM imports ORDER BY id").fetchall()
        visible = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    return events, imports, visible


@pytest.fixture
def two_databases():
    urls = new_database(), new_database()
    yield urls
    for url in urls:
        pg_databases.drop(url)


def whole_file_import(url, paths, replace=False):
    prepared = pg_import.prepare_for_import(paths)
    summary = pg_import.load_events(url, prepared.events, prepared.reports, replace=replace)
    return prepared.reports, summary


def test_streamed_import_fills_the_database_as_the_whole_file_import_does(files, tmp_path, two_databases):
    streamed_url, whole_url = two_databases
    reports, summary = pg_import.import_files(streamed_url, files, chunk_rows=3)
    expected_reports, expected = whole_file_import(whole_url, files)
    assert_same_reports(reports, expected_reports)
    assert (summary.inserted, summary.updated, summary.unchanged) == (expected.inserted, expected.updated, expected.unchanged)
    assert table_rows(streamed_url) == table_rows(whole_url)  # same ids, fields, row numbers and seq (date order)

    # Re-imported with one event changed and one file left out (the upsert), then --replace.
    changed = native_file(tmp_path, "native.csv", summary="Clashes near Pokrovsk, revised.")
    for replace in (False, True):
        reports, summary = pg_import.import_files(streamed_url, [changed], chunk_rows=2, replace=replace)
        expected_reports, expected = whole_file_import(whole_url, [changed], replace=replace)
        assert_same_reports(reports, expected_reports)
        assert summary.sentence().split("; data version")[0] == expected.sentence().split("; data version")[0]
        assert table_rows(streamed_url) == table_rows(whole_url)
    assert summary.removed > 0


def test_a_streamed_first_import_is_stored_frozen_in_date_order(tmp_path, two_databases, monkeypatch):
    """Many chunks, spilled and read back in small windows: still one date-ordered, all-visible table."""
    from bench.common import synthetic_csv

    monkeypatch.setattr("dashboard.store.pg_stream.WINDOW_ROWS", 700)
    path = synthetic_csv(5_000, tmp_path)
    streamed_url, whole_url = two_databases
    pg_import.import_files(streamed_url, [path], chunk_rows=900)
    whole_file_import(whole_url, [path])
    assert table_rows(streamed_url) == table_rows(whole_url)
    with psycopg.connect(streamed_url) as conn:
        pages, visible = conn.execute("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'events'").fetchone()
        dates = [r[0] for r in conn.execute("SELECT event_date FROM events ORDER BY seq")]
    assert pages > 10 and visible == pages
    assert dates == sorted(dates) and len(set(dates)) > 100


def test_a_file_failing_after_others_were_copied_changes_nothing(files, tmp_path, two_databases):
    from dashboard.ingest.read import LoadError

    from dashboard.store.migrate import migrate

    url, _ = two_databases
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)  # an empty events table
    broken = write_csv(tmp_path / "broken.csv", ["event_id", "event_date"], [["X1", "2025-01-20"]])
    for state in ("empty", "loaded"):  # the spill path, then the staging path
        before = table_rows(url)
        with pytest.raises(LoadError, match="broken.csv: cannot tell the format"):
            pg_import.import_files(url, [*files, broken], chunk_rows=2)
        assert table_rows(url) == before
        if state == "empty":
            pg_import.import_files(url, [files[1]], chunk_rows=2)


def test_ids_repeated_across_many_files_are_rejected_as_before(files, tmp_path):
    again = [tmp_path / "again"]
    again[0].mkdir()
    copies = [acled_file(again[0]), native_file(again[0], malformed=False)]
    whole = compare([*files, *copies], tmp_path, 3)
    reasons = " ".join(whole.reports[3].rejects["reason"])
    assert "already loaded from acled.csv row" in reasons and "already loaded from native.csv row" in reasons


def test_id_hashes_depend_on_the_text_alone():
    """The first pass hashes pandas str columns, the second validated ids that may be objects."""
    import numpy as np
    import pyarrow as pa

    from dashboard.ingest.chunks import id_hashes

    texts = pd.Series(["UKR7", "UKR8", "", "UKR7", "ÜKR7", "UKR7 ", "UKR70"])
    hashes = id_hashes(texts)
    for other in (texts.astype(object), texts.to_numpy(dtype=object), pa.array(texts.tolist()), pa.array(texts.tolist(), pa.large_string())):
        assert np.array_equal(id_hashes(other), hashes)
    assert np.array_equal(id_hashes(texts.iloc[3:]), hashes[3:])  # a slice (an offset into Arrow's buffers)
    assert hashes[0] == hashes[3] and len(set(hashes.tolist())) == 6
