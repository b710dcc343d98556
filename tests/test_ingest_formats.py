"""Real files, faithfully: a corpus of real-format fixtures written here, each asserting exact counts.

Day-first Excel exports, every date form, a monitor's export with notes for
links and a repeated id, ACLED's one-row-per-actor layout and revisions,
ACLED's API layout in .xlsx, the pre-2019 layout, UCDP GED as GeoJSON, a
GeoPackage, a world-wide sample that must get admin-1 regions, and files
whose CRS does not fit their numbers.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.ingest.dates import DateOrderError, parse_dates
from dashboard.ingest.load import LoadError, load_events
from dashboard.ingest.prepare import prepare_file
from dashboard.ingest.write import events_to_csv, write_rejects
from test_load import ACLED_EXPORT_COLUMNS, UCDP_GED_COLUMNS, acled_row, load, native_row, problems, ucdp_row, write_csv, write_native

# ------------------------------------------------------------------ dates


def test_a_day_first_excel_export_is_read_day_first(tmp_path):
    # 31/12/2019 proves the column is day-first, so 05/02/2020 is 5 February.
    days = ["31/12/2019", "05/02/2020", "01/03/2020", "12/11/2020"]
    rows = [native_row(f"E{i}", event_date=d) for i, d in enumerate(days)]
    result = load(write_native(tmp_path, rows))
    assert result.rows_rejected == 0, problems(result)
    assert result.events["event_date"].dt.strftime("%Y-%m-%d").tolist() == ["2019-12-31", "2020-02-05", "2020-03-01", "2020-11-12"]


def test_a_month_first_column_is_read_month_first(tmp_path):
    days = ["1/22/2014 12:00:00 AM", "05/02/2014 00:00", "3/4/2014"]
    rows = [native_row(f"E{i}", event_date=d) for i, d in enumerate(days)]
    result = load(write_native(tmp_path, rows))
    assert result.events["event_date"].dt.strftime("%Y-%m-%d").tolist() == ["2014-01-22", "2014-05-02", "2014-03-04"]


def test_a_column_that_proves_no_order_is_refused_naming_samples_unless_told(tmp_path):
    rows = [native_row("E1", event_date="05/02/2020"), native_row("E2", event_date="03/04/2020"), native_row("E3", event_date="07/07/2020")]
    path = write_native(tmp_path, rows)
    with pytest.raises(LoadError) as caught:
        load_events(path)
    message = str(caught.value)
    assert "'05/02/2020'" in message and "'03/04/2020'" in message and "--date-order" in message and "\n" not in message
    dmy = load(path, date_order="dmy").events["event_date"].dt.strftime("%Y-%m-%d").tolist()
    mdy = load(path, date_order="mdy").events["event_date"].dt.strftime("%Y-%m-%d").tolist()
    assert dmy == ["2020-02-05", "2020-04-03", "2020-07-07"]
    assert mdy == ["2020-05-02", "2020-03-04", "2020-07-07"]


def test_a_column_mixing_both_orders_is_refused_and_a_given_order_rejects_the_rest(tmp_path):
    rows = [native_row("E1", event_date="13/02/2020"), native_row("E2", event_date="02/14/2020"), native_row("E3", event_date="01/01/2020")]
    path = write_native(tmp_path, rows)
    with pytest.raises(LoadError, match="mixes day-first and month-first dates"):
        load_events(path)
    result = load(path, date_order="dmy")
    assert problems(result) == [(3, "event_date", "not a date (expected e.g. 2025-01-20, 20 January 2025, 20-Jan-2025 or 1/20/2025)")]
    assert result.events["event_date"].dt.strftime("%Y-%m-%d").tolist() == ["2020-02-13", "2020-01-01"]


def test_mixed_utc_offsets_keep_each_local_day(tmp_path):
    written = [f"2025-01-{d:02d}T{h:02d}:30:00{off}" for d in range(1, 29) for h, off in ((0, "+02:00"), (23, "+03:00"), (1, "-05:00"), (12, "Z"))]
    parsed = parse_dates(pd.Series(written * 500))  # 56,000 values in one pass
    assert parsed.dt.strftime("%Y-%m-%d").tolist() == [w[:10] for w in written * 500]


def test_excel_serial_numbers_in_a_csv():
    parsed = parse_dates(pd.Series(["45677", "43831", "45677.999"]))
    assert parsed.dt.strftime("%Y-%m-%d").tolist() == ["2025-01-20", "2020-01-01", "2025-01-20"]


FORMS = {
    # name: (strftime form or callable, order to pass or None)
    "iso": ("%Y-%m-%d", None),
    "iso with time": ("%Y-%m-%dT%H:%M:%S", None),
    "iso with offset": ("%Y-%m-%dT%H:%M:%S+03:00", None),
    "day month year": ("%d %B %Y", None),
    "day short month year": ("%d %b %Y", None),
    "excel d-mmm-yyyy": ("%d-%b-%Y", None),
    "excel d-mmm-yy": (lambda d: f"{d.day}-{d:%b}-{d:%y}", None),
    "dd-mm-yy": ("%d-%m-%y", "dmy"),
    "dd.mm.yyyy": ("%d.%m.%Y", "dmy"),
    "ucdp": (lambda d: f"{d.month}/{d.day}/{d.year} 12:00:00 AM", "mdy"),
    "month day, year": ("%B %d, %Y", None),
    "excel serial": (lambda d: str((d - dt.date(1899, 12, 30)).days), None),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    days=st.lists(st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2060, 12, 31)), min_size=1, max_size=30),
    form=st.sampled_from(sorted(FORMS)),
)
def test_dates_written_in_each_form_read_back_as_written(days, form):
    pattern, order = FORMS[form]
    text = [pattern(d) if callable(pattern) else d.strftime(pattern) for d in days]
    read = parse_dates(pd.Series(text), order=order)
    assert read.dt.date.tolist() == days, (form, text)


@settings(max_examples=60, deadline=None)
@given(days=st.lists(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31)), min_size=1, max_size=30),
       first=st.sampled_from(["dmy", "mdy"]))
def test_numeric_dates_are_never_swapped_silently(days, first):
    text = [d.strftime("%d/%m/%Y" if first == "dmy" else "%m/%d/%Y") for d in days]
    try:
        read = parse_dates(pd.Series(text))
    except DateOrderError as error:  # refused only when no value settles the order
        assert all(d.day <= 12 for d in days), error
        assert any(d.day != d.month for d in days)
        return
    assert read.dt.date.tolist() == days


def test_repeated_dates_read_as_each_alone_and_errors_show_the_first_written():
    # parse_dates reads each distinct form once: the rows must not notice.
    text = pd.Series(["2025-01-20", "13/02/2025", " 2025-01-20", "", "2025-02-30", "13/02/2025", "45677", "2025-01-20"], index=range(10, 18))
    read = parse_dates(text)
    assert read.index.tolist() == list(range(10, 18))
    assert read.tolist() == [parse_dates(pd.Series([value])).iloc[0] for value in text]
    with pytest.raises(DateOrderError, match=r"e\.g\. '05/02/2014', '06/03/2014', '07/03/2014'\)"):
        parse_dates(pd.Series(["05/02/2014", "05/02/2014", "06/03/2014", "05/02/2014", "07/03/2014"]))
    with pytest.raises(DateOrderError, match=r"e\.g\. '13/01/2020' and '01/14/2020'"):
        parse_dates(pd.Series(["01/01/2020", "13/01/2020", "01/14/2020", "13/01/2020", "02/15/2020"]))


# --------------------------------------------------------- Excel-saved ACLED


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["9-May-20", "5-Aug-24", "20-Jan-25", "31-Dec-19"], ["2020-05-09", "2024-08-05", "2025-01-20", "2019-12-31"]),
        (["31-12-19", "05-08-24", "09-05-20", "20-01-25"], ["2019-12-31", "2024-08-05", "2020-05-09", "2025-01-20"]),
    ],
    ids=["d-mmm-yy", "dd-mm-yy"],
)
def test_excel_saved_acled_exports_load_every_valid_row(tmp_path, dates, expected):
    rows = [acled_row(f"KEN{i}", event_date=d, year=d[-2:]) for i, d in enumerate(dates)]
    result = load(write_csv(tmp_path / "acled.csv", ACLED_EXPORT_COLUMNS, rows))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 4, 0), problems(result)
    assert result.events["event_date"].dt.strftime("%Y-%m-%d").tolist() == expected


# --------------------------------------------------------- monitor exports


def test_a_monitor_export_with_notes_for_links_and_a_repeated_id(tmp_path):
    rows = [
        native_row("UW0101", source_url="https://t.me/s/example/1"),
        native_row("UW0102", source_url="Access can be requested, hidden for privacy reasons"),
        native_row("UW0103", source_url="t.me/example/3"),
        native_row("UW0104", summary="First report"),
        native_row("UW0104", summary="A different event filed under the same id", place="Lyman", latitude="48.99", longitude="37.81"),
        native_row("UW0105", fatalities="unknown"),
    ]
    result = load(write_native(tmp_path, rows))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected, result.rows_folded) == (6, 6, 0, 0)
    events = result.events.set_index("event_id")
    assert list(events.index) == ["UW0101", "UW0102", "UW0103", "UW0104", "UW0104~2", "UW0105"]
    assert events.loc["UW0102", "source_url"] == ""
    assert events.loc["UW0102", "warnings"] == "source_url: not a link, kept as a note: Access can be requested, hidden for privacy reasons"
    assert events.loc["UW0103", "source_url"] == "https://t.me/example/3"
    assert events.loc["UW0104~2", "place"] == "Lyman"
    assert "loaded as UW0104~2" in events.loc["UW0104~2", "warnings"]
    assert pd.isna(events.loc["UW0105", "fatalities"])
    assert result.summary() == "6 rows read, 6 loaded, 0 rejected; 4 warnings"


# ------------------------------------------------------------------ ACLED


def test_acled_one_row_per_actor_merges_into_one_event_with_every_actor(tmp_path):
    rows = [
        acled_row("UKR9", actor2="Civilians (Ukraine)", inter2="Civilians"),
        acled_row("UKR9", actor2="Military Forces of Ukraine (2019-)", assoc_actor_2="Police Forces of Ukraine (2019-)", inter2="State forces"),
        acled_row("UKR9", actor2="Military Forces of Ukraine (2019-)", assoc_actor_2="Police Forces of Ukraine (2019-)", inter2="State forces"),
        acled_row("UKR10"),
    ]
    result = load(write_csv(tmp_path / "acled.csv", ACLED_EXPORT_COLUMNS, rows))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected, result.rows_folded) == (4, 2, 0, 2)
    event = result.events.set_index("event_id").loc["UKR9"]
    assert event["actor2"] == "Civilians (Ukraine); Military Forces of Ukraine (2019-)"
    assert event["actor1"] == "Military Forces of Russia (2000-)"
    assert event["source_row"] == 2
    assert result.folded[["row", "how", "into_row"]].values.tolist() == [[3, "actors", 2], [4, "identical", 2]]
    assert result.summary() == "4 rows read, 2 loaded, 0 rejected, 1 actor row merged, 1 identical row collapsed"


def test_acled_newer_timestamp_replaces_the_older_revision(tmp_path):
    rows = [
        acled_row("UKR7", fatalities="2", timestamp="1737504000"),
        acled_row("UKR8"),
        acled_row("UKR7", fatalities="5", notes="Revised: five killed.", timestamp="1737590400"),
    ]
    result = load(write_csv(tmp_path / "acled.csv", ACLED_EXPORT_COLUMNS, rows))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected, result.rows_folded) == (3, 2, 0, 1)
    event = result.events.set_index("event_id").loc["UKR7"]
    assert (event["fatalities"], event["summary"], event["source_row"]) == (5, "Revised: five killed.", 4)
    assert result.folded[["row", "how", "into_row"]].values.tolist() == [[2, "revision", 4]]
    assert "1 older revision replaced by a newer one" in result.summary()


def test_unknown_acled_actor_codes_are_warnings(tmp_path):
    rows = [acled_row("A1", inter1="1", inter2="8"), acled_row("A2", inter1="State forces", inter2="Martians"), acled_row("A3", inter1="12")]
    result = load(write_csv(tmp_path / "acled.csv", ACLED_EXPORT_COLUMNS, rows))
    assert result.rows_loaded == 3
    assert [(int(w.row), w.column, w.value) for w in result.warnings.itertuples()] == [(3, "inter2", "Martians"), (4, "inter1", "12")]


def acled_api_rows():
    """ACLED's API layout: data_id, event_id_no_cnty, iso3 and numeric actor codes."""
    header = ["data_id", "iso", "event_id_cnty", "event_id_no_cnty", "event_date", "year", "time_precision", "event_type",
              "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction",
              "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
              "source", "source_scale", "notes", "fatalities", "timestamp", "iso3"]
    rows = [
        [1, 404, "KEN1", 1, dt.datetime(2024, 8, 5), 2024, 1, "Protests", "Peaceful protest", "Protesters (Kenya)", "", 6, "", "", 0, 60,
         "Eastern Africa", "Kenya", "Nairobi", "", "", "Nairobi", -1.2864, 36.8172, 1, "Daily Nation", "National", "Teachers marched.", 0, 1722902400, "KEN"],
        [2, 50, "BGD2", 2, 45677, 2025, 1, "Riots", "Mob violence", "Rioters (Bangladesh)", "", 5, "Civilians (Bangladesh)", "", 7, 57,
         "Southern Asia", "Bangladesh", "Dhaka", "", "", "Dhaka", 23.8103, 90.4125, 1, "Prothom Alo", "National", "A mob attacked.", 1, 1737504000, "BGD"],
        [3, 4, "AFG3", 3, "2023-03-01", 2023, 2, "Explosions/Remote violence", "Remote explosive/landmine/IED", "Unidentified Armed Group (Afghanistan)", "", 3,
         "Civilians (Afghanistan)", "", 7, 37, "Caspian", "Afghanistan", "Kabul", "", "", "Kabul", 34.5553, 69.2075, 1, "Pajhwok", "National", "An IED exploded.", 2, 1677700000, "AFG"],
    ]
    return header, rows


def test_acled_api_layout_in_xlsx(tmp_path):
    header, rows = acled_api_rows()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    sheet.append([None] * len(header))  # an empty row is not a record; row numbers stay the sheet's
    for row in rows:
        sheet.append(row)
    path = tmp_path / "acled-api.xlsx"
    book.save(path)
    result = load(path)
    assert result.detected == "ACLED export (API layout) in .xlsx"
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 3, 0), problems(result)
    assert len(result.warnings) == 0, result.warnings
    events = result.events.set_index("event_id")
    assert events["event_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-08-05", "2025-01-20", "2023-03-01"]
    assert events["source_row"].tolist() == [3, 4, 5]
    assert events.loc["KEN1", "latitude"] == -1.2864
    assert events["date_precision"].tolist() == ["day", "day", "week"]


def test_a_world_wide_acled_sample_gets_admin1_regions_everywhere(tmp_path):
    header, rows = acled_api_rows()
    frame = pd.DataFrame(rows, columns=header).astype(str)
    frame.loc[0, "event_date"] = "2024-08-05"
    frame.loc[1, "event_date"] = "2025-01-20"
    path = tmp_path / "world.csv"
    frame.to_csv(path, index=False)
    joined, result, notes = prepare_file(path, {"fmt": "auto"})
    assert result.detected == "ACLED export (API layout) in CSV"
    assert joined.set_index("event_id")[["country_code", "admin1_code", "admin1_name"]].to_dict("index") == {
        "KEN1": {"country_code": "KE", "admin1_code": "KE-110", "admin1_name": "Nairobi"},
        "BGD2": {"country_code": "BD", "admin1_code": "BD-C", "admin1_name": "Dhaka"},
        "AFG3": {"country_code": "AF", "admin1_code": "AF-KAB", "admin1_name": "Kabul"},
    }
    assert notes == []


def test_a_stated_country_that_disagrees_with_the_coordinates_is_a_warning(tmp_path):
    rows = [acled_row("A1"), acled_row("A2", country="Poland")]
    joined, result, _ = prepare_file(write_csv(tmp_path / "acled.csv", ACLED_EXPORT_COLUMNS, rows), {"fmt": "auto"})
    assert result.rows_loaded == 2
    assert [(int(w.row), w.column, w.reason) for w in result.warnings.itertuples()] == [(3, "country", "the coordinates are in UA, not PL")]
    assert joined.set_index("event_id").loc["A2", "warnings"] == "country: the coordinates are in UA, not PL"


def test_the_pre_2019_acled_layout_and_taxonomy(tmp_path):
    header = ["GWNO", "EVENT_ID_CNTY", "EVENT_ID_NO_CNTY", "EVENT_DATE", "YEAR", "TIME_PRECISION", "EVENT_TYPE", "ACTOR1",
              "ALLY_ACTOR_1", "INTER1", "ACTOR2", "ALLY_ACTOR_2", "INTER2", "INTERACTION", "COUNTRY", "ADMIN1", "ADMIN2",
              "ADMIN3", "LOCATION", "LATITUDE", "LONGITUDE", "GEO_PRECISION", "SOURCE", "NOTES", "FATALITIES"]
    base = ["501", "", "", "", "2016", "1", "", "Military Forces of Kenya", "", "1", "Al Shabaab", "", "2", "12", "Kenya",
            "Coast", "Lamu", "", "Lamu", "-2.2717", "40.902", "1", "Daily Nation", "Clashes.", "3"]
    types = ["Battle-No change of territory", "Remote violence", "Riots/Protests", "Strategic development", "Battle-Government regains territory"]
    rows = []
    for i, event_type in enumerate(types):
        row = list(base)
        row[1], row[2], row[3], row[6] = f"KEN{i}", str(i), f"{10 + i} March 2016", event_type
        rows.append(row)
    result = load(write_csv(tmp_path / "acled-2016.csv", header, rows))
    assert result.detected == "ACLED export (pre-2019 layout) in CSV"
    assert (result.rows_loaded, result.rows_rejected) == (5, 0), problems(result)
    assert list(zip(result.events["event_type"], result.events["sub_event_type"])) == [
        ("Battles", "Armed clash"),
        ("Explosions/Remote violence", ""),
        ("Riots/Protests", ""),
        ("Strategic developments", ""),
        ("Battles", "Government regains territory"),
    ]
    assert result.custom_types == ["Riots/Protests"]


# ------------------------------------------------------------ UCDP, GeoPackage


def test_ucdp_ged_as_geojson(tmp_path):
    features = []
    for i, (lon, lat) in enumerate([(37.6161, 48.8522), (37.8, 48.6)]):
        properties = {k: v for k, v in ucdp_row(str(1000 + i), date_start="2014-05-02 00:00:00.000").items() if k not in ("latitude", "longitude")}
        properties["best"] = 5 + i  # a number in GeoJSON, not text
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties})
    path = tmp_path / "ged.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    result = load(path)
    assert result.detected == "UCDP GED in .geojson"
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 2, 0), problems(result)
    assert result.events["fatalities"].tolist() == [5, 6]
    assert result.events["latitude"].tolist() == [48.8522, 48.6]
    assert (result.events["event_date"] == pd.Timestamp("2014-05-02")).all()


def test_acled_columns_in_a_geopackage(tmp_path):
    rows = pd.DataFrame([acled_row("UKR1"), acled_row("UKR2", event_date="21 January 2025")]).drop(columns=["latitude", "longitude"])
    frame = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy([37.1771, 37.8], [48.2801, 48.99]), crs=4326)
    path = tmp_path / "acled.gpkg"
    frame.to_file(path, driver="GPKG")
    result = load(path)
    assert result.detected == "ACLED export in .gpkg"
    assert result.rows_loaded == 2, problems(result)
    assert result.events["latitude"].tolist() == [48.2801, 48.99]


# --------------------------------------------------------------- wrong CRS


def geo_frame(lon, lat, crs):
    properties = pd.DataFrame([{k: v for k, v in native_row(f"E{i}").items() if k not in ("latitude", "longitude")} for i in range(len(lon))])
    return gpd.GeoDataFrame(properties, geometry=gpd.points_from_xy(lon, lat), crs=crs)


@pytest.mark.parametrize("suffix", [".parquet", ".geojson", ".gpkg"])
@pytest.mark.parametrize(
    ("lon", "lat", "declared", "words"),
    [
        ([37.17706, 49.12214], [48.28014, 55.78874], "EPSG:3857", "EPSG:3857 (metres) but holds coordinates like"),
        ([37.17706, -45.0], [48.28014, 70.0], "EPSG:3413", "EPSG:3413 (metres) but holds coordinates like"),
        ([4138500.0, 5468500.0], [6148000.0, 7520000.0], "EPSG:4326", "EPSG:4326 (degrees) but holds coordinates like"),
    ],
    ids=["mercator-over-degrees", "polar-over-degrees", "degrees-over-metres"],
)
def test_a_crs_that_does_not_fit_the_numbers_is_refused(tmp_path, suffix, lon, lat, declared, words):
    path = tmp_path / f"events{suffix}"
    frame = geo_frame(lon, lat, declared)
    if suffix == ".parquet":
        frame.to_parquet(path)
    elif suffix == ".gpkg":
        frame.to_file(path, driver="GPKG")
    else:
        if declared == "EPSG:4326":
            frame.to_file(path, driver="GeoJSON")
        else:  # RFC 7946 has no CRS member; GDAL writes the old one when asked for another CRS
            frame.to_file(path, driver="GeoJSON", RFC7946="NO")
    with pytest.raises(LoadError) as caught:
        load_events(path)
    message = str(caught.value)
    assert words in message, message
    assert "\n" not in message


def test_a_real_web_mercator_file_is_converted(tmp_path):
    frame = geo_frame([37.17706], [48.28014], 4326).to_crs(3857)
    frame.to_parquet(tmp_path / "m.parquet")
    result = load(tmp_path / "m.parquet")
    assert result.events[["latitude", "longitude"]].values.tolist()[0] == pytest.approx([48.28014, 37.17706], abs=1e-9)


# ---------------------------------------------------------- CSV injection


def test_every_csv_written_is_formula_safe_but_numbers_stay_numbers(tmp_path):
    risky = {"summary": "=HYPERLINK(\"http://evil\",\"x\")", "actor1": "+cmd|' /C calc'!A0", "actor2": "@SUM(1+1)", "place": "-2+3+cmd|' /C calc'!A0"}
    rows = [native_row("E1", **risky, latitude="-33.86882", longitude="-151.2"), native_row("E2", fatalities="-4", latitude="91")]
    result = load(write_native(tmp_path, rows))
    text = events_to_csv(result.events)
    written = pd.read_csv(pd.io.common.StringIO(text), dtype=str, keep_default_na=False)
    for column, value in risky.items():
        assert written.loc[0, column] == "'" + value, column
    assert written.loc[0, "latitude"] == "-33.86882" and written.loc[0, "longitude"] == "-151.2"
    out = tmp_path / "rejects.csv"
    write_rejects(result, out)
    rejects = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert rejects["value"].tolist() == ["91"]
    # A negative number as a value of a text column is still a number.
    from dashboard.ingest.write import neutralise

    assert neutralise(pd.Series(["-4", "-3.5", "+2", "-1e5", "-", "-x", "=1", "@a", "a=b", "\tx", "\rx"])).tolist() == [
        "-4", "-3.5", "+2", "-1e5", "'-", "'-x", "'=1", "'@a", "a=b", "'\tx", "'\rx"
    ]


def test_our_own_formula_safe_csv_reads_back_as_the_original_text(tmp_path):
    rows = [native_row("E1", summary="=1+1 is two", actor1="@handle", place="-Pokrovsk", source_name="+plus")]
    first = load(write_native(tmp_path, rows))
    again_path = tmp_path / "again.csv"
    again_path.write_text(events_to_csv(first.events), encoding="utf-8")
    assert "'=1+1 is two" in again_path.read_text(encoding="utf-8")
    again = load(again_path)
    assert again.events.loc[0, ["summary", "actor1", "place", "source_name"]].tolist() == ["=1+1 is two", "@handle", "-Pokrovsk", "+plus"]
