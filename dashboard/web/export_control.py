"""The page's Export image control: the view as PNG, SVG or PDF, drawn by the render service.

A click builds the figure here (where the data is; about 0.1 s, one build
at a time so a burst of clicks cannot crowd out map updates) and hands it
to the render service (export/service.py), then returns.  The page asks
every POLL_MS where its export stands - "Waiting: 2 exports ahead of
yours", "Starting the renderer…", "Drawing the map…", "Writing PNG…" - with
a bar that follows the steps; when the file is ready it downloads, and a
failure says why in one sentence.  While an export runs the Export button
is disabled and a Cancel button stops it.
"""
from __future__ import annotations

import math
import threading

import dash
from dash import Input, Output, State, ctx, dcc, html, no_update

from .. import config
from ..export.checks import PRESETS, ExportError
from ..export.client import RenderService
from ..export.figure import page_export
from ..store.dataset import Dataset

POLL_MS = 1000
EXPORT, EXPORTING = "Export", "Exporting…"  # the button's text, which also says it is disabled
# The bar: how far along each step is (the drawing takes most of the time).
PROGRESS = {"queued": 0.05, "Starting…": 0.1, "Starting the renderer…": 0.15, "Drawing the map…": 0.4}
WRITING_PROGRESS = 0.85


def export_controls():
    """Download the current view as an image: the same renderer as `python -m dashboard export`."""
    return html.Details(
        [
            html.Summary("Export image"),
            html.Label("Title", htmlFor="export-title", className="small"),
            dcc.Input(id="export-title", type="text", placeholder="Title (default: the filters in words)", maxLength=200, className="wide"),
            # data-label names the group for assistive technology (assets/a11y.js), as layout.py's groups.
            html.Div(dcc.RadioItems(id="export-format", options=["png", "svg", "pdf"], value="png", inline=True),
                     **{"data-label": "Format"}, className="group"),
            html.Div(
                dcc.RadioItems(
                    id="export-size",
                    options=[
                        {"label": "slide 1920×1080", "value": "slide"},
                        {"label": "1280×720", "value": "hd"},
                        {"label": "A4 landscape, 300 dpi", "value": "a4"},
                        {"label": "square 1080", "value": "square"},
                        {"label": "custom", "value": "custom"},
                    ],
                    value="slide",
                ),
                **{"data-label": "Size"}, className="group",
            ),
            html.Div(
                [
                    html.Label("Width in pixels", htmlFor="export-width", className="visually-hidden"),
                    dcc.Input(id="export-width", type="number", min=100, max=8000, step=1, value=1600, className="small-number wide-number"),
                    html.Span("×"),
                    html.Label("Height in pixels", htmlFor="export-height", className="visually-hidden"),
                    dcc.Input(id="export-height", type="number", min=100, max=8000, step=1, value=900, className="small-number wide-number"),
                    html.Span("px (custom)", className="small"),
                ],
                className="button-row",
            ),
            html.Div(
                [
                    html.Button(EXPORT, id="export-button", className="button"),
                    html.Button("Cancel", id="export-cancel", className="button", hidden=True),
                ],
                className="button-row",
            ),
            html.Progress(id="export-progress", max=1, value=0, hidden=True, style={"width": "100%"}, **{"aria-label": "Export progress"}),
            html.P(id="export-message", className="muted small", role="status"),
            dcc.Interval(id="export-poll", interval=POLL_MS, disabled=True),
            dcc.Store(id="export-job"),
            dcc.Download(id="export-download"),
        ],
        className="control export",
    )


def register_export_callbacks(app: dash.Dash, data: Dataset, service: RenderService | None = None) -> None:
    service = service or RenderService()
    building = threading.Lock()

    @app.callback(
        Output("export-download", "data"),
        Output("export-message", "children"),
        Output("export-progress", "value"),
        Output("export-progress", "hidden"),
        Output("export-poll", "disabled"),
        Output("export-button", "disabled"),
        Output("export-button", "children"),
        Output("export-cancel", "hidden"),
        Output("export-job", "data"),
        Input("export-button", "n_clicks"),
        Input("export-poll", "n_intervals"),
        Input("export-cancel", "n_clicks"),
        State("view", "data"),
        State("export-format", "value"),
        State("export-size", "value"),
        State("export-width", "value"),
        State("export-height", "value"),
        State("export-title", "value"),
        State("export-job", "data"),
        prevent_initial_call=True,
    )
    def export_image(_, __, ___, query, fmt, size, width, height, title, job):
        job = job if isinstance(job, dict) and isinstance(job.get("id"), str) else None
        if ctx.triggered_id == "export-cancel":
            if job:
                service.cancel(job["id"])
            return _finished("Export cancelled.")
        if ctx.triggered_id == "export-poll":
            return _poll(service, job) if job else _finished(None)
        if job:  # a second click while one runs: the button is disabled, but a fast double click may get here
            return (no_update,) * 9
        try:
            width, height = _size(size, width, height)
            with building:
                figure, name, fmt = page_export(
                    query if isinstance(query, str) else "", data, fmt, width, height, title if isinstance(title, str) else None
                )
            ticket = service.submit(figure, fmt, width, height)
        except ExportError as error:
            return _finished(f"Not exported: {error}.")
        job = {"id": ticket["job"], "name": name}
        return _running(ticket, job)


def _size(size, width, height) -> tuple[int, int]:
    if isinstance(size, str) and size in PRESETS:
        return PRESETS[size]
    if size != "custom":
        raise ExportError("choose a size")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (width, height)):
        raise ExportError(f"give a width and a height in pixels ({config.IMAGE_MIN_SIDE} to {config.IMAGE_MAX_SIDE})")
    return int(width), int(height)


def _poll(service: RenderService, job: dict):
    status = service.status(job["id"])
    if status["state"] == "done":
        try:
            content = service.result(job["id"])
        except ExportError as error:
            return _finished(f"Not exported: {error}.")
        name = job["name"]
        return (dcc.send_bytes(content, name), f"Exported {name} ({len(content) / 1024:,.0f} KB).", 1, True, True, False, EXPORT, True, None)
    if status["state"] == "failed":
        return _finished(f"Not exported: {status.get('error') or 'the renderer failed'}.")
    return _running(status, job)


def step_text(status: dict) -> str:
    """What the page says while an export is on its way."""
    if status["state"] == "queued":
        ahead = status.get("ahead", 0)
        if ahead == 0:
            return "Waiting: yours is next."
        return f"Waiting: {ahead} export{'s' if ahead != 1 else ''} ahead of yours."
    return status.get("step") or "Starting…"


def step_progress(status: dict) -> float:
    if status["state"] == "queued":
        return PROGRESS["queued"]
    step = status.get("step") or ""
    return WRITING_PROGRESS if step.startswith("Writing") else PROGRESS.get(step, PROGRESS["Starting…"])


def _running(status: dict, job: dict):
    # download, message, progress, progress hidden, poll disabled, button disabled, button text, cancel hidden, job
    return (no_update, step_text(status), step_progress(status), False, False, True, EXPORTING, False, job)


def _finished(message):
    return (no_update, message if message is not None else no_update, 0, True, True, False, EXPORT, True, None)
