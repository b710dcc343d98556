"""Figures as pure functions of (view, store), called directly."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.ingest.prepare import prepare_events
from dashboard.render.describe import describe_view
from dashboard.render.map import fit_map_view, map_figure
from dashboard.render.style import POINT_CAP, hover_text
from dashboard.render.territory import display_tolerance
from dashboard.render.timeline import timeline_figure
from dashboard.schema import TYPE_COLOURS
from dashboard.store.dataset import Dataset
from dashboard.store.memory import InMemoryEventStore
from dashboard.view import ViewState


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Dataset:
    prepared = prepare_events(cache_dir=tmp_path_factory.mktemp("cache"))
    return Dataset(store=InMemoryEventStore(prepared.events), label="article_events.csv", reports=prepared.reports)


def synthetic_store(rows: int) -> InMemoryEventStore:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "event_id": [f"E{i}" for i in range(rows)],
            "event_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 30, rows), unit="D"),
            "event_type": rng.choice(["Battles", "Riots"], rows),
            "sub_event_type": "",
            "actor1": "A",
            "actor2": "",
            "place": "P",
            "summary": "s",
            "latitude": rng.uniform(45, 52, rows),
            "longitude": rng.uniform(25, 40, rows),
            "geo_precision": "town",
            "admin1_code": rng.choice(["UA-14", "UA-46"], rows),
            "admin1_name": "R",
            "country_code": "UA",
        }
    )
    return InMemoryEventStore(frame)


# ---------------------------------------------------------------- figures


def test_map_figure_points_one_coloured_trace_per_type_with_ids(data):
    figure = map_figure(ViewState(), data.store, countries_source="/c", admin1_source="/a")
    assert figure.layout.map.style == "white-bg"
    traces = [t for t in figure.data if t.customdata is not None]
    ids = {row[0] for t in traces for row in t.customdata}
    assert len(ids) == 12
    battles = next(t for t in traces if t.legendgroup == "Battles")
    assert battles.marker.color == TYPE_COLOURS["Battles"]
    sources = [layer.source for layer in figure.layout.map.layers]
    assert "/c" in sources and "/a" in sources  # boundaries from the app's own origin


def test_map_figure_marks_geo_precision_by_size_and_opacity(data):
    figure = map_figure(ViewState(), data.store, countries_source="/c", admin1_source="/a")
    sizes = {}
    for trace in figure.data:
        if trace.customdata is None:
            continue
        for row, size, opacity in zip(trace.customdata, trace.marker.size, trace.marker.opacity):
            sizes[row[6]] = (size, opacity)
    assert sizes["country"][0] > sizes["region"][0] > sizes["town"][0]
    assert sizes["country"][1] < sizes["town"][1]


def test_map_figure_caps_points_and_says_so():
    store = synthetic_store(POINT_CAP + 100)
    figure = map_figure(ViewState(), store, countries_source="/c", admin1_source="/a")
    shown = sum(len(t.customdata) for t in figure.data if t.customdata is not None)
    assert shown == POINT_CAP
    assert any("most recent" in a.text for a in figure.layout.annotations)


def test_choropleth_figure_counts_per_region(data):
    view = ViewState(mode="choropleth")
    figure = map_figure(view, data.store, countries_source="/c", admin1_source="/a")
    trace = figure.data[0]
    counts = dict(zip(trace.locations, trace.z))
    assert trace.type == "choroplethmap" and counts["UA-14"] == 3 and "UA-46" not in counts
    assert any("country-level" in a.text for a in figure.layout.annotations)


def test_density_and_empty_result(data):
    view = ViewState(mode="density", text="no such words anywhere")
    figure = map_figure(view, data.store, countries_source="/c", admin1_source="/a")
    assert figure.data[0].type == "densitymap"
    assert any("No events match" in a.text for a in figure.layout.annotations)


def test_hover_text_escapes_html(data):
    assert hover_text("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"


def test_timeline_stacks_types_per_day_and_shades_the_range(data):
    view = ViewState(date_from=dt.date(2025, 1, 16), date_to=dt.date(2025, 1, 16))
    figure = timeline_figure(view, data.store)
    total = sum(sum(np.asarray(t.y)) for t in figure.data)
    assert total == 12 and figure.layout.barmode == "stack"
    assert len(figure.layout.shapes) == 1


def test_fit_map_view_contains_every_point():
    lat, lon, zoom = fit_map_view([30.5, 49.1], [48.3, 55.8])
    assert 48.3 < lat < 55.8 and 30.5 < lon < 49.1 and 3 < zoom < 6


def test_describe_view_in_plain_words(data):
    view = ViewState(date_from=dt.date(2025, 1, 16), date_to=dt.date(2025, 1, 21), types=("Battles",), regions=("UA-14",))
    text = describe_view(view, data.store, 2)
    assert text == "2 of 12 events · 16 Jan 2025 – 21 Jan 2025 · Battles · regions: Donetsk (UA-14)"


def test_control_layer_detail_follows_the_zoom(data):
    coarse = display_tolerance(ViewState(center_lat=48, center_lon=37, zoom=4), data.store)
    fine = display_tolerance(ViewState(center_lat=48, center_lon=37, zoom=9), data.store)
    assert coarse == 32 * fine  # five zoom levels: 2^5 finer
    assert 0.01 < coarse < 0.05  # about a pixel at zoom 4 (0.0275°)


def test_no_basemap_by_default_and_a_users_tiles_when_given(data):
    view = ViewState()
    default = map_figure(view, data.store, countries_source="/c", admin1_source="/a")
    assert default.layout.map.style == "white-bg"
    assert all(layer.sourcetype == "geojson" for layer in default.layout.map.layers)
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    with_tiles = map_figure(view, data.store, countries_source="/c", admin1_source="/a", basemap=tiles)
    raster = [layer for layer in with_tiles.layout.map.layers if layer.sourcetype == "raster"]
    assert [list(layer.source) for layer in raster] == [[tiles]]
    styled = map_figure(view, data.store, countries_source="/c", admin1_source="/a", basemap="https://example.org/style.json")
    assert styled.layout.map.style == "https://example.org/style.json"


