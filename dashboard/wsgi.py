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

import sys

from . import config

WORKER_BOOT_ERROR = 3


def __getattr__(name):
    if name == "server":
        from .store.contract import StoreUnavailable
        from .store.open import open_dataset
        from .web.app import create_app

        try:
            data = open_dataset(config.DATA_FILES, config.TERRITORY, basemap=config.BASEMAP)
        except StoreUnavailable as error:
            print(f"error: {error}", file=sys.stderr, flush=True)
            raise SystemExit(WORKER_BOOT_ERROR) from None
        server = create_app(data).server
        globals().update(server=server, dataset=data)  # the dataset for gunicorn hooks (bench_load's cache counts)
        return server
    raise AttributeError(name)
