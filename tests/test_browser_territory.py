"""The territorial-control layer in the browser: drawn for the end date, with its date, and moving with it."""
from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By

from conftest import DashboardServer
from test_browser_dashboard import open_page, type_date, wait_for, wait_for_count


def square(west, south, east, north):
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


def write_snapshot(folder, day: str, rings):
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon", "coordinates": rings}}],
    }
    (folder / f"deepstatemap_data_{day}.geojson").write_text(json.dumps(collection))


@pytest.fixture(scope="module")
def territory_server(tmp_path_factory, cache_dir):
    folder = tmp_path_factory.mktemp("deepstate")
    # 15 Jan: a square south of Pokrovsk; 20 Jan: it has grown north over Pokrovsk (48.28 N).
    write_snapshot(folder, "20250115", [square(37.0, 47.9, 37.5, 48.2)])
    write_snapshot(folder, "20250120", [square(37.0, 47.9, 37.5, 48.4)])
    running = DashboardServer("--territory", str(folder), cache_dir=cache_dir)
    yield running
    running.stop()


def territory_fills(driver) -> list[dict]:
    return driver.execute_script(
        """
        const gd = document.querySelector('#map .js-plotly-plot');
        return (gd.layout.map.layers || []).filter(l => l.type === 'fill' && l.source && l.source.features)
            .map(l => ({color: l.color, opacity: l.opacity, features: l.source.features.length,
                        changes: l.source.features.map(f => (f.properties || {}).change || '')}));
        """
    )


def summary(driver) -> str:
    return driver.find_element(By.ID, "territory-summary").text


def test_layer_shows_its_date_and_follows_the_end_date(territory_server, browser, artifacts):
    open_page(browser, territory_server.url + "/?from=2025-01-16&to=2025-01-16")
    wait_for(browser, lambda d: "as of 15 Jan 2025" in summary(d), message="layer date not shown")
    assert any(layer["color"] == "#C51B7D" for layer in territory_fills(browser))
    legend = browser.find_element(By.ID, "map-legend").text
    assert "Occupied as of 15 Jan 2025, per DeepStateMap" in legend
    # Move the end date: the layer and its date follow, and the change is measured.
    type_date(browser, "date-to", "21 Jan 2025")
    wait_for(browser, lambda d: "as of 20 Jan 2025" in summary(d), message="layer did not follow the end date")
    text = summary(browser)
    assert "gained" in text and "km²" in text
    # The sentence is text; the map draws its layers a moment later.
    wait_for(browser, lambda d: [layer for layer in territory_fills(d) if "gained" in layer["changes"]], message="gained ground not drawn")
    browser.save_screenshot(str(artifacts / "territory.png"))


def test_events_inside_the_line_on_their_own_day(territory_server, browser):
    open_page(browser, territory_server.url + "/?line=inside")
    # Only the two Pokrovsk events of 20 Jan fall inside the 20 Jan snapshot.
    wait_for_count(browser, "2 of 12 events")
    # The event of 11 Jan predates the first snapshot: neither inside nor outside.
    open_page(browser, territory_server.url + "/?line=outside")
    wait_for_count(browser, "9 of 12 events")
