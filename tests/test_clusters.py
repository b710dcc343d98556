"""Points mode's clustering: every event counted once at every zoom, same-place events one mark."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.ingest.prepare import prepare_events
from dashboard.render.clusters import cell_deg_for_zoom, compute_marks, events_in_cell, mark_px, marks_extent, region_px
from dashboard.render.map import first_view, map_figure
from dashboard.store.contract import extent_cells
from dashboard.store.memory import InMemoryEventStore
from dashboard.view import ViewState


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    return InMemoryEventStore(prepare_events(cache_dir=tmp_path_factory.mktemp("cache")).events)


def synthetic(rows: int, seed: int = 3) -> InMemoryEventStore:
    rng = np.random.default_rng(seed)
    precision = rng.choice(["town", "near", "region", "country"], rows, p=[0.6, 0.25, 0.1, 0.05])
    # A tenth of the events share ten exact places, as reports of one town do.
    lat = np.where(rng.random(rows) < 0.1, np.round(rng.uniform(46, 51, 10), 4)[rng.integers(0, 10, rows)], rng.uniform(44, 56, rows))
    lon = rng.uniform(28, 50, rows)
    frame = pd.DataFrame({
        "event_id": [f"S{i}" for i in range(rows)],
        "event_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D"),
        "date_precision": rng.choice(["day", "week", "month"], rows),
        "event_type": rng.choice(["Battles", "Riots", "Protests", "Explosions/Remote violence"], rows),
        "sub_event_type": "", "actor1": "A", "actor2": "", "place": "P", "summary": "s",
        "latitude": lat, "longitude": lon, "geo_precision": precision,
        "admin1_code": rng.choice(["UA-14", "UA-63", "RU-KRS"], rows), "admin1_name": "R",
        "country_code": rng.choice(["UA", "RU"], rows),
    })
    return InMemoryEventStore(frame)


def counted(marks) -> int:
    return int(marks.marks["count"].sum()) + int(marks.regions["count"].sum()) + marks.country_level


@pytest.mark.parametrize("zoom", [2, 4, 5.5, 7, 9, 12])
def test_every_event_is_counted_once_at_every_zoom(zoom):
    store = synthetic(2_500)  # below the detail cap: singles carry their own hover text
    view = ViewState()
    marks = compute_marks(view, store, zoom)
    assert counted(marks) == store.count(view) == 2_500
    assert marks.details and marks.marks["cell"].is_unique


@pytest.mark.parametrize("zoom", [3, 8])
def test_twenty_thousand_events_all_counted_without_hover_details(zoom):
    store = synthetic(20_000)
    marks = compute_marks(ViewState(), store, zoom)
    assert not marks.details and counted(marks) == 20_000
    filtered = ViewState(types=("Riots",))
    assert counted(compute_marks(filtered, store, zoom)) == store.count(filtered)


@pytest.mark.parametrize("zoom", [8, 11])
def test_a_zoomed_in_map_gets_the_marks_about_its_centre_and_every_one_of_them(zoom):
    store = synthetic(20_000)
    view = ViewState(center_lat=48.0, center_lon=37.5, zoom=zoom)
    west, south, east, north = marks_extent(view, zoom)
    marks = compute_marks(view, store, zoom)
    # The area is what a 2560 x 1440 map shows, with a margin for panning, and no more.
    degrees_per_px = 360 / (512 * 2**zoom)
    assert 2560 * degrees_per_px < east - west < 2 * 2560 * degrees_per_px and south < 48.0 < north
    # Whole cells: those that meet the area, and no other.
    first_row, last_row, first_col, last_col = extent_cells((west, south, east, north), marks.cell_deg)
    rows, cols = zip(*(map(int, cell.split(":")) for cell in marks.marks["cell"]))
    assert len(marks.marks) and first_row <= min(rows) <= max(rows) <= last_row and first_col <= min(cols) <= max(cols) <= last_col
    # Every fine event in those cells is in a mark; those outside are not sent.
    events = store.records(view)
    fine = events[~events["geo_precision"].isin(["region", "country"])]
    row, col = np.floor((fine["latitude"] + 90) / marks.cell_deg), np.floor((fine["longitude"] + 180) / marks.cell_deg)
    near = row.between(first_row, last_row) & col.between(first_col, last_col)
    assert marks.marks["count"].sum() == near.sum() < len(fine)
    # Region circles and the country note still count every coarse event.
    assert marks.regions["count"].sum() + marks.country_level == len(events) - len(fine)


def test_an_export_larger_than_a_screen_gets_the_marks_of_all_it_shows():
    store = synthetic(20_000)
    view = ViewState(center_lat=50.0, center_lon=39.0, zoom=7)
    page = compute_marks(view, store, 7)
    poster = compute_marks(view, store, 7, (8000, 5000))
    assert poster.marks["count"].sum() > page.marks["count"].sum() > 0
    figure = map_figure(view, store, width_px=8000, height_px=5000)
    events = next(t for t in figure.data if t.name == "events")
    assert sum(int(row[4]) for row in events.customdata) == poster.marks["count"].sum()


def test_the_first_view_and_the_whole_world_ask_for_every_mark():
    assert marks_extent(ViewState(), 9) is None  # not yet placed: fitted to every event
    assert marks_extent(ViewState(center_lat=50.0, center_lon=30.0, zoom=1.5), 1.5) is None
    assert marks_extent(ViewState(center_lat=65.0, center_lon=179.0, zoom=6), 6) is None  # across the antimeridian


def test_events_at_one_place_are_one_mark_with_their_count(bundled):
    marks = compute_marks(ViewState(), bundled, zoom=11).marks
    kazan = marks[(marks["latitude"] - 55.7887).abs().lt(1e-3) & (marks["longitude"] - 49.1221).abs().lt(1e-3)]
    assert len(kazan) == 1 and int(kazan["count"].iloc[0]) == 3 and bool(kazan["same_place"].iloc[0])
    liski = marks[(marks["latitude"] - 50.9824).abs().lt(1e-3)]
    assert int(liski["count"].iloc[0]) == 2
    pokrovsk = marks[(marks["latitude"] - 48.2801).abs().lt(1e-3)]
    assert int(pokrovsk["count"].iloc[0]) == 2  # a "near" and a "town" report of Pokrovsk


def test_region_and_country_level_events_are_not_points(bundled):
    marks = compute_marks(ViewState(), bundled, zoom=6)
    assert marks.country_level == 1  # "Ukraine", located only to the country: never a pin on Kyiv
    regions = marks.regions.set_index("admin1_code")
    assert regions.loc["RU-KRS", "count"] == 2 and regions.loc["RU-SMO", "count"] == 1
    # Kursk oblast is ~29,800 km²: its circle has the same area, ~97 km in radius.
    assert 90 < regions.loc["RU-KRS", "radius_km"] < 105
    assert counted(marks) == 12
    # The circle grows with the zoom: twice the pixels for each zoom level.
    assert region_px(97, 51.7, 7) == pytest.approx(2 * region_px(97, 51.7, 6))


def test_the_cell_follows_the_zoom_so_marks_do_not_overlap():
    for zoom in (3, 6, 9):
        cell = cell_deg_for_zoom(zoom)
        pixels = cell * 512 * 2**zoom / 360
        assert pixels >= mark_px(100) and pixels < 2 * 44  # a mark of 100 events fits, and the grid stays fine
    assert cell_deg_for_zoom(4) == 2 * cell_deg_for_zoom(5)


def test_marks_are_drawn_by_count_not_by_type():
    store = synthetic(2_000)
    figure = map_figure(ViewState(center_lat=50, center_lon=38, zoom=5), store)
    events = next(t for t in figure.data if t.name == "events")
    counts = np.asarray(events.customdata[:, 4], dtype=int)
    assert (np.diff(counts) <= 0).all()  # the largest first, the smallest drawn on top
    assert len(set(events.marker.color)) > 1  # several types' colours in one trace, interleaved


def test_a_single_event_mark_hovers_with_its_date_precision_and_place(bundled):
    figure = map_figure(ViewState(center_lat=49.6, center_lon=37.8, zoom=9), bundled)
    events = next(t for t in figure.data if t.name == "events")
    singles = [h for h, kind in zip(events.hovertext, events.customdata[:, 1]) if kind == "event"]
    lyman = next(h for h in singles if "Lyman" in h)
    assert "20 Jan 2025" in lyman and "Battles" in lyman and "Non-state actor overtakes territory" in lyman and "Donetsk" in lyman
    assert "near the named place" in lyman  # the location's precision in words
    assert any(h.startswith("<b>2 events at one place</b>") for h in events.hovertext)  # Pokrovsk, Liski


def test_the_list_behind_a_mark_holds_its_events(bundled):
    marks = compute_marks(ViewState(), bundled, zoom=11).marks
    kazan = marks[(marks["latitude"] - 55.7887).abs().lt(1e-3)].iloc[0]
    events, total = events_in_cell(bundled, ViewState(), kazan["latitude"], kazan["longitude"], cell_deg_for_zoom(11))
    assert total == 3 and set(events["place"]) == {"Kazan"}


def test_the_first_view_holds_the_control_layer_as_well_as_the_events(bundled):
    crimea = {"sourcetype": "geojson", "type": "fill", "source": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[32.5, 44.4], [36.6, 44.4], [36.6, 46.2], [32.5, 44.4]]]}}]}}
    lat, lon, zoom = first_view(bundled, [crimea])
    plain_lat, _, plain_zoom = first_view(bundled, None)
    assert lat < plain_lat and zoom <= plain_zoom  # moved south and out to take Crimea in
    half_height_deg = 560 / 2 * 360 / (512 * 2**zoom)  # generous: Mercator stretches degrees north of the equator
    assert lat - half_height_deg < 44.4


def test_no_matching_event_draws_no_mark(bundled):
    for view in (ViewState(types=()), ViewState(text="no such words anywhere")):
        marks = compute_marks(view, bundled, 6)
        assert counted(marks) == 0 and marks.marks.empty
        assert map_figure(view, bundled).layout.annotations[0].text == "No events match these filters."


def test_joined_ids_are_pandas_groupby_join_in_the_same_order():
    from dashboard.render.clusters import joined_ids

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"key": rng.integers(0, 40, 2_000), "id": [f"E{n}" for n in rng.permutation(2_000)]})
    frame["id"] = frame["id"].astype("string[pyarrow]")
    assert joined_ids(frame["key"], frame["id"]) == frame.groupby("key")["id"].agg(",".join).to_dict()
