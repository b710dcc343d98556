"""gunicorn server hooks for bench_load (`gunicorn -c python:bench.gunicorn_hooks ...`): timings and cache counts.

Each hook prints one line `BENCH {json}` to the server's log, which
bench_load reads back (times are wall-clock `time.time()`, so they compare
with the moment the benchmark launched gunicorn):

* `master-ready`: the master listens (with --preload: after loading the app);
* `worker-ready`: a worker has loaded the app and is about to accept
  requests (post_worker_init), with the moment it was forked;
* `cache`: when a worker exits, how often the dashboard's response cache
  (store/cached.py) answered it: hits and misses since the worker started.

With $BENCH_PROFILE=DIR the first worker ready runs under cProfile (wall
clock, so time waiting for the database counts) and writes
DIR/worker-PID.prof when it exits.
"""
from __future__ import annotations

import cProfile
import json
import os
import sys
import time
from pathlib import Path

PROFILE_DIR = os.environ.get("BENCH_PROFILE")  # read here: this is bench code, not the app's config
_profiler = None


def _say(kind: str, **fields) -> None:
    # One write() of one line: workers starting together do not interleave their lines.
    line = "\nBENCH " + json.dumps({"kind": kind, "pid": os.getpid(), **fields}) + "\n"
    sys.stderr.flush()
    os.write(sys.stderr.fileno(), line.encode())


def when_ready(server):
    _say("master-ready", at=time.time())


def post_fork(server, worker):
    worker.bench_forked_at = time.time()


def post_worker_init(worker):
    global _profiler
    _say("worker-ready", forked=getattr(worker, "bench_forked_at", None), at=time.time())
    if PROFILE_DIR:
        try:  # only the first worker: the one that creates the marker
            os.close(os.open(Path(PROFILE_DIR) / "claimed", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        _profiler = cProfile.Profile()
        _profiler.enable()


def worker_exit(server, worker):
    if _profiler is not None:
        _profiler.disable()
        _profiler.dump_stats(Path(PROFILE_DIR) / f"worker-{os.getpid()}.prof")
        _say("profile", path=str(Path(PROFILE_DIR) / f"worker-{os.getpid()}.prof"))
    wsgi = sys.modules.get("dashboard.wsgi")
    dataset = vars(wsgi).get("dataset") if wsgi else None  # not getattr: that would build the app
    store = getattr(dataset, "store", None)
    if hasattr(store, "hits"):
        cache = getattr(store, "cache", None)
        _say("cache", hits=store.hits, misses=store.misses, cache=type(cache).__name__, failures=getattr(cache, "failures", 0))


def parse_log(text: str) -> list[dict]:
    """The BENCH lines of a server log, in order."""
    found = []
    for line in text.splitlines():
        _, marker, payload = line.partition("BENCH ")
        if marker:
            try:
                found.append(json.loads(payload))
            except ValueError:
                pass
    return found
