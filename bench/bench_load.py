"""Bounded load test: many analysts filtering at once against gunicorn, and the naive app beside it.

    cd <repo> && python -m bench.bench_load [--rows 1000000] [--clients 50] [--seconds 120] [--workers 4] [--preload] [--no-naive]
    cd <repo> && python -m bench.bench_load --store postgresql:///DB [--redis redis://127.0.0.1:6379/N] [--in-memory] ...

Run from the repository root as a module (bench/common.py says why).

1. Writes `--rows` synthetic events (bench_import.synthetic_events) to a CSV
   once and prepares the dashboard's cache from it (so the workers start
   from the cache, not each with a cold import).  With `--store` the
   dashboard serves that team database instead, as it is (imported before
   with `python -m dashboard import FILE --into URL`; nothing is prepared),
   with `--redis` as the response cache shared by the workers (the cache's
   entries in that Redis database are deleted first, so it starts cold).
2. Starts `gunicorn --workers 4 --bind 127.0.0.1:P 'dashboard.wsgi:server'`
   with DASHBOARD_DATA=<csv> or DASHBOARD_STORE=<url> (`--preload` loads
   the app once before forking, to compare) and times the start-up from the
   launch until every worker has answered the page (bench/gunicorn_hooks.py
   logs when each worker was forked and ready; an access log names the
   worker of each answer).  With `--store` the start-up is also timed with
   the other `--preload` setting, in a server started only for that.
3. Records a real session once in Playwright (Debian's Chromium): the POST
   bodies of /_dash-update-component while the page loads and while a user
   steps the slider, presses ←/→, toggles a type, switches the map mode and
   searches (bench_browser.record_session), from the server under test.
4. `--clients` threads each replay random recorded actions for `--seconds`
   seconds, as fast as the answers come back (no think time: the worst
   case), with varied filter values (bench/replay.py: a random 1-, 7- or
   30-day window, sometimes a subset of types, a search word, another map
   mode); each action sends its bodies in order, the render body taking the
   view from the controls callback's answer, as the browser does.
5. Prints throughput (renders/s: main-callback answers per second; and
   callbacks/s), latency p50/p95/p99 of the render callback and of a whole
   action (controls callback + render), errors (HTTP status other than
   200/204, timeouts, refused connections), each worker's memory (RSS
   and USS, psutil) before and at the peak during the run, the callbacks
   each worker served, and the response cache's hits and misses added over
   the workers (with Redis, beside the entries it holds: as many misses as
   entries means each answer was computed once for all workers).
6. The same against the naive app (bench/naive_app.py) under the same
   gunicorn settings, with its one recorded action (the slider) replayed.
   With `--store` the naive app still reads a synthetic CSV of `--rows`
   events in each worker's memory: it cannot read a database, and the
   obvious naive database app (the same queries without the summary tables
   and caches) would be a second dashboard to keep.  So beside a database of
   10M the naive figure is the one at `--rows` (1M by default; 10M would not
   fit four workers' memory), said in the table; `--in-memory` adds the
   embedded store on the same CSV, and `--no-naive` leaves the naive app out.

Bounds: traffic only to 127.0.0.1; no request starts after `--seconds`;
each request times out after `--request-timeout` seconds; the servers are
stopped at the end (also on errors or Ctrl+C).  Targets (issue 14): 50
clients at 1M on 4 workers, render p95 ≤ 500 ms and 0 errors, ≥ 10× better
than the naive app; (issue 15) the same on PostGIS at 10M: p95 ≤ 1 s, 0
errors, each worker ≤ 300 MB and started in ≤ 5 s.  On a shared machine the client threads, the browser
and other people's work take CPU from the workers: re-run on a quiet one.
"""
from __future__ import annotations

if not __package__:  # run as a file: bench/ would shadow the checkout on sys.path
    raise SystemExit("Run from the repository root as a module: python -m bench.bench_load")

import argparse
import http.client
import json
import signal
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from .common import ensure_checkout, fmt_bytes, gunicorn_server, launch_chromium, machine_note, prepare_cache, synthetic_csv
from .gunicorn_hooks import parse_log
from .replay import Varier, replay_action, save_session

P95_TARGET_S = 0.5  # issue 14: in-memory store, 1M events
P95_STORE_TARGET_S = 1.0  # issue 15: PostGIS store, 10M events


class Client:
    """POSTs to one server; one short connection per request (gunicorn's sync workers close them anyway)."""

    def __init__(self, port: int, timeout: float):
        self.port, self.timeout = port, timeout

    def post(self, body: bytes):
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            connection.request("POST", "/_dash-update-component", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            return response.status, data, time.perf_counter() - start
        except (OSError, http.client.HTTPException) as error:
            return 0, repr(error).encode(), time.perf_counter() - start
        finally:
            connection.close()


def worker_memory(server) -> dict[int, dict]:
    """pid -> {rss, uss} in bytes for each gunicorn worker (the master's children)."""
    import psutil

    try:
        master = psutil.Process(server.process.pid)
        workers = master.children()
    except psutil.Error:
        return {}
    found = {}
    for worker in workers:
        try:
            info = worker.memory_full_info()
            found[worker.pid] = {"rss": info.rss, "uss": info.uss}
        except psutil.Error:
            pass
    return found


def bench_options(logs: Path, name: str) -> tuple[list[str], Path]:
    """gunicorn flags: the timing hooks (bench/gunicorn_hooks.py) and an access log naming each request's worker."""
    access = logs / f"access-{name}.log"
    access.unlink(missing_ok=True)  # a kept --work-dir: only this run's requests
    return ["-c", "python:bench.gunicorn_hooks", "--access-logfile", str(access), "--access-logformat", "%(p)s %(s)s %(m)s %(U)s"], access


def bench_lines(server) -> list[dict]:
    try:
        return parse_log(server.log_path.read_text(errors="replace"))
    except OSError:
        return []


def _get_page(port: int) -> None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/")
        connection.getresponse().read()
        connection.close()
    except (OSError, http.client.HTTPException):
        pass


def wait_for_workers(server, workers: int, access: Path, timeout: float = 600) -> dict:
    """Until every worker has loaded the app (its post_worker_init line) and answered the page ("/", in the access log).

    Pages are asked `2 x workers` at a time until each ready worker's pid has
    answered one: a lone request could always reach the same idle worker.
    Returns the start-up times in seconds from the launch of gunicorn."""
    launched, start = server.launched_at, time.perf_counter()
    ready: dict[int, dict] = {}
    while time.perf_counter() - start < timeout and len(ready) < workers:
        ready = {e["pid"]: e for e in bench_lines(server) if e["kind"] == "worker-ready"}
        time.sleep(0.1)
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}; log {server.log_path}:\n{server.log_tail()}")
    answered: dict[int, float] = {}
    while time.perf_counter() - start < timeout and len(answered) < len(ready):
        threads = [threading.Thread(target=_get_page, args=(server.port,)) for _ in range(2 * workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        now = time.time()
        for line in access.read_text().splitlines():
            pid, status, method, path = (line.split() + ["", "", "", ""])[:4]
            pid = int(pid.strip("<>")) if pid.strip("<>").isdigit() else None
            if pid in ready and status == "200" and method == "GET" and path == "/":
                answered.setdefault(pid, now)
    if len(answered) < workers:
        print(f"  warning: {len(answered)} of {workers} workers answered within {timeout:.0f} s; measuring anyway", flush=True)
    master = [e["at"] for e in bench_lines(server) if e["kind"] == "master-ready"]
    return {
        "master_ready": master[0] - launched if master else None,
        "first_answer": server.start_seconds,
        "fork_to_ready": sorted(e["at"] - e["forked"] for e in ready.values() if e.get("forked")),
        "all_ready": max(e["at"] for e in ready.values()) - launched if ready else None,
        "all_answered": max(answered.values()) - launched if answered else None,
        "memory": worker_memory(server),
    }


def cache_counts(server) -> dict | None:
    """Hits and misses of the response cache, added over the workers (their exit lines; after the server stopped)."""
    lines = [e for e in bench_lines(server) if e["kind"] == "cache"]
    if not lines:
        return None
    return {"workers": len(lines), "cache": lines[0]["cache"], "hits": sum(e["hits"] for e in lines),
            "misses": sum(e["misses"] for e in lines), "failures": sum(e["failures"] for e in lines)}


class MemorySampler(threading.Thread):
    def __init__(self, server, every: float = 1.0):
        super().__init__(daemon=True)
        self.server, self.every = server, every
        self.peak: dict[int, dict] = {}
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            for pid, mem in worker_memory(self.server).items():
                old = self.peak.get(pid, {"rss": 0, "uss": 0})
                self.peak[pid] = {k: max(old[k], mem[k]) for k in mem}
            self.stop_event.wait(self.every)


def run_load(server, session: list[dict], clients: int, seconds: float, request_timeout: float, seed: int = 1) -> dict:
    """`clients` threads replaying random actions until `seconds` have passed; every request recorded."""
    actions = [a for a in session if a["action"] != "page load" and a["bodies"]] or session
    client = Client(server.port, request_timeout)
    records: list[dict] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop(index: int):
        varier = Varier(session, seed=seed * 1000 + index)
        while time.perf_counter() < deadline:
            action = varier.random.choice(actions)
            started = time.perf_counter()
            done = replay_action(action["bodies"], client.post, varier)
            finished = time.perf_counter()
            with lock:
                records.append({"action": action["action"], "start": started, "end": finished, "requests": done})

    sampler = MemorySampler(server)
    sampler.start()
    client_cpu = time.process_time()
    start = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + request_timeout * 3 + 30)
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - client_cpu
    sampler.stop_event.set()
    sampler.join(5)
    with lock:
        return {**summarise(list(records), elapsed, sampler.peak), "client_cpu_s": client_cpu}


def summarise(records: list[dict], elapsed: float, peak: dict) -> dict:
    requests = [r for rec in records for r in rec["requests"]]
    renders = [r for r in requests if r["render"]]
    ok_renders = [r["seconds"] for r in renders if r["status"] == 200]
    actions_ok = [rec["end"] - rec["start"] for rec in records if all(r["status"] in (200, 204) for r in rec["requests"])]
    errors = [r for r in requests if r["status"] not in (200, 204)]
    kinds: dict[str, int] = {}
    for e in errors:
        key = "timeout/connection" if e["status"] == 0 else f"HTTP {e['status']}"
        kinds[key] = kinds.get(key, 0) + 1

    def pct(values, q):
        return float(np.percentile(values, q)) if values else None

    return {
        "elapsed": elapsed,
        "actions": len(records),
        "requests": len(requests),
        "renders": len(ok_renders),
        "renders_per_s": len(ok_renders) / elapsed if elapsed else 0,
        "callbacks_per_s": sum(r["status"] in (200, 204) for r in requests) / elapsed if elapsed else 0,
        "render_p50": pct(ok_renders, 50), "render_p95": pct(ok_renders, 95), "render_p99": pct(ok_renders, 99),
        "render_max": max(ok_renders) if ok_renders else None,
        "action_p50": pct(actions_ok, 50), "action_p95": pct(actions_ok, 95), "action_p99": pct(actions_ok, 99),
        "render_bytes_median": statistics.median(r["bytes"] for r in renders if r["status"] == 200) if ok_renders else None,
        "errors": len(errors),
        "error_kinds": kinds,
        "first_error": errors[0]["error"] if errors else None,
        "peak_memory": peak,
    }


def record(url: str, path: Path) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from .bench_browser import record_session

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            session = record_session(browser, url)
        finally:
            browser.close()
    save_session(session, path)
    return session


def measure_startup(label: str, app: str, env: dict, args, logs: Path, preload: bool) -> dict:
    """Start gunicorn, time it until every worker answers, note the memory, stop it."""
    name = label.replace(" ", "-") + "-startup"
    options, access = bench_options(logs, name)
    with gunicorn_server(app, args.workers, env, logs, preload=preload, timeout_s=int(args.request_timeout) + 30, name=name,
                         options=options) as server:
        return {"label": label, "preload": preload, **wait_for_workers(server, args.workers, access)}


def measure_app(label: str, app: str, env: dict, args, logs: Path, session_path: Path, preload: bool, rows: int) -> dict:
    name = label.replace(" ", "-")
    options, access = bench_options(logs, name)
    with gunicorn_server(app, args.workers, env, logs, preload=preload, timeout_s=int(args.request_timeout) + 30, name=name,
                         options=options) as server:
        startup = {"label": label, "preload": preload, **wait_for_workers(server, args.workers, access)}
        print(f"  {label}: {startup_line(startup, args.workers)}", flush=True)
        session = record(server.url + "/", session_path)
        counts = {a["action"]: len(a["bodies"]) for a in session}
        print(f"  {label}: recorded {sum(counts.values())} callback bodies: {counts} -> {session_path}", flush=True)
        # Warm-up: every recorded action once, in order, so each worker has imported and served something.
        varier = Varier(session, seed=0)
        warm = Client(server.port, args.request_timeout)
        for action in session:
            for _ in range(args.workers):
                replay_action(action["bodies"], warm.post, varier)
        before = worker_memory(server)
        print(f"  {label}: {args.clients} clients for {args.seconds:.0f} s ...", flush=True)
        result = run_load(server, session, args.clients, args.seconds, args.request_timeout)
        for pid, mem in before.items():  # the peak includes the state before the load
            peak = result["peak_memory"].setdefault(pid, dict(mem))
            for key in mem:
                peak[key] = max(peak[key], mem[key])
    result.update(before_memory=before, label=label, rows=rows, startups=[startup], cache=cache_counts(server),
                  served_by=served_by(access))
    return result


def served_by(access: Path) -> dict[str, int]:
    """Callback requests per worker pid (the access log): is the load spread over the workers?"""
    found: dict[str, int] = {}
    for line in access.read_text().splitlines():
        if "/_dash-update-component" in line:
            pid = line.split()[0].strip("<>")
            found[pid] = found.get(pid, 0) + 1
    return found


def startup_line(s: dict, workers: int) -> str:
    def sec(v):
        return "-" if v is None else f"{v:.1f} s"

    forks = s["fork_to_ready"]
    mem = s["memory"].values()
    return (f"{'--preload' if s['preload'] else 'no --preload'}: from launch, master ready {sec(s['master_ready'])}, "
            f"first page {sec(s['first_answer'])}, all {workers} workers ready {sec(s['all_ready'])} "
            f"(each from fork {', '.join(f'{f:.1f}' for f in forks) or '-'} s), every worker answered {sec(s['all_answered'])}; "
            f"memory then RSS {fmt_bytes(min((m['rss'] for m in mem), default=None))}–{fmt_bytes(max((m['rss'] for m in mem), default=None))}, "
            f"USS {fmt_bytes(min((m['uss'] for m in mem), default=None))}–{fmt_bytes(max((m['uss'] for m in mem), default=None))}")


def measure_store(args, logs: Path, work: Path) -> list[dict]:
    """The team store: gunicorn on an imported database, start-up both ways, then the load with --preload or not."""
    from dashboard.store.cached import KEY_PREFIX
    from dashboard.store.pg import connect, safe_url

    with connect(args.store) as conn:
        rows = int(conn.execute("SELECT coalesce(sum(n), 0) FROM event_counts").fetchone()[0])
    print(f"  {safe_url(args.store)}: {rows:,} events", flush=True)
    env = {"DASHBOARD_STORE": args.store, **({"DASHBOARD_REDIS": args.redis} if args.redis else {})}
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    label = f"dashboard PostGIS{'+Redis' if args.redis else ''}{' --preload' if args.preload else ''}"
    redis = None
    if args.redis:
        import redis as redis_client

        redis = redis_client.Redis.from_url(args.redis)
        stale = list(redis.scan_iter(KEY_PREFIX + "*", count=1000))
        if stale:
            redis.delete(*stale)
        print(f"  {args.redis}: {len(stale)} old cache entries deleted", flush=True)
    other = measure_startup(label, "dashboard.wsgi:server", env, args, logs, not args.preload)
    print(f"  {label}: {startup_line(other, args.workers)}", flush=True)
    if redis is not None:  # the start-up probe's answers are not the load test's
        stale = list(redis.scan_iter(KEY_PREFIX + "*", count=1000))
        if stale:
            redis.delete(*stale)
    if args.profile:
        (args.profile / "claimed").unlink(missing_ok=True)  # the load test's first worker, not the start-up probe's
        env["BENCH_PROFILE"] = str(args.profile)
    result = measure_app(label, "dashboard.wsgi:server", env, args, logs, work / "session-store.json", args.preload, rows)
    result["startups"].append(other)
    if redis is not None:
        result["redis_entries"] = sum(1 for _ in redis.scan_iter(KEY_PREFIX + "*", count=1000))
    return [result]


def report(results: list[dict], args) -> None:
    print()
    print(f"Load: {args.clients} clients for {args.seconds:.0f} s, no think time, gunicorn {args.workers} sync workers; {machine_note()}")
    head = f"{'app':<34}{'events':>11}{'renders/s':>10}{'calls/s':>9}{'render p50':>12}{'p95':>9}{'p99':>9}{'max':>9}{'action p50':>12}{'p95':>9}{'errors':>8}{'render size':>13}"
    print(head)
    print("-" * len(head))

    def s(v):
        return "-" if v is None else f"{v:.3f}"

    for r in results:
        print(f"{r['label']:<34}{r['rows']:>11,}{r['renders_per_s']:>10.2f}{r['callbacks_per_s']:>9.2f}{s(r['render_p50']):>12}{s(r['render_p95']):>9}"
              f"{s(r['render_p99']):>9}{s(r['render_max']):>9}{s(r['action_p50']):>12}{s(r['action_p95']):>9}{r['errors']:>8}"
              f"{fmt_bytes(r['render_bytes_median']):>13}")
    print("latencies in seconds; render = the main callback (map, timeline, counts, table); action = every callback of one user action in order")
    for r in results:
        if r["errors"]:
            print(f"  {r['label']}: errors {r['error_kinds']}; first: {r['first_error']}")
        mem = "; ".join(
            f"pid {pid}: RSS {fmt_bytes(r['before_memory'].get(pid, {}).get('rss'))} → peak {fmt_bytes(m['rss'])}, "
            f"USS {fmt_bytes(r['before_memory'].get(pid, {}).get('uss'))} → {fmt_bytes(m['uss'])}"
            for pid, m in sorted(r["peak_memory"].items())
        )
        print(f"  {r['label']} worker memory (before → peak during): {mem}")
        if r["error_kinds"].get("timeout/connection"):
            print(f"  {r['label']}: requests cut at the {args.request_timeout:g} s client timeout count as errors and are not in the "
                  f"latencies: its percentiles are lower bounds")
        print(f"  {r['label']}: the load-test clients themselves used {r['client_cpu_s']:.1f} CPU-s in {r['elapsed']:.0f} s "
              f"({r['client_cpu_s'] / r['elapsed'] * 100:.0f}% of one core), on the same 2 cores as the workers")
        for startup in r["startups"]:
            print(f"  {r['label']} start-up, {startup_line(startup, args.workers)}")
        print(f"  {r['label']} callbacks served per worker pid: {r['served_by']}")
        c = r["cache"]
        if c:
            asked = c["hits"] + c["misses"]
            print(f"  {r['label']} response cache ({c['cache']}, added over {c['workers']} workers' whole life, warm-up and recording "
                  f"included): {c['hits']:,} hits, {c['misses']:,} misses, hit ratio {c['hits'] / max(asked, 1):.0%}"
                  f"{', ' + str(c['failures']) + ' Redis failures' if c['failures'] else ''}"
                  + (f"; {r['redis_entries']:,} entries in Redis (misses ≈ entries: each answer computed once for all workers)"
                     if r.get("redis_entries") is not None else ""))
    ours = next((r for r in results if not r["label"].startswith("naive")), None)
    naive = next((r for r in results if r["label"].startswith("naive")), None)
    if ours:
        target = P95_STORE_TARGET_S if args.store else P95_TARGET_S
        ok = ours["render_p95"] is not None and ours["render_p95"] <= target and ours["errors"] == 0
        line = f"target ({'issue 15, at 10M' if args.store else 'issue 14'}): render p95 ≤ {target:g} s and 0 errors → {'ok' if ok else 'MISSED'}"
        if naive and naive["render_p95"] and ours["render_p95"]:
            line += (f"; naive/ours: throughput {ours['renders_per_s'] / max(naive['renders_per_s'], 1e-9):.1f}×, "
                     f"p95 {naive['render_p95'] / ours['render_p95']:.1f}× (target ≥ 10×)")
        print(line)


def main() -> int:
    ensure_checkout()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--preload", action="store_true", help="gunicorn --preload: load the data once, before forking")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--store", help="serve this imported team database (postgresql://...) instead of a CSV in memory")
    parser.add_argument("--redis", help="with --store: the shared response cache (redis://host:port/N); its entries are deleted first")
    parser.add_argument("--profile", type=Path, help="run the first worker under cProfile; its stats go to this folder")
    parser.add_argument("--in-memory", action="store_true", help="with --store: also the in-memory store on --rows synthetic events")
    parser.add_argument("--request-timeout", type=float, default=60.0)
    parser.add_argument("--work-dir", type=Path, help="keep the CSV, cache, logs and recorded sessions here")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.clients > 200 or args.seconds > 900 or args.request_timeout > 600:
        parser.error("bounded by design: at most 200 clients and 900 seconds")
    if args.redis and not args.store:
        parser.error("--redis goes with --store (the in-memory store has no response cache)")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill stops the servers too (the context managers' exits)
    results = []
    with ExitStack() as stack:
        work = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-load-")))
        work.mkdir(parents=True, exist_ok=True)
        cache, logs = work / "cache", work / "logs"
        cache.mkdir(exist_ok=True)
        logs.mkdir(exist_ok=True)
        print(f"bench_load: {machine_note()}; work dir {work}", flush=True)
        csv = synthetic_csv(args.rows, work)
        if args.store:
            results += measure_store(args, logs, work)
        if not args.store or args.in_memory or not args.no_naive:
            csv = synthetic_csv(args.rows, work)
        if not args.store or args.in_memory:
            print(f"  cache prepared in {prepare_cache(csv, cache):.1f} s", flush=True)
            label = f"dashboard in-memory{' --preload' if args.preload else ''}"
            results.append(measure_app(label, "dashboard.wsgi:server", {"DASHBOARD_DATA": str(csv), "DASHBOARD_CACHE_DIR": str(cache)},
                                       args, logs, work / "session-dashboard.json", args.preload, args.rows))
        if not args.no_naive:
            results.append(measure_app("naive app (CSV)", "bench.naive_app:server", {"NAIVE_DATA": str(csv)}, args, logs,
                                       work / "session-naive.json", args.preload, args.rows))
    report(results, args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"args": vars(args), "results": results}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
