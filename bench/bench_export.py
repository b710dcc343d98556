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
"""
from __future__ import annotations

if not __package__:  # run as a file: bench/ would shadow the checkout on sys.path
    raise SystemExit("Run from the repository root as a module: python -m bench.bench_export")

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, ensure_checkout, subprocess_env

TARGET_PER_IMAGE_S = 1.0

# Image by image, in a fresh process, as export_images does it.
BATCH = r"""
import json, sys, time
start = time.perf_counter()
from dashboard.store.open import open_dataset as load_dashboard_data
from dashboard.export.export import Renderer, build_export_figure, export_view, image_size
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
# with the boundaries inside each figure as it needs them.
import asyncio, kaleido
from dashboard.boundaries import BOUNDARY_PATHS, BOUNDARY_URLS
from dashboard.export.export import find_chromium
files = {{BOUNDARY_URLS[name]: json.loads(path.read_text()) for name, path in BOUNDARY_PATHS.items()}}
def inlined(figure):
    figure = figure.to_plotly_json()
    for layer in figure["layout"]["map"]["layers"]:
        layer["source"] = files.get(layer["source"], layer["source"]) if isinstance(layer["source"], str) else layer["source"]
    for trace in figure["data"]:
        trace["geojson"] = files.get(trace["geojson"], trace["geojson"]) if isinstance(trace.get("geojson"), str) else trace.get("geojson")
    return figure
async def to_image(queries):
    spent = []
    async with kaleido.Kaleido(path=find_chromium(), mathjax=False) as browser:
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
    args = parser.parse_args()
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
        ("kaleido's Plotly.toImage, one browser, after the first", statistics.median(batch["to_image"][1:]), "median; boundaries inside each figure"),
    ]
    width = max(len(name) for name, _, _ in rows) + 2
    print(f"map snapshots, preset {args.preset}, {os.cpu_count()} CPUs, software WebGL (SwiftShader)")
    print(f"{'measure':<{width}}{'seconds':>9}  note")
    for name, seconds, note in rows:
        print(f"{name:<{width}}{seconds:>9.2f}  {note}")
    verdict = "met" if per_image < TARGET_PER_IMAGE_S else "NOT met on this machine"
    print(f"one run vs naive, per image after the first: {naive_mean / per_image:.1f}x faster")
    print(f"target under {TARGET_PER_IMAGE_S:.0f} s per image after the first: {verdict} ({per_image:.2f} s)")


if __name__ == "__main__":
    main()
