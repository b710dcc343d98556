"""Benchmark of the dashboard's main filter callback and of page load (a script, not a test).

    cd <repo> && python -m bench.bench_dashboard [--rows 1000000] [--reps 15] [--no-browser] [--profile]

Run from the repository root as a module, so that the `dashboard` measured
is this checkout's (bench/common.py says why).

With 1,000,000 synthetic events (bench_import.synthetic_events) it measures:

* the main filter callback (`render_view`: map, timeline, counts, options,
  table, all its outputs together) as the server runs it: a POST to
  /_dash-update-component with the payload the Dash renderer sends, through
  Flask's test client, so JSON serialisation is included.  For each filter
  state: median and p95 wall time, and the response size.  Targets: median
  under 100 ms and response under 1.5 MB for every state;
* beside it, in the same run, the naive baseline: `px.scatter_map` of all the
  filtered rows, serialised with `fig.to_json()`;
* page load to drawn map in headless Chromium (fresh browser each run, so a
  first visit; the server's start is excluded): with the bundled data
  (target under 3 s) and with the 1,000,000 events (target under 6 s).

The data is prepared with a temporary DASHBOARD_CACHE_DIR: the in-process
build is a cold start, and the browser's 1M server reuses that cache.
"""
from __future__ import annotations

if not __package__:  # run as a file: bench/ would shadow the checkout on sys.path
    raise SystemExit("Run from the repository root as a module: python -m bench.bench_dashboard")

import argparse
import gzip
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

import numpy as np

from dashboard.view import ViewState, view_to_query

from .bench_import import synthetic_events
from .common import ROOT, ensure_checkout, subprocess_env

MEDIAN_TARGET_MS = 100
RESPONSE_TARGET_BYTES = 1_500_000
LOAD_TARGET_BUNDLED_S = 3.0
LOAD_TARGET_BIG_S = 6.0
NAIVE_REPEAT_BELOW_S = 2.0  # a naive call slower than this is measured once
CHROME_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1600,1000",
]
COUNT_PATTERN = r"^[\d,]+ of [\d,]+ events$"


# ------------------------------------------------------------ filter states


def filter_states(store) -> list[tuple[str, ViewState]]:
    """The views measured, as (label, view); chosen from the data so each means what it says."""
    from dashboard.render.style import POINT_CAP

    bounds = store.bounds
    month = (date(2024, 6, 1), date(2024, 6, 30))
    week = (date(2024, 6, 1), date(2024, 6, 7))
    if not (bounds.first_day <= month[0] and month[1] <= bounds.last_day):  # other --rows seeds keep 2023-2025
        month = (bounds.first_day, min(bounds.last_day, date.fromordinal(bounds.first_day.toordinal() + 29)))
        week = (month[0], date.fromordinal(month[0].toordinal() + 6))
    type_counts = store.counts_by_type(ViewState())
    top_type = max(type_counts, key=type_counts.get)
    regions = store.counts_by_region(ViewState())
    top_region = str(regions.sort_values("count", ascending=False)["admin1_code"].iloc[0])
    narrow = ViewState(date_from=month[0], date_to=month[1], regions=(top_region,), types=(top_type,))
    if store.count(narrow) >= POINT_CAP:
        narrow = narrow.replace(date_to=week[1])
    return [
        ("all events (points)", ViewState()),
        (f"one month {month[0]:%b %Y}", ViewState(date_from=month[0], date_to=month[1])),
        (f"one type: {top_type}", ViewState(types=(top_type,))),
        ("one type + 7 days", ViewState(types=(top_type,), date_from=week[0], date_to=week[1])),
        (f"one region: {top_region}", ViewState(regions=(top_region,))),
        ('text "shelling"', ViewState(text="shelling")),
        ("all, choropleth", ViewState(mode="choropleth")),
        ("all, density", ViewState(mode="density")),
        ("narrow: region+type+month", narrow),
        ("all, presentation", ViewState(present=True)),
    ]


# ------------------------------------------------------ server-side timing


class CallbackClient:
    """POSTs the renderer's payload for the main filter callback to the app's Flask server.

    The main callback is the one whose outputs include the map figure and the table.  It is
    either fed the view by another callback (input `view.data`) or is the page's one callback
    (input `url.search`, which opens a view from a link: the first draw, everything whole)."""

    def __init__(self, app):
        self.client = app.server.test_client()
        output = next(k for k in app.callback_map if "map.figure" in k and "table.rowData" in k)
        callback = app.callback_map[output]
        self.output = output
        self.outputs = [dict(zip(("id", "property"), part.rsplit(".", 1))) for part in output[2:-2].split("...")]
        self.inputs = [dict(i) for i in callback["inputs"]]
        self.state = [dict(s) for s in callback["state"]]
        keys = [f"{i['id']}.{i['property']}" for i in self.inputs]
        self.trigger = "view.data" if "view.data" in keys else "url.search"
        assert self.trigger in keys, keys

    def payload(self, query: str) -> bytes:
        values = {self.trigger: query if self.trigger == "view.data" else ("?" + query if query else "")}
        return json.dumps(
            {
                "output": self.output,
                "outputs": self.outputs,
                "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in self.inputs],
                "state": [{**s, "value": None} for s in self.state],
                "changedPropIds": [self.trigger],
            }
        ).encode()

    def post(self, body: bytes) -> tuple[float, bytes]:
        start = time.perf_counter()
        response = self.client.post("/_dash-update-component", data=body, content_type="application/json")
        data = response.get_data()
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"callback answered {response.status_code}: {data[:500]!r}")
        return elapsed, data


def measure_callback(client: CallbackClient, query: str, matched: int, reps: int, warmups: int = 2) -> dict:
    body = client.payload(query)
    for _ in range(warmups):
        client.post(body)
    times = []
    for _ in range(reps):
        elapsed, data = client.post(body)
        times.append(elapsed)
    response = json.loads(data)["response"]
    figure = response["map"]["figure"]
    shown = sum(_array_length(t.get("lat")) for t in figure["data"] if t.get("type") == "scattermap" and t.get("lat") != [None])
    sizes = {component: len(json.dumps(props, separators=(",", ":"))) for component, props in response.items()}
    notes = [a.get("text", "") for a in figure["layout"].get("annotations", [])]
    return {
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": float(np.percentile(times, 95)) * 1000,
        "min_ms": min(times) * 1000,
        "bytes": len(data),
        "gzip_bytes": len(gzip.compress(data, 6)),
        "count": response["count"]["children"],
        "trace_types": sorted({t.get("type") for t in figure["data"]}),
        "shown_points": shown,
        # A capped map must say so: a note naming both the shown and the matching counts.
        "cap_note": any(f"{shown:,}" in n and f"{matched:,}" in n for n in notes),
        "table_rows": len(response["table"]["rowData"]),
        "output_bytes": sizes,
    }


def _array_length(value) -> int:
    """Length of a figure array: a JSON list, or Plotly's base64 typed array {"dtype", "bdata"}."""
    if isinstance(value, dict) and "bdata" in value:
        import base64

        return len(base64.b64decode(value["bdata"])) // np.dtype(value["dtype"]).itemsize
    return len(value or [])


# ----------------------------------------------------------- naive baseline


def naive_figure_json(store, view) -> tuple[float, int]:
    import plotly.express as px

    start = time.perf_counter()
    frame = store.records(view)
    figure = px.scatter_map(
        frame,
        lat="latitude",
        lon="longitude",
        color="event_type",
        hover_data=["event_date", "sub_event_type", "place", "admin1_name", "summary", "geo_precision"],
        map_style="white-bg",
    )
    text = figure.to_json()
    return time.perf_counter() - start, len(text.encode())


def measure_naive(store, view) -> dict:
    first, size = naive_figure_json(store, view)
    times = [first]
    if first < NAIVE_REPEAT_BELOW_S:
        times += [naive_figure_json(store, view)[0] for _ in range(2)]
    return {"seconds": statistics.median(times), "bytes": size, "runs": len(times)}


# ------------------------------------------------------------ page load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args: list[str], env: dict, log_path: Path, timeout: float = 300) -> tuple[subprocess.Popen, str, float]:
    """`python -m dashboard --port P ...` in a subprocess; returns once it serves the page."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    start = time.perf_counter()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "serve", "--port", str(port), *args], cwd=ROOT, env=subprocess_env(**env), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}; see {log_path}:\n{log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return process, url, time.perf_counter() - start
            except OSError:
                pass
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"server did not answer within {timeout} s")
            time.sleep(0.2)
    except BaseException:
        stop_server(process)
        raise


def stop_server(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


# True once the #count text is set and the map's MapLibre instance has the
# event traces as layers and has finished loading (style, boundary sources).
DRAWN_JS = r"""
const count = document.getElementById('count');
const canvas = document.querySelector('#map .maplibregl-canvas');
const gd = document.querySelector('#map .js-plotly-plot');
if (!count || !canvas || !gd || !gd._fullLayout || !gd._fullLayout.map) return null;
if (!new RegExp(arguments[0]).test(count.textContent.trim())) return null;
const subplot = gd._fullLayout.map._subplot;
if (!subplot || !subplot.map) return null;
const map = subplot.map;
const style = map.getStyle();
const traces = ((style && style.layers) || []).filter(l => l.id.startsWith('plotly-trace-layer-'));
if (!traces.length || !map.loaded()) return null;
const nav = performance.getEntriesByType('navigation')[0];
const calls = performance.getEntriesByType('resource').filter(e => e.name.includes('_dash-update-component'));
return {count: count.textContent.trim(), traceLayers: traces.length, drawn_ms: Math.round(performance.now()),
        dom_ready_ms: Math.round(nav.domContentLoadedEventEnd),
        callbacks_ms: calls.map(e => [Math.round(e.startTime), Math.round(e.responseEnd), Math.round(e.encodedBodySize / 1000)])};
"""


def page_load_seconds(url: str, timeout: float = 90) -> tuple[float, dict]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get("about:blank")  # browser started and idle before the clock starts
        start = time.perf_counter()
        driver.get(url)
        state = WebDriverWait(driver, timeout, poll_frequency=0.02).until(lambda d: d.execute_script(DRAWN_JS, COUNT_PATTERN))
        elapsed = time.perf_counter() - start
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"] if hasattr(driver, "get_log") else []
        if errors:
            state = {**state, "console_errors": [e["message"][:200] for e in errors[:3]]}
        return elapsed, state
    finally:
        driver.quit()


def measure_page_load(label: str, server_args: list[str], env: dict, log_path: Path, runs: int) -> dict:
    process = None
    try:
        process, url, started = start_server(server_args, env, log_path)
        times, state = [], {}
        for _ in range(runs):
            elapsed, state = page_load_seconds(url)
            times.append(elapsed)
        return {"label": label, "times": times, "median": statistics.median(times), "server_start": started, "state": state}
    finally:
        stop_server(process)


# ------------------------------------------------------------------ main


def fmt_bytes(n: int) -> str:
    return f"{n / 1e3:,.0f} KB" if n < 10e6 else f"{n / 1e6:,.0f} MB"


def profile_render(app, view: ViewState, top: int = 25) -> None:
    import cProfile
    import pstats

    from dashboard.web.outputs import render_outputs

    data = app.dashboard_data
    render_outputs(data, view)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        render_outputs(data, view)
    profiler.disable()
    print(f"\ncProfile of render_outputs (5 calls), view {view_to_query(view) or '(all events)'}:")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def same_rows_key(view: ViewState) -> ViewState:
    """Views that differ only in how they are drawn match the same rows."""
    return view.replace(mode="points", present=False, theme="light", center_lat=None, center_lon=None, zoom=None)


def main():
    ensure_checkout()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=15, help="timed callback requests per state (after 2 warm-ups)")
    parser.add_argument("--page-runs", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true", help="skip the headless Chromium page loads")
    parser.add_argument("--no-naive", action="store_true", help="skip the px.scatter_map baseline")
    parser.add_argument("--profile", action="store_true", help="cProfile render_outputs for the all-events view")
    args = parser.parse_args()

    results, loads = [], []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        tmp = Path(tmp)
        os.environ["DASHBOARD_CACHE_DIR"] = str(tmp / "cache")  # fresh cache: a cold start, nothing left in ~/.cache
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}

        start = time.perf_counter()
        frame = synthetic_events(args.rows)
        csv_path = tmp / "synthetic.csv"
        frame.to_csv(csv_path, index=False)
        del frame
        print(f"{args.rows:,} synthetic events, {csv_path.stat().st_size / 1e6:.0f} MB CSV, written in {time.perf_counter() - start:.1f} s")

        from dashboard.store.open import open_dataset
        from dashboard.web.app import create_app

        start = time.perf_counter()
        app = create_app(open_dataset([str(csv_path)]))
        store = app.dashboard_data.store
        print(f"create_app (cold cache: parse, validate, join, cache, store, layout): {time.perf_counter() - start:.1f} s; {store.total:,} events in the store")

        client = CallbackClient(app)
        states = filter_states(store)
        for label, view in states:
            query = view_to_query(view)
            matched = store.count(view)
            key = same_rows_key(view)
            cb = measure_callback(client, query, matched, args.reps)
            naive = None if args.no_naive else next((r["naive"] for r in results if r["key"] == key), None)
            same_rows = naive is not None
            if naive is None and not args.no_naive:
                naive = measure_naive(store, view)
            results.append({"label": label, "query": query, "matched": matched, "key": key, "cb": cb, "naive": naive, "same_rows": same_rows})
            print(f"  measured {label!r}: {cb['median_ms']:.0f} ms, {fmt_bytes(cb['bytes'])}" + (f"; naive {naive['seconds']:.1f} s" if naive else ""), flush=True)

        if args.profile:
            profile_render(app, ViewState())

        if not args.no_browser:
            loads.append(measure_page_load("bundled data", [], env, tmp / "server-bundled.log", args.page_runs))
            print(f"  measured page load, bundled: {loads[-1]['times']}", flush=True)
            loads.append(measure_page_load(f"{store.total:,} events", ["--data", str(csv_path)], env, tmp / "server-big.log", args.page_runs))
            print(f"  measured page load, {store.total:,} events: {loads[-1]['times']}", flush=True)

    # ---------------------------------------------------------------- report
    print()
    print(f"{os.cpu_count()} CPUs; load average (1 min) {load_before[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end: other work on the machine inflates the timings")
    print(f"Main filter callback (render_view, all outputs), {store.total:,} events, {args.reps} requests per state after 2 warm-ups")
    print(f"targets: median < {MEDIAN_TARGET_MS} ms, response < {RESPONSE_TARGET_BYTES / 1e6:g} MB")
    head = f"{'state':<30}{'matched':>10}{'on map':>14}{'median ms':>11}{'p95 ms':>8}{'min ms':>8}{'response':>11}{'gzip':>9}  {'ok':<4}{'naive s':>9}{'naive size':>12}"
    print(head)
    print("-" * len(head))
    all_ok = True
    for r in results:
        cb = r["cb"]
        ok = cb["median_ms"] < MEDIAN_TARGET_MS and cb["bytes"] < RESPONSE_TARGET_BYTES
        if "scattermap" in cb["trace_types"] and r["matched"] > cb["shown_points"]:
            ok = ok and cb["cap_note"]  # capped points must say so on the map
        all_ok &= ok
        if "scattermap" in cb["trace_types"]:
            shown = f"{cb['shown_points']:,} pts" + ("*" if cb["cap_note"] else "")
        else:
            shown = "/".join(t.replace("map", "") for t in cb["trace_types"])
        naive = r["naive"]
        naive_s = "" if naive is None else f"{naive['seconds']:.2f}" + ("=" if r["same_rows"] else ("" if naive["runs"] > 1 else "¹"))
        naive_b = "" if naive is None else fmt_bytes(naive["bytes"])
        print(
            f"{r['label'][:29]:<30}{r['matched']:>10,}{shown:>14}{cb['median_ms']:>11.0f}{cb['p95_ms']:>8.0f}{cb['min_ms']:>8.0f}{fmt_bytes(cb['bytes']):>11}"
            f"{fmt_bytes(cb['gzip_bytes']):>9}  {'yes' if ok else 'NO':<4}{naive_s:>9}{naive_b:>12}"
        )
    print("* points capped, with the note on the map saying so.  naive: px.scatter_map of every filtered row + fig.to_json()")
    print(f"  (median of 3; ¹ measured once, slower than {NAIVE_REPEAT_BELOW_S:g} s; = same rows as an earlier state, its measurement reused)")
    print("response by output, KB (map / timeline / table rowData / everything else):")
    for r in results:
        sizes = dict(r["cb"]["output_bytes"])
        main = [sizes.pop(k, 0) for k in ("map", "timeline", "table")]
        print(f"  {r['label'][:29]:<30}" + " / ".join(f"{n / 1e3:,.0f}" for n in [*main, sum(sizes.values())]))
    print("queries: " + "; ".join(f"{r['label']}: ?{r['query']}" for r in results if r["query"]))

    if loads:
        print()
        print("Page load to drawn map, headless Chromium, fresh browser per run (server start excluded)")
        print(f"{'data':<22}{'runs s':<24}{'median s':>9}  {'target':<8}{'ok':<4}server start s")
        for load, target in zip(loads, (LOAD_TARGET_BUNDLED_S, LOAD_TARGET_BIG_S)):
            ok = load["median"] < target
            all_ok &= ok
            runs = ", ".join(f"{t:.2f}" for t in load["times"])
            print(f"{load['label']:<22}{runs:<24}{load['median']:>9.2f}  < {target:g} s   {'yes' if ok else 'NO':<4}{load['server_start']:.1f}")
            print(f"{'':<22}drawn: {load['state']}")

    misses = [r["label"] for r in results if not (r["cb"]["median_ms"] < MEDIAN_TARGET_MS and r["cb"]["bytes"] < RESPONSE_TARGET_BYTES)]
    misses += [l["label"] + " page load" for l, t in zip(loads, (LOAD_TARGET_BUNDLED_S, LOAD_TARGET_BIG_S)) if l["median"] >= t]
    worst = max(results, key=lambda r: r["cb"]["median_ms"])
    biggest = max(results, key=lambda r: r["cb"]["bytes"])
    print()
    print(
        f"SUMMARY: {'all targets met' if all_ok else 'targets missed: ' + ', '.join(misses)}; "
        f"slowest callback {worst['cb']['median_ms']:.0f} ms ({worst['label']}), largest response {fmt_bytes(biggest['cb']['bytes'])} ({biggest['label']})"
        + ("; page load " + ", ".join(f"{load['label']} {load['median']:.2f} s" for load in loads) if loads else "")
    )
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
