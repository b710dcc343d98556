"""The Dash app: wiring only.

`create_app(dataset)` builds the page for a `Dataset` (store.open makes one)
and registers the callbacks; the logic lives in controls.py (the table of
controls), controller.py (what changes the view), outputs.py and the render
package (what a view shows).  For gunicorn see dashboard/wsgi.py.
"""
from __future__ import annotations

import dash
from flask import abort, send_file

from .. import config
from ..boundaries import BOUNDARY_PATHS, boundary_path_for_url
from ..store.dataset import Dataset
from .callbacks import register_page_helpers, register_saved_view_callbacks, register_view_callbacks
from .export_control import register_export_callbacks
from .layout import build_layout


def create_app(data: Dataset) -> dash.Dash:
    app = dash.Dash(
        __name__,
        assets_folder=str(config.ASSETS_DIR),
        title="Conflict events",
        serve_locally=True,  # every script from this server: the page works offline
        update_title=None,
    )
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)  # the page's language, for screen readers
    app.layout = build_layout(data)
    app.dashboard_data = data

    @app.server.route("/geo/<name>.geojson")
    def geo_file(name):
        path = BOUNDARY_PATHS.get(name)
        if path is None:
            abort(404)
        return send_file(path, mimetype="application/geo+json", max_age=3600)

    @app.server.route("/geo/admin1/<code>.geojson")
    def admin1_file(code):
        path = boundary_path_for_url(f"/geo/admin1/{code}.geojson")
        if path is None:
            abort(404)
        return send_file(path, mimetype="application/geo+json", max_age=3600)

    register_view_callbacks(app, data)
    register_saved_view_callbacks(app, data)
    register_export_callbacks(app, data)
    register_page_helpers(app)
    return app
