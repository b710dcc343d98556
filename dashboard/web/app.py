"""The Dash app: wiring only.

`create_app(dataset)` builds the page for a `Dataset` (store.open makes one)
and registers the callbacks; the logic lives in controls.py (the table of
controls), controller.py (what changes the view), outputs.py and the render
package (what a view shows).  For gunicorn see dashboard/wsgi.py.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import sys
from pathlib import Path

import dash
from dash import html, set_props
from flask import Response, abort, request, send_file

from .. import config
from ..store.contract import StoreUnavailable
from ..store.dataset import Dataset
from .basemap_routes import register_basemap_routes
from .callbacks import register_page_helpers, register_saved_view_callbacks, register_view_callbacks
from .export_control import register_export_callbacks
from .layout import build_layout, table_grid
from .legend import register_legend_callbacks

STORE_NOTICE = "The database is not answering; retrying every few seconds. The map and chart show the last answer."


def store_trouble(error: Exception):
    """Any callback whose store stopped answering: a notice in the count, the figures kept, and the page asks again.

    Every other error is raised as before."""
    if not isinstance(error, StoreUnavailable):
        raise error
    print(f"warning: {error}", file=sys.stderr, flush=True)
    set_props("count", {"children": STORE_NOTICE})
    set_props("store-retry", {"disabled": False})
    return None  # no output changes: what the page shows stays


def static_file(path: Path | None, mimetype: str) -> Response:
    """A data file, gzipped once and kept (boundary GeoJSON shrinks about 4x), cached by the browser for an hour."""
    if path is None:
        abort(404)
    accepts_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    if not accepts_gzip:
        return send_file(path, mimetype=mimetype, max_age=3600)
    body, etag = _gzipped(Path(path), Path(path).stat().st_mtime_ns)
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers={"ETag": etag})
    response = Response(body, mimetype=mimetype)
    response.headers.update({"Content-Encoding": "gzip", "Vary": "Accept-Encoding", "ETag": etag, "Cache-Control": "public, max-age=3600"})
    return response


@functools.lru_cache(maxsize=64)
def _gzipped(path: Path, mtime_ns: int) -> tuple[bytes, str]:
    data = path.read_bytes()
    return gzip.compress(data, compresslevel=6, mtime=0), f'"{hashlib.sha1(data).hexdigest()[:16]}"'


def create_app(data: Dataset) -> dash.Dash:
    app = dash.Dash(
        __name__,
        assets_folder=str(config.ASSETS_DIR),
        title="Conflict events",
        serve_locally=True,  # every script from this server: the page works offline
        update_title=None,
        compress=True,  # gzip (flask-compress): callback JSON and GeoJSON shrink 5-15x
        on_error=store_trouble,
    )
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)  # the page's language, for screen readers
    # Plotly (1.4 MB gzipped) is fetched by the graph component only once React has drawn the page;
    # asked for with the page instead, it has arrived by then (the map is drawn ~0.2-0.4 s sooner).
    plotly_js = app.get_relative_path("/_dash-component-suites/plotly/package_data/plotly.min.js")
    app.index_string = app.index_string.replace("{%css%}", f'<link rel="preload" href="{plotly_js}" as="script">\n        {{%css%}}', 1)
    app.layout = build_layout(data)
    # The table joins the page once scrolled to (callbacks.show_table): callbacks are checked against a page that has it.
    app.validation_layout = html.Div([app.layout, table_grid([])])
    app.dashboard_data = data

    # Every file a map figure names (basemap.offline_files), gzipped once where the browser takes it.
    register_basemap_routes(app.server, data.basemap, static_file)

    register_view_callbacks(app, data)
    register_saved_view_callbacks(app, data)
    register_export_callbacks(app, data)
    register_page_helpers(app)
    register_legend_callbacks(app, data)
    return app
