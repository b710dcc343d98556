"""An accessibility audit in a real browser: axe-core (from tests/js/node_modules, never downloaded
at run time) finds no critical or serious violation in the light theme, the dark theme and
presentation mode; and the page passes what axe cannot judge: focus rings, named slider thumbs."""
from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import ROOT
from test_browser_dashboard import open_page, show_table, wait_for, wait_for_count

AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(driver) -> list[dict]:
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: run tests/setup_machine.sh (npm ci in tests/js)")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    return driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 6).map(n => ({target: n.target.join(' '), summary: (n.failureSummary || '').slice(0, 300)}))
        })))).catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
        """
    )


def assert_no_serious(driver, what: str):
    driver.set_script_timeout(60)
    bad = [v for v in axe_violations(driver) if v["impact"] in ("critical", "serious")]
    assert bad == [], f"{what}: axe found\n" + json.dumps(bad, indent=1, ensure_ascii=False)


def settle(driver):
    # The lazily loaded grid (made once scrolled to), dropdowns and slider have drawn, and a11y.js has run over them.
    if not driver.execute_script("return document.getElementById('root').classList.contains('present')"):
        show_table(driver)
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#date-slider [role=slider][aria-valuetext]"), message="slider thumbs unnamed")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#types input[type=checkbox]"), message="type list never drawn")


@pytest.mark.parametrize("query,what", [("", "light theme"), ("?theme=dark", "dark theme"), ("?present=1", "presentation")])
def test_axe_finds_no_critical_or_serious_violation(server, browser, query, what):
    open_page(browser, server.url + "/" + query)
    wait_for_count(browser, "12 of 12 events")
    settle(browser)
    assert_no_serious(browser, what)


def test_axe_in_the_dark_with_the_record_open(server, browser):
    open_page(browser, server.url + "/?theme=dark")
    settle(browser)
    browser.find_element(By.XPATH, "//div[@id='table']//div[@role='row'][.//div[contains(., 'oil depot')]]//div[@col-id='place']").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "detail").is_displayed(), message="record panel did not open")
    assert_no_serious(browser, "dark theme, record open")


def test_slider_thumbs_announce_dates(server, browser):
    open_page(browser, server.url + "/?from=2025-01-16&to=2025-01-20")
    wait_for_count(browser, "8 of 12 events")
    wait_for(browser, lambda d: [t.get_attribute("aria-valuetext") for t in d.find_elements(By.CSS_SELECTOR, "#date-slider [role=slider]")]
             == ["16 Jan 2025", "20 Jan 2025"], message="slider thumbs do not say their dates")
    names = [t.get_attribute("aria-label") for t in browser.find_elements(By.CSS_SELECTOR, "#date-slider [role=slider]")]
    assert names == ["Start date", "End date"]
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_tab_reaches_every_control_with_a_visible_3px_ring(server, browser, theme):
    open_page(browser, server.url + f"/?theme={theme}")
    settle(browser)
    seen, rings = [], []
    browser.execute_script("document.activeElement && document.activeElement.blur(); window.focus();")
    for _ in range(90):
        ActionChains(browser).send_keys(Keys.TAB).perform()  # to the page, not an element: a file input would take it as a path
        info = browser.execute_script(
            """
            const e = document.activeElement; const s = getComputedStyle(e);
            // A box or radio shows its ring on its label; the file input of the upload on the button it stands for.
            const holder = e.tagName === 'INPUT' ? e.closest('.dash-options-list-option, .dash-dropdown-wrapper, .upload') : null;
            const shown = holder && holder !== e ? (holder.classList.contains('dash-dropdown-wrapper') ? holder.querySelector('.dash-dropdown')
                          : holder.classList.contains('upload') ? holder.querySelector('.button') : holder) : e;
            const r = getComputedStyle(shown);
            return {id: e.id || (e.closest('[id]') || {}).id || '', tag: e.tagName,
                    width: parseFloat(r.outlineWidth) || 0, style: r.outlineStyle};
            """
        )
        seen.append(info["id"])
        if info["tag"] != "BODY":
            rings.append(info)
    for wanted in ("copy-link", "date-from", "date-to", "play", "types", "reset", "mode", "theme", "help-button", "text", "countries"):
        assert wanted in seen, f"Tab never reached #{wanted} ({seen})"
    faint = [r for r in rings if r["style"] == "none" or r["width"] < 3]
    assert faint == [], f"focus without a 3 px ring: {faint[:8]}"
