"""End-to-end browser benchmark: from a key press or click to a repainted map, as users feel it.

    cd <repo> && python -m bench.bench_browser [--rows 1000000] [--runs 5] [--no-naive] [--json FILE]

Run from the repository root as a module (bench/common.py says why).  It
starts its own servers on 127.0.0.1 -- `python -m dashboard serve --port P
[--data FILE]` with a temporary DASHBOARD_CACHE_DIR, and the naive app
(bench/naive_app.py) -- on the bundled events and on `--rows` synthetic
events (bench_import.synthetic_events, written once to a temporary CSV;
`--work-dir` keeps CSV and cache for the next run), and drives them with
Playwright on Debian's Chromium (executable_path, never a downloaded browser).

Measured, median of `--runs` after one warm-up:

(a) page load: a fresh browser context (empty cache, a first visit) goes to
    the page; "map drawn" is performance.now() (milliseconds since navigation
    start) once the count reads "N of M events", the MapLibre map has the
    event traces as layers and reports loaded(), plus one animation frame.
    Bytes: from the Chrome DevTools Protocol's Network events, transferred
    (encodedDataLength, what crossed the wire) and uncompressed (decoded
    dataLength), up to "drawn" and in all after a quiet second.
(b) slider step: the slider's upper thumb focused, ArrowLeft / ArrowRight,
    on all days; and again on the last 30 days (the page opened with a
    ?from=&to= link): "slider step, 30 days", the state the naive app starts
    in, so that row is the one compared with the naive app's slider step;
(c) ← / → key: the page's keyboard shortcut with the body focused;
(d) type toggle: a click on the checkbox of the type with the most events (off / on);
(e) map mode: a click on "Regions", then on "Points";
(f) search: text typed into the search box, timed from the Enter key
    (a word, then the empty box);
(g) playback: the fastest speed, Play, 20 frames (fewer if the data has
    fewer days): frames per second achieved against the interval, and
    whether it fell behind (frames dropped, days skipped, or slower than 90 %
    of the interval's rate).

"Repainted", for (b)-(f): a probe installed in the page records, with
performance.now(), the trusted input event (its event.timeStamp: keydown
or pointerdown), every `plotly_afterplot` / `plotly_react` event of the map's
graph div (`#map .js-plotly-plot`) and the next requestAnimationFrame after
it, every change of the #count text (a MutationObserver), and every MapLibre
`idle` event of the map with the animation frame after it.  The action is
done once (1) the count text has changed, (2) the graph has re-plotted and
(3) MapLibre is loaded and has been quiet for 300 ms; its time is the latest
of: the count change, the frame after the last re-plot, the frame after the
last MapLibre `idle` since the input.  (MapLibre paints on rAF; `idle` means
a frame with every source loaded has been rendered.  Plotly 7 resolves its
re-plot just after that idle, but the rule does not depend on the order.
The 300 ms of quiet only decide that nothing more is coming; they are not
counted.)  Actions that do not change the count (map mode) skip (1); where
the count happens to be the same (the same number on both days) it is
accepted one second after the re-plot and flagged "count unchanged".  A
re-plot after which MapLibre rendered nothing is flagged "no idle".

Where the time goes, per action: when the count text changed (server,
network and the page's update), the first re-plot, the repaint, and how
long the page's main thread was busy in tasks over 50 ms (Long Tasks API)
in between: a repaint long after the count changed, with the main thread
busy, is time spent in the browser (Plotly, MapLibre, the grid), not on
the server.

Response size per action: the `/_dash-update-component` responses of the
action (from the Network events), uncompressed and transferred.

Chromium runs headless with --disable-gpu: WebGL is SwiftShader, on the
CPU, so MapLibre's paint competes with the servers for the same cores (a
user's GPU paints faster; the timings here are an upper bound of that part).

The naive app gets (a) and (b) only (its slider starts on the last 30 days).  Machine load is printed: on a shared
machine the timings are inflated; re-run on a quiet one for figures to keep.
Selectors are in SELECTORS below, each with fallbacks: the UI is reworked in
parallel, and a missing control skips its action with a message instead of
failing the run.
"""
from __future__ import annotations

if not __package__:  # run as a file: bench/ would shadow the checkout on sys.path
    raise SystemExit("Run from the repository root as a module: python -m bench.bench_browser")

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from .common import (
    VIEWPORT,
    dashboard_server,
    ensure_checkout,
    fmt_bytes,
    launch_chromium,
    machine_note,
    naive_server,
    synthetic_csv,
)
from .replay import parse_day

# Every selector the script uses, first match wins; fix here when the UI changes.
SELECTORS = {
    "count": ["#count", "[data-bench=count]"],
    "graph": ["#map .js-plotly-plot", "#map.js-plotly-plot", ".map .js-plotly-plot"],
    "slider_thumb": [
        "#date-slider [role=slider][aria-label=Maximum]",
        "#date-slider [role=slider] >> nth=-1",
        "#date-slider .rc-slider-handle-2",
    ],
    "type_boxes": ["#types input[type=checkbox]", "#types input"],
    "type_labels": ["#types label", "#types .dash-options-list-option"],
    "mode_regions": ["#mode input[value=choropleth]", "#mode label:has-text('Regions')"],
    "mode_points": ["#mode input[value=points]", "#mode label:has-text('Points')"],
    "search": ["#text", "input[type=search]"],
    "date_to": ["#date-to", "input[type=date] >> nth=-1"],
    "play": ["#play"],
    "speeds": ["#speed input[type=radio]"],
    "reset": ["#reset"],
    "summary": ["#summary"],
}
COUNT_PATTERN = r"[\d,]+ of [\d,]+ events"
SLIDER_30_NAME = "slider step, 30 days"
SEARCH_WORD = "civilians"  # a strict subset of the bundled and of the synthetic events
PLAYBACK_FRAMES = 20
ACTION_TIMEOUT_MS = 60_000
LOAD_TIMEOUT_MS = 180_000
TARGETS = {  # (bundled, big) in seconds, from issue 14
    "page load → map drawn": (1.5, 3.0),
    "slider step": (0.3, 0.5),
    "← / → key": (0.3, 0.5),
    "type toggle": (0.3, 0.5),
    "map mode switch": (0.3, 0.5),
    "search text": (0.3, 0.5),
    SLIDER_30_NAME: (0.3, 0.5),
}
PAGE_BYTES_TARGET = 3_000_000

# ------------------------------------------------------------- page probes

PROBE_JS = r"""
(sel) => {
  if (window.__bench) { window.__bench.sel = sel; window.__bench.hook(); return true; }
  const B = {sel, plots: [], counts: [], idles: [], inputs: [], frames: [], arm: null, countNode: null};
  const now = () => performance.now();
  const first = (list) => { for (const s of list) { const el = document.querySelector(s); if (el) return el; } return null; };
  B.graph = () => first(B.sel.graph);
  B.mapOf = (gd) => { try { return gd._fullLayout.map._subplot.map || null; } catch (e) { return null; } };
  B.hookMap = () => {
    const m = B.mapOf(B.graph());
    if (m && !m.__benchHooked) {
      m.__benchHooked = true;
      m.on('idle', () => { const t = now(); requestAnimationFrame(() => B.idles.push({t, raf: now()})); });
    }
  };
  B.onPlot = (kind) => {
    const t = now();
    const summary = first(B.sel.summary);
    const count = first(B.sel.count);
    B.plots.push({t, kind, raf: null});
    const entry = B.plots[B.plots.length - 1];
    requestAnimationFrame(() => { entry.raf = now(); });
    const previous = B.frames[B.frames.length - 1];
    if (previous && t - previous.t < 50) return;  // afterplot and react of one re-plot: one frame
    B.frames.push({t, summary: summary ? summary.textContent.trim() : '', count: count ? count.textContent.trim() : ''});
    B.hookMap();
  };
  B.hook = () => {
    const gd = B.graph();
    if (gd && gd.on && !gd.__benchHooked) {
      gd.__benchHooked = true;
      gd.on('plotly_afterplot', () => B.onPlot('afterplot'));
      gd.on('plotly_react', () => B.onPlot('react'));
    }
    B.hookMap();
    const c = first(B.sel.count);
    if (c && c !== B.countNode) {
      B.countNode = c;
      new MutationObserver(() => B.counts.push({t: now(), text: c.textContent.trim()}))
        .observe(c, {childList: true, characterData: true, subtree: true});
    }
    return !!(gd && gd.on);
  };
  performance.setResourceTimingBufferSize(100000);  // settle() reads request ends from it
  B.longtasks = [];
  try {  // main-thread tasks over 50 ms: how much of the wait the page itself was busy
    new PerformanceObserver((list) => { for (const e of list.getEntries()) B.longtasks.push({t: e.startTime, d: e.duration}); })
      .observe({type: 'longtask', buffered: false});
  } catch (e) { /* not supported: busy_ms stays null */ B.longtasks = null; }
  // On window, capturing: the first place an event reaches (the page's own shortcuts stop propagation).
  for (const type of ['keydown', 'pointerdown', 'mousedown']) {
    window.addEventListener(type, (e) => { if (e.isTrusted) B.inputs.push({t: e.timeStamp, type, key: e.key || ''}); }, true);
  }
  B.armAction = (opts) => {
    B.hook();
    const c = first(B.sel.count);
    B.plots = []; B.counts = []; B.idles = []; B.inputs = []; B.frames = [];
    if (B.longtasks) B.longtasks = [];
    B.arm = {at: now(), countBefore: c ? c.textContent.trim() : null, expectCount: opts.expectCount,
             graceMs: opts.graceMs, quietMs: opts.quietMs || 300, inputTypes: opts.inputTypes};
    return true;
  };
  // null while the action is under way; its timings once the map has repainted.
  B.result = () => {
    const A = B.arm;
    if (!A) return null;
    B.hook();
    let input = B.inputs.find((i) => A.inputTypes.includes(i.type));
    const flags = [];
    if (!input) {
      // The input event was not seen (a handler that stops it before us): time from the arming
      // instead, just before the action was sent (a few ms early: slower, never faster).
      if (!B.plots.length && !B.counts.length) return null;
      input = {t: A.at, type: 'armed', key: ''};
      flags.push('timed from arming');
    }
    const t0 = input.t;
    const plots = B.plots.filter((p) => p.t >= t0);
    if (!plots.length) return null;
    const change = B.counts.find((c) => c.t >= t0 && c.text !== A.countBefore);
    const last = plots[plots.length - 1];
    let ready = last.t;
    if (change) { ready = Math.max(ready, change.t); }
    else if (A.expectCount) {
      if (now() - last.t < A.graceMs) return null;
      flags.push('count unchanged');
    }
    // MapLibre has drawn the new sources once it is loaded and quiet: the last `idle` after the
    // input (Plotly may resolve its re-plot after that idle, or before it) and the re-plot's frame.
    const idles = B.idles.filter((i) => i.t >= t0);
    const lastIdle = idles.length ? idles[idles.length - 1] : null;
    const m = B.mapOf(B.graph());
    const quietSince = Math.max(ready, lastIdle ? lastIdle.raf : 0);
    if (last.raf === null || (m && !m.loaded()) || now() - quietSince < A.quietMs) {
      if (now() - ready < 20000) return null;
      flags.push('map not loaded');
    }
    if (!lastIdle) flags.push('no idle');
    const done = Math.max(last.raf, lastIdle ? lastIdle.raf : 0, change ? change.t : 0);
    const c = first(B.sel.count);
    const busy = B.longtasks ? B.longtasks.filter((l) => l.t + l.d > t0 && l.t < done)
      .reduce((sum, l) => sum + Math.min(l.t + l.d, done) - Math.max(l.t, t0), 0) : null;
    return {t0, busy_ms: busy, input: input.type + (input.key ? ':' + input.key : ''), total_ms: done - t0,
            count_ms: change ? change.t - t0 : null, plot_ms: plots[0].t - t0, last_plot_ms: last.t - t0,
            plots: plots.length, count: c ? c.textContent.trim() : null, flags};
  };
  window.__bench = B;
  return B.hook();
}
"""

DRAWN_JS = r"""
([sel, pattern]) => {
  const first = (list) => { for (const s of list) { const el = document.querySelector(s); if (el) return el; } return null; };
  const count = first(sel.count);
  const gd = first(sel.graph);
  if (!count || !gd || !gd._fullLayout || !gd._fullLayout.map) return null;
  if (!new RegExp(pattern).test(count.textContent)) return null;
  const sub = gd._fullLayout.map._subplot;
  const map = sub && sub.map;
  if (!map) return null;
  const style = map.getStyle();
  const traces = ((style && style.layers) || []).filter((l) => l.id.startsWith('plotly-trace-layer-'));
  if (!traces.length || !map.loaded()) return null;
  return {drawn_ms: performance.now(), count: count.textContent.trim(), trace_layers: traces.length};
}
"""


class Network:
    """Every request of a page, from the Chrome DevTools Protocol: url, method, POST body, bytes."""

    def __init__(self, page):
        self.requests: dict[str, dict] = {}
        self.order: list[str] = []
        self.document_mark = 0  # requests before the last navigation never finish: not waited for
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.dataReceived", self._data)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.loadingFailed", self._failed)
        self.cdp.send("Network.enable", {"maxPostDataSize": 10_000_000})

    def _sent(self, event):
        rid = event["requestId"]
        request = event["request"]
        if rid not in self.requests:
            self.order.append(rid)
        self.requests[rid] = {
            "url": request["url"], "method": request["method"], "body": request.get("postData"),
            "has_body": request.get("hasPostData", False), "decoded": 0, "encoded": None, "done": False, "failed": False,
        }

    def _data(self, event):
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            entry["decoded"] += event.get("dataLength", 0)

    def _finished(self, event):
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            entry["encoded"] = event.get("encodedDataLength", 0)
            entry["done"] = True

    def _failed(self, event):
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            entry["failed"] = entry["done"] = True

    def mark(self) -> int:
        return len(self.order)

    def navigating(self) -> None:
        """Call before page.goto: requests of the old document are no longer waited for."""
        self.document_mark = len(self.order)

    def callbacks_under_way(self) -> int:
        return sum(not e["done"] for e in self.callbacks(self.since(self.document_mark)))

    def since(self, mark: int) -> list[dict]:
        return [self.requests[rid] for rid in self.order[mark:]]

    def body_of(self, rid_entry: dict) -> str | None:
        return rid_entry.get("body")

    @staticmethod
    def totals(entries: list[dict]) -> dict:
        return {
            "requests": len(entries),
            "transferred": sum(e["encoded"] or 0 for e in entries),
            "uncompressed": sum(e["decoded"] for e in entries),
            "unfinished": sum(not e["done"] for e in entries),
        }

    @staticmethod
    def callbacks(entries: list[dict]) -> list[dict]:
        return [e for e in entries if "_dash-update-component" in e["url"] and e["method"] == "POST"]


def first_locator(page, names: str, required: bool = True):
    """The first selector of SELECTORS[names] that matches something on the page."""
    for selector in SELECTORS[names]:
        locator = page.locator(selector)
        if locator.count():
            return locator.first
    if required:
        raise MissingControl(f"no element for {names!r}; tried {SELECTORS[names]} (update SELECTORS in bench/bench_browser.py)")
    return None


class MissingControl(RuntimeError):
    pass


# ---------------------------------------------------------------- page load


def measure_load(browser, url: str) -> dict:
    """One first visit in a fresh context: ms from navigation start to the map drawn, and bytes."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        net = Network(page)
        page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT_MS)
        handle = page.wait_for_function(DRAWN_JS, arg=[SELECTORS, COUNT_PATTERN], polling="raf", timeout=LOAD_TIMEOUT_MS)
        state = handle.json_value()
        state["drawn_ms"] = page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(performance.now())))")
        at_drawn = Network.totals(net.since(0))
        page.wait_for_timeout(1000)  # what else the page fetches once drawn (lazy components)
        for _ in range(20):
            if not Network.totals(net.since(0))["unfinished"]:
                break
            page.wait_for_timeout(250)
        after = Network.totals(net.since(0))
        return {"seconds": state["drawn_ms"] / 1000, "count": state["count"], "at_drawn": at_drawn, "all": after}
    finally:
        context.close()


# ------------------------------------------------------------------ actions


def open_page(browser, url: str):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    net = Network(page)
    page.goto(url, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(DRAWN_JS, arg=[SELECTORS, COUNT_PATTERN], polling="raf", timeout=LOAD_TIMEOUT_MS)
    if not page.evaluate(PROBE_JS, SELECTORS):
        raise MissingControl(f"the map's graph div has no Plotly events; tried {SELECTORS['graph']}")
    settle(page, net)
    return context, page, net


def settle(page, net: "Network | None" = None, quiet_ms: int = 400, limit_ms: int = 60_000) -> None:
    """Wait until no callback request is under way and nothing (re-plot, count change, request end) has happened for `quiet_ms`.

    A callback the server takes long to answer shows no activity in the page: the Network
    events say it is still under way."""
    deadline = time.time() + limit_ms / 1000
    while True:
        _quiet(page, quiet_ms, limit_ms)
        busy = net is not None and net.callbacks_under_way() > 0
        if not busy or time.time() > deadline:
            return
        page.wait_for_timeout(50)


def _quiet(page, quiet_ms: int, limit_ms: int) -> None:
    page.evaluate(
        """([quiet, limit]) => new Promise((resolve) => {
            const B = window.__bench; const start = performance.now();
            const last = () => Math.max(0, ...B.plots.map(p => p.t), ...B.counts.map(c => c.t), ...B.idles.map(i => i.t),
                ...performance.getEntriesByType('resource').map(e => e.responseEnd || e.startTime));
            const tick = () => {
                const t = performance.now();
                if (t - last() >= quiet || t - start > limit) resolve(true); else setTimeout(tick, 50);
            };
            tick();
        })""",
        [quiet_ms, limit_ms],
    )


def timed(page, net, perform, expect_count: bool = True, input_types=("keydown", "pointerdown", "mousedown")) -> dict:
    """Arm the probe, perform the action, wait until the map has repainted; timings and callback bytes."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.evaluate("(o) => window.__bench.armAction(o)", {"expectCount": expect_count, "graceMs": 1000, "inputTypes": list(input_types)})
    mark = net.mark()
    perform()
    try:
        handle = page.wait_for_function("() => window.__bench.result()", polling="raf", timeout=ACTION_TIMEOUT_MS)
        result = handle.json_value()
    except PlaywrightTimeout:
        seen = page.evaluate("() => { const B = window.__bench; return `inputs ${B.inputs.length}, re-plots ${B.plots.length}, "
                             "count changes ${B.counts.length}, idles ${B.idles.length}`; }")
        result = {"total_ms": None, "count_ms": None, "plot_ms": None, "busy_ms": None, "count": None,
                  "flags": [f"no repaint within {ACTION_TIMEOUT_MS / 1000:.0f} s ({seen})"]}
    settle(page, net)
    calls = Network.callbacks(net.since(mark))
    result["callbacks"] = len(calls)
    result["response_bytes"] = sum(c["decoded"] for c in calls)
    result["response_transferred"] = sum(c["encoded"] or 0 for c in calls)
    result["largest_response"] = max((c["decoded"] for c in calls), default=0)
    result["bodies"] = [c["body"] for c in calls]
    return result


def reset_view(page, net=None) -> None:
    button = first_locator(page, "reset", required=False)
    if button is not None:
        button.click()
        settle(page, net)


def blur(page) -> None:
    page.evaluate("() => { if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur(); }")


def action_slider(page, net, reps: int) -> list[dict]:
    thumb = first_locator(page, "slider_thumb")
    samples = []
    for i in range(reps):
        thumb.focus()
        key = "ArrowLeft" if i % 2 == 0 else "ArrowRight"
        samples.append(timed(page, net, lambda: page.keyboard.press(key), input_types=("keydown",)))
    blur(page)
    return samples


def action_slider_window(page, net, reps: int, days: int = 30) -> list[dict]:
    """The slider step on the last `days` days (opened from a link), the state the naive app starts in."""
    import datetime as dt

    box = first_locator(page, "date_to")
    last = parse_day(box.input_value()) or parse_day(box.get_attribute("placeholder"))
    if last is None:
        raise MissingControl(f"cannot read the last day from {SELECTORS['date_to']} (value or placeholder)")
    query = f"?from={last - dt.timedelta(days=days - 1)}&to={last}"
    net.navigating()
    page.goto(page.url.split("?")[0] + query, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(DRAWN_JS, arg=[SELECTORS, COUNT_PATTERN], polling="raf", timeout=LOAD_TIMEOUT_MS)
    page.evaluate(PROBE_JS, SELECTORS)
    settle(page, net)
    return action_slider(page, net, reps)


def action_step_key(page, net, reps: int) -> list[dict]:
    first_locator(page, "play")  # the shortcut clicks the step buttons beside Play
    samples = []
    for i in range(reps):
        blur(page)
        key = "ArrowLeft" if i % 2 == 0 else "ArrowRight"
        samples.append(timed(page, net, lambda: page.keyboard.press(key), input_types=("keydown",)))
    return samples


def _busiest_type_index(page) -> int:
    labels = first_locator(page, "type_labels", required=False)
    if labels is None:
        return 0
    texts = page.locator(SELECTORS["type_labels"][0]).all_text_contents()
    counts = [int(m.group(1).replace(",", "")) if (m := re.search(r"\(([\d,]+)\)\s*$", t.strip())) else 0 for t in texts]
    return max(range(len(counts)), key=counts.__getitem__) if counts else 0


def action_type_toggle(page, net, reps: int) -> list[dict]:
    first_locator(page, "type_boxes")
    index = _busiest_type_index(page)
    box = page.locator(next(s for s in SELECTORS["type_boxes"] if page.locator(s).count())).nth(index)
    return [timed(page, net, lambda: box.click(), input_types=("pointerdown", "mousedown")) for _ in range(reps)]


def action_mode(page, net, reps: int) -> list[dict]:
    regions, points = first_locator(page, "mode_regions"), first_locator(page, "mode_points")
    samples = []
    for i in range(reps):
        target = regions if i % 2 == 0 else points
        samples.append(timed(page, net, lambda: target.click(), expect_count=False, input_types=("pointerdown", "mousedown")))
    return samples


def action_search(page, net, reps: int, word: str = SEARCH_WORD) -> list[dict]:
    box = first_locator(page, "search")
    samples = []
    for i in range(reps):
        box.fill(word if i % 2 == 0 else "")  # typed before the clock starts: the debounced box sends on Enter
        box.focus()
        samples.append(timed(page, net, lambda: page.keyboard.press("Enter"), input_types=("keydown",)))
    blur(page)
    return samples


SLIDER_30 = SLIDER_30_NAME
ACTIONS = [
    ("slider step", action_slider),
    ("← / → key", action_step_key),
    ("type toggle", action_type_toggle),
    ("map mode switch", action_mode),
    ("search text", action_search),
    (SLIDER_30, action_slider_window),
]
# The naive app starts on the last 30 days: its slider step is the one to compare with SLIDER_30.
NAIVE_ACTIONS = [(SLIDER_30, action_slider)]


def measure_playback(page, net, frames: int = PLAYBACK_FRAMES) -> dict:
    """Play at the fastest speed; frame times, achieved steps/s and whether it fell behind."""
    play = first_locator(page, "play")
    speeds = page.locator(SELECTORS["speeds"][0])
    interval_ms = 1000
    if speeds.count():
        values = [int(v) for v in speeds.evaluate_all("(els) => els.map(e => e.value)") if str(v).isdigit()]
        if values:
            interval_ms = min(values)
            speeds.nth(values.index(interval_ms)).click()
            settle(page, net)
    page.evaluate("() => window.__bench.armAction({expectCount: false, graceMs: 0, inputTypes: ['pointerdown']})")
    play.click()
    frames_js = ("() => { const B = window.__bench; const t0 = B.inputs.length ? B.inputs[0].t : Infinity;"
                 " return {t0, now: performance.now(), frames: B.frames.filter(f => f.t >= t0)}; }")
    deadline = time.time() + max(60, frames * interval_ms / 1000 * 6)
    while time.time() < deadline:
        data = page.evaluate(frames_js)
        got = data["frames"]
        playing = "pause" in (play.text_content() or "").lower()
        if len(got) >= frames:
            break
        if got and not playing and data["now"] - got[-1]["t"] > 2000:
            break  # playback stopped by itself (the end of the data)
        page.wait_for_timeout(100)
    data = page.evaluate(frames_js)
    if "pause" in (play.text_content() or "").lower():
        play.click()  # stop playback
    settle(page, net)
    shots = data["frames"][:frames]
    t0 = data["t0"] if data["t0"] is not None and shots else 0
    days = [_summary_day(f["summary"]) for f in shots]
    known = [d for d in days if d]
    distinct = len(dict.fromkeys(known))
    span = (max(known) - min(known)).days + 1 if known else 0
    gaps = [b["t"] - a["t"] for a, b in zip(shots, shots[1:])]
    achieved = (len(shots) - 1) / ((shots[-1]["t"] - shots[0]["t"]) / 1000) if len(shots) > 1 else 0.0
    intended = 1000 / interval_ms
    skipped = max(span - distinct, 0)
    return {
        "interval_ms": interval_ms, "frames": len(shots), "first_frame_ms": (shots[0]["t"] - t0) if shots else None,
        "achieved_per_s": achieved, "intended_per_s": intended, "median_gap_ms": statistics.median(gaps) if gaps else None,
        "max_gap_ms": max(gaps) if gaps else None, "days_rendered": distinct, "days_spanned": span, "days_skipped": skipped,
        "fell_behind": bool(shots) and (achieved < 0.9 * intended or skipped > 0),
    }


def _summary_day(text: str):
    import datetime as dt

    match = re.search(r"(\d{1,2} [A-Z][a-z]{2} \d{4})", text or "")
    if not match:
        return None
    try:
        return dt.datetime.strptime(match.group(1), "%d %b %Y").date()
    except ValueError:
        return None


def record_session(browser, url: str, reps: int = 2) -> list[dict]:
    """The callback POST bodies a user session sends: the page load, then each action `reps` times.

    [{"action": name, "bodies": [JSON text, ...]}, ...] in the order sent; the load test and the
    callback benchmark replay them.  Actions whose control is missing are left out."""
    context, page, net = open_page(browser, url)
    try:
        session = [{"action": "page load", "bodies": [e["body"] for e in Network.callbacks(net.since(0)) if e["body"]]}]
        for name, function in ACTIONS:
            try:
                reset_view(page, net)
                samples = function(page, net, reps)
            except MissingControl as error:
                print(f"  recording: {name} skipped ({error})", flush=True)
                continue
            session.append({"action": name, "bodies": [b for s in samples for b in s["bodies"] if b]})
        return session
    finally:
        context.close()


# ------------------------------------------------------------------ a server


def measure_server(browser, url: str, runs: int, actions: list | None, playback: bool, label: str, naive: bool = False) -> dict:
    out = {"label": label, "url": url, "load": [], "actions": {}, "skipped": {}}
    measure_load(browser, url)  # warm-up: server caches, OS file cache
    for _ in range(runs):
        out["load"].append(measure_load(browser, url))
    print(f"  {label}: page load " + ", ".join(f"{r['seconds']:.2f}" for r in out["load"]) + " s", flush=True)
    context, page, net = open_page(browser, url)
    try:
        for name, function in NAIVE_ACTIONS if naive else ACTIONS:
            if actions is not None and name not in actions:
                continue
            try:
                reset_view(page, net)
                samples = function(page, net, runs + 2)  # two warm-ups: one each way
                out["actions"][name] = samples[2:]
                flags = sorted({f for s in samples[2:] for f in s["flags"]})
                print(f"  {label}: {name} " + ", ".join("-" if s["total_ms"] is None else f"{s['total_ms'] / 1000:.2f}" for s in samples[2:]) + " s"
                      + (f" ({', '.join(flags)})" if flags else ""), flush=True)
            except MissingControl as error:
                out["skipped"][name] = str(error)
                print(f"  {label}: {name} SKIPPED: {error}", flush=True)
            except Exception as error:  # one broken action must not lose the others' figures
                out["skipped"][name] = f"failed: {error!r}"[:300]
                print(f"  {label}: {name} FAILED: {error!r}"[:400], flush=True)
        if playback:
            try:
                reset_view(page, net)
                out["playback"] = measure_playback(page, net)
                p = out["playback"]
                print(f"  {label}: playback {p['frames']} frames at {p['achieved_per_s']:.2f}/s (interval {p['interval_ms']} ms)", flush=True)
            except MissingControl as error:
                out["skipped"]["playback"] = str(error)
                print(f"  {label}: playback SKIPPED: {error}", flush=True)
    finally:
        context.close()
    return out


def median_s(samples: list[dict]) -> float | None:
    """Median of the samples that repainted (a timed-out sample is flagged in the report instead)."""
    done = [s["total_ms"] for s in samples if s["total_ms"] is not None]
    return statistics.median(done) / 1000 if done else None


# ------------------------------------------------------------------- report


def report(results: dict, rows: int) -> None:
    ours_small, ours_big, naive_big = results.get("bundled"), results.get("big"), results.get("naive_big")
    big_label = f"{rows:,}"

    def load_median(r):
        return statistics.median(x["seconds"] for x in r["load"]) if r and r["load"] else None

    def action_median(r, name):
        return median_s(r["actions"].get(name, [])) if r else None

    def cell(v):
        return "-" if v is None else f"{v:.2f}"

    print()
    print(f"End-to-end, input event → map repainted, seconds, median of {results['runs']} after warm-up; {results['machine']}")
    head = f"{'action':<24}{'bundled':>9}{big_label:>11}{'naive ' + big_label:>17}{'naive/ours':>12}   target (bundled / big)"
    print(head)
    print("-" * len(head))
    rows_out = [("page load → map drawn", load_median(ours_small), load_median(ours_big), load_median(naive_big))]
    rows_out += [(name, action_median(ours_small, name), action_median(ours_big, name), action_median(naive_big, name)) for name, _ in ACTIONS]
    for name, small, big, naive in rows_out:
        ratio = f"{naive / big:.1f}×" if naive and big else "-"
        target = TARGETS.get(name)
        verdict = ""
        if target:
            ok = [v is None or v <= t for v, t in zip((small, big), target)]
            verdict = f"≤ {target[0]:g} / ≤ {target[1]:g} s  " + ("ok" if all(ok) else "MISSED")
        print(f"{name:<24}{cell(small):>9}{cell(big):>11}{cell(naive):>17}{ratio:>12}   {verdict}")

    print()
    print("Bytes: page load (transferred / uncompressed, up to map drawn; all after a quiet second), per action the "
          "/_dash-update-component responses (uncompressed / transferred; largest single response)")
    for key, label in (("bundled", "bundled"), ("big", big_label), ("naive_big", "naive " + big_label)):
        r = results.get(key)
        if not r:
            continue
        if r["load"]:
            last = r["load"][-1]
            flag = "" if last["all"]["transferred"] <= PAGE_BYTES_TARGET else f"  (target ≤ {fmt_bytes(PAGE_BYTES_TARGET)} MISSED)"
            print(f"  {label:<16} page load: {fmt_bytes(last['at_drawn']['transferred'])} / {fmt_bytes(last['at_drawn']['uncompressed'])}"
                  f" in {last['at_drawn']['requests']} requests; all {fmt_bytes(last['all']['transferred'])} / "
                  f"{fmt_bytes(last['all']['uncompressed'])} in {last['all']['requests']}{flag}")
        for name, samples in r["actions"].items():
            if samples:
                s = samples[-1]
                s.setdefault("callbacks", 0)
                flags = sorted({f for x in samples for f in x["flags"]})
                print(f"  {label:<16} {name:<18} {fmt_bytes(s['response_bytes'])} / {fmt_bytes(s['response_transferred'])} in {s['callbacks']} callbacks"
                      f"; largest {fmt_bytes(s['largest_response'])}; count→{s['count']}" + (f"  [{', '.join(flags)}]" if flags else ""))
        for name, why in r["skipped"].items():
            print(f"  {label:<16} {name}: skipped ({why})")

    print()
    print("Where the time goes (median ms after the input event: count text changed / first re-plot / repainted;"
          " and the page's main thread busy in tasks > 50 ms during the wait)")
    for key, label in (("bundled", "bundled"), ("big", big_label), ("naive_big", "naive " + big_label)):
        r = results.get(key)
        for name, samples in (r or {}).get("actions", {}).items():
            if samples:
                med = lambda k: statistics.median(s[k] for s in samples if s.get(k) is not None) if any(s.get(k) is not None for s in samples) else None  # noqa: E731
                print(f"  {label:<16} {name:<18} {cell_ms(med('count_ms'))} / {cell_ms(med('plot_ms'))} / {cell_ms(med('total_ms'))};"
                      f" main thread busy {cell_ms(med('busy_ms'))}")

    for key, label in (("bundled", "bundled"), ("big", big_label)):
        p = (results.get(key) or {}).get("playback")
        if p:
            print()
            print(f"Playback, {label}: {p['frames']} frames at one per {p['interval_ms']} ms (intended {p['intended_per_s']:.1f}/s): "
                  f"achieved {p['achieved_per_s']:.2f}/s, median gap {cell_ms(p['median_gap_ms'])}, max gap {cell_ms(p['max_gap_ms'])}, "
                  f"first frame {cell_ms(p['first_frame_ms'])} after Play; days rendered {p['days_rendered']} of {p['days_spanned']} spanned"
                  f" → {'FELL BEHIND' if p['fell_behind'] else 'kept up'} (target: 4 steps/s without falling behind)")


def cell_ms(v):
    return "-" if v is None else f"{v:,.0f}"


# --------------------------------------------------------------------- main


def main() -> int:
    ensure_checkout()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic events for the big run (0: bundled data only)")
    parser.add_argument("--runs", type=int, default=5, help="timed repetitions of each measurement (median reported)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive app")
    parser.add_argument("--no-bundled", action="store_true", help="skip the bundled data")
    parser.add_argument("--no-playback", action="store_true")
    parser.add_argument("--actions", nargs="*", help="only these actions (names as printed)")
    parser.add_argument("--work-dir", type=Path, help="keep the synthetic CSV and the cache here (reused by later runs)")
    parser.add_argument("--json", type=Path, help="write every sample as JSON to this file")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    results = {"runs": args.runs, "rows": args.rows, "machine": machine_note()}
    with ExitStack() as stack:
        work = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-browser-")))
        work.mkdir(parents=True, exist_ok=True)
        cache, logs = work / "cache", work / "logs"
        cache.mkdir(exist_ok=True)
        logs.mkdir(exist_ok=True)
        print(f"bench_browser: {machine_note()}; work dir {work}", flush=True)
        playwright = stack.enter_context(sync_playwright())
        browser = launch_chromium(playwright)
        stack.callback(browser.close)

        runs = [] if args.no_bundled else [("bundled", dashboard_server, None, None)]
        if args.rows:
            csv = synthetic_csv(args.rows, work)
            runs.append(("big", dashboard_server, csv, None))
            if not args.no_naive:
                runs.append(("naive_big", naive_server, csv, None))
        for key, make, data, _ in runs:
            label = {"bundled": "bundled", "big": f"{args.rows:,}", "naive_big": f"naive {args.rows:,}"}[key]
            server = make(data, cache, logs) if make is dashboard_server else make(data, logs)
            with server:
                print(f"  {label}: server up in {server.start_seconds:.1f} s at {server.url}", flush=True)
                naive = key == "naive_big"
                results[key] = measure_server(browser, server.url + "/", args.runs, args.actions, not args.no_playback and not naive, label, naive)

    results["machine_end"] = machine_note()
    report(results, args.rows)
    print(f"\nmachine at start: {results['machine']}; at end: {results['machine_end']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, default=str))
        print(f"samples written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
