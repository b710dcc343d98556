"""Benchmark: map snapshots, one from a cold start and many in one run.

    cd <repo> && python -m bench.bench_export [--views 20] [--naive 5] [--preset slide]

Run from the repository root as a module; its subprocesses get this
checkout on PYTHONPATH, so the `dashboard` measured is this one's
(bench/common.py says why).

Measured in the same run on this machine, on the bundled events:
- cold start: one `python -m dashboard export` process (import, load the
  cached events, start Chromium, render and write one image);
- one run: `--views-file` with 20 views, one process and one browser; the
  time per image after the first is measured image by image in a fresh
  process that does what the CLI does (build the figure, render, write);
- beside them, the naive way: one process per image (the mean of 5), and
  kaleido's own calc_fig (Plotly.toImage) on the same views in one browser,
  which the renderer replaced (it waits 500 ms per map and draws off-screen).

Target: under 1 s per image after the first.

    cd <repo> && python -m bench.bench_export --page [--concurrent 20] [--server dev|gunicorn] [--baseline DIR]

Page exports, on `python -m dashboard serve` from this tree: N exports
clicked at once, driven over HTTP as the page drives them (click, then the
poll every second), with a map update (the main render callback) timed
every second meanwhile.  Reported: the time until the last file arrived,
each export's time, the most Chromium browsers alive at once and their
memory (PSS of every Chromium process, sampled every 0.5 s), map-update
latency, failures, and what is left running 10 s after SIGTERM.  With
--baseline DIR (a tree of the code before the render service, e.g.
`git archive 91e7dfe | tar -x -C DIR`) the same is measured there, beside.
"""
from __future__ import annotations

if not __package__:  # run as a file: bench/ would shadow the checkout on sys.path
    raise SystemExit("Run from the repository root as a module: python -m bench.bench_export")

import argparse
import base64
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import signal
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from .common import ROOT, ensure_checkout, free_port, subprocess_env

TARGET_PER_IMAGE_S = 1.0

# Image by image, in a fresh process, as export_images does it.
BATCH = r"""
import json, sys, time
start = time.perf_counter()
from dashboard.store.open import open_dataset as load_dashboard_data
from dashboard.export.checks import image_size
from dashboard.export.figure import build_export_figure, export_view
from dashboard.export.renderer import Renderer
from dashboard.view import view_from_query
data = load_dashboard_data()
loaded = time.perf_counter()
width, height = image_size({preset!r})
seconds = []
with Renderer() as renderer:
    browser = time.perf_counter()
    for index, query in enumerate({queries!r}):
        t = time.perf_counter()
        view, _ = export_view(view_from_query(query)[0], data.store)
        figure = build_export_figure(view, data, width=width, height=height)
        image = renderer.render(figure, "png", width, height)
        open({out!r} + f"/batch-{{index}}.png", "wb").write(image)
        seconds.append(time.perf_counter() - t)

# Baseline in the same browser setup: kaleido's own calc_fig (Plotly.toImage),
# with every file inside each figure as it needs them.  Kaleido's page cannot
# answer the basemap's glyph requests, so the baseline draws no labels (less
# work than the renderer does: the comparison favours the baseline).
import asyncio, kaleido
from dashboard.basemap import figure_urls, offline_files
from dashboard.export.chromium import browser_class, find_chromium
def inlined(figure):
    figure = figure.to_plotly_json()
    files = {{url: json.loads(path.read_text()) for url, path in offline_files(figure_urls(figure)).items() if url.endswith(".geojson")}}
    mapping = figure["layout"]["map"]
    style = mapping.get("style")
    if isinstance(style, dict):
        for source in style.get("sources", {{}}).values():
            if isinstance(source.get("data"), str):
                source["data"] = files.get(source["data"], source["data"])
        style.pop("glyphs", None)
        style["layers"] = [layer for layer in style.get("layers", []) if layer.get("type") != "symbol"]
    for layer in mapping.get("layers", []) or []:
        if isinstance(layer.get("source"), str):
            layer["source"] = files.get(layer["source"], layer["source"])
    for trace in figure["data"]:
        if isinstance(trace.get("geojson"), str):
            trace["geojson"] = files.get(trace["geojson"], trace["geojson"])
        if trace.get("type") == "scattermap" and "text" in str(trace.get("mode", "")):
            trace["mode"] = "markers"
    return figure
async def to_image(queries):
    spent = []
    async with kaleido.Kaleido(path=find_chromium(), mathjax=False, browser_cls=browser_class()) as browser:
        for query in queries:
            t = time.perf_counter()
            view, _ = export_view(view_from_query(query)[0], data.store)
            figure = inlined(build_export_figure(view, data, width=width, height=height))
            await browser.calc_fig(figure, opts={{"format": "png", "width": width, "height": height}})
            spent.append(time.perf_counter() - t)
    return spent
to_image_seconds = asyncio.run(to_image({queries!r}[:{to_image}]))
print(json.dumps({{"import_load": loaded - start, "browser": browser - loaded, "images": seconds, "to_image": to_image_seconds}}))
"""


def sample_queries(count: int) -> list[str]:
    """Views a briefing might hold: each mode, each type, different weeks and regions."""
    from dashboard.view import ViewState, view_to_query

    types = [None, ("Battles",), ("Explosions/Remote violence",), ("Strategic developments",), ("Battles", "Explosions/Remote violence")]
    day = dt.date.fromisoformat
    ranges = [(None, None), (day("2025-01-16"), day("2025-01-21")), (day("2025-01-11"), day("2025-01-19")), (day("2025-01-20"), day("2025-01-20"))]
    modes = ["points", "choropleth", "density"]
    queries = []
    for index in range(count):
        start, end = ranges[index % len(ranges)]
        view = ViewState(
            date_from=start,
            date_to=end,
            types=types[index % len(types)],
            mode=modes[index % len(modes)],
            regions=("UA-14",) if index % 7 == 6 else (),
        )
        queries.append(view_to_query(view))
    return queries


def timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    ensure_checkout()
    parser = argparse.ArgumentParser()
    parser.add_argument("--views", type=int, default=20)
    parser.add_argument("--naive", type=int, default=5)
    parser.add_argument("--preset", default="slide")
    parser.add_argument("--page", action="store_true", help="page exports on a running server instead of the command line")
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--size", default="hd", help="the page's size choice for --page (slide, hd, a4, square)")
    parser.add_argument("--baseline", type=Path, help="a tree of the code before the render service, measured beside (--page)")
    parser.add_argument("--server", choices=list(SERVERS), default="dev", help="the server for --page")
    args = parser.parse_args()
    if args.page:
        return page_main(args)
    queries = sample_queries(args.views)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = subprocess_env(DASHBOARD_CACHE_DIR=str(tmp / "cache"))
        export = [sys.executable, "-m", "dashboard", "export", "--preset", args.preset]
        timed(export + ["--out", str(tmp / "warm-up.png")], env)  # builds the events cache once, as a first run does

        cold = timed(export + ["--view", queries[0], "--out", str(tmp / "cold.png")], env)
        views_file = tmp / "views.json"
        views_file.write_text(json.dumps([{"name": f"view {i + 1}", "query": q} for i, q in enumerate(queries)]))
        one_run = timed(export + ["--views-file", str(views_file), "--out", str(tmp / "run.png")], env)
        naive = [timed(export + ["--view", q, "--out", str(tmp / f"naive-{i}.png")], env) for i, q in enumerate(queries[: args.naive])]
        code = BATCH.format(preset=args.preset, queries=queries, out=str(tmp), to_image=args.naive + 1)
        batch = json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.splitlines()[-1])

    after_first = batch["images"][1:]
    per_image = statistics.median(after_first)
    naive_mean = statistics.mean(naive)
    rows = [
        ("cold start: one image, new process", cold, "import + load + browser + render"),
        (f"{args.views} views in one run (CLI), total", one_run, f"{one_run / args.views:.2f} s per image overall"),
        ("  of which per image after the first", (one_run - cold) / (args.views - 1), "(run - cold) / (views - 1)"),
        ("one run, image by image: import + load", batch["import_load"], ""),
        ("  browser start", batch["browser"], ""),
        ("  first image", batch["images"][0], ""),
        ("  per image after the first (median)", per_image, f"min {min(after_first):.2f}, max {max(after_first):.2f}"),
        (f"naive: one process per image (mean of {args.naive})", naive_mean, f"min {min(naive):.2f}, max {max(naive):.2f}"),
        ("kaleido's Plotly.toImage, one browser, after the first", statistics.median(batch["to_image"][1:]), "median; files inside each figure, no labels"),
    ]
    width = max(len(name) for name, _, _ in rows) + 2
    print(f"map snapshots, preset {args.preset}, {os.cpu_count()} CPUs, software WebGL (SwiftShader)")
    print(f"{'measure':<{width}}{'seconds':>9}  note")
    for name, seconds, note in rows:
        print(f"{name:<{width}}{seconds:>9.2f}  {note}")
    verdict = "met" if per_image < TARGET_PER_IMAGE_S else "NOT met on this machine"
    print(f"one run vs naive, per image after the first: {naive_mean / per_image:.1f}x faster")
    print(f"target under {TARGET_PER_IMAGE_S:.0f} s per image after the first: {verdict} ({per_image:.2f} s)")


# ------------------------------------------------------------- page exports


def http_json(url: str, body: dict | None = None, timeout: float = 900) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read())


class Page:
    """The page's callbacks over HTTP, for the code before the render service and after."""

    def __init__(self, url: str):
        self.url = url
        dependencies = http_json(url + "/_dash-dependencies")
        self.export = next(d for d in dependencies if any(i["id"] == "export-button" for i in d["inputs"]))
        # The map update: the page's main callback, as on a view change (a URL change in the code after
        # the store-backed page; the view store's change before).
        self.render = next((d for d in dependencies if "map.figure" in d["output"] and any(i["id"] == "url" for i in d["inputs"])), None)
        self.render_input = "url.search"
        if self.render is None:
            self.render = next(d for d in dependencies if any(i["id"] == "view" and i["property"] == "data" for i in d["inputs"]))
            self.render_input = "view.data"

    def call(self, dependency: dict, changed: str, values: dict) -> dict:
        fields = lambda items: [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")} for i in items]  # noqa: E731
        outputs = [dict(zip(("id", "property"), part.split("."))) for part in dependency["output"].strip(".").split("...")]
        body = {"output": dependency["output"], "outputs": outputs, "inputs": fields(dependency["inputs"]), "state": fields(dependency.get("state", [])), "changedPropIds": [changed]}
        return http_json(self.url + "/_dash-update-component", body).get("response", {})

    def map_update(self, query: str) -> float:
        started = time.perf_counter()
        value = "?" + query if self.render_input == "url.search" else query
        self.call(self.render, self.render_input, {self.render_input: value})
        return time.perf_counter() - started

    def export_file(self, query: str, size: str) -> tuple[float, str]:
        """(seconds, "" or the page's message when it failed)."""
        started = time.perf_counter()
        values = {"view.data": query, "export-format.value": "png", "export-size.value": size, "export-button.n_clicks": 1}
        answer = self.call(self.export, "export-button.n_clicks", values)
        tick = 0
        while "export-download" not in answer:
            job = answer.get("export-job", {}).get("data")
            if job is None:  # the code before the service answers in the click; so does a failure
                return time.perf_counter() - started, str(answer.get("export-message", {}).get("children"))
            time.sleep(1)
            tick += 1
            values.update({"export-job.data": job, "export-poll.n_intervals": tick})
            answer = self.call(self.export, "export-poll.n_intervals", values)
        content = base64.b64decode(answer["export-download"]["data"]["content"])
        return time.perf_counter() - started, "" if content[:4] == b"\x89PNG" else "not a PNG"


def chromium_family(pid: int):
    import psutil

    try:
        tree = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for process in tree:
        try:
            if Path(process.exe()).name in ("chromium", "chrome_crashpad_handler"):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def sample(pid: int, stop: threading.Event, peaks: dict) -> None:
    """The most Chromium browsers (main processes) alive at once, and the most memory (PSS) they held."""
    import psutil

    while not stop.is_set():
        browsers, pss = 0, 0
        for process in chromium_family(pid):
            try:
                browsers += Path(process.exe()).name == "chromium" and not any(a.startswith("--type=") for a in process.cmdline())
                pss += process.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        peaks["browsers"] = max(peaks.get("browsers", 0), browsers)
        peaks["pss"] = max(peaks.get("pss", 0), pss)
        time.sleep(0.5)


SERVERS = {
    "dev": ["-m", "dashboard", "serve", "--port", "{port}"],
    "gunicorn": ["-m", "gunicorn", "--workers", "4", "--bind", "127.0.0.1:{port}", "dashboard.wsgi:server"],
}


def page_run(tree: Path, concurrent: int, size: str, tmp: Path, kind: str = "dev") -> dict:
    """N page exports at once on a server of `tree`, with map updates timed meanwhile."""
    import psutil

    port = free_port()
    env = {**os.environ, "DASHBOARD_CACHE_DIR": str(tmp / "cache"), "PYTHONPATH": str(tree)}  # the tree measured, not this checkout
    log = open(tmp / "server.log", "w")
    command = [sys.executable, *(part.replace("{port}", str(port)) for part in SERVERS[kind])]
    server = subprocess.Popen(command, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url + "/", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        page = Page(url)
        idle = [page.map_update(f"type=Battles&mode={mode}") for mode in ("points", "choropleth", "points")]
        queries = sample_queries(concurrent)
        results: list = [None] * concurrent
        peaks, stop = {}, threading.Event()
        threading.Thread(target=sample, args=(server.pid, stop, peaks), daemon=True).start()

        def one(index):
            try:
                results[index] = page.export_file(queries[index], size)
            except Exception as error:  # noqa: BLE001 -- an HTTP 500 or a timeout is a result here
                results[index] = (float("nan"), repr(error)[:120])

        started = time.perf_counter()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(concurrent)]
        for thread in threads:
            thread.start()
        latencies = []
        time.sleep(1)
        while any(thread.is_alive() for thread in threads):
            day = 11 + len(latencies) % 10
            try:
                latencies.append(page.map_update(f"from=2025-01-{day:02d}&mode={('points', 'choropleth', 'density')[len(latencies) % 3]}"))
            except OSError as error:
                latencies.append(float("nan"))
                print(f"map update failed: {error}", file=sys.stderr)
            time.sleep(1)
        for thread in threads:
            thread.join()
        total = time.perf_counter() - started
        stop.set()
    finally:
        family = [server, *chromium_family(server.pid)]
        if "stop" in locals() and not stop.is_set():
            stop.set()
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        time.sleep(10)
        left = [p for p in (psutil.Process(p.pid) if isinstance(p, subprocess.Popen) else p for p in family[1:]) if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        for process in left:
            process.kill()
        log.close()
    seconds = [r[0] for r in results if not r[1]]
    return {
        "total": total, "seconds": seconds, "failures": [r[1] for r in results if r[1]], "idle": idle,
        "latencies": latencies, "browsers": peaks.get("browsers", 0), "pss_mb": peaks.get("pss", 0) / 2**20, "left": len(left),
    }


def page_main(args) -> None:
    trees = [("render service (this tree)", ROOT)] + ([("before: one Chromium per click", args.baseline.resolve())] if args.baseline else [])
    runs = []
    for name, tree in trees:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"measuring {name}: {args.concurrent} exports at once ...", file=sys.stderr, flush=True)
            runs.append((name, page_run(tree, args.concurrent, args.size, Path(tmp), args.server)))
    median = lambda values: statistics.median(values) if values else float("nan")  # noqa: E731
    rows = [
        ("time until the last file arrived (s)", lambda r: f"{r['total']:.1f}"),
        ("one export, median / slowest (s)", lambda r: f"{median(r['seconds']):.1f} / {max(r['seconds'], default=float('nan')):.1f}"),
        ("exports failed", lambda r: f"{len(r['failures'])}" + (f" ({r['failures'][0]})" if r["failures"] else "")),
        ("most Chromium browsers at once", lambda r: f"{r['browsers']}"),
        ("most Chromium memory at once (PSS, MB)", lambda r: f"{r['pss_mb']:,.0f}"),
        ("map update, idle server, median (s)", lambda r: f"{median(r['idle']):.2f}"),
        ("map update during the exports, median / max (s)", lambda r: f"{median(r['latencies']):.2f} / {max(r['latencies'], default=float('nan')):.2f} (n={len(r['latencies'])})"),
        ("processes left 10 s after SIGTERM", lambda r: f"{r['left']}"),
    ]
    server = {"dev": "development server", "gunicorn": "gunicorn, 4 sync workers"}[args.server]
    print(f"page exports: {args.concurrent} at once, size {args.size}, {server}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    width = max(len(label) for label, _ in rows) + 2
    print(f"{'':<{width}}" + "".join(f"{name:<36}" for name, _ in runs))
    for label, cell in rows:
        print(f"{label:<{width}}" + "".join(f"{cell(run):<36}" for _, run in runs))


if __name__ == "__main__":
    main()
