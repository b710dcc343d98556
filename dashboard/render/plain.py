"""A figure as the plain dicts Plotly.js reads.

The page draws a map for every action; plotly's go.Figure checks each trace
and copies every array when it is built, and copies the whole figure again
when it is sent: ~40 ms of a render at a million events, for figures built
by code the tests check.  The page sends these dicts as they are; exports and
tests get the same dicts wrapped in a go.Figure (to_figure).
"""
from __future__ import annotations

from functools import lru_cache

import plotly.graph_objects as go
import plotly.io as pio


@lru_cache(maxsize=1)
def default_template() -> dict:
    """The template go.Figure gives every figure, so both kinds look the same."""
    return pio.templates[pio.templates.default].to_plotly_json()


class PlainFigure:
    """The part of go.Figure's interface the renderers use: add_trace, update_layout, add_annotation."""

    def __init__(self) -> None:
        self.data: list[dict] = []
        self.layout: dict = {"template": default_template()}

    def add_trace(self, trace: dict) -> None:
        self.data.append(trace)

    def update_layout(self, **props) -> None:
        _merge(self.layout, props)

    def add_annotation(self, **props) -> None:
        self.layout.setdefault("annotations", []).append(props)

    def to_plotly_json(self) -> dict:
        """What Dash and plotly's JSON encoder send (no copy)."""
        return {"data": self.data, "layout": self.layout}

    def to_figure(self) -> go.Figure:
        return go.Figure(self.to_plotly_json(), _validate=False)


def _merge(into: dict, props: dict) -> None:
    # As update_layout: nested dicts are merged, anything else replaced.
    for key, value in props.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            into[key] = dict(into[key])
            _merge(into[key], value)
        else:
            into[key] = value
