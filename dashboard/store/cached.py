"""A response cache in front of any store: the same contract, answers remembered.

`CachedStore(store, cache)` answers count, counts_*, points, grid_counts,
clusters and records-with-a-limit from the cache when it can, keyed by
(store.version, method, the view's filters, the arguments); a new import
changes the version, so nothing stale is served.  Everything else passes
through.

Two caches:

* `RedisCache(url)`: shared by every worker and machine (redis-py directly;
  Flask-Caching would add a layer and pickle).  Answers are stored as Arrow
  IPC (frames) and JSON (numbers, dicts), never pickle, so a writable Redis
  cannot run code in the workers.  Entries expire after an hour.  Redis down
  means no cache, not errors: a failed call is a miss, and Redis is left
  alone for RETRY_AFTER_S before it is tried again.
* `LocalCache()`: a small in-process LRU, when no Redis is configured.
"""
from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections import OrderedDict

import pandas as pd
import pyarrow as pa

from ..view import ViewState

CACHED_METHODS = ("count", "counts_by_type", "counts_by_sub_type", "counts_by_day_and_type", "counts_by_region",
                  "counts_by_date_precision", "country_level_count", "points", "grid_counts", "clusters", "records")
KEY_PREFIX = "territorial-dashboard:v1:"
TTL_S = 3600
MAX_RECORDS_CACHED = 5_000  # records() with a larger limit (or none) is not cached


def view_key(view: ViewState) -> str:
    """The view's filters as text (map position, theme and the like do not change an answer)."""
    return json.dumps(
        [str(view.date_from), str(view.date_to), view.types, view.sub_types, sorted(view.countries), sorted(view.regions),
         sorted(view.actors), view.text.strip().lower(), view.territory_position],
        default=list,
    )


class LocalCache:
    """An in-process LRU of encoded answers."""

    def __init__(self, entries: int = 256):
        self.entries = entries
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)


class RedisCache:
    """Answers in Redis, shared by every worker; any Redis failure is a miss."""

    RETRY_AFTER_S = 10.0

    def __init__(self, url: str, timeout_s: float = 0.25):
        import redis

        self.url = url
        self._errors = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        self._down_until = 0.0
        self.failures = 0

    def _call(self, method, *args):
        if time.monotonic() < self._down_until:
            return None
        try:
            return method(*args)
        except self._errors:
            self.failures += 1
            self._down_until = time.monotonic() + self.RETRY_AFTER_S
            return None

    def get(self, key: str) -> bytes | None:
        return self._call(self._client.get, key)

    def set(self, key: str, value: bytes) -> None:
        self._call(lambda: self._client.set(key, value, ex=TTL_S))


def make_cache(redis_url: str | None):
    return RedisCache(redis_url) if redis_url else LocalCache()


class CachedStore:
    """The wrapped store's contract, with its answers remembered in `cache`."""

    def __init__(self, store, cache):
        self.store = store
        self.cache = cache
        self.hits = self.misses = 0  # since start, for operators and bench_load (one worker's own)

    def __getattr__(self, name):  # bounds, total, version, extent, record, attach_territory...
        return getattr(self.store, name)

    @property
    def bounds(self):
        return self.store.bounds

    @property
    def total(self):
        return self.store.total

    @property
    def version(self):
        return self.store.version

    @property
    def custom_types(self):
        return self.store.custom_types

    @property
    def region_names(self):
        return self.store.region_names

    @property
    def precisions(self):
        return self.store.precisions

    def _remembered(self, method: str, view: ViewState, *args):
        digest = hashlib.sha256(json.dumps([method, view_key(view), args], default=str).encode()).hexdigest()[:32]
        key = f"{KEY_PREFIX}{self.store.version}:{method}:{digest}"
        found = self.cache.get(key)
        if found is not None:
            try:
                answer = _decode(method, found)
                self.hits += 1
                return answer
            except (ValueError, KeyError, TypeError, pa.ArrowException):
                pass  # a damaged entry is answered afresh and overwritten
        self.misses += 1
        answer = getattr(self.store, method)(view, *args)
        self.cache.set(key, _encode(method, answer))
        return answer

    def count(self, view):
        return self._remembered("count", view)

    def counts_by_type(self, view):
        return self._remembered("counts_by_type", view)

    def counts_by_sub_type(self, view):
        return self._remembered("counts_by_sub_type", view)

    def counts_by_day_and_type(self, view):
        return self._remembered("counts_by_day_and_type", view)

    def counts_by_region(self, view):
        return self._remembered("counts_by_region", view)

    def counts_by_date_precision(self, view):
        return self._remembered("counts_by_date_precision", view)

    def country_level_count(self, view):
        return self._remembered("country_level_count", view)

    def points(self, view, cap):
        return self._remembered("points", view, int(cap))

    def grid_counts(self, view, max_cells=20_000):
        return self._remembered("grid_counts", view, int(max_cells))

    def clusters(self, view, cell_deg, precisions=None, extent=None):
        return self._remembered("clusters", view, float(cell_deg), list(precisions) if precisions is not None else None,
                                [float(x) for x in extent] if extent is not None else None)

    def coarse_counts(self, view):
        return self._remembered("coarse_counts", view)

    def records(self, view, limit=None, columns=None, precisions=None):
        if limit is None or limit > MAX_RECORDS_CACHED or precisions is not None:
            return self.store.records(view, limit, columns, precisions)
        return self._remembered("records", view, int(limit), list(columns) if columns is not None else None)

    def extent(self):
        return self.store.extent()

    def record(self, event_id):
        return self.store.record(event_id)

    def attach_territory(self, layer):
        return self.store.attach_territory(layer)


# ------------------------------------------------------------ the encoding


def _frame_bytes(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _frame_from(data: bytes) -> pd.DataFrame:
    return pa.ipc.open_stream(data).read_all().to_pandas()


def _encode(method: str, answer) -> bytes:
    if method in ("count", "country_level_count"):
        return b"J" + json.dumps(int(answer)).encode()
    if method in ("counts_by_type", "counts_by_date_precision"):
        return b"J" + json.dumps({str(k): int(v) for k, v in answer.items()}).encode()
    if method == "counts_by_sub_type":
        return b"J" + json.dumps([[t, s, int(n)] for (t, s), n in answer.items()]).encode()
    if method == "grid_counts":
        frame, size = answer
        return b"G" + json.dumps(float(size)).encode() + b"\n" + _frame_bytes(frame)
    return b"F" + _frame_bytes(answer)


def _decode(method: str, data: bytes):
    kind, body = data[:1], data[1:]
    if kind == b"J":
        value = json.loads(body)
        if method == "counts_by_sub_type":
            return {(t, s): n for t, s, n in value}
        return value
    if kind == b"G":
        size, _, frame = body.partition(b"\n")
        return _frame_from(frame), float(json.loads(size))
    if kind == b"F":
        return _frame_from(body)
    raise ValueError("unknown cache entry")
