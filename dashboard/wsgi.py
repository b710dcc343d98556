"""The WSGI entry for gunicorn: `gunicorn 'dashboard.wsgi:server'`.

The app is built from the environment (config.py: DASHBOARD_DATA,
DASHBOARD_TERRITORY, DASHBOARD_BASEMAP) on first access, once per worker
(or once before forking, with --preload).
"""
from __future__ import annotations

from . import config


def __getattr__(name):
    if name == "server":
        from .store.open import open_dataset
        from .web.app import create_app

        data = open_dataset(config.DATA_FILES, config.TERRITORY, basemap=config.BASEMAP)
        server = create_app(data).server
        globals()["server"] = server
        return server
    raise AttributeError(name)
