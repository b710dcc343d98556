"""Benchmark of the territory layer (a script, not a test; prints its figures).

600 daily synthetic snapshots of ~75 KB each (a wobbly polygon of a few
thousand vertices that drifts a little every day, in the DeepStateMap
format) are written to a temporary folder, then timed:

* loading and indexing all 600;
* "the slider moves to a new date with the layer drawn":
  ``display_geojson(new_day, tol)`` cold (first call for that snapshot) and
  cached (the same dates again), beside a naive baseline that re-reads the
  day's file with geopandas and converts it to GeoJSON every time;
* classify_points on 1,000,000 points spread over the 600 days.

Run from the repository root as a module, so that the `dashboard` measured
is this checkout's (bench/common.py says why):

    cd <repo> && python -m bench.bench_territory
"""
from __future__ import annotations

if not __package__:  # run as a file: bench/ would shadow the checkout on sys.path
    raise SystemExit("Run from the repository root as a module: python -m bench.bench_territory")

import json
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard.territory import classify_points, load_snapshot_folder

from .common import ensure_checkout

DAYS = 600
VERTICES = 2900  # ~75 KB of GeoJSON at 6 decimals
FIRST_DAY = pd.Timestamp("2024-07-01")
TOLERANCE_DEG = 0.002  # ~200 m: a regional zoom
SLIDER_MOVES = 60
POINTS = 1_000_000


def wobbly_ring(day: int, rng_phase: np.ndarray) -> np.ndarray:
    """A star-shaped (hence simple) outline around 36°E 48°N whose lobes
    drift slowly with the day."""
    theta = np.linspace(0, 2 * np.pi, VERTICES, endpoint=False)
    radius = (
        2.0
        + 0.30 * np.sin(5 * theta + 0.010 * day)
        + 0.08 * np.sin(23 * theta + 0.030 * day)
        + 0.01 * np.sin(211 * theta + rng_phase)
    )
    ring = np.column_stack([36 + 1.5 * radius * np.cos(theta), 48 + radius * np.sin(theta)])
    return np.vstack([ring, ring[:1]])


def write_snapshot(folder: Path, day: int, ring: np.ndarray) -> Path:
    coordinates = ", ".join(f"[ {x:.6f}, {y:.6f} ]" for x, y in ring)
    date = (FIRST_DAY + pd.Timedelta(days=day)).strftime("%Y%m%d")
    path = folder / f"deepstatemap_data_{date}.geojson"
    path.write_text(
        '{\n"type": "FeatureCollection",\n'
        f'"name": "deepstatemap_data_{date}",\n'
        '"crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:OGC:1.3:CRS84" } },\n'
        '"features": [\n{ "type": "Feature", "properties": { }, "geometry": '
        '{ "type": "MultiPolygon", "coordinates": [ [ [ ' + coordinates + " ] ] ] } }\n]\n}\n"
    )
    return path


def milliseconds(samples: list[float]) -> str:
    values = np.array(samples) * 1000
    return f"{np.median(values):9.3f} {np.percentile(values, 95):9.3f}"


def naive_display(path: Path) -> str:
    """What an app without the layer index would do on every slider move."""
    return gpd.read_file(path).to_json()


def main() -> None:
    ensure_checkout()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        phase = rng.uniform(0, 2 * np.pi)
        files = [write_snapshot(folder, day, wobbly_ring(day, phase)) for day in range(DAYS)]
        sizes = [f.stat().st_size for f in files]
        print(f"{DAYS} snapshots written, {np.mean(sizes) / 1000:.1f} KB each on average")

        start = time.perf_counter()
        layer = load_snapshot_folder(folder)
        load_seconds = time.perf_counter() - start
        print(f"load and index all {len(layer.dates)}: {load_seconds:.2f} s ({len(layer.issues)} issues)\n")

        days = FIRST_DAY + pd.to_timedelta(rng.choice(DAYS, SLIDER_MOVES, replace=False), unit="D")
        cold, warm, naive = [], [], []
        for day in days:
            start = time.perf_counter()
            layer.display_geojson(day, TOLERANCE_DEG)
            cold.append(time.perf_counter() - start)
        for day in days:
            start = time.perf_counter()
            layer.display_geojson(day, TOLERANCE_DEG)
            warm.append(time.perf_counter() - start)
        for day in days:
            start = time.perf_counter()
            naive_payload = naive_display(folder / f"deepstatemap_data_{day:%Y%m%d}.geojson")
            naive.append(time.perf_counter() - start)
        shown = json.dumps(layer.display_geojson(days[-1], TOLERANCE_DEG)[1])

        print(f"slider moves to a new date ({SLIDER_MOVES} dates, tolerance {TOLERANCE_DEG}°), ms:")
        print(f"{'':34}{'median':>9} {'p95':>9}")
        print(f"{'display_geojson, first call':34}{milliseconds(cold)}")
        print(f"{'display_geojson, cached':34}{milliseconds(warm)}")
        print(f"{'naive: geopandas read + to_json':34}{milliseconds(naive)}")
        print(f"payload: {len(shown) / 1000:.1f} KB simplified vs {len(naive_payload) / 1000:.1f} KB naive\n")

        point_days = FIRST_DAY + pd.to_timedelta(rng.integers(-10, DAYS + 10, POINTS), unit="D")
        lons, lats = rng.uniform(32, 40, POINTS), rng.uniform(45, 51, POINTS)
        for label in ("first run", "second run"):
            start = time.perf_counter()
            result = classify_points(layer, point_days.to_numpy(), lons, lats)
            seconds = time.perf_counter() - start
            counts = {str(k): int(v) for k, v in zip(*np.unique(result, return_counts=True))}
            print(f"classify_points, {POINTS:,} points over {DAYS} days ({label}): {seconds:.2f} s  {counts}")


if __name__ == "__main__":
    main()
