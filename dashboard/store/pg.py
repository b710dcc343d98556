"""The team database: a connection pool per process, and every failure as one sentence.

A worker holds a pool (psycopg_pool), never the data.  The pool is made in
the process that uses it: a gunicorn worker forked after `--preload` gets a
new one rather than sharing its parent's sockets.  Connections are checked
when taken from the pool, so after the database restarts the next request
gets a fresh connection; while it is down, each request fails within a few
seconds with `StoreUnavailable`, whose message the page shows.
"""
from __future__ import annotations

import contextlib
import os
import re
import threading
import time

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from .contract import StoreUnavailable

CONNECT_TIMEOUT_S = 3  # a database that does not answer within this is "not answering"
POOL_WAIT_S = 3  # how long a request waits for a connection before it says so
STATEMENT_TIMEOUT_MS = 60_000  # one query of the page; imports have none
DOWN_FOR_S = 2.0  # after a failure, requests are told at once for this long rather than each waiting POOL_WAIT_S
WORK_MEM = "64MB"  # per sort or hash of one page query
POOL_MAX = 4  # connections per process: one request at a time per gunicorn worker, a few for the dev server


def is_database_url(text) -> bool:
    return isinstance(text, str) and text.startswith(("postgresql://", "postgres://"))


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^/:@]*):[^/@]*@", r"\1:***@", url)


def reason(error: Exception) -> str:
    """The first line of a driver error, without the driver's prefixes."""
    text = str(error).strip() or type(error).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # libpq says 'connection to server at "127.0.0.1", port 1 failed: Connection refused ...'
    first = lines[0] if lines else type(error).__name__
    if "failed:" in first:
        first = first.rsplit("failed:", 1)[1]
    return re.sub(r"^\s*(FATAL|ERROR):\s*", "", first).strip().rstrip(".")


def unavailable(url: str, error: Exception) -> StoreUnavailable:
    return StoreUnavailable(f"Cannot use the database at {safe_url(url)}: {reason(error)}.")


def connect(url: str, **kwargs) -> psycopg.Connection:
    """One connection (imports and migrations); a sentence when the database cannot be reached."""
    try:
        return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, application_name="territorial-dashboard", **kwargs)
    except psycopg.Error as error:
        raise unavailable(url, error) from None


class Database:
    """A pool of connections to one database, made anew in each process."""

    def __init__(self, url: str):
        self.url = url
        self._pool: ConnectionPool | None = None
        self._pid = None
        self._lock = threading.Lock()
        self._down: tuple[float, StoreUnavailable] | None = None  # (until, what was said)

    def check(self) -> None:
        """Connect once now: a database that is down, missing or refusing us is said at start."""
        with connect(self.url):
            pass

    def pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                # After a fork the parent's pool (its sockets and threads) is left alone.
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=POOL_MAX,
                    timeout=POOL_WAIT_S,
                    check=ConnectionPool.check_connection,
                    kwargs={
                        "autocommit": True,
                        "connect_timeout": CONNECT_TIMEOUT_S,
                        "application_name": "territorial-dashboard",
                        # No JIT: compiling costs 30 ms of a 50 ms GROUP BY.  The summaries'
                        # sorts and hashes of half a million rows fit in WORK_MEM, not on disk.
                        "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c jit=off -c work_mem={WORK_MEM}",
                        "prepare_threshold": None,  # custom plans: filters differ a lot in selectivity
                    },
                    open=True,
                    name="dashboard",
                )
                self._pid = os.getpid()
            return self._pool

    @contextlib.contextmanager
    def connection(self):
        """A pooled connection (autocommit); database failures become StoreUnavailable."""
        down = self._down
        if down and time.monotonic() < down[0]:
            raise StoreUnavailable(str(down[1]))
        try:
            with self.pool().connection() as conn:
                yield conn
        except PoolTimeout:  # (an OperationalError too) the pool only says it waited; one direct try names the cause
            try:
                self.check()
            except StoreUnavailable as failure:
                self._remember(failure)
                raise
            raise StoreUnavailable(
                f"The database at {safe_url(self.url)} is busy: no connection was free within {POOL_WAIT_S} s."
            ) from None
        except psycopg.OperationalError as error:
            raise self._remember(unavailable(self.url, error)) from None
        self._down = None

    def _remember(self, failure: StoreUnavailable) -> StoreUnavailable:
        self._down = (time.monotonic() + DOWN_FOR_S, failure)
        return failure

    def close(self) -> None:
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
            self._pool = None
