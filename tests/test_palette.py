"""Colours: every type distinguishable up to twelve, then "Other"; contrast in both themes."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from dashboard.render.style import CHANGE_OPACITY, CONTROL_COLOURS, MARK_RING, RAMPS, THEMES
from dashboard.view import DEFAULT_OPACITY
from dashboard.render.basemap import BASEMAP_COLOURS
from dashboard.schema import OTHER_COLOUR, PALETTE, TYPE_COLOURS, type_colour, type_colours


def linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def luminance(hex_colour: str) -> float:
    return float(linear(hex_colour) @ [0.2126, 0.7152, 0.0722])


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
SIMULATIONS = {
    None: np.eye(3),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]),
}


def lab(rgb_linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb_linear
    x, y, z = xyz / np.array([0.95047, 1.0, 1.08883])
    f = lambda t: np.cbrt(t) if t > 0.008856 else 7.787 * t + 16 / 116  # noqa: E731
    return np.array([116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))])


def delta_e(a: str, b: str, vision=None) -> float:
    """CIE76 Delta-E, after simulating a colour-vision deficiency if one is named."""
    m = SIMULATIONS[vision]
    return float(np.linalg.norm(lab(np.clip(m @ linear(a), 0, 1)) - lab(np.clip(m @ linear(b), 0, 1))))


def test_thirty_four_custom_types_get_twelve_distinct_colours_then_other():
    types = [f"Custom type {i}" for i in range(34)]
    colours = type_colours(types, types)
    assert [colours[t] for t in types[:12]] == PALETTE and len(set(PALETTE)) == 12
    assert {colours[t] for t in types[12:]} == {OTHER_COLOUR}


def test_acled_types_keep_their_colours_and_custom_types_take_the_rest():
    types = list(TYPE_COLOURS) + ["Cyber attack", "Sabotage"]
    colours = type_colours(types, ["Cyber attack", "Sabotage"])
    assert all(colours[t] == TYPE_COLOURS[t] for t in TYPE_COLOURS)
    assert colours["Cyber attack"] == PALETTE[6] and colours["Sabotage"] == PALETTE[7]
    assert type_colour("Sabotage", ["Cyber attack", "Sabotage"], types) == PALETTE[7]


@pytest.mark.parametrize("vision, least", [(None, 25), ("deuteranopia", 12), ("protanopia", 12)])
def test_every_pair_of_palette_colours_is_distinguishable(vision, least):
    worst = min((delta_e(a, b, vision), a, b) for a, b in itertools.combinations(PALETTE + [OTHER_COLOUR], 2))
    assert worst[0] >= least, worst


def over(colour: str, ground: str, opacity: float) -> str:
    """`colour` drawn at `opacity` over `ground`, as MapLibre blends a fill (in sRGB)."""
    mix = [opacity * int(colour[i:i + 2], 16) + (1 - opacity) * int(ground[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c):02X}" for c in mix)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_control_layer_colours_are_no_type_colour(theme):
    colours = CONTROL_COLOURS[theme]
    for colour in colours.values():
        assert min(delta_e(colour, p) for p in PALETTE + [OTHER_COLOUR]) >= 20, colour
    for a, b in itertools.combinations(colours.values(), 2):
        assert delta_e(a, b) >= 25, (a, b)
    # The old "gained" orange was 16 Delta-E from Battles' vermillion.
    assert delta_e(colours["gained"], TYPE_COLOURS["Battles"]) > 40


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_control_layer_reads_on_the_land_of_its_theme(theme):
    """As drawn on the map: the occupied wash over the land, gained ground over that wash (it lies
    inside the end date's area), lost ground over the land.  The old single set failed here: the
    deep purple "gained" stood 1.3:1 from the dark occupied area, the turquoise "lost" 1.6:1 from light land."""
    land, colours = THEMES[theme]["land"], CONTROL_COLOURS[theme]
    occupied = over(colours["occupied"], land, DEFAULT_OPACITY)
    gained, lost = over(colours["gained"], occupied, CHANGE_OPACITY), over(colours["lost"], land, CHANGE_OPACITY)
    for colour in colours.values():  # the full colour: the legend's swatch edge, and the layer at 100% opacity
        assert contrast(colour, land) >= 3.0, colour  # WCAG 1.4.11, graphical objects
    assert contrast(gained, occupied) >= 3.0 and contrast(lost, land) >= 3.0
    # A light wash, so events stay readable on it; still clearly not bare land.
    assert delta_e(occupied, land) >= 20


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_mark_rings_stand_out_from_land_and_sea(theme):
    for ground in (THEMES[theme]["land"], THEMES[theme]["water"]):
        assert contrast(MARK_RING[theme], ground) >= 3.0  # WCAG 1.4.11, graphical objects


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_ramps_make_the_busiest_most_visible(theme):
    land = THEMES[theme]["land"]
    ramp = RAMPS[theme]
    contrasts = [contrast(c, land) for c in ramp]
    assert contrasts == sorted(contrasts)  # each step stands out more than the one before
    assert contrasts[-1] >= 4.5 and contrasts[-1] / contrasts[0] >= 3


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_names_are_readable_on_their_halo(theme):
    colours = BASEMAP_COLOURS[theme]
    for key in ("place", "town", "country", "region", "sea"):
        assert contrast(colours[key], colours["halo"]) >= 4.5, key
