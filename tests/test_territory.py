"""Territorial-control layers: loading, validation, snapshots, change, points, CLI, fetch.

Every fixture is written here into tmp_path: tiny squares near 48°N in the
DeepStateMap format (FeatureCollection, one MultiPolygon, empty properties).
"""
from __future__ import annotations

import gzip
import http.server
import json
import math
import re
import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import cli
from dashboard.territory import model as territory_model
from dashboard.territory import (
    LayerIssue,
    TerritoryError,
    TerritoryLayer,
    change_between,
    classify_points,
    load_layer,
    load_layer_file,
    load_snapshot_folder,
)

R_AUTHALIC = 6371007.2  # metres


def rectangle_km2(lon0, lat0, lon1, lat1) -> float:
    """Area of a lon/lat rectangle on the authalic sphere: R² Δλ (sin φ2 − sin φ1)."""
    return R_AUTHALIC**2 * math.radians(lon1 - lon0) * (math.sin(math.radians(lat1)) - math.sin(math.radians(lat0))) / 1e6


def ring(lon0, lat0, lon1, lat1):
    return [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]


def multipolygon(*polygons):
    """Each polygon is a list of rings (outer first, then holes)."""
    return {"type": "MultiPolygon", "coordinates": [list(p) for p in polygons]}


def feature(geometry, **properties):
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features):
    return {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": list(features),
    }


def write_snapshot(folder, yyyymmdd: str, geometry) -> None:
    """One day in the DeepStateMap format."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"deepstatemap_data_{yyyymmdd}.geojson").write_text(json.dumps(collection(feature(geometry))))


def write_json(path, data):
    path.write_text(json.dumps(data))
    return path


SQUARE = multipolygon([ring(30, 48, 31, 49)])  # 1° x 1°
WIDE = multipolygon([ring(30, 48, 32, 49)])  # 2° x 1°
SMALL = multipolygon([ring(30, 48, 30.5, 49)])  # 0.5° x 1°


@pytest.fixture
def three_days(tmp_path):
    folder = tmp_path / "deepstate"
    write_snapshot(folder, "20250102", SQUARE)
    write_snapshot(folder, "20250105", WIDE)
    write_snapshot(folder, "20250110", SMALL)
    return folder


def reasons(layer_or_issues) -> str:
    issues = layer_or_issues.issues if isinstance(layer_or_issues, TerritoryLayer) else layer_or_issues
    return "\n".join(str(issue) for issue in issues)


# --------------------------------------------------------------------------
# Snapshots in force


def test_snapshot_on_before_exact_between_and_after(three_days):
    layer = load_snapshot_folder(three_days)
    assert layer.snapshot_on("2025-01-01") is None
    assert layer.snapshot_on("2025-01-02").date == pd.Timestamp("2025-01-02")
    assert layer.snapshot_on("2025-01-07").date == pd.Timestamp("2025-01-05")
    assert layer.snapshot_on("2025-01-09 23:59").date == pd.Timestamp("2025-01-05")
    assert layer.snapshot_on("2025-01-10").date == pd.Timestamp("2025-01-10")
    assert layer.snapshot_on("2030-06-01").date == pd.Timestamp("2025-01-10")


def test_layer_metadata_and_snapshot_table(three_days):
    layer = load_snapshot_folder(three_days)
    assert (layer.name, layer.licence) == ("DeepStateMap", "GPL-3.0")
    assert layer.issues == []
    table = layer.snapshots
    assert list(table.columns) == ["date", "status", "geometry"]
    assert table["date"].dtype == np.dtype("datetime64[ns]")
    assert table["date"].is_monotonic_increasing
    assert set(table["status"]) == {"occupied"}
    assert list(layer.dates.strftime("%Y-%m-%d")) == ["2025-01-02", "2025-01-05", "2025-01-10"]


@settings(max_examples=50, deadline=None)
@given(
    days=st.lists(st.integers(0, 60), min_size=1, max_size=8, unique=True),
    query=st.integers(-5, 70),
)
def test_snapshot_on_matches_brute_force(tmp_path_factory, days, query):
    folder = tmp_path_factory.mktemp("snapshots")
    start = pd.Timestamp("2025-01-01")
    for offset in days:
        write_snapshot(folder, (start + pd.Timedelta(days=offset)).strftime("%Y%m%d"), SQUARE)
    layer = load_snapshot_folder(folder)
    earlier = [offset for offset in days if offset <= query]
    found = layer.snapshot_on(start + pd.Timedelta(days=query))
    if not earlier:
        assert found is None
    else:
        assert found.date == start + pd.Timedelta(days=max(earlier))


# --------------------------------------------------------------------------
# Areas and change


def test_areas_match_the_authalic_sphere(three_days):
    layer = load_snapshot_folder(three_days)
    assert layer.snapshot_on("2025-01-02").area_km2 == pytest.approx(rectangle_km2(30, 48, 31, 49), rel=0.005)
    assert layer.snapshot_on("2025-01-05").area_km2 == pytest.approx(rectangle_km2(30, 48, 32, 49), rel=0.005)


def test_change_gained(three_days):
    change = change_between(load_snapshot_folder(three_days), "2025-01-03", "2025-01-06")
    assert (change.date_from, change.date_to) == (pd.Timestamp("2025-01-02"), pd.Timestamp("2025-01-05"))
    assert change.area_from_km2 == pytest.approx(rectangle_km2(30, 48, 31, 49), rel=0.005)
    assert change.area_to_km2 == pytest.approx(rectangle_km2(30, 48, 32, 49), rel=0.005)
    assert change.gained_km2 == pytest.approx(rectangle_km2(31, 48, 32, 49), rel=0.005)
    assert change.lost_km2 == pytest.approx(0, abs=1e-6)
    assert change.net_km2 == pytest.approx(change.area_to_km2 - change.area_from_km2, rel=1e-6)


def test_change_lost(three_days):
    change = change_between(load_snapshot_folder(three_days), "2025-01-05", "2025-01-10")
    assert change.gained_km2 == pytest.approx(0, abs=1e-6)
    assert change.lost_km2 == pytest.approx(rectangle_km2(30.5, 48, 32, 49), rel=0.005)
    assert change.net_km2 == pytest.approx(-change.lost_km2)
    assert change.lost.covers(shapely.box(30.6, 48.1, 31.9, 48.9))


def test_change_to_geojson(three_days):
    change = change_between(load_snapshot_folder(three_days), "2025-01-02", "2025-01-10")
    both_ways = change_between(load_snapshot_folder(three_days), "2025-01-05", "2025-01-02")
    assert both_ways.lost_km2 == pytest.approx(rectangle_km2(31, 48, 32, 49), rel=0.005)
    collection_ = change.to_geojson()
    assert collection_["type"] == "FeatureCollection"
    [lost] = collection_["features"]
    assert lost["properties"]["change"] == "lost"
    assert lost["properties"]["area_km2"] == pytest.approx(rectangle_km2(30.5, 48, 31, 49), rel=0.005)
    assert shapely.geometry.shape(lost["geometry"]).equals(shapely.box(30.5, 48, 31, 49))


def test_change_before_the_first_snapshot_is_an_error(three_days):
    with pytest.raises(TerritoryError, match="no snapshot on or before 2024-12-31; its first is 2025-01-02"):
        change_between(load_snapshot_folder(three_days), "2024-12-31", "2025-01-06")


# --------------------------------------------------------------------------
# Points


@pytest.fixture
def holed_layer(tmp_path):
    folder = tmp_path / "holed"
    outer, hole = ring(30, 48, 32, 50), ring(30.5, 48.5, 31.5, 49.5)
    write_snapshot(folder, "20250102", multipolygon([outer, hole[::-1]]))
    write_snapshot(folder, "20250105", multipolygon([ring(30, 48, 33, 50)]))
    return load_snapshot_folder(folder)


def test_classify_points_edges_holes_and_dates(holed_layer):
    cases = [  # day, lon, lat, expected
        ("2025-01-01", 31.0, 49.8, "no layer"),
        ("2025-01-02", 29.999, 49.8, "outside"),  # just west of the west edge
        ("2025-01-02", 30.001, 49.8, "inside"),  # just east of it
        ("2025-01-02", 31.0, 49.0, "outside"),  # in the hole
        ("2025-01-03", 30.499, 49.0, "inside"),  # beside the hole
        ("2025-01-04", 32.5, 49.0, "outside"),  # not yet taken ...
        ("2025-01-05", 32.5, 49.0, "inside"),  # ... taken on the 5th
        ("2026-01-01", 31.0, 49.0, "inside"),  # after the last: the last holds, hole filled
    ]
    days, lons, lats, expected = zip(*cases)
    result = classify_points(holed_layer, pd.to_datetime(list(days)), lons, lats)
    assert list(result) == list(expected)


def test_classify_points_accepts_strings_and_missing_days(holed_layer):
    result = classify_points(holed_layer, ["2025-01-03", None], [31.9, 31.9], [49.8, 49.8])
    assert list(result) == ["inside", "no layer"]


def test_classify_points_agrees_with_shapely_point_by_point(holed_layer):
    rng = np.random.default_rng(1)
    count = 3000
    days = pd.Timestamp("2024-12-30") + pd.to_timedelta(rng.integers(0, 10, count), unit="D")
    lons, lats = rng.uniform(29.5, 33.5, count), rng.uniform(47.5, 50.5, count)
    result = classify_points(holed_layer, days, lons, lats)
    for day, lon, lat, got in zip(days, lons, lats, result):
        snapshot = holed_layer.snapshot_on(day)
        expected = "no layer" if snapshot is None else (
            "inside" if snapshot.geometry.contains(shapely.Point(lon, lat)) else "outside")
        assert got == expected


# --------------------------------------------------------------------------
# Validation


def test_self_intersecting_polygon_is_repaired(tmp_path):
    bowtie = multipolygon([[[30, 48], [31, 49], [31, 48], [30, 49], [30, 48]]])
    write_snapshot(tmp_path, "20250102", bowtie)
    layer = load_snapshot_folder(tmp_path)
    [issue] = layer.issues
    assert issue.where == "deepstatemap_data_20250102.geojson feature 1"
    assert issue.action == "repaired"
    assert "Self-intersection" in issue.reason and "make_valid" in issue.reason
    snapshot = layer.snapshot_on("2025-01-02")
    assert snapshot.geometry.is_valid
    assert snapshot.area_km2 == pytest.approx(rectangle_km2(30, 48, 31, 49) / 2, rel=0.01)


def test_empty_and_missing_geometries_are_skipped(tmp_path):
    content = collection(
        feature(SQUARE),
        feature({"type": "MultiPolygon", "coordinates": []}),
        feature(None),
    )
    write_json(tmp_path / "deepstatemap_data_20250102.geojson", content)
    layer = load_snapshot_folder(tmp_path)
    assert [(i.where, i.action) for i in layer.issues] == [
        ("deepstatemap_data_20250102.geojson feature 2", "skipped"),
        ("deepstatemap_data_20250102.geojson feature 3", "skipped"),
    ]
    assert all("no geometry" in issue.reason for issue in layer.issues)
    assert layer.snapshot_on("2025-01-02").area_km2 == pytest.approx(rectangle_km2(30, 48, 31, 49), rel=0.005)


def test_a_day_with_no_usable_feature_keeps_the_previous_day(tmp_path):
    write_snapshot(tmp_path, "20250102", SQUARE)
    write_json(tmp_path / "deepstatemap_data_20250103.geojson", collection(feature(None)))
    layer = load_snapshot_folder(tmp_path)
    assert "deepstatemap_data_20250103.geojson: no usable feature" in reasons(layer)
    assert layer.snapshot_on("2025-01-03").date == pd.Timestamp("2025-01-02")


def test_bad_dates_in_file_names_are_reported(tmp_path):
    write_snapshot(tmp_path, "20250102", SQUARE)
    write_snapshot(tmp_path, "20251340", SQUARE)
    write_json(tmp_path / "notes.geojson", collection(feature(SQUARE)))
    (tmp_path / "LICENSE").write_text("not data")
    layer = load_snapshot_folder(tmp_path)
    assert reasons(layer) == (
        "deepstatemap_data_20251340.geojson: '20251340' in the file name is not a real date (skipped)\n"
        "notes.geojson: no date in the file name (expected NAME_YYYYMMDD.geojson) (skipped)"
    )
    assert len(layer.dates) == 1


def test_out_of_range_or_swapped_coordinates_are_skipped(tmp_path):
    swapped = multipolygon([ring(48, 130, 49, 131)])  # written lat, lon: y > 90
    metres = multipolygon([ring(3_300_000, 6_100_000, 3_400_000, 6_200_000)])
    write_json(
        tmp_path / "deepstatemap_data_20250102.geojson",
        collection(feature(SQUARE), feature(swapped), feature(metres)),
    )
    layer = load_snapshot_folder(tmp_path)
    assert [i.where.rsplit(" ", 1)[1] for i in layer.issues] == ["2", "3"]
    for issue in layer.issues:
        assert issue.action == "skipped"
        assert "outside longitude -180..180 / latitude -90..90" in issue.reason
        assert "swapped" in issue.reason


def test_points_and_unknown_statuses_are_skipped_collections_repaired(tmp_path):
    collection_geometry = {"type": "GeometryCollection", "geometries": [
        {"type": "Polygon", "coordinates": [ring(31, 48, 32, 49)]},
        {"type": "Point", "coordinates": [31, 48]},
    ]}
    content = collection(
        feature(SQUARE, status="occupied"),
        feature({"type": "Point", "coordinates": [30.5, 48.5]}),
        feature(SQUARE, status="liberated"),
        feature(collection_geometry),
    )
    write_json(tmp_path / "deepstatemap_data_20250102.geojson", content)
    layer = load_snapshot_folder(tmp_path)
    assert [(i.where[-9:], i.action) for i in layer.issues] == [
        ("feature 2", "skipped"), ("feature 3", "skipped"), ("feature 4", "repaired")]
    assert "a Point, not a polygon" in layer.issues[0].reason
    assert "status 'liberated' is not one of occupied, contested, claimed" in layer.issues[1].reason
    assert layer.snapshot_on("2025-01-02").area_km2 == pytest.approx(rectangle_km2(30, 48, 32, 49), rel=0.005)


def test_collection_without_polygons_is_skipped(tmp_path):
    only_points = {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [31, 48]}]}
    write_json(tmp_path / "deepstatemap_data_20250102.geojson", collection(feature(SQUARE), feature(only_points)))
    [issue] = load_snapshot_folder(tmp_path).issues
    assert (issue.reason, issue.action) == ("a GeometryCollection with no polygon in it", "skipped")


def test_column_dates_keep_the_day_as_written(tmp_path):
    content = collection(
        feature(SQUARE, date="2025-01-02T01:00:00+03:00"),  # 2025-01-01 in UTC, but the 2nd where written
        feature(WIDE, date="20250105"),
    )
    layer = load_layer_file(write_json(tmp_path / "times.geojson", content))
    assert list(layer.dates.strftime("%Y-%m-%d")) == ["2025-01-02", "2025-01-05"]


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(TerritoryError, match=r"No snapshot files \(\*_YYYYMMDD.geojson\)"):
        load_snapshot_folder(tmp_path)
    (tmp_path / "LICENSE").write_text("GPL")
    with pytest.raises(TerritoryError, match="No snapshot files"):
        load_layer(tmp_path)


def test_folder_with_nothing_usable_names_the_first_problem(tmp_path):
    (tmp_path / "deepstatemap_data_20250102.geojson").write_text("{ not json")
    with pytest.raises(TerritoryError, match=r"Nothing usable in .*deepstatemap_data_20250102.geojson: could not be read"):
        load_snapshot_folder(tmp_path)


def test_unreadable_file_in_a_folder_is_skipped(tmp_path):
    write_snapshot(tmp_path, "20250102", SQUARE)
    (tmp_path / "deepstatemap_data_20250103.geojson").write_text("{ not json")
    layer = load_snapshot_folder(tmp_path)
    [issue] = layer.issues
    assert issue.where == "deepstatemap_data_20250103.geojson"
    assert issue.reason.startswith("could not be read as a geographic file (")


@pytest.mark.parametrize("content, message", [
    (b"", "layer.geojson is empty."),
    (b"\x00\x01 garbage", "layer.geojson could not be read as a geographic file"),
    (json.dumps(collection()).encode(), "layer.geojson has no features."),
    (json.dumps(collection(feature(SQUARE))).encode(), "layer.geojson has no 'date' or 'valid_from' column"),
])
def test_unreadable_layer_file_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "layer.geojson"
    path.write_bytes(content)
    with pytest.raises(TerritoryError) as caught:
        load_layer(path)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(TerritoryError, match="does not exist"):
        load_layer(tmp_path / "nowhere.geojson")


def test_issue_text():
    assert str(LayerIssue("a.geojson feature 2", "no geometry", "skipped")) == "a.geojson feature 2: no geometry (skipped)"


# --------------------------------------------------------------------------
# Layer files


def test_layer_file_with_dates_and_statuses(tmp_path):
    content = collection(
        feature(SQUARE, date="2025-01-02", status="occupied"),
        feature(multipolygon([ring(31, 48, 32, 49)]), date="2025-01-02", status="contested"),
        feature(WIDE, date="2025-01-05", status="Occupied"),
        feature(SQUARE, date="2025-13-01"),
        feature(SQUARE, date="yesterday"),
    )
    layer = load_layer_file(write_json(tmp_path / "front.geojson", content))
    assert layer.name == "front"
    assert reasons(layer) == (
        "front.geojson feature 4: date '2025-13-01' is not a date (expected YYYY-MM-DD) (skipped)\n"
        "front.geojson feature 5: date 'yesterday' is not a date (expected YYYY-MM-DD) (skipped)"
    )
    first = layer.snapshot_on("2025-01-03")
    assert sorted(first.by_status) == ["contested", "occupied"]
    assert first.area_km2 == pytest.approx(rectangle_km2(30, 48, 32, 49), rel=0.005)
    assert list(layer.snapshot_on("2025-01-05").by_status) == ["occupied"]


def test_layer_file_with_validity_intervals(tmp_path):
    west, east = multipolygon([ring(30, 48, 31, 49)]), multipolygon([ring(31, 48, 32, 49)])
    content = collection(
        feature(west, valid_from="2025-01-01", valid_to="2025-01-10", status="occupied"),
        feature(east, valid_from="2025-01-05", valid_to="", status="contested"),
        feature(east, valid_from="2025-01-08", valid_to="2025-01-02"),
        feature(east, valid_from="", valid_to="2025-01-02"),
    )
    layer = load_layer_file(write_json(tmp_path / "intervals.geojson", content))
    assert reasons(layer) == (
        "intervals.geojson feature 3: valid_to is before valid_from (skipped)\n"
        "intervals.geojson feature 4: valid_from is empty (skipped)"
    )
    assert layer.snapshot_on("2024-12-31") is None
    assert layer.snapshot_on("2025-01-04").geometry.equals(shapely.box(30, 48, 31, 49))
    both = layer.snapshot_on("2025-01-10")  # valid_to is inclusive
    assert sorted(both.by_status) == ["contested", "occupied"]
    assert both.area_km2 == pytest.approx(rectangle_km2(30, 48, 32, 49), rel=0.005)
    assert list(layer.snapshot_on("2025-01-11").by_status) == ["contested"]
    assert list(layer.dates.strftime("%m-%d")) == ["01-01", "01-05", "01-11"]


def test_interval_layer_after_every_end_is_empty(tmp_path):
    content = collection(feature(SQUARE, valid_from="2025-01-01", valid_to="2025-01-03"))
    layer = load_layer_file(write_json(tmp_path / "short.geojson", content))
    after = layer.snapshot_on("2025-01-04")
    assert after.geometry.is_empty and after.area_km2 == 0
    assert list(classify_points(layer, ["2025-01-03", "2025-01-04"], [30.5] * 2, [48.5] * 2)) == ["inside", "outside"]
    assert layer.display_geojson("2025-01-05", 0.01)[1]["features"] == []
    assert change_between(layer, "2025-01-02", "2025-01-04").lost_km2 == pytest.approx(rectangle_km2(30, 48, 31, 49), rel=0.005)


def test_folder_and_layer_file_answer_the_same(tmp_path, three_days):
    rows = [feature(SQUARE, date="2025-01-02"), feature(WIDE, date="2025-01-05"), feature(SMALL, date="2025-01-10")]
    from_file = load_layer_file(write_json(tmp_path / "same.geojson", collection(*rows)))
    from_folder = load_snapshot_folder(three_days)
    for day in pd.date_range("2024-12-30", "2025-01-14"):
        a, b = from_file.snapshot_on(day), from_folder.snapshot_on(day)
        assert (a is None) == (b is None)
        if a is not None:
            assert a.date == b.date and a.geometry.equals(b.geometry)


def test_mirror_geojson_gz(tmp_path):
    """The public mirror: one gzipped file with id, date, geometry."""
    content = collection(
        feature(SQUARE, id=1, date="2025-01-02"),
        feature(WIDE, id=2, date="2025-01-05"),
    )
    path = tmp_path / "territory" / "deepstate-map-data.geojson.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress(json.dumps(content).encode()))
    for layer in (load_layer_file(path), load_layer(path.parent)):
        assert (layer.name, layer.licence) == ("DeepStateMap", "GPL-3.0")
        assert layer.snapshot_on("2025-01-04").date == pd.Timestamp("2025-01-02")
        assert layer.snapshot_on("2025-01-09").area_km2 == pytest.approx(rectangle_km2(30, 48, 32, 49), rel=0.005)


def test_gzipped_snapshot_in_a_folder(tmp_path):
    text = json.dumps(collection(feature(SQUARE)))
    (tmp_path / "deepstatemap_data_20250102.geojson.gz").write_bytes(gzip.compress(text.encode()))
    assert load_layer(tmp_path).snapshot_on("2025-01-02").area_km2 > 0


def test_geoparquet_layer_file(tmp_path):
    frame = gpd.GeoDataFrame(
        {"valid_from": ["2025-01-01"], "valid_to": [None], "status": ["claimed"], "name": ["Claimed area"]},
        geometry=[shapely.box(30, 48, 31, 49)],
        crs="EPSG:4326",
    )
    frame.to_parquet(tmp_path / "claims.parquet")
    layer = load_layer(tmp_path / "claims.parquet")
    assert layer.name == "Claimed area"
    assert list(layer.snapshot_on("2030-01-01").by_status) == ["claimed"]


def test_projected_layer_file_is_converted_to_lonlat(tmp_path):
    frame = gpd.GeoDataFrame({"date": ["2025-01-02"]}, geometry=[shapely.box(30, 48, 31, 49)], crs="EPSG:4326")
    frame.to_crs("EPSG:3857").to_file(tmp_path / "mercator.gpkg")
    layer = load_layer(tmp_path / "mercator.gpkg")
    assert layer.issues == []
    assert layer.snapshot_on("2025-01-02").area_km2 == pytest.approx(rectangle_km2(30, 48, 31, 49), rel=0.005)


# --------------------------------------------------------------------------
# Display


def test_display_geojson_is_cached_per_snapshot_and_tolerance(three_days, monkeypatch):
    layer = load_snapshot_folder(three_days)
    simplified = []
    original = territory_model.shapely.simplify
    monkeypatch.setattr(territory_model.shapely, "simplify", lambda *a, **k: simplified.append(1) or original(*a, **k))

    date, first = layer.display_geojson("2025-01-06", 0.01)
    again_date, again = layer.display_geojson("2025-01-08", 0.01)  # same snapshot (the 5th)
    assert date == again_date == pd.Timestamp("2025-01-05")
    assert again is first
    assert len(simplified) == 1
    assert layer.display_cache_info().hits == 1

    layer.display_geojson("2025-01-08", 0.05)  # another tolerance: built once more
    assert len(simplified) == 2 and layer.display_cache_info().misses == 2


def test_display_geojson_content(tmp_path):
    wobbly = [[30 + 0.123456789 * (i % 2), 48 + i * 0.01] for i in range(50)]
    outline = [[29, 48]] + wobbly + [[29, 48.49], [29, 48]]
    write_snapshot(tmp_path, "20250102", multipolygon([outline]))
    layer = load_snapshot_folder(tmp_path)
    assert layer.display_geojson("2025-01-01", 0.01) == (None, {"type": "FeatureCollection", "features": []})
    date, shown = layer.display_geojson("2025-01-02", 0.0)
    [item] = shown["features"]
    assert item["properties"] == {"layer": "DeepStateMap", "status": "occupied", "date": "2025-01-02"}
    coordinates = np.array(shapely.get_coordinates(shapely.geometry.shape(item["geometry"])))
    assert np.allclose(coordinates, np.round(coordinates, 5), atol=1e-12)
    simple = shapely.geometry.shape(layer.display_geojson("2025-01-02", 0.5)[1]["features"][0]["geometry"])
    assert shapely.get_num_coordinates(simple) < len(outline)


# --------------------------------------------------------------------------
# CLI


def run_cli(*argv):
    return cli.run(["territory", *argv])


def test_cli_report(three_days, tmp_path, capsys):
    out_file = tmp_path / "change.geojson"
    code = run_cli("--layer", str(three_days), "--from", "2025-01-03", "--to", "2025-01-06", "--geojson", str(out_file))
    output = capsys.readouterr()
    assert code == 0 and output.err == ""
    lines = output.out.splitlines()
    assert lines[0].startswith("Layer: DeepStateMap (3 snapshots, 2025-01-02 to 2025-01-10;")
    square, wide = rectangle_km2(30, 48, 31, 49), rectangle_km2(30, 48, 32, 49)
    expected = [
        (r"From 2025-01-03: snapshot of 2025-01-02, area ([\d,]+\.\d) km2", square),
        (r"To   2025-01-06: snapshot of 2025-01-05, area ([\d,]+\.\d) km2", wide),
        (r"Gained: ([\d,]+\.\d) km2", wide - square),
        (r"Lost:   (0\.0) km2", 0),
        (r"Net:    \+([\d,]+\.\d) km2", wide - square),
    ]
    for line, (pattern, value) in zip(lines[1:6], expected):
        match = re.fullmatch(pattern, line)
        assert match, line
        assert float(match.group(1).replace(",", "")) == pytest.approx(value, rel=0.005, abs=0.05)
    assert "," in lines[2]  # thousands separator: 16,xxx.x km2
    assert lines[6] == "Validation: no issues."
    assert lines[7] == f"Change polygons written to {out_file}"
    written = json.loads(out_file.read_text())
    assert [f["properties"]["change"] for f in written["features"]] == ["gained"]


def test_cli_lists_validation_issues(three_days, capsys):
    write_json(three_days / "deepstatemap_data_20250103.geojson", collection(feature(SQUARE), feature(None)))
    assert run_cli("--layer", str(three_days), "--from", "2025-01-02", "--to", "2025-01-03") == 0
    out = capsys.readouterr().out
    assert "Validation: 1 issue(s):\n  deepstatemap_data_20250103.geojson feature 2: no geometry" in out


@pytest.mark.parametrize("argv, message", [
    (["--from", "2025-02-30", "--to", "2025-01-06"], "error: --from '2025-02-30' is not a date; use YYYY-MM-DD.\n"),
    (["--from", "2025-01-02", "--to", "soon"], "error: --to 'soon' is not a date; use YYYY-MM-DD.\n"),
    (["--from", "2024-01-01", "--to", "2025-01-06"],
     "error: DeepStateMap has no snapshot on or before 2024-01-01; its first is 2025-01-02.\n"),
])
def test_cli_bad_dates_exit_2(three_days, capsys, argv, message):
    assert run_cli("--layer", str(three_days), *argv) == 2
    output = capsys.readouterr()
    assert output.err == message and output.out == ""


def test_cli_unreadable_layer_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.geojson"
    bad.write_text("nonsense")
    assert run_cli("--layer", str(bad), "--from", "2025-01-02", "--to", "2025-01-06") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad.geojson could not be read") and err.count("\n") == 1
    assert "Traceback" not in err


# --------------------------------------------------------------------------
# Fetch


class FixtureServer:
    """A local HTTP server for one payload, honouring Range unless told not to."""

    def __init__(self, payload: bytes, honour_range: bool = True, cut_at: int | None = None):
        self.payload, self.honour_range, self.cut_at = payload, honour_range, cut_at
        self.ranges: list[str | None] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                requested = self.headers.get("Range")
                server.ranges.append(requested)
                body, start = server.payload, 0
                if requested and server.honour_range:
                    start = int(re.match(r"bytes=(\d+)-", requested).group(1))
                    if start >= len(body):
                        self.send_response(416)
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                end = len(body) if server.cut_at is None else server.cut_at
                self.wfile.write(body[start:end])

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/deepstate-map-data.geojson.gz"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


@pytest.fixture
def mirror_bytes():
    rows = [feature(SQUARE, id=i, date=f"2025-01-{i:02d}") for i in range(1, 21)]
    return gzip.compress(json.dumps(collection(*rows)).encode())


@pytest.fixture
def serve():
    servers = []

    def start(payload, **options):
        servers.append(FixtureServer(payload, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def run_fetch(url, folder):
    return cli.run(["fetch-territory", "--url", url, "--data-dir", str(folder), "--timeout", "10"])


def test_fetch_downloads_validates_and_saves(tmp_path, serve, mirror_bytes, capsys):
    server = serve(mirror_bytes)
    assert run_fetch(server.url, tmp_path / "territory") == 0
    saved = tmp_path / "territory" / "deepstate-map-data.geojson.gz"
    assert saved.read_bytes() == mirror_bytes
    assert not saved.with_name(saved.name + ".part").exists()
    output = capsys.readouterr()
    assert "Downloading deepstate-map-data.geojson.gz: " in output.err and "(100%)" in output.err
    assert output.out.startswith(f"Saved {saved}: 20 snapshots from 2025-01-01 to 2025-01-20")
    assert server.ranges == [None]
    assert len(load_layer(tmp_path / "territory").dates) == 20


def test_fetch_resumes_from_a_part_file(tmp_path, serve, mirror_bytes, capsys):
    server = serve(mirror_bytes)
    half = len(mirror_bytes) // 2
    (tmp_path / "deepstate-map-data.geojson.gz.part").write_bytes(mirror_bytes[:half])
    assert run_fetch(server.url, tmp_path) == 0
    assert server.ranges == [f"bytes={half}-"]
    assert (tmp_path / "deepstate-map-data.geojson.gz").read_bytes() == mirror_bytes
    assert f"Resuming deepstate-map-data.geojson.gz at {half / 1000:.1f} KB" in capsys.readouterr().err


def test_fetch_after_an_interrupted_transfer(tmp_path, serve, mirror_bytes, capsys):
    cut = serve(mirror_bytes, cut_at=len(mirror_bytes) // 3)
    assert run_fetch(cut.url, tmp_path) == 1
    assert "run again to resume" in capsys.readouterr().err
    kept = (tmp_path / "deepstate-map-data.geojson.gz.part").stat().st_size
    assert 0 < kept < len(mirror_bytes)
    whole = serve(mirror_bytes)
    assert run_fetch(whole.url, tmp_path) == 0
    assert whole.ranges == [f"bytes={kept}-"]
    assert (tmp_path / "deepstate-map-data.geojson.gz").read_bytes() == mirror_bytes


def test_fetch_starts_again_when_range_is_ignored(tmp_path, serve, mirror_bytes):
    server = serve(mirror_bytes, honour_range=False)
    (tmp_path / "deepstate-map-data.geojson.gz.part").write_bytes(b"stale bytes")
    assert run_fetch(server.url, tmp_path) == 0
    assert server.ranges == ["bytes=11-"]
    assert (tmp_path / "deepstate-map-data.geojson.gz").read_bytes() == mirror_bytes


def test_fetch_keeps_the_old_file_when_the_new_one_is_bad(tmp_path, serve, mirror_bytes, capsys):
    saved = tmp_path / "deepstate-map-data.geojson.gz"
    saved.write_bytes(mirror_bytes)
    server = serve(gzip.compress(b"<html>rate limited</html>"))
    assert run_fetch(server.url, tmp_path) == 1
    assert saved.read_bytes() == mirror_bytes
    assert not saved.with_name(saved.name + ".part").exists()
    err = capsys.readouterr().err
    assert "the download is not a usable territory layer" in err and f"{saved} is kept unchanged" in err


def test_fetch_from_a_file_url(tmp_path, mirror_bytes):
    source = tmp_path / "source" / "deepstate-map-data.geojson.gz"
    source.parent.mkdir()
    source.write_bytes(mirror_bytes)
    assert run_fetch(source.as_uri(), tmp_path / "out") == 0
    assert (tmp_path / "out" / source.name).read_bytes() == mirror_bytes


def test_fetch_unreachable_server_is_one_message(tmp_path, serve, mirror_bytes, capsys):
    server = serve(mirror_bytes)
    url = server.url
    server.close()
    assert run_fetch(url, tmp_path) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: could not download {url} (") and err.count("\n") == 1
    assert "resume" not in err  # nothing was downloaded
