"""Briefing rooms and shared links, in headless Chromium: presentation mode,
playback, URL state with back/forward, saved views, keyboard, bad parameters."""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import DashboardServer
from test_browser_dashboard import count_text, no_alert_opened, open_page, wait_for, wait_for_count

EXPLOSIONS = "Explosions/Remote violence"


def ticked_types(driver) -> list[str]:
    return [
        box.get_attribute("value")
        for box in driver.find_elements(By.CSS_SELECTOR, "#types input[type=checkbox]")
        if box.is_selected()
    ]


def shown_day(driver, element_id: str) -> dt.date:
    return dt.datetime.strptime(driver.find_element(By.ID, element_id).get_attribute("value"), "%d %b %Y").date()


def font_px(driver, css: str) -> float:
    return float(driver.execute_script(f"return getComputedStyle(document.querySelector('{css}')).fontSize").rstrip("px"))


def test_presentation_mode_hides_controls_and_shows_title_and_legend_at_1080p(server, browser_factory, artifacts):
    driver = browser_factory(1920, 1080)
    open_page(driver, server.url + "/?present=1")
    wait_for(driver, lambda d: "present" in d.find_element(By.ID, "root").get_attribute("class"))
    assert not driver.find_element(By.CSS_SELECTOR, ".sidebar").is_displayed()
    assert not driver.find_element(By.CSS_SELECTOR, ".table-section").is_displayed()
    assert not driver.find_element(By.CSS_SELECTOR, ".header-controls").is_displayed()
    title = driver.find_element(By.ID, "title")
    summary = driver.find_element(By.ID, "summary")
    assert title.is_displayed() and title.text == "Events, 11–21 Jan 2025"  # a sentence from the filters
    assert "11 Jan 2025 – 21 Jan 2025" in summary.text and "all event types" in summary.text
    assert "RFE/RL, 21 Jan 2025" in driver.find_element(By.ID, "source-line").text  # the publisher, not a file name
    # The legend stays in presentation, beside the map (never on it).
    wait_for(driver, lambda d: EXPLOSIONS in d.find_element(By.ID, "map-legend").text, message="no legend beside the map")
    legend = driver.find_element(By.ID, "map-legend")
    assert legend.is_displayed()
    # Read from across a room: big title and summary, legend text at least 20 px.
    assert font_px(driver, "#title") >= 36
    assert font_px(driver, "#summary") >= 24
    legend_px = driver.execute_script("return parseFloat(getComputedStyle(document.querySelector('#map-legend .legend-label')).fontSize)")
    assert legend_px >= 20
    driver.save_screenshot(str(artifacts / "presentation-1920x1080.png"))
    # Leaving presentation mode returns to the same view with the controls.
    driver.find_element(By.TAG_NAME, "body").send_keys("p")
    wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".sidebar").is_displayed())
    assert "present" not in driver.current_url and count_text(driver) == "12 of 12 events"


def test_a_shared_url_opens_with_exactly_that_state(server, browser):
    open_page(browser, server.url + "/?from=2025-01-16&to=2025-01-21&type=Explosions%2FRemote+violence")
    wait_for_count(browser, "5 of 12 events")
    assert ticked_types(browser) == [EXPLOSIONS]
    assert browser.find_element(By.ID, "date-from").get_attribute("value") == "16 Jan 2025"
    assert browser.find_element(By.ID, "date-to").get_attribute("value") == "21 Jan 2025"


def test_changing_a_filter_updates_the_url_and_back_restores_the_view(server, browser):
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    browser.find_element(By.XPATH, "//div[@id='types']//label[contains(., 'Battles')]//input").click()
    wait_for_count(browser, "10 of 12 events")
    wait_for(browser, lambda d: "type=" in d.current_url)
    browser.back()
    wait_for_count(browser, "12 of 12 events")
    assert "Battles" in ticked_types(browser)
    browser.forward()
    wait_for_count(browser, "10 of 12 events")
    assert "Battles" not in ticked_types(browser)


def test_playback_advances_date_and_count_and_stops_on_pause(server, browser):
    open_page(browser, server.url + "/")
    wait_for_count(browser, "12 of 12 events")
    browser.find_element(By.XPATH, "//div[@id='play-mode']//label[contains(., 'cumulative')]//input").click()
    browser.find_element(By.ID, "play").click()
    # Playback starts again from the first days (polls may miss the very first frame).
    wait_for(browser, lambda d: shown_day(d, "date-to") <= dt.date(2025, 1, 13), message="playback did not start at the beginning")
    # The count and the summary line are drawn with the map, so the count and the dates belong together.
    seen = []
    deadline = time.time() + 40
    while (not seen or seen[-1][0] < dt.date(2025, 1, 16)) and time.time() < deadline:
        summary, count = browser.execute_script(
            "return [document.getElementById('summary').textContent, document.getElementById('count').textContent]")
        match = re.match(r"(?:.+? – )?(\d+ \w+ \d{4}) ·", summary)
        number = re.match(r"(\d+) of 12 events", count)
        if match and number:
            state = (dt.datetime.strptime(match.group(1), "%d %b %Y").date(), int(number.group(1)))
            started = seen or state[0] <= dt.date(2025, 1, 13)
            if started and (not seen or seen[-1] != state):
                seen.append(state)
        time.sleep(0.1)
    days = [day for day, _ in seen]
    counts = [count for _, count in seen]
    assert len(set(days)) >= 4 and days == sorted(days), seen  # at least three steps forward
    assert counts == sorted(counts) and counts[-1] > counts[0], seen  # cumulative: the count grows
    browser.find_element(By.ID, "play").click()  # pause
    wait_for(browser, lambda d: "Play" in d.find_element(By.ID, "play").text)
    paused = browser.find_element(By.ID, "date-to").get_attribute("value")
    time.sleep(2.5)
    assert browser.find_element(By.ID, "date-to").get_attribute("value") == paused


def test_keyboard_steps_days_and_shows_the_key_list(server, browser):
    open_page(browser, server.url + "/?from=2025-01-16&to=2025-01-16")
    wait_for_count(browser, "1 of 12 events")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT)
    wait_for(browser, lambda d: d.find_element(By.ID, "date-to").get_attribute("value") == "17 Jan 2025")
    body.send_keys("?")
    wait_for(browser, lambda d: d.find_element(By.ID, "help").is_displayed())
    assert "play / pause" in browser.find_element(By.ID, "help").text


def test_malformed_parameters_open_a_valid_view_with_a_notice_and_run_nothing(server, browser):
    open_page(browser, server.url + "/?from=2025-13-45&type=%3Cscript%3Ealert(1)%3C/script%3E")
    wait_for_count(browser, "12 of 12 events")
    notices = browser.find_element(By.ID, "notices").text
    assert "2025-13-45" in notices and "<script>alert(1)</script>" in notices
    assert not browser.find_elements(By.CSS_SELECTOR, "#notices script")
    assert no_alert_opened(browser)


@pytest.fixture()
def views_server(tmp_path, cache_dir):
    views_file = tmp_path / "saved_views.json"

    def start():
        return DashboardServer(cache_dir=cache_dir, env={"DASHBOARD_VIEWS_FILE": str(views_file)})

    return start, views_file


def test_saved_views_survive_a_restart_and_two_saves_at_once_both_persist(views_server, browser_factory):
    start, views_file = views_server
    running = start()
    try:
        first, second = browser_factory(), browser_factory()
        open_page(first, running.url + "/?type=Battles")
        open_page(second, running.url + "/?mode=choropleth")
        # Both users press Save at the same moment.
        barrier = threading.Barrier(2)

        def press(driver, name):
            field = driver.find_element(By.ID, "view-name")
            field.clear()
            field.send_keys(name)
            barrier.wait()
            driver.find_element(By.ID, "save-view").click()

        threads = [threading.Thread(target=press, args=(first, "Battles only")), threading.Thread(target=press, args=(second, "Regions map"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wait_for(first, lambda d: "Saved" in d.find_element(By.ID, "views-message").text)
        wait_for(second, lambda d: "Saved" in d.find_element(By.ID, "views-message").text)
    finally:
        running.stop()
    in_file = json.loads(views_file.read_text())
    assert sorted(view["name"] for view in in_file) == ["Battles only", "Regions map"]  # both concurrent saves persist
    expected = {"Battles only": "type=Battles", "Regions map": "mode=choropleth"}
    slides = [expected[view["name"]] for view in in_file]  # slide order: the order they were saved in
    running = start()  # a restart: only the file remains
    try:
        driver = browser_factory()
        open_page(driver, running.url + "/")
        # Page Down steps to the next saved view: the first, then the second.
        body = driver.find_element(By.TAG_NAME, "body")
        for query in slides:
            body.send_keys(Keys.PAGE_DOWN)
            wait_for(driver, lambda d: query in d.current_url, message=f"slide {query} not shown")
            wait_for_count(driver, "2 of 12 events" if "Battles" in query else "12 of 12 events")
    finally:
        running.stop()
