"""The page's export control: progress while the render service draws, then the file; a failure in one sentence; cancel."""
from __future__ import annotations

import struct
import time

from selenium.webdriver.common.by import By

from test_browser_dashboard import open_page, wait_for, wait_for_count


STEPS = ("Waiting: ", "Starting", "Drawing the map…", "Writing PNG…")


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def open_export(browser, url: str, size_label: str):
    open_page(browser, url)
    browser.find_element(By.XPATH, "//details[contains(@class, 'export')]/summary").click()
    browser.find_element(By.XPATH, f"//div[@id='export-size']//label[contains(., '{size_label}')]//input").click()


def message(browser) -> str:
    return browser.find_element(By.ID, "export-message").text


def test_export_control_downloads_the_view_as_png(server, browser, tmp_path, artifacts):
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    open_export(browser, server.url + "/?type=Battles", "1280")
    wait_for_count(browser, "2 of 12 events")
    browser.find_element(By.ID, "export-button").click()
    # While it is on its way: the step (or the queue) in words, a bar, Export disabled, Cancel offered.
    wait_for(browser, lambda d: message(d).startswith(STEPS), timeout=60, message="no progress shown")
    steps = {message(browser)}
    assert browser.find_element(By.ID, "export-progress").is_displayed()
    button = browser.find_element(By.ID, "export-button")
    assert not button.is_enabled() and button.text == "Exporting…"
    assert browser.find_element(By.ID, "export-cancel").is_displayed()
    section = browser.find_element(By.XPATH, "//details[contains(@class, 'export')]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'end'})", section)
    section.screenshot(str(artifacts / "export-progress.png"))
    while "Exported" not in message(browser):
        steps.add(message(browser))
        assert not message(browser).startswith("Not exported"), message(browser)
        time.sleep(0.1)
    assert steps & {"Drawing the map…", "Writing PNG…", "Starting the renderer…"}, steps
    assert browser.find_element(By.ID, "export-button").is_enabled() and browser.find_element(By.ID, "export-button").text == "Export"
    assert not browser.find_element(By.ID, "export-progress").is_displayed()
    assert not browser.find_element(By.ID, "export-cancel").is_displayed()
    deadline = time.time() + 30
    while time.time() < deadline and not list(tmp_path.glob("*.png")):
        time.sleep(0.2)
    (image,) = list(tmp_path.glob("*.png"))
    assert png_size(image) == (1280, 720)
    assert image.name.startswith("conflict-events-2025-01-11-to-2025-01-21")


def test_a_bad_size_says_why_in_one_sentence(server, browser):
    open_export(browser, server.url + "/", "custom")
    width = browser.find_element(By.ID, "export-width")
    width.clear()
    width.send_keys("50")
    browser.find_element(By.ID, "export-button").click()
    wait_for(browser, lambda d: message(d).startswith("Not exported"), message="no failure message")
    assert message(browser) == "Not exported: give a width and a height in pixels (100 to 8000)."  # the input holds no number below its min
    assert browser.find_element(By.ID, "export-button").is_enabled()


def test_cancel_stops_an_export(server, browser):
    open_export(browser, server.url + "/", "A4")
    browser.find_element(By.ID, "export-button").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "export-cancel").is_displayed(), message="no Cancel button")
    browser.find_element(By.ID, "export-cancel").click()
    wait_for(browser, lambda d: message(d) == "Export cancelled.", message="not cancelled")
    assert browser.find_element(By.ID, "export-button").is_enabled()
    time.sleep(2)  # the poll has stopped: nothing downloads and the message stays
    assert message(browser) == "Export cancelled."


def test_download_csv_gives_every_filtered_event(server, browser, tmp_path):
    import csv

    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    open_page(browser, server.url + "/?type=Explosions%2FRemote+violence")
    wait_for_count(browser, "5 of 12 events")
    browser.find_element(By.ID, "download-button").click()
    deadline = time.time() + 30
    while time.time() < deadline and not list(tmp_path.glob("events.csv")):
        time.sleep(0.2)
    with open(tmp_path / "events.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5 and {row["event_type"] for row in rows} == {"Explosions/Remote violence"}
    assert {"admin1_code", "admin1_name", "summary", "source_name"} <= set(rows[0])
