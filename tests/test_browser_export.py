"""The page's export control downloads a finished image of the current view."""
from __future__ import annotations

import struct
import time

from selenium.webdriver.common.by import By

from test_browser_dashboard import open_page, wait_for, wait_for_count


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_export_control_downloads_the_view_as_png(server, browser, tmp_path):
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    open_page(browser, server.url + "/?type=Battles")
    wait_for_count(browser, "2 of 12 events")
    browser.find_element(By.XPATH, "//details[contains(@class, 'export')]/summary").click()
    browser.find_element(By.XPATH, "//div[@id='export-size']//label[contains(., '1280')]//input").click()
    browser.find_element(By.ID, "export-button").click()
    wait_for(browser, lambda d: "Exported" in d.find_element(By.ID, "export-message").text, timeout=120, message="no export")
    deadline = time.time() + 30
    while time.time() < deadline and not list(tmp_path.glob("*.png")):
        time.sleep(0.2)
    (image,) = list(tmp_path.glob("*.png"))
    assert png_size(image) == (1280, 720)
    assert image.name.startswith("conflict-events-2025-01-11-to-2025-01-21")


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
