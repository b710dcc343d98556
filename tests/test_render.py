"""Figures as pure functions of (view, store), called directly."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.ingest.prepare import prepare_events
from dashboard.render.describe import describe_view
from dashboard.render.map import fit_map_view, map_figure
from dashboard.render.style import hover_text
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


def test_map_figure_points_every_event_in_marks_on_the_local_basemap(data):
    figure = map_figure(ViewState(center_lat=49.0, center_lon=37.8, zoom=12), data.store, admin1_source="/a")  # Lyman
    style = figure.layout.map.style
    assert style["glyphs"] == "/glyphs/{fontstack}/{range}.pbf"  # the app's own glyphs, no font server
    assert all(source["data"].startswith("/geo/") for source in style["sources"].values() if isinstance(source.get("data"), str))
    events = next(t for t in figure.data if t.name == "events")
    ids = {row[0] for row in events.customdata if row[1] == "event"}
    assert "RFERL-20250121-02" in ids  # Lyman, alone at this zoom: its own id, so a click opens its record
    battles = next(c for row, c in zip(events.customdata, events.marker.color) if row[0] == "RFERL-20250121-02")
    assert battles == TYPE_COLOURS["Battles"]
    # The first view (fitted to every event) holds every event that has a place.
    events = next(t for t in map_figure(ViewState(), data.store).data if t.name == "events")
    assert sum(int(row[4]) for row in events.customdata) == 8  # 12 less 3 region-level and 1 country-level


def test_map_figure_has_no_legend_on_the_map(data):
    figure = map_figure(ViewState(), data.store)
    assert figure.layout.showlegend is False and not figure.layout.annotations


def test_choropleth_figure_counts_per_region(data):
    view = ViewState(mode="choropleth")
    figure = map_figure(view, data.store, admin1_source="/a")
    trace = figure.data[0]
    counts = dict(zip(trace.locations, trace.z))
    assert trace.type == "choroplethmap" and counts["UA-14"] == 3 and "UA-46" not in counts
    assert any("country-level" in a.text for a in figure.layout.annotations)


def test_density_and_empty_result(data):
    view = ViewState(mode="density", text="no such words anywhere")
    figure = map_figure(view, data.store, admin1_source="/a")
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


def test_a_timeline_over_years_is_a_stacked_step_area_per_type_with_every_day(data):
    events = data.store.frame.copy()
    # Two events a year before the others: 376 days, most of them without events.
    early = events.index[:2]
    events.loc[early, "event_date"] = pd.Timestamp("2024-01-10")
    store = InMemoryEventStore(events)
    figure = timeline_figure(ViewState(), store)
    assert {t.type for t in figure.data} == {"scatter"} and {t.stackgroup for t in figure.data} == {"days"}
    days = (store.bounds.last_day - store.bounds.first_day).days + 1
    for trace in figure.data:
        # Every day, and a zero day at each end; steps centred on their days, as bars are.
        assert len(trace.y) == days + 2 and trace.y[0] == trace.y[-1] == 0 and trace.line.shape == "hvh"
        assert trace.x0 == "2024-01-09" and trace.dx == 86_400_000
    assert sum(sum(t.y) for t in figure.data) == 12
    on_day = [sum(t.y[i] for t in figure.data) for i in range(days + 2)]
    assert on_day[1] == 2 and on_day[1 + (dt.date(2024, 6, 1) - dt.date(2024, 1, 10)).days] == 0
    # A short span keeps a bar a day.
    assert {t.type for t in timeline_figure(ViewState(), data.store).data} == {"bar"}


def test_the_timeline_says_when_its_bars_changed_and_has_no_template(data):
    """The page's Plotly redraws the whole chart for new data or a new template (web/outputs.py)."""
    figure = timeline_figure(ViewState(), data.store)
    assert figure.to_plotly_json()["layout"].get("template") is None  # as sent: no template, or null
    whole = figure.layout
    dates_only = timeline_figure(ViewState(date_from=dt.date(2025, 1, 16)), data.store).layout
    other_types = timeline_figure(ViewState(types=("Battles",)), data.store).layout
    assert whole.datarevision == dates_only.datarevision != other_types.datarevision


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


def test_the_bundled_basemap_by_default_and_a_users_tiles_or_style_when_given(data):
    view = ViewState()
    default = map_figure(view, data.store)
    assert default.layout.map.style["sources"]["land"]["data"] == "/geo/basemap/land.geojson"
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    with_tiles = map_figure(view, data.store, basemap=tiles)
    assert with_tiles.layout.map.style["sources"]["local-tiles"]["tiles"] == [tiles]
    assert "land" not in with_tiles.layout.map.style["sources"]
    styled = map_figure(view, data.store, basemap="https://example.org/style.json")
    assert styled.layout.map.style == "https://example.org/style.json"
