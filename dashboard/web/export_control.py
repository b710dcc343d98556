"""The page's Export image control: the view as PNG, SVG or PDF through the export package."""
from __future__ import annotations

import math

import dash
from dash import Input, Output, State, dcc, no_update

from .. import config
from ..export.checks import PRESETS, ExportError
from ..export.figure import page_export
from ..export.renderer import render
from ..store.dataset import Dataset


def register_export_callbacks(app: dash.Dash, data: Dataset) -> None:
    @app.callback(
        Output("export-download", "data"),
        Output("export-message", "children"),
        Input("export-button", "n_clicks"),
        State("view", "data"),
        State("export-format", "value"),
        State("export-size", "value"),
        State("export-width", "value"),
        State("export-height", "value"),
        State("export-title", "value"),
        prevent_initial_call=True,
    )
    def export_image(_, query, fmt, size, width, height, title):
        try:
            if isinstance(size, str) and size in PRESETS:
                width, height = PRESETS[size]
            elif size != "custom":
                raise ExportError("choose a size")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (width, height)):
                raise ExportError(f"give a width and a height in pixels ({config.IMAGE_MIN_SIDE} to {config.IMAGE_MAX_SIDE})")
            figure, name, fmt = page_export(
                query if isinstance(query, str) else "", data, fmt, int(width), int(height), title if isinstance(title, str) else None,
            )
            content = render(figure, fmt, int(width), int(height))
        except ExportError as error:
            return no_update, f"Not exported: {error}."
        return dcc.send_bytes(content, name), f"Exported {name} ({len(content) / 1024:,.0f} KB)."
