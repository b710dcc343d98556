"""The WSGI entry for gunicorn: `gunicorn 'dashboard.wsgi:server'`.

The app is built from the environment (config.py: DASHBOARD_DATA,
DASHBOARD_TERRITORY, DASHBOARD_BASEMAP, DASHBOARD_STORE, DASHBOARD_REDIS) on
first access, once per worker (or once before forking, with --preload: the
team store's connection pool is then made anew in each worker).  A team
database that cannot be reached at start is one sentence on stderr and exit
status 3, gunicorn's "worker failed to boot", so gunicorn stops rather than
restarting workers in a loop.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from . import config

WORKER_BOOT_ERROR = 3
SAME_START_S = 60  # workers of one start fail within this of each other


def __getattr__(name):
    if name == "server":
        from .store.contract import StoreUnavailable
        from .store.open import open_dataset
        from .web.app import create_app

        try:
            data = open_dataset(config.DATA_FILES, config.TERRITORY, basemap=config.BASEMAP)
        except StoreUnavailable as error:
            raise SystemExit(_boot_failed(error)) from None
        server = create_app(data).server
        globals().update(server=server, dataset=data)  # the dataset for gunicorn hooks (bench_load's cache counts)
        return server
    raise AttributeError(name)


def _boot_failed(error) -> int:
    """Say why, once per gunicorn master, and the exit status that stops it.

    Every worker finds the database gone at once.  The first stops gunicorn
    (WORKER_BOOT_ERROR); the others exit with 1, which gunicorn only logs: two
    boot errors in quick succession make its arbiter raise again while halting,
    a traceback after the sentence."""
    marker = Path(tempfile.gettempdir()) / f"territorial-dashboard-boot-failed-{os.getppid()}"
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        if time.time() - marker.stat().st_mtime < SAME_START_S:
            return 1
        marker.touch()  # left by an earlier master with the same pid
    except OSError:
        pass  # no marker: every worker reports (and gunicorn may print its own traceback)
    print(f"error: {error}", file=sys.stderr, flush=True)
    return WORKER_BOOT_ERROR
