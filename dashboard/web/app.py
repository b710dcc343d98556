"""The Dash app: wiring only.

`create_app(dataset)` builds the page for a `Dataset` (store.open makes one)
and registers the callbacks; the logic lives in controls.py (the table of
controls), controller.py (what changes the view), outputs.py and the render
package (what a view shows).  For gunicorn see dashboard/wsgi.py.
"""
from __future__ import annotations

import dash
from .. import config
from ..store.dataset import Dataset
from .basemap_routes import register_basemap_routes
from .callbacks import register_page_helpers, register_saved_view_callbacks, register_view_callbacks
from .export_control import register_export_callbacks
from .layout import build_layout
from .legend import register_legend_callbacks


def create_app(data: Dataset) -> dash.Dash:
    app = dash.Dash(
        __name__,
        assets_folder=str(config.ASSETS_DIR),
        title="Conflict events",
        serve_locally=True,  # every script from this server: the page works offline
        update_title=None,
    )
    app.layout = build_layout(data)
    app.dashboard_data = data

    register_basemap_routes(app.server, data.basemap)
    register_view_callbacks(app, data)
    register_saved_view_callbacks(app, data)
    register_export_callbacks(app, data)
    register_page_helpers(app)
    register_legend_callbacks(app, data)
    return app
