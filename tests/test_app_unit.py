"""Figure builders, the store, the controller and the callbacks' helpers, called directly."""
from __future__ import annotations

import datetime as dt
import json
import threading

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from dashboard import figures
from dashboard.app import DashboardData, detail_panel, load_dashboard_data, next_view, render_outputs
from dashboard.saved_views import SavedViewsError, import_views, read_views, save_view
from dashboard.schema import TYPE_COLOURS
from dashboard.store import InMemoryEventStore
from dashboard.view import ViewState, view_from_query

CONTROLS = dict.fromkeys(
    ["date_from", "date_to", "slider", "types", "sub_types", "countries", "regions", "actors", "text", "mode", "theme", "present", "territory_shown", "position"]
)


@pytest.fixture(scope="module")
def data(tmp_path_factory, monkeypatch_module) -> DashboardData:
    monkeypatch_module.setenv("DASHBOARD_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    return load_dashboard_data()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


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


# ------------------------------------------------------------------ store


def test_store_filters_by_type_date_region_and_text(data):
    store = data.store
    assert store.query(ViewState()).count == 12
    no_explosions = store.query(ViewState(types=("Battles", "Strategic developments")))
    assert no_explosions.count == 7
    one_day = store.records(store.query(ViewState(date_from=dt.date(2025, 1, 16), date_to=dt.date(2025, 1, 16))))
    assert list(one_day["event_id"]) == ["RFERL-20250121-06"]
    donetsk = store.query(ViewState(regions=("UA-14",)))
    assert donetsk.count == 3
    assert store.records(store.query(ViewState(text="OIL DEPOT")))["place"].tolist() == ["Liski", "Liski"]


def test_store_counts_by_region_leave_out_country_level_events(data):
    counts = data.store.counts_by_region(data.store.query(ViewState()))
    table = dict(zip(counts["admin1_code"], counts["count"]))
    assert table["UA-14"] == 3 and "UA-46" not in table and "" not in table
    assert sum(table.values()) == 11  # 12 events, one located only to Ukraine
    assert data.store.country_level_count(data.store.query(ViewState())) == 1


def test_store_caps_points_to_the_newest():
    store = synthetic_store(10_000)
    result = store.query(ViewState())
    points = store.points(result, 500)
    assert len(points) == 500
    newest_cut = np.sort(store.day[result.rows])[-500]
    assert (pd.to_datetime(points["day"]).to_numpy().astype("datetime64[D]").astype(int) >= newest_cut).all()
    assert points["latitude"].dtype == np.float32


def test_grid_counts_keep_every_event_and_grow_cells_to_the_limit():
    store = synthetic_store(20_000)
    cells, size = store.grid_counts(store.query(ViewState()), max_cells=300)
    assert len(cells) <= 300 and cells["count"].sum() == 20_000 and size > 0.05


def test_record_returns_every_field_or_none(data):
    record = data.store.record("RFERL-20250121-03")
    assert record["place"] == "Kazan" and record["admin1_code"] == "RU-TA" and record["event_date"] == "2025-01-20"
    assert data.store.record("nope") is None


# ---------------------------------------------------------------- figures


def test_map_figure_points_one_coloured_trace_per_type_with_ids(data):
    figure = figures.map_figure(ViewState(), data.store, data.store.query(ViewState()), countries_source="/c", admin1_source="/a")
    assert figure.layout.map.style == "white-bg"
    traces = [t for t in figure.data if t.customdata is not None]
    ids = {row[0] for t in traces for row in t.customdata}
    assert len(ids) == 12
    battles = next(t for t in traces if t.legendgroup == "Battles")
    assert battles.marker.color == TYPE_COLOURS["Battles"]
    sources = [layer.source for layer in figure.layout.map.layers]
    assert "/c" in sources and "/a" in sources  # boundaries from the app's own origin


def test_map_figure_marks_geo_precision_by_size_and_opacity(data):
    figure = figures.map_figure(ViewState(), data.store, data.store.query(ViewState()), countries_source="/c", admin1_source="/a")
    sizes = {}
    for trace in figure.data:
        if trace.customdata is None:
            continue
        for row, size, opacity in zip(trace.customdata, trace.marker.size, trace.marker.opacity):
            sizes[row[6]] = (size, opacity)
    assert sizes["country"][0] > sizes["region"][0] > sizes["town"][0]
    assert sizes["country"][1] < sizes["town"][1]


def test_map_figure_caps_points_and_says_so():
    store = synthetic_store(figures.POINT_CAP + 100)
    figure = figures.map_figure(ViewState(), store, store.query(ViewState()), countries_source="/c", admin1_source="/a")
    shown = sum(len(t.customdata) for t in figure.data if t.customdata is not None)
    assert shown == figures.POINT_CAP
    assert any("most recent" in a.text for a in figure.layout.annotations)


def test_choropleth_figure_counts_per_region(data):
    view = ViewState(mode="choropleth")
    figure = figures.map_figure(view, data.store, data.store.query(view), countries_source="/c", admin1_source="/a")
    trace = figure.data[0]
    counts = dict(zip(trace.locations, trace.z))
    assert trace.type == "choroplethmap" and counts["UA-14"] == 3 and "UA-46" not in counts
    assert any("country-level" in a.text for a in figure.layout.annotations)


def test_density_and_empty_result(data):
    view = ViewState(mode="density", text="no such words anywhere")
    figure = figures.map_figure(view, data.store, data.store.query(view), countries_source="/c", admin1_source="/a")
    assert figure.data[0].type == "densitymap"
    assert any("No events match" in a.text for a in figure.layout.annotations)


def test_hover_text_escapes_html(data):
    assert figures._hover_text("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"


def test_timeline_stacks_types_per_day_and_shades_the_range(data):
    view = ViewState(date_from=dt.date(2025, 1, 16), date_to=dt.date(2025, 1, 16))
    figure = figures.timeline_figure(view, data.store, data.store.query(view, ignore_dates=True))
    total = sum(sum(np.asarray(t.y)) for t in figure.data)
    assert total == 12 and figure.layout.barmode == "stack"
    assert len(figure.layout.shapes) == 1


def test_fit_map_view_contains_every_point():
    lat, lon, zoom = figures.fit_map_view([30.5, 49.1], [48.3, 55.8])
    assert 48.3 < lat < 55.8 and 30.5 < lon < 49.1 and 3 < zoom < 6


def test_describe_view_in_plain_words(data):
    view = ViewState(date_from=dt.date(2025, 1, 16), date_to=dt.date(2025, 1, 21), types=("Battles",), regions=("UA-14",))
    text = figures.describe_view(view, data.store, 2)
    assert text == "2 of 12 events · 16 Jan 2025 – 21 Jan 2025 · Battles · regions: Donetsk (UA-14)"


# ------------------------------------------------------------ controller


def test_next_view_reads_the_url_and_reports_bad_parameters(data):
    view, notices, playing, _ = next_view(data.store, None, "?from=2025-13-45&type=%3Cscript%3E", CONTROLS, {}, None, False, {})
    assert view.date_from is None and view.types is None
    assert len(notices) == 2 and not playing


def test_next_view_from_controls_swaps_reversed_dates(data):
    controls = dict(CONTROLS, date_from="2025-01-21", date_to="2025-01-16", types=list(data.store.bounds.types), mode="points", theme="light", present=[], territory_shown=["on"], position="")
    view, notices, _, _ = next_view(data.store, "date-from", "", controls, {}, "", False, {})
    assert (view.date_from, view.date_to) == (dt.date(2025, 1, 16), dt.date(2025, 1, 21))
    assert "swapped" in notices[0]


def test_next_view_region_click_in_choropleth_narrows_the_filter(data):
    controls = dict(CONTROLS, types=list(data.store.bounds.types), mode="choropleth", theme="light", present=[], territory_shown=["on"], position="")
    click = {"points": [{"location": "UA-14"}]}
    view, _, _, _ = next_view(data.store, "map", "", controls, {"map_click": click}, "mode=choropleth", False, {})
    assert view.regions == ("UA-14",)


def test_next_view_playback_plays_steps_and_stops(data):
    events = {"play_mode": "day", "window_days": 7}
    view, _, playing, _ = next_view(data.store, "play", "", CONTROLS, events, "", False, {})
    assert playing and view.date_from == view.date_to == dt.date(2025, 1, 11)
    view, _, playing, _ = next_view(data.store, "player", "", CONTROLS, events, "from=2025-01-20&to=2025-01-20", True, {})
    assert playing is False and view.date_from == view.date_to == dt.date(2025, 1, 21)  # the last day: stop
    _, _, playing, _ = next_view(data.store, "play", "", CONTROLS, events, "from=2025-01-12&to=2025-01-12", True, {})
    assert playing is False  # pause


def test_next_view_steps_through_saved_views(data):
    saved = {
        "options": [{"value": "a"}, {"value": "b"}],
        "value": "a",
        "views": [{"name": "a", "query": "type=Battles"}, {"name": "b", "query": "mode=density"}],
    }
    view, _, _, saved_after = next_view(data.store, "next-view", "", CONTROLS, {}, "", False, saved)
    assert view.mode == "density" and saved_after["value"] == "b"
    view, _, _, saved_after = next_view(data.store, "next-view", "", CONTROLS, {}, "", False, saved_after)
    assert view.types == ("Battles",) and saved_after["value"] == "a"  # wraps round


# ----------------------------------------------------------------- render


def test_render_outputs_count_summary_and_table(data):
    view, _ = view_from_query("type=Battles")
    out = render_outputs(data, view)
    assert out["count"] == "2 of 12 events"
    assert out["summary"].startswith("2 of 12 events")
    assert {row["event_id"] for row in out["table"]} == {"RFERL-20250121-01", "RFERL-20250121-02"}
    labels = [o["value"] for o in out["type_options"]]
    assert labels == list(data.store.bounds.types)


def test_render_outputs_is_json_serialisable_and_small(data):
    out = render_outputs(data, ViewState())
    payload = json.dumps({"map": out["map"].to_plotly_json(), "timeline": out["timeline"].to_plotly_json()}, default=str)
    assert len(payload) < 200_000  # boundaries travel as URLs, not inside the figure


def test_detail_panel_shows_data_as_text_and_links_only_http():
    panel = detail_panel({"summary": "<img src=x onerror=alert(1)>", "source_url": "javascript:alert(1)"})
    record = panel[1]
    texts = [child.children for child in record.children]
    assert "<img src=x onerror=alert(1)>" in texts  # a plain string: React renders it as text
    assert "javascript:alert(1)" in texts  # shown, but not as a link
    panel = detail_panel({"source_url": "https://example.org/a"})
    assert panel[1].children[1].children.href == "https://example.org/a"


# ------------------------------------------------------------ saved views


def test_saved_views_round_trip_and_replace_by_name(tmp_path):
    path = tmp_path / "views.json"
    save_view(path, "Donetsk", "region=UA-14")
    save_view(path, "Drones", "type=Explosions%2FRemote+violence")
    views = save_view(path, "Donetsk", "region=UA-14&mode=choropleth")
    assert [v["name"] for v in views] == ["Drones", "Donetsk"]
    assert read_views(path)[1]["query"] == "region=UA-14&mode=choropleth"
    with pytest.raises(SavedViewsError):
        save_view(path, "   ", "")


def test_concurrent_saves_all_persist(tmp_path):
    path = tmp_path / "views.json"
    threads = [threading.Thread(target=save_view, args=(path, f"view {i}", f"q={i}")) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(v["name"] for v in read_views(path)) == sorted(f"view {i}" for i in range(20))


def test_import_views_rejects_garbage_and_cleans_queries(tmp_path):
    path = tmp_path / "views.json"
    with pytest.raises(SavedViewsError):
        import_views(path, "not json")
    views = import_views(path, json.dumps([{"name": "x", "query": "mode=globe&type=Battles"}, {"bad": 1}]))
    assert views == [{"name": "x", "query": "type=Battles", "saved_at": ""}]


def test_control_layer_detail_follows_the_zoom(data):
    from dashboard.app import display_tolerance

    coarse = display_tolerance(ViewState(center_lat=48, center_lon=37, zoom=4), data.store)
    fine = display_tolerance(ViewState(center_lat=48, center_lon=37, zoom=9), data.store)
    assert coarse == 32 * fine  # five zoom levels: 2^5 finer
    assert 0.01 < coarse < 0.05  # about a pixel at zoom 4 (0.0275°)


def test_the_page_says_when_rows_were_rejected(tmp_path, monkeypatch):
    from dashboard.app import load_notices

    monkeypatch.setenv("DASHBOARD_CACHE_DIR", str(tmp_path / "cache"))
    text = (ROOT / "data" / "events" / "article_events.csv").read_text(encoding="utf-8").splitlines()
    bad = text[1].replace("RFERL-20250121-01", "BAD-1").replace("2025-01-20", "2025-02-30")
    path = tmp_path / "events.csv"
    path.write_text("\n".join([*text, bad]) + "\n", encoding="utf-8")
    notices = load_notices(load_dashboard_data([str(path)]))
    assert notices == [
        f"events.csv: 1 of 13 rows were rejected and are not shown; `python -m dashboard validate {path}` lists them with their reasons."
    ]


def test_no_basemap_by_default_and_a_users_tiles_when_given(data):
    view, result = ViewState(), data.store.query(ViewState())
    default = figures.map_figure(view, data.store, result, countries_source="/c", admin1_source="/a")
    assert default.layout.map.style == "white-bg"
    assert all(layer.sourcetype == "geojson" for layer in default.layout.map.layers)
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    with_tiles = figures.map_figure(view, data.store, result, countries_source="/c", admin1_source="/a", basemap=tiles)
    raster = [layer for layer in with_tiles.layout.map.layers if layer.sourcetype == "raster"]
    assert [list(layer.source) for layer in raster] == [[tiles]]
    styled = figures.map_figure(view, data.store, result, countries_source="/c", admin1_source="/a", basemap="https://example.org/style.json")
    assert styled.layout.map.style == "https://example.org/style.json"


def test_brushing_the_timeline_sets_the_dates_to_whole_days(data):
    controls = dict(CONTROLS, types=list(data.store.bounds.types), mode="points", theme="light", present=[], territory_shown=["on"], position="")
    brush = {"range": {"x": ["2025-01-15 18:30:00", "2025-01-19 10:00:00"]}}
    view, _, _, _ = next_view(data.store, "timeline", "", controls, {"timeline_selection": brush}, "", False, {})
    assert (view.date_from, view.date_to) == (dt.date(2025, 1, 16), dt.date(2025, 1, 19))
