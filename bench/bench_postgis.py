"""Benchmark of the team store (PostGIS) beside the embedded in-memory store (a script, not a test).

    python -m bench.bench_postgis [--rows 1000000] [--reps 5] [--admin-url postgresql:///postgres] [--data-dir DIR]
    python -m bench.bench_postgis --url postgresql:///team_10m --no-memory   # an imported database, as it is

With N synthetic events (bench_import.synthetic_events, written as a CSV):

* load: `python -m dashboard import FILE --into URL` (read, validate, join,
  COPY, upsert, indexes, summaries) in a fresh process, beside the
  in-memory store's load of the same file (prepare_events without cache +
  InMemoryEventStore) in a fresh process.  Target at 1M: import <= 60 s;
* queries: what the main callback asks the store for one view
  (main_callback_questions: the page in points mode, plus the choropleth's
  two questions) for a handful of views.
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

--url times the queries on a database already imported (nothing imported,
nothing dropped; its row count is the database's); --no-memory leaves out
the in-memory store (which cannot hold 10M events on a small machine).
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
from bench.bench_postgis import main_callback_questions
for view in views:
    main_callback_questions(store, view)
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
        # A third of the events hold both: counted once each, not twice.
        ("two actors", {"actors": ("Military Forces of Russia (2000-)", "Military Forces of Ukraine (2019-)")}),
        ("actor + type + month", {"actors": ("Civilians (Ukraine)",), "types": ("Battles",),
                                  "date_from": month[0], "date_to": month[1]}),
        ('text "shelling"', {"text": "shelling"}),
        ('text "nowhere"', {"text": "nowhere"}),
    ]


QUESTIONS = ["count", "marks' coarse counts", "clusters", "date precisions", "day x type", "types", "sub-types",
             "records 500", "regions", "country-level"]


def main_callback_questions(store, view, spent: dict | None = None) -> None:
    """What one render asks the store (web/outputs.py, web/legend_outputs.py, render/): the page in
    points mode (render/clusters.compute_marks at zoom 5), and the choropleth's region and
    country-level counts, so every mode's questions are timed.  spent: seconds per question, added."""
    from dashboard.render.clusters import COARSE, DETAIL_CAP, DETAIL_COLUMNS, cell_deg_for_zoom
    from dashboard.web.panels import TABLE_FIELDS

    total = [0]

    def count():
        total[0] = store.count(view)

    asks = [
        count,
        lambda: (store.records(view, columns=DETAIL_COLUMNS) if total[0] <= DETAIL_CAP else store.coarse_counts(view)),
        lambda: store.clusters(view, cell_deg_for_zoom(5), precisions=tuple(p for p in store.precisions if p not in COARSE)),
        lambda: store.counts_by_date_precision(view),
        lambda: store.counts_by_day_and_type(view.replace(date_from=None, date_to=None)),
        lambda: store.counts_by_type(view.replace(types=None, sub_types=None)),
        lambda: store.counts_by_sub_type(view.replace(sub_types=None)),
        lambda: store.records(view, 500, TABLE_FIELDS),
        lambda: store.counts_by_region(view),
        lambda: store.country_level_count(view),
    ]
    for name, ask in zip(QUESTIONS, asks):
        start = time.perf_counter()
        ask()
        if spent is not None:
            spent.setdefault(name, []).append(time.perf_counter() - start)


def timed(store, view, reps: int, empty, spent: dict | None = None) -> float:
    times = []
    for _ in range(reps):
        empty()
        start = time.perf_counter()
        main_callback_questions(store, view, spent)
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


def import_fresh(csv: Path, admin_url: str) -> tuple[str, str, float]:
    """A new database with the CSV imported in a fresh process: (its name, its url, seconds)."""
    import psycopg

    name = f"bench_postgis_{secrets.token_hex(3)}"
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    print("importing into PostGIS (fresh process) ...", flush=True)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dashboard", "import", str(csv), "--into", url],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    print(done.stdout.strip(), done.stderr.strip(), sep="\n")
    if done.returncode != 0:
        drop(admin_url, name)
        raise SystemExit("import failed")
    return name, url, seconds


def drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--admin-url", default="postgresql:///postgres")
    parser.add_argument("--data-dir", type=Path, help="keep the synthetic CSV here (default: a temporary folder)")
    parser.add_argument("--url", help="time this database as it is (already imported) instead of importing into a new one")
    parser.add_argument("--no-memory", action="store_true", help="leave out the in-memory store")
    args = parser.parse_args()
    print(f"machine at start: {machine_note()}", flush=True)

    import psycopg

    from dashboard.store.postgis import PostgisStore
    from dashboard.view import ViewState

    work = Path(tempfile.mkdtemp(prefix="bench-postgis-"))
    name = None
    try:
        csv = None if args.url and args.no_memory else synthetic_csv(args.rows, args.data_dir or work)
        if args.url:
            url, import_s = args.url, None
        else:
            name, url, import_s = import_fresh(csv, args.admin_url)
        with psycopg.connect(url) as conn:
            size, events = conn.execute(
                "SELECT pg_size_pretty(pg_database_size(current_database())), (SELECT count(*) FROM events)").fetchone()

        raw_views = views_for(date(2023, 1, 1), date(2025, 9, 27))
        plain = [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in kw.items()} for _, kw in raw_views]
        views = [(label, ViewState(**kw)) for label, kw in raw_views]
        memory_worker = None
        if args.no_memory:
            rows = [{"view": label} for label, _ in views]
        else:
            print("loading the in-memory store (fresh process) ...", flush=True)
            memory_worker = run_worker(str(csv), "", plain)
            rows = time_in_memory(csv, views, args.reps)
        postgis_worker = run_worker("", url, plain)
        # Timed once the in-memory store is gone, as a PostGIS worker runs: without the events in its memory.
        gc.collect()
        postgis = PostgisStore.open(url)

        def empty_postgis():
            postgis._summaries.clear()

        for row, (_, view) in zip(rows, views):
            row["matching"] = postgis.count(view)
            row["spent"] = {}
            row["postgis_ms"] = timed(postgis, view, args.reps, empty_postgis, row["spent"])
            row["postgis_kept_ms"] = timed(postgis, view, args.reps, lambda: None)
        postgis.db.close()
        report(events, size, import_s, memory_worker, postgis_worker, rows, len(plain))
    finally:
        if name:
            drop(args.admin_url, name)
        shutil.rmtree(work)


def report(events, size, import_s, memory_worker, postgis_worker, rows, n_views) -> None:
    target_q = QUERY_TARGET_MS.get(events)
    target_i = IMPORT_TARGET_S.get(events)
    memory = memory_worker is not None
    print()
    print(f"rows: {events:,}   machine at the end: {machine_note()} (shared with other work while measured)")
    if import_s is not None:
        print(f"import (read + validate + join + COPY + indexes + summaries): {import_s:.1f} s"
              + (f"   target <= {target_i} s" if target_i else "") + f"   database size {size}")
    else:
        print(f"database as it was (not imported by this run), size {size}")
    if memory:
        print(f"in-memory store load (read + validate + join + build): {memory_worker['open_s']:.1f} s")
    print(f"PostGIS worker start: {postgis_worker['open_s']:.2f} s")
    in_memory = (lambda key: f"in-memory {memory_worker[key]:,.0f} MB   ") if memory else (lambda key: "")
    print(f"memory per worker, after opening:        {in_memory('rss_open_mb')}PostGIS {postgis_worker['rss_open_mb']:,.0f} MB")
    # (No peak figure: Linux carries ru_maxrss across fork + exec from this process, which holds the events.)
    print(f"memory per worker, after the {n_views} views: {in_memory('rss_mb')}PostGIS {postgis_worker['rss_mb']:,.0f} MB")
    print()
    print("main-callback questions per view (main_callback_questions), median ms"
          + (f"; target <= {target_q} ms" if target_q else ""))
    print(f"{'view':<26}{'matching':>10}{'in-memory':>11}{'PostGIS':>10}{'PostGIS, summary kept':>23}")
    for row in rows:
        mem = f"{row['memory_ms']:>11.0f}" if memory else f"{'-':>11}"
        print(f"{row['view']:<26}{row['matching']:>10,}{mem}{row['postgis_ms']:>10.0f}{row['postgis_kept_ms']:>23.0f}")
    mem = f"{statistics.median(r['memory_ms'] for r in rows):>11.0f}" if memory else f"{'-':>11}"
    print(f"{'median of the views':<26}{'':>10}{mem}"
          f"{statistics.median(r['postgis_ms'] for r in rows):>10.0f}{statistics.median(r['postgis_kept_ms'] for r in rows):>23.0f}")
    print()
    print("PostGIS (answer caches emptied) per question, median ms")
    print(f"{'view':<26}" + "".join(f"{q[:11]:>12}" for q in QUESTIONS))
    for row in rows:
        print(f"{row['view']:<26}" + "".join(f"{statistics.median(row['spent'][q]) * 1000:>12.0f}" for q in QUESTIONS))


if __name__ == "__main__":
    main()
