"""Loading and validating event files: every importer, every rejection reason, whole-file errors.

Every fixture is written here into tmp_path.  Every load goes through `load()`,
which also checks the contract: rows_read == rows_loaded + rows_rejected.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.boundaries import load_admin1
from dashboard.ingest.gazetteer import Gazetteer
from dashboard.ingest.load import (
    ACLED_COLUMNS,
    UCDP_COLUMNS,
    LoadError,
    LoadResult,
    load_events,
    parse_mapping,
    parse_type_values,
)
from dashboard.ingest.write import events_to_csv, write_rejects
from dashboard.schema import NATIVE_COLUMNS

# The column lists as /work/shared/docs/schemas.md gives them (export order),
# copied here so that a mistake in load.py's own lists is caught.
ACLED_EXPORT_COLUMNS = """
event_id_cnty, event_date, year, time_precision, disorder_type, event_type,
sub_event_type, actor1, assoc_actor_1, inter1, actor2, assoc_actor_2, inter2,
interaction, civilian_targeting, iso, region, country, admin1, admin2, admin3,
location, latitude, longitude, geo_precision, source, source_scale, notes,
fatalities, tags, timestamp
""".replace(",", " ").split()

UCDP_GED_COLUMNS = """
id, relid, year, active_year, code_status, type_of_violence, conflict_dset_id,
conflict_new_id, conflict_name, dyad_dset_id, dyad_new_id, dyad_name,
side_a_dset_id, side_a_new_id, side_a, side_b_dset_id, side_b_new_id, side_b,
number_of_sources, source_article, source_office, source_date, source_headline,
source_original, where_prec, where_coordinates, where_description, adm_1, adm_2,
latitude, longitude, geom_wkt, priogrid_gid, country, country_id, region,
event_clarity, date_prec, date_start, date_end, deaths_a, deaths_b,
deaths_civilians, deaths_unknown, best, high, low, gwnoa, gwnob
""".replace(",", " ").split()

POKROVSK = ("48.28014", "37.17706")
KAZAN_RU = (55.78874, 49.12214)


# ----------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.from_admin1(load_admin1())


def native_row(event_id: str = "E1", **changes) -> dict[str, str]:
    """One valid native row (Pokrovsk, a battle); keyword arguments change fields."""
    row = {
        "event_id": event_id,
        "event_date": "2025-01-20",
        "date_precision": "day",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actor1": "Military Forces of Russia (2000-)",
        "actor2": "Military Forces of Ukraine (2019-)",
        "place": "Pokrovsk",
        "admin1": "Donetsk",
        "country": "Ukraine",
        "latitude": POKROVSK[0],
        "longitude": POKROVSK[1],
        "geo_precision": "town",
        "fatalities": "3",
        "summary": "Clashes near Pokrovsk.",
        "source_name": "RFE/RL",
        "source_url": "https://www.rferl.org/a/example.html",
        "report_date": "2025-01-21",
    }
    unknown = set(changes) - set(row)
    assert not unknown, unknown
    row.update(changes)
    return row


def write_csv(path: Path, header: list[str], rows: list[dict] | list[list], encoding: str = "utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as handle:
        # "\r\n", as RFC 4180 has it: with "\n" the csv module leaves a field
        # holding a lone "\r" unquoted, and every reader splits the record there.
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(c, "") for c in header] if isinstance(row, dict) else row)
    return path


def write_native(tmp_path: Path, rows: list[dict], name: str = "events.csv") -> Path:
    return write_csv(tmp_path / name, NATIVE_COLUMNS, rows)


def load(path, gazetteer=None, **options) -> LoadResult:
    """load_events, plus the contract every load must keep."""
    result = load_events(path, gazetteer=gazetteer, **options)
    assert result.rows_read == result.rows_loaded + result.rows_rejected + result.rows_folded
    rejected_rows = set(result.rejects["row"])
    loaded_rows = set(result.events["source_row"])
    assert not rejected_rows & loaded_rows, "a row both loaded and rejected"
    assert len(loaded_rows) == result.rows_loaded, "two events from one row"
    assert list(result.rejects.columns) == ["row", "column", "reason", "value"]
    assert list(result.warnings.columns) == ["row", "column", "reason", "value"]
    assert set(result.warnings["row"]) <= loaded_rows, "a warning for a row not loaded"
    return result


def problems(result: LoadResult) -> list[tuple[int, str, str]]:
    return [(int(r.row), r.column, r.reason) for r in result.rejects.itertuples()]


def assert_one_rejected_row(result: LoadResult, row: int, column: str, reason_part: str, value: str | None = None):
    rejects = result.rejects
    assert list(rejects["row"]) == [row], problems(result)
    assert rejects["column"].iloc[0] == column, problems(result)
    assert reason_part in rejects["reason"].iloc[0], problems(result)
    if value is not None:
        assert rejects["value"].iloc[0] == value


def acled_row(event_id: str = "UKR100001", **changes) -> dict[str, str]:
    row = {
        "event_id_cnty": event_id,
        "event_date": "2025-01-20",
        "year": "2025",
        "time_precision": "1",
        "disorder_type": "Political violence",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actor1": "Military Forces of Russia (2000-)",
        "assoc_actor_1": "",
        "inter1": "State forces",
        "actor2": "Military Forces of Ukraine (2019-)",
        "assoc_actor_2": "",
        "inter2": "State forces",
        "interaction": "State forces-State forces",
        "civilian_targeting": "",
        "iso": "804",
        "region": "Europe",
        "country": "Ukraine",
        "admin1": "Donetsk",
        "admin2": "Pokrovskyi",
        "admin3": "Pokrovska",
        "location": "Pokrovsk",
        "latitude": "48.2801",
        "longitude": "37.1771",
        "geo_precision": "1",
        "source": "Ukrinform; Ministry of Defence of Ukraine",
        "source_scale": "National",
        "notes": "On 20 January 2025, Russian forces clashed with Ukrainian forces near Pokrovsk.",
        "fatalities": "0",
        "tags": "",
        "timestamp": "1737504000",
    }
    assert set(changes) <= set(row)
    row.update(changes)
    return row


def ucdp_row(event_id: str = "536001", **changes) -> dict[str, str]:
    row = {
        "id": event_id,
        "relid": f"UKR-2014-1-{event_id}",
        "year": "2014",
        "active_year": "1",
        "code_status": "Clear",
        "type_of_violence": "1",
        "conflict_dset_id": "13243",
        "conflict_new_id": "13243",
        "conflict_name": "Ukraine: Novorossiya",
        "dyad_dset_id": "14731",
        "dyad_new_id": "14731",
        "dyad_name": "Government of Ukraine - DPR",
        "side_a_dset_id": "129",
        "side_a_new_id": "129",
        "side_a": "Government of Ukraine",
        "side_b_dset_id": "6148",
        "side_b_new_id": "6148",
        "side_b": "DPR",
        "number_of_sources": "1",
        "source_article": '"Reuters,2014-05-02,Ukraine forces move on Slaviansk"',
        "source_office": "Reuters",
        "source_date": "2014-05-02",
        "source_headline": "Ukraine forces move on Slaviansk",
        "source_original": "Ukrainian military",
        "where_prec": "1",
        "where_coordinates": "Slov'yansk town",
        "where_description": "Sloviansk",
        "adm_1": "Donetsk province",
        "adm_2": "",
        "latitude": "48.8522",
        "longitude": "37.6161",
        "geom_wkt": "POINT (37.6161 48.8522)",
        "priogrid_gid": "180675",
        "country": "Ukraine",
        "country_id": "369",
        "region": "Europe",
        "event_clarity": "1",
        "date_prec": "1",
        "date_start": "2014-05-02",
        "date_end": "2014-05-02",
        "deaths_a": "2",
        "deaths_b": "3",
        "deaths_civilians": "0",
        "deaths_unknown": "0",
        "best": "5",
        "high": "7",
        "low": "5",
        "gwnoa": "369",
        "gwnob": "",
    }
    assert set(changes) <= set(row)
    row.update(changes)
    return row


def write_geojson(path: Path, features: list[tuple[dict | None, dict]]) -> Path:
    """features: (geometry as GeoJSON dict or None, properties)."""
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in features],
    }
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def without_coordinates(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("latitude", "longitude")}


# ------------------------------------------------------------ column lists


def test_the_importers_know_the_real_column_lists():
    assert ACLED_COLUMNS == ACLED_EXPORT_COLUMNS
    assert len(ACLED_COLUMNS) == 31
    assert UCDP_COLUMNS == UCDP_GED_COLUMNS
    assert len(UCDP_COLUMNS) == 49


# ------------------------------------------------------------------ native


def test_native_csv_loads_every_column_typed(tmp_path):
    path = write_native(tmp_path, [native_row("E1"), native_row("E2", fatalities="", report_date="", geo_precision="near")])
    result = load(path)
    assert result.format == "native"
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 2, 0)
    assert result.summary() == "2 rows read, 2 loaded, 0 rejected"
    assert result.custom_types == []
    events = result.events
    assert list(events.columns) == [*NATIVE_COLUMNS, "warnings", "source_row"]
    assert events["warnings"].tolist() == ["", ""]
    first = events.iloc[0]
    assert first["event_id"] == "E1"
    assert first["event_date"] == pd.Timestamp("2025-01-20")
    assert first["report_date"] == pd.Timestamp("2025-01-21")
    assert first["latitude"] == pytest.approx(48.28014)
    assert first["longitude"] == pytest.approx(37.17706)
    assert first["fatalities"] == 3
    assert first["actor1"] == "Military Forces of Russia (2000-)"
    assert events["source_row"].tolist() == [2, 3]  # line numbers: the header is line 1
    assert pd.api.types.is_datetime64_any_dtype(events["event_date"])
    assert str(events["fatalities"].dtype) == "Int64"
    assert events["latitude"].dtype == np.float64
    assert pd.isna(events.loc[1, "fatalities"])
    assert pd.isna(events.loc[1, "report_date"])
    assert events.loc[1, "geo_precision"] == "near"


@pytest.mark.parametrize(
    ("column", "written", "stored"),
    [
        ("date_precision", "", "day"),
        ("date_precision", "Week", "week"),
        ("date_precision", "3", "month"),
        ("geo_precision", "", "town"),
        ("geo_precision", "2", "near"),
        ("geo_precision", "3.0", "region"),
        ("geo_precision", "COUNTRY", "country"),
    ],
)
def test_precision_words_and_numbers(tmp_path, column, written, stored):
    result = load(write_native(tmp_path, [native_row(**{column: written})]))
    assert result.events.loc[0, column] == stored


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("2025-01-20", "2025-01-20"),
        ("20 January 2025", "2025-01-20"),
        ("20 Jan 2025", "2025-01-20"),
        ("1/20/2025", "2025-01-20"),
        ("1/22/2014 12:00:00 AM", "2014-01-22"),
        ("20.01.2025", "2025-01-20"),
        ("20-Jan-2025", "2025-01-20"),
        ("9-May-20", "2020-05-09"),
        ("31-12-19", "2019-12-31"),
        ("January 20, 2025", "2025-01-20"),
        ("2025/01/20", "2025-01-20"),
        ("45677", "2025-01-20"),  # an Excel serial day number
        ("45677.75", "2025-01-20"),
        ("2025-01-20T18:30:00", "2025-01-20"),
        ("2025-01-20T23:30:00-05:00", "2025-01-20"),  # the local day, not UTC's
        ("2025-01-20T00:30:00Z", "2025-01-20"),
    ],
)
def test_date_formats(tmp_path, written, day):
    result = load(write_native(tmp_path, [native_row(event_date=written)]))
    assert result.events.loc[0, "event_date"] == pd.Timestamp(day)


def test_dates_with_different_utc_offsets_in_one_column(tmp_path):
    rows = [
        native_row("E1", event_date="2025-01-20T10:00:00+02:00"),
        native_row("E2", event_date="2025-01-21T10:00:00Z"),
        native_row("E3", event_date="2025-01-22"),
    ]
    result = load(write_native(tmp_path, rows))
    assert result.events["event_date"].tolist() == [pd.Timestamp(d) for d in ("2025-01-20", "2025-01-21", "2025-01-22")]


def test_missing_coordinates_are_geocoded_from_place_country_and_region(tmp_path, gazetteer):
    rows = [
        without_coordinates(native_row("E1", place="Kazan", admin1="", country="Russia")),
        without_coordinates(native_row("E2", place="Kazan", admin1="Tatarstan", country="")),
        without_coordinates(native_row("E3", place="Ukraine", admin1="", country="Ukraine", geo_precision="country")),
    ]
    result = load(write_native(tmp_path, rows), gazetteer)
    assert result.rows_rejected == 0, problems(result)
    events = result.events
    assert events.loc[0, ["latitude", "longitude"]].tolist() == pytest.approx(KAZAN_RU)
    assert events.loc[1, ["latitude", "longitude"]].tolist() == pytest.approx(KAZAN_RU)
    kyiv = gazetteer.geocode("Kyiv", "UA")
    assert events.loc[2, ["latitude", "longitude"]].tolist() == pytest.approx([kyiv.latitude, kyiv.longitude])


def test_given_coordinates_are_kept_not_geocoded(tmp_path, gazetteer):
    result = load(write_native(tmp_path, [native_row(place="Kazan", country="", latitude="48.5", longitude="37.5")]), gazetteer)
    assert result.events.loc[0, ["latitude", "longitude"]].tolist() == [48.5, 37.5]


# ------------------------------------------------------------- rejections


def future_day(days: int = 30) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


REJECTIONS = {
    # What makes an event unusable. name: (changes to a valid row, column, part of the reason)
    "empty date": (dict(event_date=""), "event_date", "required field is empty"),
    "unparseable date": (dict(event_date="20/20/2025"), "event_date", "not a date"),
    "word for a date": (dict(event_date="yesterday"), "event_date", "not a date"),
    "now is not a date": (dict(event_date="now"), "event_date", "not a date"),
    "date in the future": (dict(event_date=future_day()), "event_date", "in the future"),
    "date before 1900": (dict(event_date="1850-03-01"), "event_date", "before 1900"),
    "latitude out of range": (dict(latitude="-95.5", longitude="120.0"), "latitude", "latitude out of range"),
    "longitude out of range": (dict(latitude="48.3", longitude="181"), "longitude", "longitude out of range"),
    "swapped lat/lon": (dict(latitude="137.25", longitude="48.3"), "latitude", "look swapped"),
    "zero zero": (dict(latitude="0", longitude="0.0"), "latitude", "coordinates are 0,0"),
    "latitude without longitude": (dict(latitude="48.28", longitude=""), "latitude", "must both be given"),
    "longitude without latitude": (dict(latitude="", longitude="37.17"), "latitude", "must both be given"),
    "non-numeric latitude": (dict(latitude="48,28"), "latitude", "not a number"),
    "non-numeric longitude": (dict(longitude="37°10′E"), "longitude", "not a number"),
    "unknown event type": (dict(event_type="Shelling", sub_event_type=""), "event_type", "unknown event type 'Shelling'"),
    "empty event_type": (dict(event_type="", sub_event_type=""), "event_type", "required field is empty"),
}

# Problems in fields an event can do without: the event loads, the field is
# emptied (or repaired), and a warning says so. name: (changes, column, reason, stored value)
WARNINGS = {
    "sub-type of another type": (dict(sub_event_type="Air/drone strike"), "sub_event_type", "not a sub-event type of Battles, left empty", ""),
    "negative fatalities": (dict(fatalities="-1"), "fatalities", "not a whole number of 0 or more", None),
    "fractional fatalities": (dict(fatalities="1.5"), "fatalities", "not a whole number of 0 or more", None),
    "text fatalities": (dict(fatalities="dozens"), "fatalities", "not a whole number of 0 or more", None),
    "huge fatalities": (dict(fatalities="99999999999999999999"), "fatalities", "too large a number", None),
    "javascript url": (dict(source_url="javascript:alert(1)"), "source_url", "not a link, kept as a note: javascript:alert(1)", ""),
    "ftp url": (dict(source_url="ftp://example.org/x"), "source_url", "not a link, kept as a note", ""),
    "a note for a link": (
        dict(source_url="Access can be requested, hidden for privacy reasons"), "source_url",
        "not a link, kept as a note: Access can be requested, hidden for privacy reasons", "",
    ),
    "telegram without https": (dict(source_url="t.me/channel/1234"), "source_url", "link without https://", "https://t.me/channel/1234"),
    "www without https": (dict(source_url="www.example.org/a?b=1"), "source_url", "link without https://", "https://www.example.org/a?b=1"),
    "unknown geo precision": (dict(geo_precision="exact"), "geo_precision", "unknown geo precision, read as town", "town"),
    "unknown date precision": (dict(date_precision="fortnight"), "date_precision", "unknown date precision, read as day", "day"),
    "bad report date": (dict(report_date="soon"), "report_date", "not a date, left empty", None),
    "empty event_id": (dict(event_id=""), "event_id", "no event_id; one was made from the row's content", None),
}


@pytest.mark.parametrize("name", list(REJECTIONS))
def test_each_rejection_names_line_column_and_reason(tmp_path, name):
    changes, column, reason = REJECTIONS[name]
    bad = native_row(**{"event_id": "E2", **changes})
    path = write_native(tmp_path, [native_row("E1"), bad, native_row("E3")])
    result = load(path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    # Line 3 of the file (the header is line 1), one problem per row and column.
    assert_one_rejected_row(result, 3, column, reason, value=bad[column])
    assert result.events["event_id"].tolist() == ["E1", "E3"]
    assert result.events["source_row"].tolist() == [2, 4]
    assert len(result.warnings) == 0


@pytest.mark.parametrize("name", list(WARNINGS))
def test_a_bad_optional_field_keeps_the_event_with_a_warning(tmp_path, name):
    changes, column, reason, stored = WARNINGS[name]
    bad = native_row(**{"event_id": "E2", **changes})
    result = load(write_native(tmp_path, [native_row("E1"), bad, native_row("E3")]))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 3, 0), problems(result)
    assert [(int(w.row), w.column, w.value) for w in result.warnings.itertuples()] == [(3, column, bad[column])]
    assert reason in result.warnings["reason"].iloc[0]
    events = result.events
    assert events["warnings"].tolist() == ["", f"{column}: {result.warnings['reason'].iloc[0]}", ""]
    value = events.loc[1, column]
    if stored is None:
        assert pd.isna(value) or (column == "event_id" and value.startswith("row-")), value
    else:
        assert value == stored
    assert "1 warning" in result.summary()


def test_several_problems_in_one_row_are_all_listed_but_the_row_counts_once(tmp_path):
    bad = native_row("E2", event_date="never", latitude="999", event_type="")
    result = load(write_native(tmp_path, [native_row("E1"), bad]))
    assert result.rows_rejected == 1
    assert [(row, column) for row, column, _ in problems(result)] == [(3, "event_date"), (3, "event_type"), (3, "latitude")]


def test_warnings_of_one_row_are_all_listed_and_joined_in_its_record(tmp_path):
    bad = native_row("E2", fatalities="-3", source_url="javascript:alert(1)")
    result = load(write_native(tmp_path, [native_row("E1"), bad]))
    assert result.rows_rejected == 0 and result.rows_warned == 1
    assert [(int(w.row), w.column) for w in result.warnings.itertuples()] == [(3, "fatalities"), (3, "source_url")]
    assert result.events.loc[1, "warnings"] == (
        "fatalities: not a whole number of 0 or more, left empty; source_url: not a link, kept as a note: javascript:alert(1)"
    )


def test_bad_coordinates_with_a_place_the_gazetteer_finds_keep_the_event(tmp_path, gazetteer):
    row = native_row("E1", place="Kazan", admin1="", country="Russia", latitude="0", longitude="0")
    result = load(write_native(tmp_path, [row]), gazetteer)
    assert result.rows_rejected == 0, problems(result)
    assert result.events.loc[0, ["latitude", "longitude"]].tolist() == pytest.approx(KAZAN_RU)
    assert "coordinates are 0,0" in result.events.loc[0, "warnings"] and "placed by the gazetteer at 'Kazan'" in result.events.loc[0, "warnings"]


def test_accepted_edge_values(tmp_path):
    rows = [
        native_row("E1", fatalities="0"),
        native_row("E2", fatalities="12.0"),
        native_row("E3", latitude="-90", longitude="180"),
        native_row("E4", source_url="HTTP://example.org/a"),
        native_row("E5", event_date=dt.date.today().isoformat()),
        native_row("E6", event_type="Strategic developments", sub_event_type=""),
    ]
    result = load(write_native(tmp_path, rows))
    assert result.rows_rejected == 0, problems(result)
    assert result.events["fatalities"].tolist()[:2] == [0, 12]


def test_a_repeated_id_with_other_content_loads_under_a_derived_id(tmp_path):
    rows = [native_row("A"), native_row("B"), native_row("A", summary="second copy"), native_row("A", summary="third")]
    result = load(write_native(tmp_path, rows))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected, result.rows_folded) == (4, 4, 0, 0)
    assert result.events["event_id"].tolist() == ["A", "B", "A~2", "A~3"]
    assert [(int(w.row), w.column, w.reason) for w in result.warnings.itertuples()] == [
        (4, "event_id", "event_id repeated with different content (first on row 2); loaded as A~2"),
        (5, "event_id", "event_id repeated with different content (first on row 2); loaded as A~3"),
    ]
    kept = result.events.set_index("event_id")
    assert kept.loc["A", "summary"] == "Clashes near Pokrovsk."
    assert kept.loc["A~3", "summary"] == "third"


def test_on_duplicate_reject_rejects_later_copies_with_other_content(tmp_path):
    rows = [native_row("A"), native_row("B"), native_row("A", summary="second copy"), native_row("A")]
    result = load(write_native(tmp_path, rows), on_duplicate="reject")
    assert problems(result) == [(4, "event_id", "duplicate event_id with different content (first on row 2)")]
    assert result.events["event_id"].tolist() == ["A", "B"]
    assert result.folded[["row", "how", "into_row"]].values.tolist() == [[5, "identical", 2]]
    assert result.summary() == "4 rows read, 2 loaded, 1 rejected, 1 identical row collapsed"


def test_identical_rows_collapse_and_are_counted(tmp_path):
    rows = [native_row("A"), native_row("A"), native_row("B"), native_row("A")]
    result = load(write_native(tmp_path, rows))
    assert result.events["event_id"].tolist() == ["A", "B"]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected, result.rows_folded) == (4, 2, 0, 2)
    assert result.summary() == "4 rows read, 2 loaded, 0 rejected, 2 identical rows collapsed"
    assert result.folded["row"].tolist() == [3, 5]


def test_a_rejected_first_copy_does_not_block_a_valid_second(tmp_path):
    rows = [native_row("A", event_date="not a date"), native_row("A", summary="the good copy")]
    result = load(write_native(tmp_path, rows))
    assert problems(result) == [(2, "event_date", "not a date (expected e.g. 2025-01-20, 20 January 2025, 20-Jan-2025 or 1/20/2025)")]
    assert result.events["summary"].tolist() == ["the good copy"]
    assert result.events["event_id"].tolist() == ["A"]


def test_malformed_rows_are_rejected_with_their_record_number(tmp_path):
    path = tmp_path / "events.csv"
    good = [native_row(f"E{i}") for i in range(1, 6)]
    write_native(tmp_path, good)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = "E2,2025-01-20,day"  # record 2: 3 fields
    lines[4] = lines[4] + ",extra"  # record 4: 19 fields
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load(path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (5, 3, 2)
    assert problems(result) == [
        (3, "", f"has 3 fields, the header has {len(NATIVE_COLUMNS)}"),
        (5, "", f"has {len(NATIVE_COLUMNS) + 1} fields, the header has {len(NATIVE_COLUMNS)}"),
    ]
    assert result.rejects["value"].iloc[0] == "E2,2025-01-20,day"
    assert result.events["event_id"].tolist() == ["E1", "E3", "E5"]
    assert result.events["source_row"].tolist() == [2, 4, 6]


def test_row_numbers_are_line_numbers(tmp_path):
    # Record 1 spans three lines (header on line 1, so lines 2-4); a blank
    # line 5 follows it; record 2 is on line 6, record 3 on line 7.  The
    # numbers must be the same whether or not a malformed row sends the file
    # down the careful path.
    rows = [native_row("E1", summary="line one\nline two\nline three"), native_row("E2"), native_row("E3", event_date="bad")]
    for malformed in (False, True):
        path = write_native(tmp_path, rows, f"records-{malformed}.csv")
        text = path.read_text(encoding="utf-8")
        head, _, rest = text.partition("E2,")
        text = head + "\n" + "E2," + rest  # a blank line before record 2
        if malformed:
            text += "E4,2025-01-20\n"
        path.write_text(text, encoding="utf-8")
        result = load(path)
        expected = [(7, "event_date", "not a date (expected e.g. 2025-01-20, 20 January 2025, 20-Jan-2025 or 1/20/2025)")]
        if malformed:
            expected.append((8, "", f"has 2 fields, the header has {len(NATIVE_COLUMNS)}"))
        assert problems(result) == expected, malformed
        assert result.events["source_row"].tolist() == [2, 6], malformed
        assert result.events.loc[0, "summary"] == "line one\nline two\nline three"


def test_ungeocodable_places_are_rejected(tmp_path, gazetteer):
    rows = [
        without_coordinates(native_row("E1", place="Nowhereville", admin1="", country="")),
        without_coordinates(native_row("E2", place="Kazan", admin1="", country="")),
        without_coordinates(native_row("E3", place="Kazan", admin1="", country="Russia")),
        without_coordinates(native_row("E4", place="", admin1="", country="")),
    ]
    result = load(write_native(tmp_path, rows), gazetteer)
    found = problems(result)
    assert [(row, column) for row, column, _ in found] == [(2, "place"), (3, "place"), (5, "place")]
    assert "'Nowhereville' not found in the gazetteer" in found[0][2]
    assert "'Kazan' is ambiguous" in found[1][2] and "(RU, GeoNames" in found[1][2] and "(TR, GeoNames" in found[1][2]
    assert "no place name" in found[2][2]
    assert result.events["event_id"].tolist() == ["E3"]


def test_no_coordinates_and_no_gazetteer_is_a_rejection(tmp_path):
    result = load(write_native(tmp_path, [native_row("E1"), without_coordinates(native_row("E2"))]))
    assert_one_rejected_row(result, 3, "latitude", "no gazetteer")


# ------------------------------------------------------------------- ACLED


def test_acled_export(tmp_path):
    rows = [
        acled_row("UKR1", event_date="20 January 2025"),
        acled_row("UKR2", time_precision="2", geo_precision="2"),
        acled_row("UKR3", time_precision="3", geo_precision="3", event_type="Explosions/Remote violence", sub_event_type="Air/drone strike", fatalities="4"),
    ]
    path = write_csv(tmp_path / "acled.csv", ACLED_EXPORT_COLUMNS, rows)
    result = load(path)
    assert result.format == "acled"
    assert result.rows_rejected == 0, problems(result)
    events = result.events.set_index("event_id")
    assert list(events.index) == ["UKR1", "UKR2", "UKR3"]
    assert (events["event_date"] == pd.Timestamp("2025-01-20")).all()
    assert events["date_precision"].tolist() == ["day", "week", "month"]
    assert events["geo_precision"].tolist() == ["town", "near", "region"]
    edited = dt.datetime.fromtimestamp(1737504000, dt.timezone.utc).date()
    assert (events["report_date"] == pd.Timestamp(edited)).all()
    one = events.loc["UKR1"]
    assert (one["place"], one["admin1"], one["country"]) == ("Pokrovsk", "Donetsk", "Ukraine")
    assert (one["latitude"], one["longitude"]) == (48.2801, 37.1771)
    assert one["actor1"] == "Military Forces of Russia (2000-)"
    assert one["actor2"] == "Military Forces of Ukraine (2019-)"
    assert one["summary"].startswith("On 20 January 2025")
    assert one["source_name"] == "Ukrinform; Ministry of Defence of Ukraine"
    assert one["source_url"] == ""
    assert events.loc["UKR3", "fatalities"] == 4


def test_acled_rejects_what_acled_never_has(tmp_path):
    rows = [acled_row("UKR1"), acled_row("UKR2", event_type="Shelling", sub_event_type=""), acled_row("UKR1"), acled_row("UKR4", event_date="32 January 2025")]
    result = load(write_csv(tmp_path / "acled.csv", ACLED_EXPORT_COLUMNS, rows))
    assert [(row, column) for row, column, _ in problems(result)] == [(3, "event_type"), (5, "event_date")]
    assert "unknown event type 'Shelling'" in problems(result)[0][2]
    assert result.folded[["row", "how", "into_row"]].values.tolist() == [[4, "identical", 2]]


def test_acled_without_essential_columns_is_a_load_error(tmp_path):
    columns = [c for c in ACLED_EXPORT_COLUMNS if c not in ("latitude", "longitude")]
    row = {k: v for k, v in acled_row().items() if k in columns}
    path = write_csv(tmp_path / "acled.csv", columns, [list(row.values())])
    with pytest.raises(LoadError, match="not a complete ACLED export: missing columns latitude, longitude"):
        load_events(path, "acled")


def test_older_acled_export_without_optional_columns_loads(tmp_path):
    path = write_csv(tmp_path / "acled.csv", ACLED_EXPORT_COLUMNS[:-3], [list(acled_row().values())[:-3]])
    result = load_events(path, "acled")
    assert result.rows_loaded == 1 and result.events["fatalities"].isna().all()


# -------------------------------------------------------------------- UCDP


def test_ucdp_ged(tmp_path):
    rows = [
        ucdp_row("1001", type_of_violence="1", date_start="1/22/2014 12:00:00 AM", date_end="1/22/2014 12:00:00 AM"),
        ucdp_row(
            "1002",
            type_of_violence="2",
            date_start="05/02/2014 00:00",
            source_office="Reuters;AFP;Kyiv Post",
            source_date="2014-05-03;2014-05-04;2014-05-05",
            source_headline="Fighting in Sloviansk;Clashes reported;Kyiv Post report",
            number_of_sources="3",
        ),
        ucdp_row("1003", type_of_violence="3", date_prec="4", where_prec="4", date_start="2014-06-01", best="12"),
    ]
    path = write_csv(tmp_path / "ged.csv", UCDP_GED_COLUMNS, rows)
    result = load(path)
    assert result.format == "ucdp"
    assert result.rows_rejected == 0, problems(result)
    events = result.events.set_index("event_id")
    assert events["event_date"].tolist() == [pd.Timestamp("2014-01-22"), pd.Timestamp("2014-05-02"), pd.Timestamp("2014-06-01")]
    assert events["event_type"].tolist() == ["Battles", "Battles", "Violence against civilians"]
    assert events["sub_event_type"].tolist() == ["Armed clash", "Armed clash", "Attack"]
    assert events["date_precision"].tolist() == ["day", "day", "month"]
    assert events["geo_precision"].tolist() == ["town", "town", "region"]
    assert events["fatalities"].tolist() == [5, 5, 12]
    one = events.loc["1001"]
    assert (one["actor1"], one["actor2"]) == ("Government of Ukraine", "DPR")
    assert (one["place"], one["admin1"], one["country"]) == ("Sloviansk", "Donetsk", "Ukraine")
    assert (one["latitude"], one["longitude"]) == (48.8522, 37.6161)
    several = events.loc["1002"]
    assert [s.strip() for s in several["source_name"].split(";")] == ["Reuters", "AFP", "Kyiv Post"]
    assert several["report_date"] == pd.Timestamp("2014-05-03")  # the first source's date
    assert several["summary"] == "Fighting in Sloviansk"


def test_ucdp_rejects_an_unknown_type_of_violence(tmp_path):
    rows = [ucdp_row("1"), ucdp_row("2", type_of_violence="4")]
    result = load(write_csv(tmp_path / "ged.csv", UCDP_GED_COLUMNS, rows))
    assert_one_rejected_row(result, 3, "event_type", "unknown event type 'UCDP type_of_violence 4'")


# ------------------------------------------------------------------ mapped


MAPPED_HEADER = ["Ref", "Date", "Lat", "Lng", "Category", "Town", "Oblast", "Notes", "Killed"]
MAPPING_TEXT = "event_id=Ref,event_date=Date,latitude=Lat,longitude=Lng,event_type=Category,place=Town,admin1=Oblast,summary=Notes,fatalities=Killed"


def mapped_rows() -> list[list[str]]:
    return [
        ["r1", "2025-01-20", "48.28", "37.18", "Shelling", "Pokrovsk", "Donetsk", "Shells hit the centre", "2"],
        ["r2", "2025-01-21", "48.99", "37.81", "Drone sighting", "Lyman", "Donetsk", "Drones seen", ""],
        ["r3", "2025-01-21", "48.99", "37.81", "Battles", "Lyman", "Donetsk", "Fighting", ""],
    ]


def test_parse_mapping():
    assert parse_mapping("latitude=lat, longitude=Lng ,event_date=Date") == {"latitude": "lat", "longitude": "Lng", "event_date": "Date"}
    assert parse_mapping(["latitude=lat", "longitude=Lng"]) == {"latitude": "lat", "longitude": "Lng"}
    with pytest.raises(LoadError, match="should look like native_column=file_column"):
        parse_mapping("latitude")
    with pytest.raises(LoadError, match="'lat' is not a native column"):
        parse_mapping("lat=Lat")


def test_parse_type_values():
    assert parse_type_values(["Shelling=Explosions/Remote violence"]) == {"Shelling": ("Explosions/Remote violence", "")}
    with pytest.raises(LoadError, match="is not an ACLED event type"):
        parse_type_values(["Shelling=Artillery"])
    with pytest.raises(LoadError, match="should look like"):
        parse_type_values(["Shelling"])


def test_mapped_csv_keeps_its_own_categories_as_custom_types(tmp_path):
    path = write_csv(tmp_path / "mine.csv", MAPPED_HEADER, mapped_rows())
    result = load(path, mapping=parse_mapping(MAPPING_TEXT))
    assert result.format == "mapped"
    assert result.rows_rejected == 0, problems(result)
    assert result.custom_types == ["Drone sighting", "Shelling"]
    events = result.events
    assert events["event_id"].tolist() == ["r1", "r2", "r3"]
    assert events["event_type"].tolist() == ["Shelling", "Drone sighting", "Battles"]
    assert events["latitude"].tolist() == [48.28, 48.99, 48.99]
    assert events["place"].tolist() == ["Pokrovsk", "Lyman", "Lyman"]
    assert events["summary"].iloc[0] == "Shells hit the centre"
    assert events["fatalities"].iloc[0] == 2


def test_type_values_put_a_category_onto_an_acled_type(tmp_path):
    path = write_csv(tmp_path / "mine.csv", MAPPED_HEADER, mapped_rows())
    result = load(
        path,
        mapping=parse_mapping(MAPPING_TEXT),
        type_values=parse_type_values(["Shelling=Explosions/Remote violence"]),
    )
    assert result.events["event_type"].tolist() == ["Explosions/Remote violence", "Drone sighting", "Battles"]
    assert result.custom_types == ["Drone sighting"]


def test_mapped_csv_still_rejects_bad_rows(tmp_path):
    rows = mapped_rows()
    rows[1][1] = "someday"
    result = load(write_csv(tmp_path / "mine.csv", MAPPED_HEADER, rows), mapping=parse_mapping(MAPPING_TEXT))
    assert_one_rejected_row(result, 3, "event_date", "not a date", "someday")


def test_mapped_csv_without_ids_gets_stable_ones(tmp_path):
    path = write_csv(tmp_path / "mine.csv", MAPPED_HEADER, mapped_rows())
    mapping = parse_mapping(MAPPING_TEXT.replace("event_id=Ref,", ""))
    first, again = load(path, mapping=mapping), load(path, mapping=mapping)
    ids = first.events["event_id"].tolist()
    assert ids == again.events["event_id"].tolist()
    assert len(set(ids)) == 3
    assert all(i.startswith("mine-") for i in ids)


def test_map_naming_a_missing_column_is_a_load_error(tmp_path):
    path = write_csv(tmp_path / "mine.csv", MAPPED_HEADER, mapped_rows())
    with pytest.raises(LoadError) as caught:
        load_events(path, mapping=parse_mapping(MAPPING_TEXT.replace("Lat", "Latitude")))
    message = str(caught.value)
    assert "--map names columns the file does not have: Latitude" in message
    assert "Lat" in message.split("(it has")[1]


def test_csv_of_unknown_columns_without_a_map_is_a_load_error(tmp_path):
    path = write_csv(tmp_path / "mine.csv", MAPPED_HEADER, mapped_rows())
    with pytest.raises(LoadError, match="cannot tell the format from its columns"):
        load_events(path)


# ------------------------------------------------------- GeoJSON, GeoParquet


def native_properties(event_id: str, **changes) -> dict:
    return without_coordinates(native_row(event_id, **changes))


def test_native_geojson(tmp_path, gazetteer):
    features = [
        (point(37.17706, 48.28014), native_properties("G1")),
        (point(49.12214, 55.78874), native_properties("G2", place="Kazan", admin1="Tatarstan", country="Russia", fatalities="")),
        ({"type": "LineString", "coordinates": [[37.0, 48.0], [37.5, 48.5]]}, native_properties("G3")),
        (None, native_properties("G4", place="Kazan", admin1="", country="Russia")),  # no geometry: geocoded
    ]
    result = load(write_geojson(tmp_path / "events.geojson", features), gazetteer)
    assert (result.format, result.container, result.detected) == ("native", "geojson", "native events in .geojson")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 3, 1)
    assert_one_rejected_row(result, 3, "geometry", "geometry is not a point")
    events = result.events.set_index("event_id")
    assert events.loc["G1", ["latitude", "longitude"]].tolist() == [48.28014, 37.17706]
    assert events.loc["G2", ["latitude", "longitude"]].tolist() == list(KAZAN_RU)
    assert events.loc["G4", ["latitude", "longitude"]].tolist() == pytest.approx(KAZAN_RU)
    assert events.loc["G1", "event_date"] == pd.Timestamp("2025-01-20")
    assert events.loc["G1", "fatalities"] == 3
    assert pd.isna(events.loc["G2", "fatalities"])
    assert events["source_row"].tolist() == [1, 2, 4]


def test_geojson_rows_are_validated_like_csv_rows(tmp_path):
    features = [
        (point(37.17706, 48.28014), native_properties("G1")),
        (point(37.17706, 48.28014), native_properties("G2", event_type="Shelling", sub_event_type="")),
        (point(0, 0), native_properties("G3")),
    ]
    result = load(write_geojson(tmp_path / "events.geojson", features))
    assert [(row, column) for row, column, _ in problems(result)] == [(2, "event_type"), (3, "latitude")]


def test_unreadable_geojson_is_a_load_error(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(LoadError, match="not a readable GeoJSON file"):
        load_events(path)


def test_geoparquet(tmp_path):
    properties = pd.DataFrame([native_properties("P1"), native_properties("P2", fatalities="", event_date="20 January 2025")])
    frame = gpd.GeoDataFrame(properties, geometry=gpd.points_from_xy([37.17706, 37.80843], [48.28014, 48.99012]), crs=4326)
    path = tmp_path / "events.parquet"
    frame.to_parquet(path)
    result = load(path)
    assert (result.format, result.container) == ("native", "geoparquet")
    assert result.rows_rejected == 0, problems(result)
    events = result.events
    assert events["event_id"].tolist() == ["P1", "P2"]
    assert events["latitude"].tolist() == [48.28014, 48.99012]
    assert events["longitude"].tolist() == [37.17706, 37.80843]
    assert events["event_date"].tolist() == [pd.Timestamp("2025-01-20")] * 2


def test_geoparquet_with_typed_columns_and_another_crs(tmp_path):
    properties = pd.DataFrame([native_properties("P1"), native_properties("P2")])
    properties["event_date"] = pd.to_datetime(["2025-01-20", "2025-01-21"])
    properties["fatalities"] = pd.array([3, None], dtype="Int64")
    lonlat = gpd.GeoDataFrame(properties, geometry=gpd.points_from_xy([37.17706, 49.12214], [48.28014, 55.78874]), crs=4326)
    path = tmp_path / "events.geoparquet"
    lonlat.to_crs(3857).to_parquet(path)
    result = load(path)
    assert result.rows_rejected == 0, problems(result)
    events = result.events
    assert events["latitude"].tolist() == pytest.approx([48.28014, 55.78874], abs=1e-9)
    assert events["longitude"].tolist() == pytest.approx([37.17706, 49.12214], abs=1e-9)
    assert events["event_date"].tolist() == [pd.Timestamp("2025-01-20"), pd.Timestamp("2025-01-21")]
    assert events["fatalities"].iloc[0] == 3 and pd.isna(events["fatalities"].iloc[1])


def test_geoparquet_non_point_geometry_is_rejected(tmp_path):
    properties = pd.DataFrame([native_properties("P1"), native_properties("P2")])
    geometry = [shapely.Point(37.17706, 48.28014), shapely.box(37, 48, 38, 49)]
    gpd.GeoDataFrame(properties, geometry=geometry, crs=4326).to_parquet(tmp_path / "events.parquet")
    result = load(tmp_path / "events.parquet")
    assert_one_rejected_row(result, 2, "geometry", "geometry is not a point")


# ------------------------------------------------------ whole-file errors


def assert_load_error(path, message_part: str, **options) -> str:
    with pytest.raises(LoadError) as caught:
        load_events(path, **options)
    message = str(caught.value)
    assert message_part in message
    assert "Traceback" not in message and "\n" not in message
    # Raised `from None`: a user sees one sentence, not a chain of exceptions.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__
    return message


def test_missing_file(tmp_path):
    assert_load_error(tmp_path / "nope.csv", "no such file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert_load_error(path, "empty.csv: the file is empty")


def test_blank_first_line(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n", encoding="utf-8")
    assert_load_error(path, "the file is empty")


@pytest.mark.parametrize("ending", ["\n", ""])
def test_header_only(tmp_path, ending):
    path = tmp_path / "header.csv"
    path.write_text(",".join(NATIVE_COLUMNS) + ending, encoding="utf-8")
    assert_load_error(path, "header.csv: the file has a header but no rows")


def test_header_only_geojson(tmp_path):
    assert_load_error(write_geojson(tmp_path / "none.geojson", []), "the file has a header but no rows")


def test_a_directory(tmp_path):
    assert_load_error(tmp_path, "is a folder, not a file")


def test_duplicate_header_names(tmp_path):
    path = write_csv(tmp_path / "twice.csv", [*NATIVE_COLUMNS, "event_date"], [[*native_row().values(), "2025-01-20"]])
    assert_load_error(path, "the header names a column twice: 'event_date'")


def test_unknown_format_name(tmp_path):
    assert_load_error(write_native(tmp_path, [native_row()]), "unknown format 'xls'", fmt="xls")


def test_wrong_encoding_then_the_right_one(tmp_path):
    rows = [native_row("E1", place="Покровськ", actor1="Збройні сили України", summary="Бои у Покровска")]
    path = write_csv(tmp_path / "cyrillic.csv", NATIVE_COLUMNS, rows, encoding="cp1251")
    message = assert_load_error(path, "cyrillic.csv: not readable as utf-8 text")
    assert "--encoding" in message and "cp1251" in message
    result = load(path, encoding="cp1251")
    assert result.rows_rejected == 0, problems(result)
    assert result.events.loc[0, "place"] == "Покровськ"
    assert result.events.loc[0, "actor1"] == "Збройні сили України"
    assert result.events.loc[0, "summary"] == "Бои у Покровска"


def test_wrong_encoding_far_into_the_file(tmp_path):
    # The bad bytes come after the first 64 KB, so pyarrow meets them, not read_header.
    rows = [native_row(f"E{i}") for i in range(1, 800)] + [native_row("E800", place="Покровськ")]
    path = write_csv(tmp_path / "late.csv", NATIVE_COLUMNS, rows, encoding="cp1251")
    assert path.stat().st_size > 1 << 16
    assert_load_error(path, "not readable as utf-8 text")


def test_header_names_with_spaces_and_a_bom(tmp_path):
    path = tmp_path / "excel.csv"
    header = ", ".join(NATIVE_COLUMNS)
    body = ",".join(f'"{v}"' for v in native_row().values())
    path.write_text("\ufeff" + header + "\r\n" + body + "\r\n", encoding="utf-8")
    result = load(path)
    assert result.format == "native"
    assert result.rows_rejected == 0, problems(result)
    assert result.events.loc[0, "latitude"] == 48.28014
    assert result.events.loc[0, "event_id"] == "E1"


# ---------------------------------------------------------------- survival


AWKWARD_TEXT = {
    "summary": 'He said "hold the line, whatever it takes",\nthen left; 50% — done.\r\nA lone\rcarriage return. End with "quotes"',
    "actor1": "Збройні сили України (2019-)",
    "actor2": "Вооружённые силы Российской Федерации",
    "place": "Pokrovsk",
    "source_name": "الجزيرة, Al Jazeera; «RFE/RL»",
    "admin1": "Донецька область",
}


def test_awkward_text_survives_byte_for_byte(tmp_path):
    rows = [native_row("E1", **AWKWARD_TEXT), native_row("E2", summary=",", actor1='"', actor2="'")]
    path = write_native(tmp_path, rows)
    result = load(path)
    assert result.rows_rejected == 0, problems(result)
    for column, text in AWKWARD_TEXT.items():
        assert result.events.loc[0, column] == text, column
    assert result.events.loc[1, ["summary", "actor1", "actor2"]].tolist() == [",", '"', "'"]


def test_awkward_text_survives_in_geojson(tmp_path):
    result = load(write_geojson(tmp_path / "e.geojson", [(point(37.17706, 48.28014), native_properties("E1", **AWKWARD_TEXT))]))
    for column, text in AWKWARD_TEXT.items():
        assert result.events.loc[0, column] == text, column


def test_round_trip_through_events_to_csv(tmp_path, gazetteer):
    rows = [
        native_row("E1", **AWKWARD_TEXT),
        native_row("E2", fatalities="", report_date="", date_precision="week", geo_precision="near"),
        without_coordinates(native_row("E3", place="Kazan", admin1="", country="Russia")),
        native_row("E4", event_date="20 January 2025", latitude="-33.868820", longitude="151.209295"),
        native_row("E5", event_type="Protests", sub_event_type="", fatalities="0"),
        native_row("E6", summary="a lone\rcarriage return"),  # nothing else in it asks for quotes
    ]
    first = load(write_native(tmp_path, rows), gazetteer)
    assert first.rows_rejected == 0, problems(first)
    again_path = tmp_path / "again.csv"
    again_path.write_text(events_to_csv(first.events), encoding="utf-8")
    again = load(again_path, gazetteer)
    assert again.rows_rejected == 0, problems(again)
    pd.testing.assert_frame_equal(again.events.drop(columns="source_row"), first.events.drop(columns="source_row"))


def test_write_rejects(tmp_path):
    rows = [native_row("E1"), native_row("E2", event_date="never"), native_row("E3", latitude="-95", longitude="120")]
    result = load(write_native(tmp_path, rows))
    out = tmp_path / "rejects.csv"
    write_rejects(result, out)
    with open(out, newline="", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert list(written[0]) == ["row", "column", "reason", "value"]
    assert [(r["row"], r["column"], r["value"]) for r in written] == [
        ("3", "event_date", "never"),
        ("4", "latitude", "-95"),
    ]
    assert written[1]["reason"] == "latitude out of range (−90..90)"


def test_write_rejects_with_nothing_rejected(tmp_path):
    result = load(write_native(tmp_path, [native_row()]))
    out = tmp_path / "rejects.csv"
    write_rejects(result, out)
    assert out.read_text(encoding="utf-8").strip() == "row,column,reason,value"


# -------------------------------------------------------------- properties

# Text a CSV cell may hold: any character but NUL and lone surrogates.
cell_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dates=st.lists(cell_text, min_size=1, max_size=8))
def test_garbage_in_the_date_column_never_loses_a_row(dates):
    rows = [native_row(f"E{i}", event_date=text) for i, text in enumerate(dates, start=1)]
    with tempfile.TemporaryDirectory() as folder:
        try:
            result = load(write_native(Path(folder), rows))
        except LoadError as error:  # only a column of day/month order no value settles is refused whole
            assert "--date-order" in str(error)
            return
    assert result.rows_read == len(rows)
    assert result.rows_loaded + result.rows_rejected == len(rows)
    loaded = set(result.events["event_id"])
    assert loaded <= {f"E{i}" for i in range(1, len(rows) + 1)} and len(loaded) == result.rows_loaded
    for i, text in enumerate(dates, start=1):  # an empty date never loads
        assert not (text.strip() == "" and f"E{i}" in loaded)
    assert set(result.rejects["column"]) <= {"event_date"}
    assert result.events["event_date"].notna().all()


any_cell = st.one_of(
    cell_text,
    st.sampled_from(["", "0", "-1", "1e400", "nan", "-inf", "1.5", "99999999999999999999", "Kazan", "Battles", "country", "2025-01-01", "http://x"]),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.fixed_dictionaries({c: any_cell for c in NATIVE_COLUMNS}), min_size=1, max_size=6))
def test_garbage_in_any_column_never_loses_a_row_nor_fails_the_file(gazetteer, rows):
    with tempfile.TemporaryDirectory() as folder:
        result = load(write_native(Path(folder), rows), gazetteer)
    assert result.rows_read == len(rows)
    assert result.events["latitude"].between(-90, 90).all()
    assert result.events["longitude"].between(-180, 180).all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(
        st.fixed_dictionaries({c: cell_text for c in ("summary", "actor1", "actor2", "place", "admin1", "source_name")}),
        min_size=1,
        max_size=5,
    ),
    fatalities=st.lists(st.one_of(st.just(""), st.integers(0, 10**6).map(str)), min_size=5, max_size=5),
    coordinates=st.lists(st.tuples(st.floats(-89.9, 89.9), st.floats(-179.9, 179.9)), min_size=5, max_size=5),
)
def test_valid_rows_round_trip(texts, fatalities, coordinates):
    rows = [
        native_row(f"E{i}", fatalities=fatalities[i], latitude=repr(coordinates[i][0] or 1.0), longitude=repr(coordinates[i][1]), **text)
        for i, text in enumerate(texts)
    ]
    with tempfile.TemporaryDirectory() as folder:
        first = load(write_native(Path(folder), rows))
        assert first.rows_loaded == len(rows), problems(first)
        again_path = Path(folder) / "again.csv"
        again_path.write_text(events_to_csv(first.events), encoding="utf-8")
        again = load(again_path)
    # Line numbers differ where a text held a line break; everything else is the same.
    pd.testing.assert_frame_equal(again.events.drop(columns="source_row"), first.events.drop(columns="source_row"))
    for i, text in enumerate(texts):  # surrounding white space is trimmed, nothing else changes
        for column, value in text.items():
            assert first.events.loc[i, column] == value.strip(), column
