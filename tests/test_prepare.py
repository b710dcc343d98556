"""prepare_events: load + geocode + join, cached on disk and rebuilt when an input changes."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd
import pytest

from dashboard.ingest.prepare import prepare_events
from dashboard.schema import JOINED_COLUMNS, NATIVE_COLUMNS


def native_row(event_id: str, **changes) -> dict[str, str]:
    row = {c: "" for c in NATIVE_COLUMNS} | {
        "event_id": event_id,
        "event_date": "2025-01-20",
        "date_precision": "day",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "place": "Pokrovsk",
        "country": "Ukraine",
        "latitude": "48.28014",
        "longitude": "37.17706",
        "geo_precision": "town",
        "summary": f"event {event_id}",
    }
    row.update(changes)
    return row


def write_native(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, NATIVE_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def assert_reports_add_up(prepared):
    for report in prepared.reports:
        assert report.rows_read == report.rows_loaded + report.rows_rejected + report.rows_folded, report.source
        assert report.rows_rejected == (report.rejects["row"].nunique() if len(report.rejects) else 0)


def assert_same_reports(a, b):
    assert len(a.reports) == len(b.reports)
    for x, y in zip(a.reports, b.reports):
        assert (x.source, x.format, x.rows_read, x.rows_loaded, x.rows_rejected, x.join_notes) == (
            y.source,
            y.format,
            y.rows_read,
            y.rows_loaded,
            y.rows_rejected,
            y.join_notes,
        )
        assert x.rejects.astype(str).to_dict("records") == y.rejects.astype(str).to_dict("records")


@pytest.fixture
def events_file(tmp_path) -> Path:
    rows = [
        native_row("A1"),
        native_row("A2", place="Kazan", country="Russia", latitude="", longitude=""),  # geocoded
        native_row("A3", event_date="never"),  # rejected
        native_row("A4", latitude="44.0", longitude="34.0"),  # off Crimea, far out: no region
    ]
    return write_native(tmp_path / "a.csv", rows)


def test_first_call_builds_the_second_reads_the_cache(tmp_path, events_file):
    cache = tmp_path / "cache"
    first = prepare_events([events_file], cache_dir=cache)
    assert first.from_cache is False
    assert list(cache.glob("events-*.parquet"))
    second = prepare_events([events_file], cache_dir=cache)
    assert second.from_cache is True
    pd.testing.assert_frame_equal(second.events, first.events)
    assert_same_reports(first, second)
    assert_reports_add_up(first)
    assert_reports_add_up(second)


def test_prepared_events_are_joined_and_reported(tmp_path, events_file):
    prepared = prepare_events([events_file], cache_dir=tmp_path / "cache")
    events = prepared.events.set_index("event_id")
    assert list(events.index) == ["A1", "A2", "A4"]
    for column in [*JOINED_COLUMNS, "source_file"]:
        assert column in prepared.events.columns
    assert events.loc["A1", "admin1_code"] == "UA-14"
    assert events.loc["A2", "admin1_code"] == "RU-TA"  # geocoded, then joined
    assert events.loc["A4", "admin1_code"] == ""
    assert (events["source_file"] == "a.csv").all()
    (report,) = prepared.reports
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 3, 1)
    assert report.rejects["row"].tolist() == [4]  # line 4: the header is line 1
    assert report.join_notes == ["row 5 (A4): outside every region"]
    assert report.summary() == "4 rows read, 3 loaded, 1 rejected"


def test_use_cache_false_neither_reads_nor_writes(tmp_path, events_file):
    cache = tmp_path / "cache"
    prepared = prepare_events([events_file], cache_dir=cache, use_cache=False)
    assert prepared.from_cache is False
    assert not cache.exists()


def test_changing_the_input_rebuilds(tmp_path, events_file):
    cache = tmp_path / "cache"
    first = prepare_events([events_file], cache_dir=cache)
    write_native(events_file, [native_row("B1"), native_row("B2", event_type="Protests", sub_event_type="")])
    stat = events_file.stat()
    os.utime(events_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    rebuilt = prepare_events([events_file], cache_dir=cache)
    assert rebuilt.from_cache is False
    assert rebuilt.events["event_id"].tolist() == ["B1", "B2"]
    assert rebuilt.reports[0].rows_read == 2
    assert prepare_events([events_file], cache_dir=cache).from_cache is True
    assert first.events["event_id"].tolist() != rebuilt.events["event_id"].tolist()


def test_touching_the_input_rebuilds(tmp_path, events_file):
    cache = tmp_path / "cache"
    prepare_events([events_file], cache_dir=cache)
    stat = events_file.stat()
    os.utime(events_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = prepare_events([events_file], cache_dir=cache)
    assert again.from_cache is False


def test_other_import_options_are_other_cache_entries(tmp_path, events_file):
    cache = tmp_path / "cache"
    prepare_events([events_file], cache_dir=cache)
    assert prepare_events([events_file], fmt="native", cache_dir=cache).from_cache is False
    assert prepare_events([events_file], fmt="native", cache_dir=cache).from_cache is True


def test_a_damaged_cache_is_rebuilt(tmp_path, events_file):
    cache = tmp_path / "cache"
    first = prepare_events([events_file], cache_dir=cache)
    for damaged in cache.glob("events-*.parquet"):
        damaged.write_bytes(b"not parquet")
    again = prepare_events([events_file], cache_dir=cache)
    assert again.from_cache is False
    pd.testing.assert_frame_equal(again.events, first.events)


def test_an_id_from_an_earlier_file_is_a_duplicate_in_a_later_one(tmp_path):
    first = write_native(tmp_path / "first.csv", [native_row("X1"), native_row("X2")])
    second = write_native(tmp_path / "second.csv", [native_row("Y1"), native_row("X2", summary="again"), native_row("Y1")])
    cache = tmp_path / "cache"
    for attempt in range(2):  # built, then from the cache: the same answer
        prepared = prepare_events([first, second], cache_dir=cache)
        assert prepared.from_cache is bool(attempt)
        assert prepared.events["event_id"].tolist() == ["X1", "X2", "Y1"]
        x2 = prepared.events.set_index("event_id").loc["X2"]
        assert (x2["summary"], x2["source_file"]) == ("event X2", "first.csv")
        one, two = prepared.reports
        assert (one.rows_read, one.rows_loaded, one.rows_rejected) == (2, 2, 0)
        # Y1 twice, identical: collapsed into one event, not rejected.
        assert (two.rows_read, two.rows_loaded, two.rows_rejected, two.rows_folded) == (3, 1, 1, 1)
        assert two.folded[["row", "how", "into_row"]].values.tolist() == [[4, "identical", 2]]
        rejects = [(int(r.row), r.column, r.reason) for r in two.rejects.itertuples()]
        assert rejects == [
            (3, "event_id", "duplicate event_id (already loaded from first.csv row 3)"),
        ]
        assert_reports_add_up(prepared)


def test_the_same_file_given_twice_loads_its_events_once(tmp_path):
    path = write_native(tmp_path / "a.csv", [native_row("A1")])
    prepared = prepare_events([path, path], cache_dir=tmp_path / "cache")
    assert prepared.events["event_id"].tolist() == ["A1"]
    assert prepared.reports[1].rows_rejected == 1
    assert "already loaded from a.csv row 2" in prepared.reports[1].rejects["reason"].iloc[0]


def test_a_file_with_every_row_rejected(tmp_path):
    path = write_native(tmp_path / "bad.csv", [native_row("A1", event_date="never"), native_row("A2", place="Nowhereville", latitude="0", longitude="0")])
    cache = tmp_path / "cache"
    for attempt in range(2):
        prepared = prepare_events([path], cache_dir=cache)
        assert prepared.from_cache is bool(attempt)
        assert len(prepared.events) == 0
        assert prepared.reports[0].summary() == "2 rows read, 0 loaded, 2 rejected"
        assert_reports_add_up(prepared)


def test_the_cache_is_geoparquet_that_geopandas_reads_as_points(tmp_path):
    import geopandas as gpd

    prepared = prepare_events(cache_dir=tmp_path)
    (cached,) = list(tmp_path.glob("events-*.parquet"))
    frame = gpd.read_parquet(cached)
    assert frame.crs.to_string() == "OGC:CRS84"
    assert list(frame.geometry.x) == list(prepared.events["longitude"])
    assert list(frame.geometry.y) == list(prepared.events["latitude"])
