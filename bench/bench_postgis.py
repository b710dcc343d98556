"""Benchmark of the team store (PostGIS) beside the embedded in-memory store (a script, not a test).

    python -m bench.bench_postgis [--rows 1000000] [--reps 5] [--admin-url postgresql:///postgres] [--data-dir DIR]

With N synthetic events (bench_import.synthetic_events, written as a CSV):

* load: `python -m dashboard import FILE --into URL` (read, validate, join,
  COPY, upsert, indexes, summaries) in a fresh process, beside the
  in-memory store's load of the same file (prepare_events without cache +
  InMemoryEventStore) in a fresh process.  Target at 1M: import <= 60 s;
* queries: what the main callback asks for one view -- count,
  counts_by_type (types cleared), counts_by_day_and_type (dates cleared),
  points(3000), records(500), counts_by_region -- for a handful of views.
  Median of --reps runs, each with the stores' own answer caches emptied
  first (so every run asks the database), and again with the caches kept
  (the in-process per-day summary); beside it the in-memory store, also
  with its caches emptied.  (The per-day summary of ALL events, which each
  PostGIS worker reads when it opens and when the data changes, is not an
  answer cache and stays: views of dates and types only are counted from
  it.)  Target at 1M: median <= 100 ms;
* memory per worker: resident memory of a process that opened each store
  and answered every view once.

Prints a table and the machine's load average before and after; the
database is a new one, dropped at the end.  --data-dir keeps the synthetic
CSV there for the next run (written once per row count).
"""
from __future__ import annotations

if not __package__:  # run as a file: bench/ would shadow the checkout on sys.path
    raise SystemExit("Run from the repository root as a module: python -m bench.bench_postgis")

import argparse
import gc
import json
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from .common import machine_note, synthetic_csv

ROOT = Path(__file__).resolve().parents[1]

IMPORT_TARGET_S = {1_000_000: 60, 10_000_000: 600}
QUERY_TARGET_MS = {1_000_000: 100, 10_000_000: 250}

WORKER = r"""
import json, sys, time
sys.path.insert(0, {root!r})
import psutil
from dashboard.view import ViewState
from datetime import date
t = time.perf_counter()
if {url!r}:
    from dashboard.store.postgis import PostgisStore
    store = PostgisStore.open({url!r})
else:
    from dashboard.ingest.prepare import prepare_events
    from dashboard.store.memory import InMemoryEventStore
    prepared = prepare_events([{csv!r}], use_cache=False)
    store = InMemoryEventStore(prepared.events, prepared.custom_types)
    del prepared
opened = time.perf_counter() - t
rss_open = psutil.Process().memory_info().rss / 1e6
views = [ViewState(**{{k: (date.fromisoformat(x) if k.startswith("date_") else tuple(x) if isinstance(x, list) else x)
                      for k, x in v.items()}}) for v in json.loads({views!r})]
for view in views:
    store.count(view); store.points(view, 3000); store.records(view, 500); store.counts_by_region(view)
print(json.dumps({{"open_s": opened, "rss_open_mb": rss_open, "rss_mb": psutil.Process().memory_info().rss / 1e6}}))
"""


def views_for(first: date, last: date) -> list[tuple[str, dict]]:
    month = (date(2024, 6, 1), date(2024, 6, 30))
    return [
        ("all events", {}),
        ("one month", {"date_from": month[0], "date_to": month[1]}),
        ("one type", {"types": ("Battles",)}),
        ("one region (UA-14)", {"regions": ("UA-14",)}),
        ("region + type + month", {"regions": ("UA-14",), "types": ("Battles",), "date_from": month[0], "date_to": month[1]}),
        ("actor", {"actors": ("Civilians (Ukraine)",)}),
        ('text "shelling"', {"text": "shelling"}),
        ('text "nowhere"', {"text": "nowhere"}),
    ]


def main_callback_questions(store, view) -> None:
    store.count(view)
    store.counts_by_type(view.replace(types=None, sub_types=None))
    store.counts_by_day_and_type(view.replace(date_from=None, date_to=None))
    store.points(view, 3000)
    store.records(view, 500)
    store.counts_by_region(view)


def timed(store, view, reps: int, empty) -> float:
    times = []
    for _ in range(reps):
        empty()
        start = time.perf_counter()
        main_callback_questions(store, view)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def time_in_memory(csv, views, reps: int) -> list[dict]:
    """The in-memory store's figures per view; the store is gone when this returns."""
    from dashboard.ingest.prepare import prepare_events
    from dashboard.store.memory import InMemoryEventStore

    prepared = prepare_events([csv], use_cache=False)
    memory = InMemoryEventStore(prepared.events, prepared.custom_types)
    del prepared

    def empty_memory():
        memory._rows.clear()
        memory._text_masks.clear()

    return [{"view": label, "matching": memory.count(view), "memory_ms": timed(memory, view, reps, empty_memory)}
            for label, view in views]


def run_worker(csv: str, url: str, views: list[dict]) -> dict:
    code = WORKER.format(root=str(ROOT), url=url, csv=csv, views=json.dumps(views, default=str))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--admin-url", default="postgresql:///postgres")
    parser.add_argument("--data-dir", type=Path, help="keep the synthetic CSV here (default: a temporary folder)")
    args = parser.parse_args()
    print(f"machine at start: {machine_note()}", flush=True)

    import psycopg

    from dashboard.store.postgis import PostgisStore
    from dashboard.view import ViewState

    work = Path(tempfile.mkdtemp(prefix="bench-postgis-"))
    csv = synthetic_csv(args.rows, args.data_dir or work)
    name = f"bench_postgis_{secrets.token_hex(3)}"
    base = args.admin_url.rpartition("/")[0]
    url = f"{base}/{name}"
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        print("importing into PostGIS (fresh process) ...", flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "dashboard", "import", str(csv), "--into", url],
                              cwd=ROOT, capture_output=True, text=True, check=False)
        import_s = time.perf_counter() - start
        print(done.stdout.strip(), done.stderr.strip(), sep="\n")
        if done.returncode != 0:
            raise SystemExit("import failed")
        size = psycopg.connect(url).execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]

        print("loading the in-memory store (fresh process) ...", flush=True)
        raw_views = views_for(date(2023, 1, 1), date(2025, 9, 27))
        plain = [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in kw.items()} for _, kw in raw_views]
        memory_worker = run_worker(str(csv), "", plain)
        postgis_worker = run_worker("", url, plain)

        views = [(label, ViewState(**kw)) for label, kw in raw_views]
        rows = time_in_memory(csv, views, args.reps)
        # Timed once the in-memory store is gone, as a PostGIS worker runs: without the events in its memory.
        gc.collect()
        postgis = PostgisStore.open(url)

        def empty_postgis():
            postgis._summaries.clear()

        for row, (_, view) in zip(rows, views):
            row["postgis_ms"] = timed(postgis, view, args.reps, empty_postgis)
            row["postgis_kept_ms"] = timed(postgis, view, args.reps, lambda: None)
        target_q = QUERY_TARGET_MS.get(args.rows)
        target_i = IMPORT_TARGET_S.get(args.rows)
        print()
        print(f"rows: {args.rows:,}   machine at the end: {machine_note()} (shared with other work while measured)")
        print(f"import (read + validate + join + COPY + indexes + summaries): {import_s:.1f} s"
              + (f"   target <= {target_i} s" if target_i else "") + f"   database size {size}")
        print(f"in-memory store load (read + validate + join + build): {memory_worker['open_s']:.1f} s")
        print(f"memory per worker, after opening:        in-memory {memory_worker['rss_open_mb']:,.0f} MB   PostGIS {postgis_worker['rss_open_mb']:,.0f} MB")
        # (No peak figure: Linux carries ru_maxrss across fork + exec from this process, which holds the events.)
        print(f"memory per worker, after the {len(plain)} views: in-memory {memory_worker['rss_mb']:,.0f} MB   PostGIS {postgis_worker['rss_mb']:,.0f} MB")
        print()
        print("main-callback questions per view (count, types, day x type, points 3000, records 500, regions), median ms"
              + (f"; target <= {target_q} ms" if target_q else ""))
        print(f"{'view':<26}{'matching':>10}{'in-memory':>11}{'PostGIS':>10}{'PostGIS, summary kept':>23}")
        for row in rows:
            print(f"{row['view']:<26}{row['matching']:>10,}{row['memory_ms']:>11.0f}{row['postgis_ms']:>10.0f}{row['postgis_kept_ms']:>23.0f}")
        print(f"{'median of the views':<26}{'':>10}{statistics.median(r['memory_ms'] for r in rows):>11.0f}"
              f"{statistics.median(r['postgis_ms'] for r in rows):>10.0f}{statistics.median(r['postgis_kept_ms'] for r in rows):>23.0f}")
        postgis.db.close()
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
