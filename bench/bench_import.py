"""Benchmark: import 1,000,000 synthetic events (read, check, join, cache) beside a plain pandas read.

    python -m bench.bench_import [--rows 1000000] [--before /path/to/older/checkout]

Issue 14's target: a cold import within 2.5x the CPU time of a plain
`pandas.read_csv` of the same file.  94% of the points lie in Ukraine and
western Russia, 3% in other countries (they get their own admin-1 regions)
and 3% at sea, outside every region (the nearest-region search must stay
bounded for them).  Each phase runs in a fresh process, so its CPU seconds
and peak resident memory are its own.  `--before` runs the same phases on
another checkout of the project (e.g. main before a change), in the same run.
"""
from __future__ import annotations

if not __package__:  # run as a file: bench/ would shadow the checkout on sys.path
    raise SystemExit("Run from the repository root as a module: python -m bench.bench_import")

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

from dashboard.schema import ACLED_TAXONOMY, NATIVE_COLUMNS  # noqa: E402

# Open water (lon, lat boxes) and places in other countries.
SEAS = [(31.0, 42.5, 36.0, 43.5), (35.5, 45.6, 37.0, 46.3), (50.0, 41.0, 52.0, 43.0), (-40.0, 30.0, -30.0, 40.0)]
ELSEWHERE = [(36.817, -1.286), (90.41, 23.81), (69.17, 34.53), (27.567, 53.9), (-47.9, -15.8), (13.4, 52.52), (2.35, 48.85), (100.5, 13.75)]


def synthetic_events(rows: int, seed: int = 7, first_id: int = 0) -> pd.DataFrame:
    import shapely

    from dashboard.boundaries import load_admin1

    rng = np.random.default_rng(seed)
    admin1 = load_admin1(["UA", "RU"])
    area = shapely.intersection(shapely.union_all(admin1.geometry.values), shapely.box(22, 44, 50, 60))
    shapely.prepare(area)
    home = int(rows * 0.94)
    lon, lat = np.empty(0), np.empty(0)
    while len(lon) < home:
        x, y = rng.uniform(22, 50, rows), rng.uniform(44, 60, rows)
        inside = shapely.contains_xy(area, x, y)
        lon, lat = np.concatenate([lon, x[inside]]), np.concatenate([lat, y[inside]])
    lon, lat = lon[:home], lat[:home]
    sea = (rows - home) // 2
    boxes = np.array(SEAS)[rng.integers(0, len(SEAS), sea)]
    sea_lon, sea_lat = rng.uniform(boxes[:, 0], boxes[:, 2]), rng.uniform(boxes[:, 1], boxes[:, 3])
    places = np.array(ELSEWHERE)[rng.integers(0, len(ELSEWHERE), rows - home - sea)]
    lon = np.concatenate([lon, sea_lon, places[:, 0] + rng.normal(0, 0.02, len(places))])
    lat = np.concatenate([lat, sea_lat, places[:, 1] + rng.normal(0, 0.02, len(places))])
    shuffle = rng.permutation(rows)
    lon, lat = lon[shuffle], lat[shuffle]
    pairs = [(t, s) for t, subs in ACLED_TAXONOMY.items() for s in subs]
    choice = rng.integers(0, len(pairs), rows)
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 1000, rows), unit="D")
    actors = np.array(["Military Forces of Russia (2000-)", "Military Forces of Ukraine (2019-)", "Civilians (Ukraine)", ""])
    frame = pd.DataFrame(
        {
            "event_id": [f"SYN{i:07d}" for i in range(first_id, first_id + rows)],
            "event_date": days.strftime("%Y-%m-%d"),
            "date_precision": "day",
            "event_type": [pairs[i][0] for i in choice],
            "sub_event_type": [pairs[i][1] for i in choice],
            "actor1": actors[rng.integers(0, 3, rows)],
            "actor2": actors[rng.integers(0, 4, rows)],
            "place": "Synthetic place",
            "admin1": "",
            "country": "",
            "latitude": np.round(lat, 5),
            "longitude": np.round(lon, 5),
            "geo_precision": np.array(["town", "near", "region"])[rng.integers(0, 3, rows)],
            "fatalities": rng.integers(0, 5, rows),
            "summary": "Synthetic event for the benchmark, with a sentence of typical length about shelling near a town.",
            "source_name": "bench",
            "source_url": "",
            "report_date": days.strftime("%Y-%m-%d"),
        }
    )
    return frame[NATIVE_COLUMNS]


MEASURE = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
wall, start = time.perf_counter(), cpu()
{body}
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({{"wall": time.perf_counter() - wall, "cpu": cpu() - start, "peak_mb": peak / 1024, **extra}}))
"""

BODIES = {
    "pandas": "import pandas as pd\nframe = pd.read_csv({path!r})\nextra = {{'rows': len(frame)}}",
    "import": (
        "from dashboard.ingest.prepare import prepare_events\n"
        "prepared = prepare_events([{path!r}], cache_dir={cache!r})\n"
        "r = prepared.reports[0]\n"
        "extra = {{'from_cache': prepared.from_cache, 'read': r.rows_read, 'loaded': r.rows_loaded, 'rejected': r.rows_rejected,"
        " 'outside': int((prepared.events['join_note'] == 'outside every region').sum()),"
        " 'countries': int(prepared.events['country_code'].nunique())}}"
    ),
    "gazetteer world": (
        "from dashboard.boundaries import load_admin1\nfrom dashboard.ingest.gazetteer import Gazetteer\n"
        "g = Gazetteer.from_admin1(load_admin1())\ng.geocode('Kazan', '', 'Tatarstan')\nextra = {{}}"
    ),
    "gazetteer on demand": (
        "from dashboard.ingest.gazetteer import Gazetteer\n"
        "g = Gazetteer.on_demand()\ng.geocode('Kazan', '', 'Tatarstan')\nextra = {{}}"
    ),
}


def measure(body: str, root: Path, **values) -> dict:
    code = MEASURE.format(root=str(root), body=BODIES[body].format(**values))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    if out.returncode:
        raise SystemExit(f"{body} failed in {root}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--before", type=Path, help="another checkout to measure the same way (e.g. main)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "synthetic.csv"
        synthetic_events(args.rows).to_csv(path, index=False)
        print(f"{args.rows:,} synthetic events, {path.stat().st_size / 1e6:.0f} MB CSV (94% UA/RU, 3% other countries, 3% at sea)")
        print("CPU is shared with other work on this machine: compare figures of one run, not across runs.")
        rows = [("plain pandas.read_csv (baseline)", measure("pandas", ROOT, path=str(path)))]
        cold = measure("import", ROOT, path=str(path), cache=str(tmp / "cache"))
        warm = measure("import", ROOT, path=str(path), cache=str(tmp / "cache"))
        assert not cold["from_cache"] and warm["from_cache"], (cold, warm)
        assert cold["read"] == cold["loaded"] + cold["rejected"] == args.rows, cold
        rows += [("import, cold (read+check+join+cache)", cold), ("import, cached", warm)]
        if args.before:
            before = measure("import", args.before, path=str(path), cache=str(tmp / "cache-before"))
            rows.append((f"import, cold, {args.before.name} (before)", before))
        rows += [(f"gazetteer: {name}", measure(name, ROOT)) for name in ("gazetteer world", "gazetteer on demand")]
    base = rows[0][1]["cpu"]
    print(f"{'phase':<46}{'CPU s':>8}{'wall s':>8}{'peak MB':>9}{'x pandas':>10}")
    for name, m in rows:
        print(f"{name:<46}{m['cpu']:>8.2f}{m['wall']:>8.2f}{m['peak_mb']:>9.0f}{m['cpu'] / base:>10.2f}")
    print(f"cold import / pandas CPU: {cold['cpu'] / base:.2f}x (target: within 2.5x)")
    print(f"rows read {cold['read']:,} = loaded {cold['loaded']:,} + rejected {cold['rejected']:,}; "
          f"{cold['outside']:,} outside every region; {cold['countries']} countries")


if __name__ == "__main__":
    main()
