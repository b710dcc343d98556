"""Benchmark: import 1,000,000 synthetic events (parse, validate, join, cache).

    cd <repo> && python -m bench.bench_import [--rows 1000000]

Run from the repository root as a module, so that the `dashboard` measured
is this checkout's (bench/common.py); the phases' subprocesses get this
checkout on PYTHONPATH.

Targets on the 2-core reference machine: cold import under 6 s, cached
reload under 1.5 s, peak memory under 2 GB.  Each phase runs in a fresh
process so its peak resident memory is its own.  Beside it, measured in the
same run, the naive baseline: a row-by-row point-in-polygon loop over the
regions (on a sample, extrapolated to all rows).
"""
from __future__ import annotations

if not __package__:  # run as a file: bench/ would shadow the checkout on sys.path
    raise SystemExit("Run from the repository root as a module: python -m bench.bench_import")

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.schema import ACLED_TAXONOMY, NATIVE_COLUMNS

from .common import ROOT, ensure_checkout, subprocess_env


def synthetic_events(rows: int, seed: int = 7) -> pd.DataFrame:
    """Events at random points inside Ukraine and Russia west of 50°E, over three years."""
    import shapely

    from dashboard.boundaries import load_admin1

    rng = np.random.default_rng(seed)
    admin1 = load_admin1()
    area = shapely.union_all(admin1[admin1["country_code"].isin(["UA", "RU"])].geometry.values)
    area = shapely.intersection(area, shapely.box(22, 44, 50, 60))
    shapely.prepare(area)
    lon, lat = np.empty(0), np.empty(0)
    while len(lon) < rows:
        x, y = rng.uniform(22, 50, rows), rng.uniform(44, 60, rows)
        inside = shapely.contains_xy(area, x, y)
        lon, lat = np.concatenate([lon, x[inside]]), np.concatenate([lat, y[inside]])
    pairs = [(t, s) for t, subs in ACLED_TAXONOMY.items() for s in subs]
    choice = rng.integers(0, len(pairs), rows)
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 1000, rows), unit="D")
    actors = np.array(["Military Forces of Russia (2000-)", "Military Forces of Ukraine (2019-)", "Civilians (Ukraine)", ""])
    frame = pd.DataFrame(
        {
            "event_id": [f"SYN{i:07d}" for i in range(rows)],
            "event_date": days.strftime("%Y-%m-%d"),
            "date_precision": "day",
            "event_type": [pairs[i][0] for i in choice],
            "sub_event_type": [pairs[i][1] for i in choice],
            "actor1": actors[rng.integers(0, 3, rows)],
            "actor2": actors[rng.integers(0, 4, rows)],
            "place": "Synthetic place",
            "admin1": "",
            "country": "",
            "latitude": np.round(lat[:rows], 5),
            "longitude": np.round(lon[:rows], 5),
            "geo_precision": np.array(["town", "near", "region"])[rng.integers(0, 3, rows)],
            "fatalities": rng.integers(0, 5, rows),
            "summary": "Synthetic event for the benchmark, with a sentence of typical length about shelling near a town.",
            "source_name": "bench",
            "source_url": "",
            "report_date": days.strftime("%Y-%m-%d"),
        }
    )
    return frame[NATIVE_COLUMNS]


PHASE = r"""
import json, resource, sys, time
t = time.perf_counter()
from dashboard.ingest.prepare import prepare_events
prepared = prepare_events([{path!r}], cache_dir={cache!r})
elapsed = time.perf_counter() - t
report = prepared.reports[0]
print(json.dumps({{"seconds": elapsed, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "from_cache": prepared.from_cache, "read": report.rows_read, "loaded": report.rows_loaded, "rejected": report.rows_rejected}}))
"""


def run_phase(path: Path, cache: Path) -> dict:
    code = PHASE.format(path=str(path), cache=str(cache))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=subprocess_env())
    return json.loads(out.stdout.strip().splitlines()[-1])


def naive_join_seconds(frame: pd.DataFrame, sample: int = 20_000) -> float:
    """Row by row: for each event, test every region polygon until one contains it."""
    from shapely.geometry import Point

    from dashboard.boundaries import load_admin1

    regions = list(zip(load_admin1()["admin1_code"], load_admin1().geometry))
    rows = frame.sample(min(sample, len(frame)), random_state=1)
    start = time.perf_counter()
    for lon, lat in zip(rows["longitude"], rows["latitude"]):
        point = Point(lon, lat)
        for code, polygon in regions:
            if polygon.contains(point):
                break
    return (time.perf_counter() - start) * len(frame) / len(rows)


def main():
    ensure_checkout()
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frame = synthetic_events(args.rows)
        path = tmp / "synthetic.csv"
        frame.to_csv(path, index=False)
        print(f"{args.rows:,} synthetic events, {path.stat().st_size / 1e6:.0f} MB CSV")
        cold = run_phase(path, tmp / "cache")
        warm = run_phase(path, tmp / "cache")
        naive = naive_join_seconds(frame)
    assert not cold["from_cache"] and warm["from_cache"], (cold, warm)
    assert cold["read"] == cold["loaded"] + cold["rejected"] == args.rows
    print(f"{'phase':<44}{'seconds':>9}{'peak MB':>9}  target")
    print(f"{'parse+validate+join+cache (cold)':<44}{cold['seconds']:>9.2f}{cold['peak_mb']:>9.0f}  < 6 s, < 2048 MB")
    print(f"{'cached reload':<44}{warm['seconds']:>9.2f}{warm['peak_mb']:>9.0f}  < 1.5 s")
    print(f"{'naive baseline: row-by-row point-in-polygon':<44}{naive:>9.1f}{'':>9}  (join only, extrapolated from 20,000 rows)")
    print(f"rows read {cold['read']:,} = loaded {cold['loaded']:,} + rejected {cold['rejected']:,}")


if __name__ == "__main__":
    main()
