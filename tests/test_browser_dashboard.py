"""What analysts see, in a real headless Chromium against `python -m dashboard`."""
from __future__ import annotations

import csv
import re
import sys
from urllib.parse import unquote, urlparse

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ROOT, DashboardServer, requested_urls

ARTICLE = ROOT / "data" / "events" / "article_events.csv"
DRONE_IDS = {"RFERL-20250121-03", "RFERL-20250121-06", "RFERL-20250121-07", "RFERL-20250121-08"}
AIRPORT_IDS = {"RFERL-20250121-04", "RFERL-20250121-05"}
HOSTILE = "<img src=x onerror=alert(1)>"


def wait_for(driver, condition, timeout=30, message=""):
    return WebDriverWait(driver, timeout).until(lambda d: condition(d), message)


def count_text(driver) -> str:
    # textContent: presentation mode hides the header's count (the summary repeats it).
    return driver.find_element(By.ID, "count").get_attribute("textContent")


def wait_for_count(driver, expected: str):
    wait_for(driver, lambda d: count_text(d) == expected, message=f"count never became {expected!r} (was {count_text(driver)!r})")


def map_traces(driver) -> list[dict]:
    """The traces Plotly drew in the map: type, name, event ids, region codes."""
    return driver.execute_script(
        """
        const gd = document.querySelector('#map .js-plotly-plot');
        if (!gd || !gd._fullData) return [];
        // _fullData: Plotly's decoded arrays (the figure sends numbers as typed arrays).
        return gd._fullData.map(t => ({type: t.type, name: t.name,
            // A mark's event ids: its own id, or the ids of the events a cluster stands for (customdata[6]).
            ids: Array.from(t.customdata || []).flatMap(c => Array.isArray(c) ? (c[6] ? String(c[6]).split(',') : [c[0]]) : [c]),
            locations: Array.from(t.locations || []), z: Array.from(t.z || [])}));
        """
    )


def ids_on_map(driver) -> set[str]:
    return {i for trace in map_traces(driver) if trace["type"] == "scattermap" for i in trace["ids"] if i}


def open_page(driver, url):
    driver.get(url)
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#map .maplibregl-canvas"), message="map canvas never drawn")
    wait_for(driver, lambda d: re.match(r"\d+ of \d+ events", count_text(d)), message="no event count")
    wait_for_map_ready(driver)


def wait_for_map_ready(driver, timeout=60):
    """MapLibre has loaded its style and sources: from then on the map answers clicks (a user's
    click before that does nothing, as on any MapLibre page)."""
    wait_for(
        driver,
        lambda d: d.execute_script(
            "const gd = document.querySelector('#map .js-plotly-plot');"
            "const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;"
            "return !!(sub && sub.map && sub.map.loaded() && !gd.classList.contains('dash-graph--pending')"
            " && gd._ev && gd._ev.listeners('plotly_click').length);"
        ),
        timeout,
        message="the map never finished loading",
    )


def show_table(driver):
    """Scroll to the table, as a person does (it is made only then), and wait for its rows."""
    driver.execute_script("document.getElementById('table-holder').scrollIntoView({block: 'center'});")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#table .ag-row"), message="the table never came")


def type_date(driver, element_id: str, text: str):
    """Replace a date field's text as a person does (select all, type, Tab away)."""
    field = driver.find_element(By.ID, element_id)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(text)
    field.send_keys(Keys.TAB)


def no_alert_opened(driver) -> bool:
    try:
        driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def test_page_loads_with_every_article_event_on_the_map(server, browser, artifacts):
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    with open(ARTICLE, encoding="utf-8") as handle:
        bundled = {row["event_id"] for row in csv.DictReader(handle)}
    # Every event but the one located only to Ukraine, which is listed, not pinned on Kyiv.
    wait_for(browser, lambda d: ids_on_map(d) == bundled - {"RFERL-20250121-12"}, message="map does not show every event")
    browser.save_screenshot(str(artifacts / "dashboard.png"))


def test_unticking_explosions_removes_the_drone_events_but_not_the_airport_closures(server, browser):
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    box = browser.find_element(By.XPATH, "//div[@id='types']//label[contains(., 'Explosions/Remote violence')]//input")
    box.click()
    wait_for_count(browser, "7 of 12 events")
    wait_for(browser, lambda d: not (ids_on_map(d) & DRONE_IDS), message="drone events still on the map")
    assert AIRPORT_IDS <= ids_on_map(browser)
    assert "type=" in browser.current_url  # the filter is in the shareable URL


def test_an_action_done_again_is_drawn_alike_from_the_remembered_answer(server, browser):
    """The second time a view is asked for, the server sends the answer it kept (web/answers.py)
    as plain JSON: the page must draw it exactly as the first, figures, legend and type list alike."""
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    every = ids_on_map(browser)

    def box():
        return browser.find_element(By.XPATH, "//div[@id='types']//label[contains(., 'Explosions/Remote violence')]//input")

    seen = []
    for _ in range(3):  # off, on, off, on, off, on: the later rounds are answered from the cache
        box().click()
        wait_for_count(browser, "7 of 12 events")
        wait_for(browser, lambda d: not (ids_on_map(d) & DRONE_IDS), message="drone events still on the map")
        seen.append((ids_on_map(browser), browser.find_element(By.ID, "types").text, browser.find_element(By.ID, "map-legend").text))
        box().click()
        wait_for_count(browser, "12 of 12 events")
        wait_for(browser, lambda d: ids_on_map(d) == every, message="the events did not come back")
    assert seen[0] == seen[1] == seen[2]
    assert "Explosions/Remote violence (5)" in seen[2][1]


def test_a_pan_of_the_map_is_kept_in_the_link_and_a_hover_sends_nothing(server, browser):
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    graph = "document.querySelector('#map .js-plotly-plot')"
    browser.execute_script(f"Plotly.relayout({graph}, {{'map.center': {{lat: 50.45, lon: 30.52}}, 'map.zoom': 7}});")  # as a drag reports it
    wait_for(browser, lambda d: "at=50.4500,30.5200,7.00" in unquote(d.current_url), message=f"the pan is not in the link ({browser.current_url})")
    browser.get_log("performance")  # drop the requests so far
    browser.execute_script(f"{graph}.emit('plotly_relayout', {{autosize: true}});")  # a resize: no pan
    browser.execute_script("return new Promise((done) => setTimeout(done, 1500));")
    sent = [u for u in requested_urls(browser) if "_dash-update-component" in u]
    assert sent == []


def test_the_legend_ticks_and_unticks_a_type_and_lists_the_country_level_events(server, browser):
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    legend_button = "#map-legend button.legend-type[data-type='Explosions/Remote violence']"
    box = "//div[@id='types']//label[contains(., 'Explosions/Remote violence')]//input"
    browser.find_element(By.CSS_SELECTOR, legend_button).click()
    wait_for_count(browser, "7 of 12 events")
    assert not browser.find_element(By.XPATH, box).is_selected()  # the checklist stays the one place the filter lives
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, legend_button).get_attribute("aria-pressed") == "false")
    browser.find_element(By.CSS_SELECTOR, legend_button).click()  # drawn again with the new counts: found again
    wait_for_count(browser, "12 of 12 events")
    assert browser.find_element(By.XPATH, box).is_selected()

    browser.find_element(By.ID, "legend-country-level").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "detail").is_displayed(), message="the country-level list did not open")
    wait_for(browser, lambda d: "RFERL-20250121-12" in d.find_element(By.ID, "detail").text)


def test_date_range_of_one_day_shows_the_first_liski_fire_only(server, browser):
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    # The page's own format for one, ISO as pasted from elsewhere for the other.
    for element_id, text, count_after in (("date-to", "16 Jan 2025", "2 of 12 events"), ("date-from", "2025-01-16", "1 of 12 events")):
        type_date(browser, element_id, text)
        wait_for_count(browser, count_after)
    assert browser.find_element(By.ID, "date-from").get_attribute("value") == "16 Jan 2025"  # shown in the page's format
    on_map = ids_on_map(browser)
    assert "RFERL-20250121-06" in on_map and "RFERL-20250121-07" not in on_map
    assert "from=2025-01-16" in browser.current_url and "to=2025-01-16" in browser.current_url


def test_choropleth_shades_donetsk_and_leaves_lviv_unshaded(server, browser, artifacts):
    open_page(browser, server.url + "/")
    browser.find_element(By.XPATH, "//div[@id='mode']//label[contains(., 'Regions')]//input").click()
    wait_for(browser, lambda d: any(t["type"] == "choroplethmap" for t in map_traces(d)), message="no choropleth drawn")
    choropleth = next(t for t in map_traces(browser) if t["type"] == "choroplethmap")
    counts = dict(zip(choropleth["locations"], choropleth["z"]))
    assert counts.get("UA-14", 0) >= 3  # Pokrovsk x2 and Lyman
    assert "UA-46" not in counts  # Lviv: no events, no shade
    browser.save_screenshot(str(artifacts / "dashboard-choropleth.png"))


def test_clicking_a_region_narrows_the_filter_to_it(server, browser):
    open_page(browser, server.url + "/?mode=choropleth")
    wait_for(browser, lambda d: any(t["type"] == "choroplethmap" for t in map_traces(d)))
    # Plotly's click on a region: send the event as the map would.
    browser.execute_script(
        """
        const gd = document.querySelector('#map .js-plotly-plot');
        gd.emit('plotly_click', {points: [{location: 'UA-14', curveNumber: 0, pointNumber: 0}]});
        """
    )
    wait_for_count(browser, "3 of 12 events")
    assert "region=UA-14" in browser.current_url


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, cache_dir):
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "hostile.csv"
    with open(ARTICLE, encoding="utf-8") as source, open(path, "w", encoding="utf-8", newline="") as target:
        rows = list(csv.DictReader(source))
        writer = csv.DictWriter(target, rows[0].keys(), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        hostile = dict(rows[0], event_id="HOSTILE-1", summary=HOSTILE, place="Pokrovsk", event_date="2025-01-22")
        writer.writerow(hostile)
    running = DashboardServer("--data", str(path), cache_dir=cache_dir)
    yield running
    running.stop()


def test_hostile_summary_is_shown_as_text_and_runs_nothing(hostile_server, browser):
    open_page(browser, hostile_server.url + "/")
    wait_for_count(browser, "13 of 13 events")
    show_table(browser)
    wait_for(browser, lambda d: HOSTILE in d.find_element(By.ID, "table").text, message="summary not in the table as text")
    # Open its record: the detail panel shows the characters, not an image.
    row = browser.find_element(By.XPATH, "//div[@id='table']//div[@role='row'][.//div[contains(., 'onerror')]]//div[@col-id='summary']")
    row.click()
    wait_for(browser, lambda d: HOSTILE in d.find_element(By.ID, "detail").text, message="detail panel lacks the text")
    assert not browser.find_elements(By.CSS_SELECTOR, "#detail img, #table img")
    assert no_alert_opened(browser)


def test_every_request_stays_on_the_origin_and_the_console_is_clean(server, browser):
    browser.get_log("performance")  # drop entries from earlier pages
    browser.get_log("browser")
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    browser.find_element(By.XPATH, "//div[@id='mode']//label[contains(., 'Density')]//input").click()
    wait_for(browser, lambda d: any(t["type"] == "densitymap" for t in map_traces(d)))
    browser.implicitly_wait(0)
    origin = urlparse(server.url).netloc
    outside = [u for u in requested_urls(browser) if not u.startswith(("data:", "blob:")) and urlparse(u).netloc != origin]
    assert outside == []
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_table_and_map_selections_are_linked(server, browser):
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    show_table(browser)
    # A row selected in the table is ringed on the map.
    cell = browser.find_element(By.XPATH, "//div[@id='table']//div[@role='row'][.//div[contains(., 'oil depot')]]//div[@col-id='place']")
    cell.click()
    ringed = ("return document.querySelector('#map .js-plotly-plot')._fullData"
              ".some(t => t.name === 'selected' && Array.from(t.lat || []).some(v => v !== null && isFinite(v)));")
    wait_for(browser, lambda d: d.execute_script(ringed), message="no ring around the selected event")
    # Points selected on the map narrow the table to them.  (The row's click flew the map to
    # Liski: the marks are those of that area, and the region circles of every region.)
    browser.execute_script(
        """
        const gd = document.querySelector('#map .js-plotly-plot');
        const wanted = ['RFERL-20250121-06', 'RFERL-20250121-08'];
        const points = [];
        // A mark may stand for several events at one place: its ids are in customdata[6].
        gd._fullData.forEach((trace, curve) => Array.from(trace.customdata || []).forEach((row, index) => {
            const ids = Array.isArray(row) && row[6] ? String(row[6]).split(',') : [Array.isArray(row) ? row[0] : row];
            if (ids.some(id => wanted.includes(id))) points.push({curveNumber: curve, pointNumber: index, pointIndex: index,
                                                                 customdata: row, data: gd.data[curve], fullData: trace});
        }));
        gd.emit('plotly_selected', {points: points});
        """
    )
    # Liski's mark stands for the depot fire's two reports at the same place: both are selected.
    wait_for(browser, lambda d: d.find_element(By.ID, "table-note").text == "3 events selected on the map",
             message="the map's selection did not narrow the table to Liski's two events and Smolensk")
    table = browser.find_element(By.ID, "table").text
    assert "Smolensk" in table and "Liski" in table and "Lyman" not in table and "Kazan" not in table


def test_the_table_is_made_only_once_scrolled_to(server, browser):
    """Below the map, the table's grid, its code and its rows stay off the first load; scrolled to, it comes with the view's rows."""
    open_page(browser, server.url + "/?type=Battles")
    wait_for_count(browser, "2 of 12 events")
    assert browser.find_elements(By.ID, "table") == []
    assert not any("async-community" in u for u in requested_urls(browser))
    show_table(browser)
    assert any("async-community" in u for u in requested_urls(browser))
    rows = "#table .ag-center-cols-container .ag-row"
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == 2, message="the table did not show the view's two battles")
    # From then on every answer brings the table's rows.
    browser.find_element(By.XPATH, "//div[@id='types']//label[contains(., 'Strategic')]//input").click()
    wait_for_count(browser, "7 of 12 events")
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == 7, message="the table did not follow the filters once shown")


# The app as `serve` builds it, with its first answer to the page held back for a few
# seconds, as at a million events (or on a slow link).
SLOW_FIRST_ANSWER_APP = r"""
import sys, time
from flask import request
from dashboard.store.open import open_dataset
from dashboard.web.app import create_app

app = create_app(open_dataset([sys.argv[2]]))
held = []

@app.server.before_request
def hold_the_first_answer():
    if request.path == "/_dash-update-component" and b"url.search" in request.get_data() and not held:
        held.append(True)
        time.sleep(6)

app.run(host="127.0.0.1", port=int(sys.argv[1]))
"""


@pytest.fixture(scope="module")
def slow_first_answer_server(cache_dir):
    running = DashboardServer(cache_dir=cache_dir, command=[sys.executable, "-c", SLOW_FIRST_ANSWER_APP, "{port}", str(ARTICLE)])
    yield running
    running.stop()


def test_a_slow_first_answer_is_still_drawn(slow_first_answer_server, browser):
    # Plotly reports an autosize of the empty map while the first answer is on its way;
    # that used to call the server again, and Dash drops an answer once a newer call of
    # the same callback is made: the page stayed empty for ever at a million events.
    browser.get(slow_first_answer_server.url + "/")
    shown = lambda d: [e.get_attribute("textContent") for e in d.find_elements(By.ID, "count")]  # noqa: E731
    wait_for(browser, lambda d: shown(d) == ["12 of 12 events"], timeout=40, message="the page never drew its events")
    wait_for(browser, lambda d: ids_on_map(d), message="no events on the map")


def test_a_pan_of_the_map_reaches_the_link(server, browser):
    # A drag passes the browser-side filter of relayouts (only those with a centre).
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(browser, server.url + "/")
    assert "at=" not in browser.current_url
    canvas = browser.find_element(By.CSS_SELECTOR, "#map .maplibregl-canvas")
    ActionChains(browser).move_to_element(canvas).click_and_hold().move_by_offset(120, 60).move_by_offset(60, 30).release().perform()
    wait_for(browser, lambda d: "at=" in d.current_url, message=f"the link did not follow the pan ({browser.current_url})")
