"""The briefing-room and analyst interface in headless Chromium: it fits the screen, says what it
shows, works by keyboard, reads well, and keeps its slider marks apart."""
from __future__ import annotations

import datetime as dt
import time
from urllib.parse import unquote

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import DashboardServer
from test_browser_dashboard import count_text, open_page, show_table, wait_for, wait_for_count


def sized(browser_factory, width: int, height: int):
    """A browser whose viewport (not window) is width x height."""
    driver = browser_factory(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    outer = driver.get_window_size()
    driver.set_window_size(outer["width"] + width - inner[0], outer["height"] + height - inner[1])
    return driver


def box(driver, css: str) -> dict:
    return driver.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height};", css
    )


def date_to(driver) -> str:
    return driver.find_element(By.ID, "date-to").get_attribute("value")


def press(driver, *keys):
    ActionChains(driver).send_keys(*keys).perform()  # to whatever has focus, as a person types


# --------------------------------------------------------------- presentation


@pytest.mark.parametrize("width,height", [(1920, 1080), (1280, 720)])
def test_presentation_fits_the_screen_with_no_scroll(server, browser_factory, artifacts, width, height):
    driver = sized(browser_factory, width, height)
    open_page(driver, server.url + "/?present=1")
    wait_for(driver, lambda d: "present" in d.find_element(By.ID, "root").get_attribute("class"))
    time.sleep(1.5)  # the timeline and map have taken their final sizes
    sizes = driver.execute_script(
        "return [document.documentElement.scrollHeight, document.documentElement.scrollWidth, innerHeight, innerWidth]"
    )
    assert sizes[0] <= sizes[2] and sizes[1] <= sizes[3], f"the page scrolls: {sizes}"
    timeline = box(driver, "#timeline")
    assert timeline["y"] + timeline["h"] <= height, "the timeline is cut off"
    assert box(driver, "#map")["h"] >= 0.35 * height
    # Nothing meant for the operator is projected.
    hidden = driver.execute_script(
        "return ['#sidebar', '#notices', '.header-controls', '#table-holder', '#detail'].map(s => document.querySelector(s).offsetParent === null)"
    )
    assert all(hidden), hidden
    driver.save_screenshot(str(artifacts / f"presentation-{width}x{height}.png"))


def test_operator_advice_is_not_projected_and_an_empty_day_flashes_no_notice(server, browser_factory):
    driver = sized(browser_factory, 1280, 720)
    open_page(driver, server.url + "/?present=1&from=2025-01-13&to=2025-01-13")  # a day without events
    wait_for_count(driver, "0 of 12 events")
    notes = driver.execute_script(
        "const gd = document.querySelector('#map .js-plotly-plot'); return (gd.layout.annotations || []).map(a => a.text)"
    )
    assert not any("No events match" in n or "Narrow the filters" in n for n in notes), notes


@pytest.fixture()
def slides_server(tmp_path, cache_dir):
    views_file = tmp_path / "saved_views.json"
    views_file.write_text('[{"name": "Strikes in Russia by region", "query": "type=Explosions%2FRemote+violence&country=RU&mode=choropleth"}]')
    running = DashboardServer(cache_dir=cache_dir, env={"DASHBOARD_VIEWS_FILE": str(views_file)})
    yield running
    running.stop()


def test_the_title_is_the_open_slide_or_a_sentence_from_the_filters(slides_server, browser):
    open_page(browser, slides_server.url + "/?present=1")
    wait_for(browser, lambda d: d.find_element(By.ID, "title").text == "Events, 11–21 Jan 2025")
    press(browser, Keys.PAGE_DOWN)
    wait_for(browser, lambda d: d.find_element(By.ID, "title").text == "Strikes in Russia by region", message="slide name not shown")
    assert "present=1" in browser.current_url
    # A filter changed by hand is no longer the slide: the title says the filters again.
    open_page(browser, slides_server.url + "/?type=Battles&country=UA")
    wait_for(browser, lambda d: d.find_element(By.ID, "title").text == "Battles in Ukraine, 11–21 Jan 2025")


# ------------------------------------------------------------------- keyboard


def test_keys_work_after_a_checkbox_a_radio_and_a_map_click(server, browser):
    open_page(browser, server.url + "/?from=2025-01-16&to=2025-01-16")
    wait_for_count(browser, "1 of 12 events")
    # After ticking a type: ? opens the key list, → steps a day.
    browser.find_element(By.XPATH, "//div[@id='types']//label[contains(., 'Battles')]//input").click()
    wait_for(browser, lambda d: "type=" in d.current_url)
    press(browser, "?")
    wait_for(browser, lambda d: d.find_element(By.ID, "help").is_displayed(), message="? did nothing after a checkbox click")
    press(browser, Keys.ESCAPE)
    wait_for(browser, lambda d: not d.find_element(By.ID, "help").is_displayed())
    press(browser, Keys.ARROW_RIGHT)
    wait_for(browser, lambda d: date_to(d) == "17 Jan 2025", message="→ did nothing after a checkbox click")
    # After clicking "Regions": → steps a day and does not switch the map to Density.
    browser.find_element(By.XPATH, "//div[@id='mode']//label[contains(., 'Regions')]//input").click()
    wait_for(browser, lambda d: "mode=choropleth" in d.current_url)
    press(browser, Keys.ARROW_RIGHT)
    wait_for(browser, lambda d: date_to(d) == "18 Jan 2025", message="→ did nothing after a radio click")
    assert "mode=choropleth" in browser.current_url  # still Regions
    # After a click on the map: ← steps a day back instead of panning.
    canvas = browser.find_element(By.CSS_SELECTOR, "#map .maplibregl-canvas")
    ActionChains(browser).move_to_element_with_offset(canvas, 5, 5).click().perform()
    press(browser, Keys.ARROW_LEFT)
    wait_for(browser, lambda d: date_to(d) == "17 Jan 2025", message="← did nothing after a map click")
    # p still toggles presentation after all that.
    press(browser, "p")
    wait_for(browser, lambda d: "present=1" in d.current_url)


def test_reset_clears_text_typed_but_not_committed(server, browser):
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    browser.find_element(By.XPATH, "//div[@id='types']//label[contains(., 'Battles')]//input").click()
    wait_for_count(browser, "10 of 12 events")
    browser.find_element(By.ID, "text").send_keys("drone")  # no Enter
    browser.find_element(By.ID, "reset").click()
    wait_for_count(browser, "12 of 12 events")
    time.sleep(1.5)  # anything late (the search committed after all) would show by now
    assert count_text(browser) == "12 of 12 events"
    assert "q=" not in browser.current_url
    assert browser.find_element(By.ID, "text").get_attribute("value") == ""


def test_copy_link_is_a_button_reached_by_tab(server, browser):
    open_page(browser, server.url + "/")
    button = browser.find_element(By.ID, "copy-link")
    assert button.tag_name == "button"
    button.click()
    wait_for(browser, lambda d: d.find_element(By.ID, "copy-status").text in ("Link copied.", "Copy this link from the address bar."))


# ------------------------------------------------------------- types and time


def test_type_list_all_none_and_only(server, browser):
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    browser.find_element(By.CSS_SELECTOR, "#types button.only[data-type='Battles']").click()
    wait_for_count(browser, "2 of 12 events")
    browser.find_element(By.ID, "types-none").click()
    wait_for_count(browser, "0 of 12 events")
    browser.find_element(By.ID, "types-all").click()
    wait_for_count(browser, "12 of 12 events")


@pytest.mark.parametrize("width", [390, 1366, 1600])
def test_slider_marks_do_not_overlap_or_leave_the_sidebar(server, browser_factory, width):
    driver = sized(browser_factory, width, 900)
    open_page(driver, server.url + "/")
    if width < 400:
        driver.find_element(By.ID, "drawer-button").click()
        wait_for(driver, lambda d: d.find_element(By.ID, "sidebar").is_displayed() and box(d, "#sidebar")["x"] >= -1)
        time.sleep(0.5)
    marks = driver.execute_script(
        "return Array.from(document.querySelectorAll('#date-slider .dash-slider-mark')).map(m => {"
        " const r = m.getBoundingClientRect(); return {text: m.textContent, left: r.left, right: r.right}; })"
    )
    sidebar = box(driver, "#sidebar")
    assert len(marks) >= 2, marks
    marks.sort(key=lambda m: m["left"])
    for a, b in zip(marks, marks[1:]):
        assert a["right"] + 4 <= b["left"], f"{a['text']!r} touches {b['text']!r}"
    assert marks[0]["left"] >= sidebar["x"] and marks[-1]["right"] <= sidebar["x"] + sidebar["w"]
    # The slider's ends and the date fields stay inside the sidebar too.
    for css in ("#date-slider", "#date-from", "#date-to"):
        part = box(driver, css)
        assert sidebar["x"] <= part["x"] and part["x"] + part["w"] <= sidebar["x"] + sidebar["w"] - 8, css


def test_dragging_the_slider_shows_the_dates_live(server, browser):
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    thumb = browser.find_elements(By.CSS_SELECTOR, "#date-slider [role=slider]")[1]
    actions = ActionChains(browser).click_and_hold(thumb).move_by_offset(-60, 0)
    actions.perform()
    wait_for(browser, lambda d: d.find_element(By.ID, "date-readout").text != "11 Jan 2025 – 21 Jan 2025", message="no live readout")
    readout = browser.find_element(By.ID, "date-readout").text
    assert readout.startswith("11 Jan 2025 – ") and dt.datetime.strptime(readout.split(" – ")[1], "%d %b %Y")
    assert count_text(browser) == "12 of 12 events"  # not yet applied: only on release
    ActionChains(browser).release().perform()
    wait_for(browser, lambda d: count_text(d) != "12 of 12 events")


# ------------------------------------------------------------------- the record


def test_record_panel_reads_well_and_has_the_source_near_the_top(server, browser, artifacts):
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    show_table(browser)
    browser.find_element(By.XPATH, "//div[@id='table']//div[@role='row'][.//div[contains(., 'Kazan Aviation')]]//div[@col-id='place']").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "detail").is_displayed(), message="record panel did not open")
    detail = browser.find_element(By.ID, "detail")
    wait_for(browser, lambda d: "Air/drone strike" in d.find_element(By.ID, "detail").text)
    text = detail.text
    assert "Explosions/Remote violence · Air/drone strike" in text
    assert "Kazan, Republic of Tatarstan, Russia · 20 Jan 2025" in text
    for raw in ("SOURCE ROW", "source_row", "JOIN NOTE", "NaT", "ADMIN1", "event_id"):
        assert raw not in text
    link = detail.find_element(By.CSS_SELECTOR, ".record-source a, .record-dataset a")
    assert link.get_attribute("href").startswith("https://")
    panel, link_box = box(browser, "#detail"), link.rect
    assert link_box["y"] - panel["y"] < 300, "the source is not near the top"
    details = detail.find_element(By.CSS_SELECTOR, "details.record-details")
    assert details.get_attribute("open") is None  # the rest is folded under Details
    assert "Also at this place" in text  # the airport closure at the same coordinates
    browser.save_screenshot(str(artifacts / "record-panel.png"))
    # The map came to the event.
    wait_for(browser, lambda d: "at=55.7887,49.1221," in unquote(d.current_url), message=f"the map did not fly to the event ({browser.current_url})")
    centre = lambda d: d.execute_script("const c = document.querySelector('#map .js-plotly-plot')._fullLayout.map.center; return [c.lat, c.lon];")
    wait_for(browser, lambda d: abs(centre(d)[0] - 55.7887) < 0.01 and abs(centre(d)[1] - 49.1221) < 0.01, message="the map is elsewhere")
    browser.find_element(By.ID, "detail-close").click()
    wait_for(browser, lambda d: not d.find_element(By.ID, "detail").is_displayed())


# -------------------------------------------------------------------- screens


def test_at_1366x768_the_map_takes_most_of_the_width_and_the_timeline_is_in_view(server, browser_factory, artifacts):
    driver = sized(browser_factory, 1366, 768)
    open_page(driver, server.url + "/")
    wait_for_count(driver, "12 of 12 events")
    assert box(driver, "#map")["w"] >= 0.6 * 1366
    assert not driver.find_element(By.ID, "detail").is_displayed()  # the record opens over the map only when used
    timeline = box(driver, "#timeline")
    assert timeline["y"] + timeline["h"] <= 768
    header = driver.find_element(By.CSS_SELECTOR, ".header").text
    assert header.count("12 of 12 events") == 1
    driver.save_screenshot(str(artifacts / "screen-1366x768.png"))


def test_at_390x844_a_usable_map_and_the_filters_in_a_drawer(server, browser_factory, artifacts):
    driver = sized(browser_factory, 390, 844)
    open_page(driver, server.url + "/")
    wait_for_count(driver, "12 of 12 events")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
    assert box(driver, "#map")["h"] >= 300 and box(driver, "#map")["w"] >= 350
    assert not driver.find_element(By.ID, "sidebar").is_displayed()
    driver.find_element(By.ID, "drawer-button").click()
    wait_for(driver, lambda d: d.find_element(By.ID, "sidebar").is_displayed() and box(d, "#sidebar")["x"] >= -1)
    time.sleep(0.5)  # the drawer has slid in
    driver.find_element(By.XPATH, "//div[@id='types']//label[contains(., 'Battles')]//input").click()
    wait_for_count(driver, "10 of 12 events")
    driver.find_element(By.ID, "drawer-close").click()
    wait_for(driver, lambda d: not d.find_element(By.ID, "sidebar").is_displayed())
    driver.save_screenshot(str(artifacts / "screen-390x844.png"))


def test_find_a_type_narrows_the_list(server, browser):
    # The bundled data has 3 types, so the box is hidden (it shows from 11); show it to try the search itself.
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    assert not browser.find_element(By.ID, "types-search").is_displayed()
    browser.execute_script("document.querySelector('.types-search').hidden = false")
    browser.find_element(By.ID, "types-search").send_keys("expl")
    shown = lambda d: [label.text.split(" (")[0] for label in d.find_elements(By.CSS_SELECTOR, "#types label") if label.is_displayed()]
    wait_for(browser, lambda d: shown(d) == ["Explosions/Remote violence"], message="the list was not narrowed")
    assert count_text(browser) == "12 of 12 events"  # finding is not filtering


def test_playback_in_presentation_keeps_the_layout_still(server, browser_factory):
    driver = sized(browser_factory, 1280, 720)
    open_page(driver, server.url + "/?present=1")
    wait_for_count(driver, "12 of 12 events")
    time.sleep(1)
    before = [box(driver, css) for css in ("#map", "#timeline", ".header")]
    press(driver, " ")  # play, day by day: days with no events come up too
    frames = set()
    deadline = time.time() + 25
    while len(frames) < 6 and time.time() < deadline:
        frames.add(count_text(driver) + date_to(driver))
        assert [box(driver, css) for css in ("#map", "#timeline", ".header")] == before, "the layout moved during playback"
        assert not driver.find_element(By.ID, "notices").is_displayed()
        time.sleep(0.2)
    assert len(frames) >= 4, frames
    press(driver, " ")


def test_filters_that_lengthen_the_title_leave_the_map_still(server, browser_factory):
    """A type ticked off makes the title and the line under it longer; the header keeps its lines,
    so the map under the pointer neither moves nor is resized (and redrawn whole)."""
    driver = sized(browser_factory, 1366, 768)
    open_page(driver, server.url + "/")
    wait_for_count(driver, "12 of 12 events")
    time.sleep(1)
    before = [box(driver, css) for css in ("#map", ".header")]
    short_title = driver.find_element(By.ID, "title").text
    driver.find_element(By.CSS_SELECTOR, "#types input[value='Battles']").click()
    wait_for_count(driver, "10 of 12 events")
    title = driver.find_element(By.ID, "title")
    wait_for(driver, lambda d: title.text != short_title)
    assert [box(driver, css) for css in ("#map", ".header")] == before, "the map moved or was resized"
    # The whole title is there to read (hover, screen readers), though one line shows.
    assert driver.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", title), "the title no longer needs cutting"
    assert title.get_attribute("title") == title.get_attribute("textContent")
    assert "Strategic developments" in title.get_attribute("textContent")
