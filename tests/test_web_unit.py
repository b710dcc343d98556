"""The page's logic without a browser: the table of controls, the controller,
the outputs, the panels, saved views, and callbacks fed crafted requests."""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from conftest import ROOT
from dashboard import config
from dashboard.store.open import open_dataset
from dashboard.store.saved_views import FileSavedViews, SavedViewsError
from dashboard.view import ViewState, view_from_query
from dashboard.web.controller import next_view
from dashboard.web.controls import controls_from_view
from dashboard.web.outputs import render_outputs
from dashboard.web.panels import detail_panel, load_notices


@pytest.fixture(scope="module")
def data(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setattr(config, "CACHE_DIR", tmp_path_factory.mktemp("cache"))
    return open_dataset()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def controls_for(data, **values):
    """The widgets' values for the default view, with some changed (keys are component ids)."""
    return {**controls_from_view(ViewState(), data.store.bounds), **values}


# ------------------------------------------------------------ controller


def test_next_view_reads_the_url_and_reports_bad_parameters(data):
    view, notices, playing, _ = next_view(data.store.bounds, None, "?from=2025-13-45&type=%3Cscript%3E", controls_for(data), {}, None, False, {})
    assert view.date_from is None and view.types is None
    assert len(notices) == 2 and not playing


def test_next_view_from_controls_swaps_reversed_dates(data):
    controls = controls_for(data, **{"date-from": "2025-01-21", "date-to": "2025-01-16"})
    view, notices, _, _ = next_view(data.store.bounds, "date-from", "", controls, {}, "", False, {})
    assert (view.date_from, view.date_to) == (dt.date(2025, 1, 16), dt.date(2025, 1, 21))
    assert "swapped" in notices[0]


def test_next_view_region_click_in_choropleth_narrows_the_filter(data):
    controls = controls_for(data, mode="choropleth")
    click = {"points": [{"location": "UA-14"}]}
    view, _, _, _ = next_view(data.store.bounds, "map", "", controls, {"map_click": click}, "mode=choropleth", False, {})
    assert view.regions == ("UA-14",)


def test_next_view_playback_plays_steps_and_stops(data):
    events = {"play_mode": "day", "window_days": 7}
    view, _, playing, _ = next_view(data.store.bounds, "play", "", controls_for(data), events, "", False, {})
    assert playing and view.date_from == view.date_to == dt.date(2025, 1, 11)
    view, _, playing, _ = next_view(data.store.bounds, "player", "", controls_for(data), events, "from=2025-01-20&to=2025-01-20", True, {})
    assert playing is False and view.date_from == view.date_to == dt.date(2025, 1, 21)  # the last day: stop
    _, _, playing, _ = next_view(data.store.bounds, "play", "", controls_for(data), events, "from=2025-01-12&to=2025-01-12", True, {})
    assert playing is False  # pause


def test_next_view_steps_through_saved_views(data):
    saved = {
        "options": [{"value": "a"}, {"value": "b"}],
        "value": "a",
        "views": [{"name": "a", "query": "type=Battles"}, {"name": "b", "query": "mode=density"}],
    }
    view, _, _, saved_after = next_view(data.store.bounds, "next-view", "", controls_for(data), {}, "", False, saved)
    assert view.mode == "density" and saved_after["value"] == "b"
    view, _, _, saved_after = next_view(data.store.bounds, "next-view", "", controls_for(data), {}, "", False, saved_after)
    assert view.types == ("Battles",) and saved_after["value"] == "a"  # wraps round


# ----------------------------------------------------------------- render


def test_render_outputs_count_summary_and_table(data):
    view, _ = view_from_query("type=Battles")
    out = render_outputs(data, view)
    assert out["count"] == "2 of 12 events"
    assert out["summary"] == "11 Jan 2025 – 21 Jan 2025 · Battles"  # the count is beside it, said once
    assert out["title"] == "Battles, 11–21 Jan 2025"
    assert out["source_line"] == "Source: RFE/RL, 21 Jan 2025 · Boundaries: Natural Earth, geoBoundaries"
    assert {row["event_id"] for row in out["table"]} == {"RFERL-20250121-01", "RFERL-20250121-02"}
    labels = [o["value"] for o in out["type_options"]]
    assert labels == list(data.store.bounds.types)


def test_render_outputs_is_json_serialisable_and_small(data):
    out = render_outputs(data, ViewState())
    payload = json.dumps({"map": out["map"].to_plotly_json(), "timeline": out["timeline"].to_plotly_json()}, default=str)
    assert len(payload) < 200_000  # boundaries travel as URLs, not inside the figure


def _texts(component) -> list:
    """Every string in a component tree, and every link's href."""
    found = []
    if isinstance(component, str):
        return [component]
    if isinstance(component, (list, tuple)):
        return [t for c in component for t in _texts(c)]
    if getattr(component, "href", None):
        found.append(("href", component.href))
    return found + _texts(getattr(component, "children", None) or [])


def test_detail_panel_shows_data_as_text_and_links_only_http():
    panel = detail_panel({"summary": "<img src=x onerror=alert(1)>", "source_name": "Agency", "source_url": "javascript:alert(1)"})
    texts = _texts(panel)
    assert "<img src=x onerror=alert(1)>" in texts  # a plain string: React renders it as text
    assert " (javascript:alert(1))" in texts  # shown, but not as a link
    assert not any(isinstance(t, tuple) for t in texts)
    panel = detail_panel({"source_name": "Agency", "source_url": "https://example.org/a"})
    assert ("href", "https://example.org/a") in _texts(panel)


def test_record_panel_reads_as_a_record_not_a_field_dump(data):
    record = data.store.record("RFERL-20250121-03")
    record.update(report_date=float("nan"), warnings="coordinates rounded; place matched by name")
    texts = [t for t in _texts(detail_panel(record, data)) if isinstance(t, str)]
    joined = " ".join(texts)
    assert texts[0] == "Explosions/Remote violence · Air/drone strike"
    assert "Kazan, Republic of Tatarstan, Russia" in texts and "20 Jan 2025" in texts
    assert "Data notes" in texts and "coordinates rounded" in texts and "place matched by name" in texts
    assert "Also at this place (2)" in texts  # the airport closures at the same coordinates
    assert "NaT" not in joined and "nan" not in joined.split() and "source_row" not in joined and "join_note" not in joined
    assert f"article_events.csv, row {record['source_row']}" in texts and "Details" in texts  # the row validate names
    assert ("href", data.url) in _texts(detail_panel(record, data))  # the article, linked near the top


def test_dates_read_and_shown_in_one_format():
    from dashboard.web.dates import parse_day, show_day

    assert show_day(dt.date(2025, 1, 1)) == "1 Jan 2025"
    for text in ("11 Jan 2025", "2025-01-11", "Jan 11, 2025", "11 January 2025", " 11 jan 2025 "):
        assert parse_day(text) == dt.date(2025, 1, 11), text
    for text in ("11/01/2025", "32 Jan 2025", "2025-13-01", "Jan 2025", "11 Foo 2025", ""):
        with pytest.raises(ValueError):
            parse_day(text)


@pytest.mark.parametrize("first,last", [
    ("2025-01-11", "2025-01-21"), ("2025-01-20", "2025-01-21"), ("2025-01-01", "2025-03-31"),
    ("2024-02-01", "2025-01-21"), ("2022-02-24", "2025-01-21"), ("1990-01-01", "2025-01-21"), ("2024-12-20", "2025-01-10"),
])
def test_slider_marks_fit_whatever_the_range(first, last):
    from dashboard.web.dates import SLIDER_PX, day_marks, marks_fit

    first, last = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    marks = day_marks(first, last)
    span = (last - first).days
    assert len(marks) >= 2 and marks_fit(marks, span, SLIDER_PX)
    assert all(0 <= offset <= span for offset in marks)


def test_title_says_the_slide_or_the_filters(data):
    from dashboard.web.words import page_title

    view, _ = view_from_query("type=Explosions%2FRemote+violence&region=RU-TA&from=2025-01-16")
    assert page_title(view, data.store) == "Explosions/Remote violence in Republic of Tatarstan, 16–21 Jan 2025"
    query = "type=Explosions%2FRemote+violence&region=RU-TA&from=2025-01-16"
    panned = view.replace(center_lat=55.0, center_lon=49.0, zoom=7.0, present=True)
    assert page_title(panned, data.store, "Strikes in Tatarstan", query) == "Strikes in Tatarstan"
    assert page_title(view.replace(text="drone"), data.store, "Strikes in Tatarstan", query).startswith("Explosions/Remote violence mentioning")


def test_reset_wins_over_the_text_it_fired_with(data):
    # The page sends the committed search and the Reset click in one request: Reset is what was meant.
    controls = controls_for(data, text="drone")
    view, _, _, _ = next_view(data.store.bounds, "reset", "", controls, {}, "q=drone", False, {})
    assert view.text == "" and view.types is None


def test_a_row_chosen_in_the_table_flies_the_map_to_its_event(data):
    from dashboard.web.controller import fly_to

    event = {"lat": 55.78874, "lon": 49.12214, "precision": "town"}
    view, _, _, _ = next_view(data.store.bounds, "fly-to", "", controls_for(data), {"fly_to": event}, "type=Battles", False, {})
    assert (view.center_lat, view.center_lon, view.zoom, view.types) == (55.7887, 49.1221, 9.0, ("Battles",))
    assert fly_to(ViewState(zoom=12.0), event).zoom == 12.0  # never zooms out
    assert fly_to(ViewState(), {"lat": "x", "lon": 1}) == ViewState() and fly_to(ViewState(), None) == ViewState()


# ------------------------------------------------------------ saved views


def test_saved_views_round_trip_and_replace_by_name(tmp_path):
    views_file = FileSavedViews(tmp_path / "views.json")
    views_file.save("Donetsk", "region=UA-14")
    views_file.save("Drones", "type=Explosions%2FRemote+violence")
    views = views_file.save("Donetsk", "region=UA-14&mode=choropleth")
    assert [v["name"] for v in views] == ["Drones", "Donetsk"]
    assert views_file.list()[1]["query"] == "region=UA-14&mode=choropleth"
    with pytest.raises(SavedViewsError):
        views_file.save("   ", "")


def test_concurrent_saves_all_persist(tmp_path):
    views_file = FileSavedViews(tmp_path / "views.json")
    threads = [threading.Thread(target=views_file.save, args=(f"view {i}", f"q={i}")) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(v["name"] for v in views_file.list()) == sorted(f"view {i}" for i in range(20))


def test_import_views_rejects_garbage_and_cleans_queries(tmp_path):
    views_file = FileSavedViews(tmp_path / "views.json")
    with pytest.raises(SavedViewsError):
        views_file.import_text("not json")
    views = views_file.import_text(json.dumps([{"name": "x", "query": "mode=globe&type=Battles"}, {"bad": 1}]))
    assert views == [{"name": "x", "query": "type=Battles", "saved_at": ""}]


def test_the_page_says_when_rows_were_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    text = (ROOT / "data" / "events" / "article_events.csv").read_text(encoding="utf-8").splitlines()
    bad = text[1].replace("RFERL-20250121-01", "BAD-1").replace("2025-01-20", "2025-02-30")
    path = tmp_path / "events.csv"
    path.write_text("\n".join([*text, bad]) + "\n", encoding="utf-8")
    notices = load_notices(open_dataset([str(path)]))
    assert notices == [
        f"events.csv: 1 of 13 rows were rejected and are not shown; `python -m dashboard validate {path}` lists them with their reasons."
    ]


def test_brushing_the_timeline_sets_the_dates_to_whole_days(data):
    controls = controls_for(data)
    brush = {"range": {"x": ["2025-01-15 18:30:00", "2025-01-19 10:00:00"]}}
    view, _, _, _ = next_view(data.store.bounds, "timeline", "", controls, {"timeline_selection": brush}, "", False, {})
    assert (view.date_from, view.date_to) == (dt.date(2025, 1, 16), dt.date(2025, 1, 19))


# ------------------------------------------------ the table of controls

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dashboard.view import DataBounds  # noqa: E402
from dashboard.web.controls import CONTROL_IDS, CONTROLS, at_data_ends_as_default, view_from_controls  # noqa: E402

BOUNDS = DataBounds(
    first_day=dt.date(2025, 1, 1), last_day=dt.date(2025, 3, 31),
    types=("Battles", "Protests", "Riots"), sub_types=("Armed clash", "Mob violence"),
    countries=("RU", "UA"), regions=("UA-14", "UA-46"), actors=frozenset({"A", "B"}),
)
days = st.dates(BOUNDS.first_day, BOUNDS.last_day)


def subsets(values):
    # None (every value: the default) or a strict subset in the data's order.
    return st.none() | st.lists(st.sampled_from(values), unique=True, max_size=len(values) - 1).map(
        lambda chosen: tuple(v for v in values if v in chosen)
    )


valid_views = st.builds(
    lambda start, end, **rest: ViewState(date_from=min(start, end), date_to=max(start, end), **rest),
    days, days,
    types=subsets(BOUNDS.types),
    sub_types=subsets(BOUNDS.sub_types),
    countries=st.lists(st.sampled_from(BOUNDS.countries), unique=True).map(tuple),
    regions=st.lists(st.sampled_from(BOUNDS.regions), unique=True).map(tuple),
    actors=st.lists(st.sampled_from(sorted(BOUNDS.actors)), unique=True).map(tuple),
    text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=30).map(str.strip),
    mode=st.sampled_from(["points", "choropleth", "density"]),
    theme=st.sampled_from(["light", "dark"]),
    present=st.booleans(),
    territory=st.booleans(),
    territory_position=st.sampled_from(["", "inside", "outside"]),
    territory_opacity=st.integers(5, 100).map(lambda n: round(n / 100, 2)),
)


@settings(max_examples=300, deadline=None)
@given(view=valid_views, trigger=st.none() | st.sampled_from(CONTROL_IDS))
def test_view_to_controls_and_back_is_the_same_view(view, trigger):
    values = controls_from_view(view, BOUNDS)
    assert set(values) == set(CONTROL_IDS)
    back, notices = view_from_controls(values, BOUNDS, trigger)
    assert notices == []
    assert at_data_ends_as_default(back, BOUNDS) == at_data_ends_as_default(view, BOUNDS)


@settings(max_examples=300, deadline=None)
@given(view=valid_views)
def test_controls_to_view_and_back_are_the_same_controls(view):
    values = controls_from_view(view, BOUNDS)
    again = controls_from_view(view_from_controls(values, BOUNDS)[0], BOUNDS)
    assert again == values


def test_every_control_has_a_widget_on_the_page(data):
    from dashboard.web.layout import build_layout

    ids = set()

    def walk(component):
        if getattr(component, "id", None):
            ids.add(component.id)
        children = getattr(component, "children", None)
        for child in children if isinstance(children, (list, tuple)) else [children]:
            if hasattr(child, "to_plotly_json"):
                walk(child)

    walk(build_layout(data))
    assert set(CONTROL_IDS) <= ids


junk = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(values=st.fixed_dictionaries({c.id: junk for c in CONTROLS}), trigger=st.none() | st.sampled_from(CONTROL_IDS))
def test_crafted_control_values_fall_back_with_a_notice(values, trigger):
    view, notices = view_from_controls(values, BOUNDS, trigger)
    assert isinstance(view, ViewState) and all(isinstance(n, str) for n in notices)
    assert view.mode in ("points", "choropleth", "density") and 0.05 <= view.territory_opacity <= 1
    controls_from_view(view, BOUNDS)  # and it can be shown


# --------------------------------------------- callbacks fed crafted requests


@pytest.fixture(scope="module")
def client(data):
    from dashboard.web.app import create_app

    app = create_app(data)
    return app, app.server.test_client()


def _callback_request(app, output_key, inputs, states, changed):
    spec = app.callback_map[output_key]
    body = {
        "output": output_key,
        "outputs": [{"id": o.component_id, "property": o.component_property} for o in spec["output"]]
        if isinstance(spec["output"], list) else {"id": spec["output"].component_id, "property": spec["output"].component_property},
        "inputs": [{**i, "value": v} for i, v in zip(spec["inputs"], inputs)],
        "state": [{**s, "value": v} for s, v in zip(spec["state"], states)],
        "changedPropIds": changed,
    }
    return body


def test_crafted_requests_never_end_in_a_server_error(client):
    """Every callback, fed wrong types and absurd values, answers 200 or 204 (no update)."""
    import random

    app, http = client
    rng = random.Random(7)
    weird = [None, True, -1e9, 1e9, float("nan"), "", "x" * 5000, "<script>", [], [None], ["a", 3], {"a": 1}, {"points": [{}]},
             {"range": {"x": [None, "bad"]}}, {"map.center": {"lat": "n", "lon": 1}, "map.zoom": 1e9}, "data:,%%%", 12]
    failures = []
    for output_key, spec in app.callback_map.items():
        if "callback" not in spec:
            continue  # clientside
        for _ in range(40):
            inputs = [rng.choice(weird) for _ in spec["inputs"]]
            states = [rng.choice(weird) for _ in spec["state"]]
            changed = [f"{i['id']}.{i['property']}" for i in rng.sample(spec["inputs"], 1)] if spec["inputs"] else []
            response = http.post("/_dash-update-component", json=_callback_request(app, output_key, inputs, states, changed))
            if response.status_code not in (200, 204):
                failures.append((output_key, response.status_code, inputs, states))
    assert failures == []


# ------------------------------------------------ saved views that fail


def test_a_save_that_cannot_be_written_says_why(tmp_path):
    import os

    folder = tmp_path / "read-only"
    folder.mkdir()
    views_file = FileSavedViews(folder / "views.json")
    os.chmod(folder, 0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root): a full disk is simulated below")
        with pytest.raises(SavedViewsError, match="Not saved: could not write"):
            views_file.save("Kursk", "region=RU-KRS")
    finally:
        os.chmod(folder, 0o700)


def test_a_full_disk_on_save_is_a_sentence_not_a_crash(tmp_path, monkeypatch):
    import tempfile

    views_file = FileSavedViews(tmp_path / "views.json")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", disk_full)
    with pytest.raises(SavedViewsError, match="No space left on device"):
        views_file.save("Kursk", "region=RU-KRS")
    assert views_file.list() == []


def test_the_page_says_why_a_save_failed(data, tmp_path):
    """Through the real callback: the message reaches the page, the list stays as it was."""
    from dashboard.store.dataset import Dataset
    from dashboard.web.app import create_app

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the views folder should be")
    app = create_app(Dataset(store=data.store, label="x", views=FileSavedViews(blocker / "views.json")))
    key = next(k for k in app.callback_map if "views-message.children" in k)
    spec = app.callback_map[key]
    values = {"save-view.n_clicks": 1, "view-name.value": "Kursk", "view.data": "region=RU-KRS"}
    body = {
        "output": key,
        "outputs": [{"id": o.component_id, "property": o.component_property} for o in spec["output"]],
        "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in spec["inputs"]],
        "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")} for s in spec["state"]],
        "changedPropIds": ["save-view.n_clicks"],
    }
    response = app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 200
    message = response.get_json()["response"]["views-message"]["children"]
    assert message.startswith("Not saved: could not write") and "Kursk" not in message


def test_a_deeply_nested_import_is_refused_in_a_sentence(tmp_path):
    views_file = FileSavedViews(tmp_path / "views.json")
    with pytest.raises(SavedViewsError, match="nested too deeply"):
        views_file.import_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SavedViewsError):
        views_file.import_text('[{"name": 3, "query": []}, "x"]' + "x")


def test_boundary_files_are_gzipped_cached_and_checked(client):
    import gzip

    app, http = client
    plain = http.get("/geo/admin1/UA.geojson")
    zipped = http.get("/geo/admin1/UA.geojson", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip" and len(zipped.data) * 2 < len(plain.data)
    assert json.loads(gzip.decompress(zipped.data)) == json.loads(plain.data)
    again = http.get("/geo/admin1/UA.geojson", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304
    assert http.get("/geo/admin1/XX.geojson").status_code == 404
    assert http.get("/geo/secrets.geojson").status_code == 404


def test_callback_responses_are_compressed(client):
    app, http = client
    page = http.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers.get("Content-Encoding") == "gzip"


def test_type_search_shows_from_eleven_types(data):
    import dataclasses

    from dashboard.web.layout import _types

    def search_hidden(n):
        bounds = dataclasses.replace(data.store.bounds, types=tuple(f"Type {i}" for i in range(n)))
        return next(c for c in _types(bounds).children if getattr(c, "className", "") == "types-search").hidden

    assert search_hidden(3) and search_hidden(10) and not search_hidden(11) and not search_hidden(34)


def test_the_record_panel_neutralises_bidi_controls_and_breaks_endless_words():
    rlo = "\u202e"
    panel = detail_panel({"event_type": "Battles", "place": f"Лиман{rlo}gnp.exe", "summary": "x" * 5_000, "source_name": "A" * 3_000})
    texts = []

    def walk(node):
        if isinstance(node, str):
            texts.append(node)
        for child in getattr(node, "children", None) or [] if not isinstance(node, str) else []:
            walk(child)
        if isinstance(getattr(node, "children", None), str):
            texts.append(node.children)

    for part in panel:
        walk(part)
    joined = " ".join(texts)
    assert rlo not in joined and "Лиман" in joined
    longest_run = max(len(run) for run in joined.replace("\u200b", " ").split())
    assert longest_run <= 60  # a 5,000-character word wraps instead of widening the panel


def test_a_new_range_sends_the_timelines_shading_not_its_bars(data):
    """The bars ignore the dates: a slider step re-sends only the shaded range (and the server does not count them)."""
    from dashboard.web.outputs import shown_outputs

    before = ViewState()
    moved = shown_outputs(data, before.replace(date_from=dt.date(2025, 1, 16)), "patch", before=before)["timeline"]
    assert [op["location"] for op in moved.to_plotly_json()["operations"]] == [["layout", "shapes"]]
    assert moved.to_plotly_json()["operations"][0]["params"]["value"][0]["x0"] == dt.datetime(2025, 1, 15, 12)
    filtered = shown_outputs(data, before.replace(types=("Battles",)), "patch", before=before)["timeline"]
    assert ["data"] in [op["location"] for op in filtered.to_plotly_json()["operations"]]


def test_controls_that_already_show_the_view_are_not_sent_again():
    """Sent again, a widget is drawn again and every callback listening to it runs, for nothing."""
    from dash import no_update

    from dashboard.web.callbacks import changed_controls

    out = changed_controls({"types": ["Battles", "Riots"], "text": "drone", "window-days": 7},
                           {"types": ["Battles", "Riots"], "text": "dron", "window-days": 7.5})
    assert out["types"] is no_update
    assert out["text"] == "drone" and out["window-days"] == 7
    assert changed_controls({"mode": "points"}, None) == {"mode": "points"}  # nothing known of the page: all sent
