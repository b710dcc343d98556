"""What the figures share: colours of each theme, marker styles, the font, text escaping.

Figures are pure functions of (view, store): the page and the exporter call
the same ones, and the tests call them directly.
"""
from __future__ import annotations

import html

from ..schema import display_text

POINT_CAP = 3_000  # raw points per response: ~0.55 MB of figure JSON with hover text
DENSITY_MAX_CELLS = 20_000
HOVER_SUMMARY_CHARS = 100  # the detail panel has the whole text
HOVER_TEXT_CHARS = 120  # any other hover field: a 5,000-character actor must not swamp the map

# Marker size and opacity by geo precision: the vaguer the place, the larger
# and fainter the circle, so a country-level event reads as an area, not a pin.
PRECISION_STYLE = {
    "town": (11, 0.95),
    "near": (15, 0.75),
    "region": (30, 0.35),
    "country": (60, 0.18),
}

THEMES = {
    "light": {
        "paper": "#ffffff",
        "land": "#f1efe9",
        "water": "#dbe7f0",
        "border": "#5b5b5b",
        "region_line": "#a9a9a9",
        "text": "#111111",
        "muted": "#555555",
        "grid": "#e3e3e3",
    },
    "dark": {
        "paper": "#101418",
        "land": "#262c33",
        "water": "#0b1d2b",
        "border": "#c8c8c8",
        "region_line": "#6b7580",
        "text": "#f5f5f5",
        "muted": "#c0c0c0",
        "grid": "#333a42",
    },
}

# The control layer, per theme: colours no event type uses (at least 20 Delta-E from every palette
# colour), and each readable on its theme's land: the gained and lost fills as drawn stand out 3:1
# (WCAG 1.4.11) from what they sit on (tests/test_palette.py).  A deep purple "gained" vanished on
# the dark land and a turquoise "lost" on the light, hence two sets.  The names are what the
# sentence under an export's title calls them.
CONTROL_COLOURS = {
    "light": {"occupied": "#C51B7D", "gained": "#40004B", "lost": "#006D70"},
    "dark": {"occupied": "#E7298A", "gained": "#F1B6DA", "lost": "#00CED1"},
}
CONTROL_COLOUR_NAMES = {
    "light": {"occupied": "magenta", "gained": "deep purple", "lost": "dark teal"},
    "dark": {"occupied": "magenta", "gained": "pale pink", "lost": "turquoise"},
}
CHANGE_OPACITY = 0.75  # gained and lost ground: above the occupied area's lighter wash


def control_colours(theme: str) -> dict[str, str]:
    """occupied, gained and lost: the control layer's colours in `theme` (light when unknown)."""
    return CONTROL_COLOURS.get(theme, CONTROL_COLOURS["light"])


# Sequential ramps, most = most visible: dark on the light theme's pale land, bright on the dark theme's.
RAMPS = {
    "light": ["#fff5d6", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"],
    "dark": ["#2a1e3f", "#5c2a6e", "#b63c63", "#f07f3c", "#fcf5a6"],
}
# A ring around every event mark, in a colour that stands out from the land of its theme
# (at least 3:1 WCAG contrast, tests/test_palette.py), so every type's colour reads on either.
MARK_RING = {"light": "#2b2b2b", "dark": "#f2f2f2"}
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"  # local fonts only; no font server

def hover_text(value: str, limit: int | None = None) -> str:
    """Data text fit for a hover label: capped, broken up, bidi controls removed (schema.display_text),
    and escaped, since Plotly renders a few HTML tags in hover labels."""
    return html.escape(display_text(value, limit or HOVER_TEXT_CHARS), quote=False)



# The page's map, in CSS pixels, when nothing says otherwise: views fitted on
# the page and exports of the same view agree on the extent through it.
# (520 px: the map's width at 1366x768 beside the filters, the legend and the record panel.)
PAGE_MAP_SIZE = (520, 560)
