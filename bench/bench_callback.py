"""Server CPU of the main callback at 1M events, from real recorded requests, beside the naive app.

    cd <repo> && python -m bench.bench_callback [--rows 1000000] [--reps 15] [--session FILE] [--profile] [--no-naive]

Run from the repository root as a module (bench/common.py says why).

The dashboard is built in this process (`open_dataset` + `create_app`, with
a temporary DASHBOARD_CACHE_DIR) on `--rows` synthetic events.  Real
callback bodies are recorded once: the app is served on 127.0.0.1 from a
thread and Playwright (Debian's Chromium) loads the page and performs the
user actions (bench_browser.record_session); `--session FILE` replays a
session recorded earlier instead (bench_load writes them).  Then, through
Flask's test client in this process (JSON in and out included, no network),
each action's bodies are sent in order, the render body taking the view
from the controls callback's answer as the browser does:

* "as recorded": the recorded bodies themselves, `--reps` times after two
  warm-ups (the same few views again: the store's cache of recent views
  is warm, as when a user steps back and forth; the page's answer cache
  is off, or these would cost nothing but a look-up);
* "varied": `--reps` new random views (bench/replay.py: a 1-, 7- or 30-day
  window, sometimes fewer types, a search word, another mode), each one
  not asked before.

Per callback: wall time and `time.process_time` (CPU of this process) per
call, median and p95, and the response size raw and gzip-compressed
(level 6).  Target (issue 14): the main (render) callback ≤ 60 ms CPU
median.  `--profile` prints the top of a cProfile of the render callback
over the varied calls.  Beside it, the naive app (bench/naive_app.py) built
in the same process on the same file, its recorded slider body replayed the
same two ways.  On a shared machine CPU time is less inflated than wall
time, but caches and memory bandwidth are shared: re-run on a quiet one.
"""
from __future__ import annotations

if not __package__:  # run as a file: bench/ would shadow the checkout on sys.path
    raise SystemExit("Run from the repository root as a module: python -m bench.bench_callback")

import argparse
import gzip
import json
import os
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

from .common import ensure_checkout, fmt_bytes, free_port, launch_chromium, machine_note, synthetic_csv
from .replay import Varier, chain, is_render, load_session, outputs_of, replay_action, save_session

CPU_TARGET_MS = 60


@contextmanager
def served(flask_app):
    """The app on 127.0.0.1 from a thread, for the browser that records the session."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = make_server("127.0.0.1", free_port(), flask_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(10)


def record_in_process(dash_app) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from .bench_browser import record_session

    with served(dash_app.server) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            return record_session(browser, url)
        finally:
            browser.close()


class TimedClient:
    """Flask's test client; each POST timed in wall and process CPU time."""

    def __init__(self, dash_app):
        self.client = dash_app.server.test_client()
        self.cpu: list[float] = []

    def post(self, body: bytes):
        cpu = time.process_time()
        start = time.perf_counter()
        response = self.client.post("/_dash-update-component", data=body, content_type="application/json")
        data = response.get_data()
        elapsed = time.perf_counter() - start
        self.cpu.append(time.process_time() - cpu)
        return response.status_code, data, elapsed


def run_calls(dash_app, session: list[dict], reps: int, varied: bool, seed: int = 3) -> dict:
    """{action: {"render": [samples], "other": [samples]}}; a sample is (wall s, CPU s, raw bytes, gzip bytes)."""
    client = TimedClient(dash_app)
    varier = Varier(session, seed=seed)
    out = {}
    for action in session:
        if not action["bodies"]:
            continue
        groups = {"render": [], "other": []}
        for rep in range(reps + (0 if varied else 2)):
            client.cpu.clear()
            records = replay_action(action["bodies"], client.post, varier if varied else None, keep_bodies=True)
            if not varied and rep < 2:
                continue  # warm-ups
            for record, cpu in zip(records, client.cpu):
                if record["status"] not in (200, 204):
                    raise RuntimeError(f"{action['action']}: {record['error']}")
                data = record["response"] or b""
                groups["render" if record["render"] else "other"].append(
                    (record["seconds"], cpu, len(data), len(gzip.compress(data, 6)) if data else 0)
                )
        out[action["action"]] = groups
    return out


def profile_renders(dash_app, session: list[dict], calls: int = 10, top: int = 25) -> None:
    import cProfile
    import pstats

    client = TimedClient(dash_app)
    varier = Varier(session, seed=11)
    actions = [a for a in session if any(is_render(json.loads(b)) for b in a["bodies"])]
    profiler = cProfile.Profile()
    for i in range(calls):
        action = actions[i % len(actions)]
        view = varier.view()
        # The controls callback unprofiled; then the render callback under the profiler.
        bodies = action["bodies"]
        records = replay_action(bodies[:-1], client.post, varier, view=view, keep_bodies=True) if len(bodies) > 1 else []
        outputs = {}
        for record in records:
            if not record["render"] and record["response"]:
                outputs.update(outputs_of(record["response"]))
        body = chain(varier.apply(json.loads(bodies[-1]), view), outputs)
        profiler.enable()
        client.post(json.dumps(body).encode())
        profiler.disable()
    print(f"\ncProfile of {calls} render callbacks (varied views), top {top} by cumulative time:")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)


def summarise(results: dict) -> list[dict]:
    rows = []
    for action, groups in results.items():
        for kind, samples in groups.items():
            if not samples:
                continue
            wall, cpu, raw, gz = (np.array([s[i] for s in samples]) for i in range(4))
            rows.append({
                "action": action, "kind": kind, "calls": len(samples),
                "wall_p50": float(np.median(wall)), "wall_p95": float(np.percentile(wall, 95)),
                "cpu_p50": float(np.median(cpu)), "cpu_p95": float(np.percentile(cpu, 95)),
                "raw": float(np.median(raw)), "gzip": float(np.median(gz)),
            })
    return rows


def print_table(title: str, rows_by_mode: dict[str, list[dict]]) -> None:
    print()
    print(title)
    head = f"{'callback':<32}{'mode':<13}{'calls':>6}{'wall p50':>10}{'p95':>8}{'CPU p50':>10}{'p95':>8}{'response':>11}{'gzip':>10}"
    print(head)
    print("-" * len(head))
    for mode, rows in rows_by_mode.items():
        for r in rows:
            name = f"{'render' if r['kind'] == 'render' else 'controls etc.'}: {r['action']}"
            print(f"{name[:31]:<32}{mode:<13}{r['calls']:>6}{r['wall_p50'] * 1000:>10.0f}{r['wall_p95'] * 1000:>8.0f}"
                  f"{r['cpu_p50'] * 1000:>10.0f}{r['cpu_p95'] * 1000:>8.0f}{fmt_bytes(r['raw']):>11}{fmt_bytes(r['gzip']):>10}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--session", type=Path, help="replay this recorded session (JSON from bench_load or an earlier run) instead of recording")
    parser.add_argument("--naive-session", type=Path, help="likewise for the naive app")
    parser.add_argument("--save-sessions", type=Path, help="folder to write the recorded sessions to")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--work-dir", type=Path, help="keep the synthetic CSV and the cache here")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with ExitStack() as stack:
        work = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-callback-")))
        work.mkdir(parents=True, exist_ok=True)
        os.environ["DASHBOARD_CACHE_DIR"] = str(work / "cache")  # read when dashboard.config is imported
        ensure_checkout()
        print(f"bench_callback: {machine_note()}; work dir {work}", flush=True)
        csv = synthetic_csv(args.rows, work)

        from dashboard.store.open import open_dataset
        from dashboard.web.app import create_app

        start = time.perf_counter()
        dash_app = create_app(open_dataset([str(csv)]))
        # The page's answer cache (web/answers.py) would answer the recorded bodies, asked again and
        # again, without drawing anything: off, so this measures what drawing a view costs.
        dash_app.dashboard_data.answers = None
        print(f"  dashboard built in {time.perf_counter() - start:.1f} s ({dash_app.dashboard_data.store.total:,} events)", flush=True)
        session = load_session(args.session) if args.session else record_in_process(dash_app)
        print(f"  session: {sum(len(a['bodies']) for a in session)} bodies, actions {[a['action'] for a in session]}", flush=True)
        ours = {"as recorded": summarise(run_calls(dash_app, session, args.reps, varied=False)),
                "varied": summarise(run_calls(dash_app, session, args.reps, varied=True))}
        if args.profile:
            profile_renders(dash_app, session)

        naive = None
        if not args.no_naive:
            from .naive_app import create_app as create_naive

            start = time.perf_counter()
            naive_app = create_naive(str(csv))
            print(f"  naive app built in {time.perf_counter() - start:.1f} s", flush=True)
            naive_session = load_session(args.naive_session) if args.naive_session else record_in_process(naive_app)
            naive_reps = max(3, args.reps // 3)
            naive = {"as recorded": summarise(run_calls(naive_app, naive_session, naive_reps, varied=False)),
                     "varied": summarise(run_calls(naive_app, naive_session, naive_reps, varied=True))}
        if args.save_sessions:
            save_session(session, args.save_sessions / "session-dashboard.json")
            if naive is not None:
                save_session(naive_session, args.save_sessions / "session-naive.json")

    print_table(f"Dashboard callbacks, {args.rows:,} events, ms; Flask test client in-process; {machine_note()}", ours)
    if naive:
        print_table(f"Naive app (px.scatter_map of the filtered rows), {args.rows:,} events, ms", naive)
    renders = [r for rows in ours.values() for r in rows if r["kind"] == "render"]
    worst = max(renders, key=lambda r: r["cpu_p50"])
    print()
    verdict = "ok" if worst["cpu_p50"] * 1000 <= CPU_TARGET_MS else "MISSED"
    line = f"target: render callback CPU median ≤ {CPU_TARGET_MS} ms → worst {worst['cpu_p50'] * 1000:.0f} ms ({worst['action']}) {verdict}"
    if naive:
        # Like with like: the slider step with varied 1-, 7- and 30-day windows, both apps.
        pick = lambda rows: next((r for r in rows if r["kind"] == "render" and r["action"] == "slider step"), None)  # noqa: E731
        ours_slider, naive_slider = pick(ours["varied"]), pick(naive["varied"])
        if ours_slider and naive_slider:
            line += (f"; slider step, varied windows: naive {naive_slider['cpu_p50'] * 1000:.0f} ms CPU, "
                     f"{fmt_bytes(naive_slider['raw'])} = {naive_slider['cpu_p50'] / ours_slider['cpu_p50']:.1f}× ours "
                     f"({ours_slider['cpu_p50'] * 1000:.0f} ms, {fmt_bytes(ours_slider['raw'])}) (target ≥ 10×)")
    print(line)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"rows": args.rows, "ours": ours, "naive": naive, "machine": machine_note()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
