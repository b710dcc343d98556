"""The export's locator inset (export/locator.py) and the legend it shares the panel with.

Geometry is checked as numbers (Web Mercator worked out here, not taken
from the module), the placement in the figure, and one real PNG per theme
read back pixel by pixel at places worked out from the figure.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
import shapely

from dashboard.export.figure import build_export_figure
from dashboard.export.frame import Entry, Frame, legend_groups
from dashboard.export.locator import COLOURS, frame_extent, inset_extent, locator_shapes, plan_locator
from dashboard.export.renderer import Renderer
from dashboard.render.style import THEMES
from dashboard.schema import OTHER_COLOUR
from dashboard.view import ViewState
from tests.test_export import map_pixel, read_png, rgb

DONBAS = ViewState(center_lat=48.3, center_lon=37.6, zoom=6.5)  # a page view: Pokrovsk, Lyman, Donetsk
POKROVSK, LYMAN, KAZAN = (37.177, 48.280), (37.808, 48.990), (49.12, 55.79)


@pytest.fixture(scope="module")
def renderer():
    with Renderer() as renderer:
        yield renderer


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from dashboard import config
    from dashboard.store.open import open_dataset

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "CACHE_DIR", tmp_path_factory.mktemp("cache"))
        yield open_dataset()


def merc(lon, lat):
    return math.radians(lon), math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def shapes_named(figure, prefix="locator-"):
    return {shape.name: shape for shape in figure.layout.shapes if (shape.name or "").startswith(prefix)}


# ---------------------------------------------------------------- geometry


def test_frame_extent_is_the_maps_mercator_window():
    x0, y0, x1, y1 = frame_extent(48.3, 37.6, 7.0, 1400, 900)
    world = 512 * 2**7.0  # pixels across 2π radians
    assert (x1 - x0) * world / (2 * math.pi) == pytest.approx(1400)
    assert (y1 - y0) * world / (2 * math.pi) == pytest.approx(900)
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx(merc(37.6, 48.3))


def test_a_donbas_frame_is_located_in_ukraine_with_the_frames_own_rectangle():
    frame = frame_extent(48.3, 37.6, 7.22, 1410, 921)
    locator = plan_locator(frame, [POKROVSK[0], LYMAN[0]], [POKROVSK[1], LYMAN[1]])
    assert locator.codes == ("UA",) and locator.title == "Map area in Ukraine"
    # The outline is Ukraine's, Crimea included: 22.1°E-40.2°E, 44.4°N-52.4°N.
    outline = shapely.total_bounds(locator.subject)
    assert outline == pytest.approx((*merc(22.14, 44.39), *merc(40.23, 52.38)), abs=0.002)
    # The inset shows the whole country and the whole frame (which reaches into Russia).
    assert locator.bounds == pytest.approx((*np.minimum(outline[:2], frame[:2]), *np.maximum(outline[2:], frame[2:])))

    shapes = {s["name"]: s for s in locator_shapes(locator, 1.05, 0.6, 400, 300, THEMES["light"], "light")}
    rect = shapes["locator-frame"]
    ex0, ey0, ex1, ey1 = inset_extent(locator, 400, 300)
    per_px = (ex1 - ex0) / 400
    assert (ey1 - ey0) / per_px == pytest.approx(300)  # one scale both ways: the rectangle keeps the map's shape
    corners = (ex0 + rect["x0"] * per_px, ey1 + rect["y0"] * per_px, ex0 + rect["x1"] * per_px, ey1 + rect["y1"] * per_px)
    assert corners == pytest.approx(frame)
    assert rect["line"]["color"] == COLOURS["light"]["frame"] and rect["xanchor"] == 1.05 and rect["yanchor"] == 0.6
    assert shapes["locator-subject"]["path"].count("M") >= 1 and shapes["locator-countries"]["path"].count("M") > 5


def test_no_inset_when_the_frame_shows_the_whole_country():
    kyiv = ([30.52], [50.45])
    assert plan_locator(frame_extent(48.5, 31.5, 5.5, 1410, 921), *kyiv) is None  # all of Ukraine in view
    assert plan_locator(frame_extent(48.5, 31.5, 6.5, 1410, 921), *kyiv).codes == ("UA",)  # closer: the west is cut off


def test_the_countries_are_those_of_the_events_else_the_one_most_shown():
    frame = frame_extent(51.0, 40.0, 5.0, 1410, 921)
    lons, lats = [37.5] * 20 + [KAZAN[0]], [48.0] * 20 + [KAZAN[1]]
    assert plan_locator(frame, lons, lats).codes == ("UA",)  # one event in twenty-one is not Russia's map
    assert plan_locator(frame, lons, lats, weights=[1] * 20 + [10]).codes == ("UA", "RU")
    assert plan_locator(frame).codes == ("RU",)  # no events: Russia fills most of this map
    assert plan_locator(frame_extent(43.0, 34.0, 9.0, 800, 600)) is None  # open sea: no country to show


def test_russia_is_one_piece_across_the_date_line():
    locator = plan_locator(frame_extent(55.8, 49.1, 7.0, 1410, 921), [KAZAN[0]], [KAZAN[1]])
    x0, _, x1, _ = locator.bounds
    assert locator.codes == ("RU",)
    assert x1 > math.pi and x0 > 0  # Chukotka east of 180°, not at -170° stretching the inset round the world
    # Over the Bering Strait, west of 180°: the Aleutians' far end (173°E) comes west to meet Alaska instead.
    locator = plan_locator(frame_extent(60.0, -160.0, 5.0, 1410, 921), [-150.0], [61.2])
    x0, _, x1, _ = locator.bounds
    assert locator.codes == ("US",) and x0 < -math.pi and x1 - x0 < math.pi


# ---------------------------------------------------------------- placement


def test_the_inset_sits_in_the_panel_between_the_legend_and_the_scale_bar(data):
    figure = build_export_figure(DONBAS, data, width=1920, height=1080)
    inset = shapes_named(figure)
    assert set(inset) == {"locator-water", "locator-countries", "locator-subject", "locator-frame"}
    water = inset["locator-water"]
    assert water.xanchor > 1  # in the panel, off the map: it hides no event
    legend_foot = min(a.y for a in figure.layout.annotations if a.x > 1 and a.text not in ("<b>Map area in Ukraine</b>",) and "km at" not in a.text)
    scale_label = next(a for a in figure.layout.annotations if "km at" in a.text)
    map_height = figure.layout.height - figure.layout.margin.t - figure.layout.margin.b
    bottom = water.yanchor + water.y0 / map_height  # y0: the inset's height in pixels, downwards
    label_top = scale_label.y + 1.3 * scale_label.font.size / map_height
    assert water.yanchor < legend_foot and bottom > label_top
    assert "<b>Map area in Ukraine</b>" in [a.text for a in figure.layout.annotations]


def test_the_default_view_is_located_in_the_countries_of_its_events_and_dark_has_its_own_colours(data):
    figure = build_export_figure(ViewState(theme="dark"), data, width=1920, height=1080)
    assert "<b>Map area in Russia and Ukraine</b>" in [a.text for a in figure.layout.annotations]
    inset = shapes_named(figure)
    assert inset["locator-subject"].fillcolor == COLOURS["dark"]["country"]
    assert inset["locator-water"].fillcolor == THEMES["dark"]["water"]


def _frame_with_long_legend(marks_px, areas_px=None):
    frame = Frame(1920, 1080)
    frame.set_text("Title", "", "Sources")
    entries = [Entry(f"Type {i:02d} (10)", "#0072B2", 21) for i in range(30)]  # fills the panel to the foot
    frame.set_panel({"Event type": entries}, None)
    frame.set_scale(48.3, 7.2)
    locator = plan_locator(frame_extent(48.3, 37.6, 7.22, *frame.map_size()), [POKROVSK[0]], [POKROVSK[1]])
    frame.set_locator(locator, "light", marks_px, areas_px)
    figure = go.Figure()
    frame.apply(figure, THEMES["light"])
    return frame, shapes_named(figure)


def test_without_room_in_the_panel_the_inset_takes_a_free_corner_of_the_map_or_none():
    frame, inset = _frame_with_long_legend([])
    width, height = frame.map_size()
    water = inset["locator-water"]
    assert 0 < water.xanchor < 0.1 and water.yanchor < 0.5  # the bottom-left corner, on the map
    # A mark in the bottom left moves it to the top left; marks in every corner it may use leave it out.
    bottom_left, top_left, top_right = (60, height - 60, 10), (60, 60, 10), (width - 60, 60, 10)
    _, inset = _frame_with_long_legend([bottom_left])
    assert inset["locator-water"].yanchor == pytest.approx(1 - frame.pad / 2 / height)
    _, inset = _frame_with_long_legend([bottom_left, top_left, top_right])
    assert inset == {}
    # A shaded area (the control layer) is data too: one over the bottom left moves the inset up.
    occupied = shapely.box(0, height - 100, 200, height)
    _, inset = _frame_with_long_legend([], occupied)
    assert inset["locator-water"].yanchor == pytest.approx(1 - frame.pad / 2 / height)


def test_the_control_layer_is_in_map_pixels_for_the_inset_to_avoid():
    from dashboard.export.locator import areas_px

    figure = go.Figure()
    square = {"type": "Polygon", "coordinates": [[[37, 48], [38, 48], [38, 49], [37, 49], [37, 48]]]}
    figure.update_layout(map_layers=[{"sourcetype": "geojson", "source": {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": square}]}}])
    figure.update_layout(map_center={"lat": 48.3, "lon": 37.6}, map_zoom=7, width=1000, height=800, margin={"l": 0, "r": 0, "t": 0, "b": 0})
    area = areas_px(figure, frame_extent(48.3, 37.6, 7, 1000, 800), 1000)
    x0, y0, x1, y1 = area.bounds
    assert (x0, y1) == pytest.approx(map_pixel(figure, 37, 48), abs=1e-6)
    assert (x1, y0) == pytest.approx(map_pixel(figure, 38, 49), abs=1e-6)
    assert areas_px(go.Figure(), frame_extent(48.3, 37.6, 7, 1000, 800), 1000) is None


def test_types_beyond_the_palette_are_one_other_entry_in_the_export_legend():
    """34 types: twelve colours and one grey "Other types" entry, as the page's legend (not 34 lines off the image)."""
    from dashboard.schema import type_colours

    types = [f"Type {i:02d}" for i in range(34)]
    colours = type_colours(types, types)
    figure = go.Figure()
    for t in types:
        figure.add_scattermap(lat=[None], lon=[None], name=t, marker={"color": colours[t], "size": 21}, legendgroup=t)
    counts = {t: 100 - i for i, t in enumerate(types)}
    entries = legend_groups(figure, counts, [])["Event type"]
    assert len(entries) == 13 and len({e.colour for e in entries}) == 13
    assert entries[-1].colour == OTHER_COLOUR and entries[-1].label == f"Other types: 22 types ({sum(range(67, 89)):,})"


# ---------------------------------------------------------------- a real PNG


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_rendered_inset_shows_ukraine_the_frame_and_the_sea(data, renderer, tmp_path, theme):
    view = DONBAS.replace(theme=theme)
    figure = build_export_figure(view, data, width=1600, height=900)
    (tmp_path / "donbas.png").write_bytes(renderer.render(figure, "png", 1600, 900))
    pixels = read_png(tmp_path / "donbas.png")[..., :3].astype(float)
    inset = shapes_named(figure)
    water, rect = inset["locator-water"], inset["locator-frame"]
    margin = figure.layout.margin
    map_width, map_height = figure.layout.width - margin.l - margin.r, figure.layout.height - margin.t - margin.b
    left, top = margin.l + water.xanchor * map_width, margin.t + (1 - water.yanchor) * map_height
    width, height = water.x1, -water.y0
    ex0, _, ex1, ey1 = _extent_of(figure, width, height)
    per_px = (ex1 - ex0) / width

    def at(lon, lat):
        x, y = merc(lon, lat)
        return pixels[int(round(top + (ey1 - y) / per_px)), int(round(left + (x - ex0) / per_px))]

    def near(colour, lon, lat):
        return np.abs(at(lon, lat) - rgb(colour)).max() < 12

    colours = THEMES[theme]
    assert near(COLOURS[theme]["country"], 28.5, 49.2)  # Vinnytsia: Ukraine, filled as the subject
    assert near(colours["land"], 25.5, 46.0)  # Romania: a neighbour
    assert near(colours["water"], 31.5, 45.0)  # the Black Sea
    # The rectangle's top edge, at mid-width, in the frame colour; the map's own corner is that rectangle's.
    top_edge = int(round(top - rect.y1)), int(round(left + (rect.x0 + rect.x1) / 2))
    window = pixels[top_edge[0] - 2 : top_edge[0] + 3, top_edge[1] - 2 : top_edge[1] + 3]
    assert np.abs(window - rgb(COLOURS[theme]["frame"])).max(axis=2).min() < 30
    north_west = (ex0 + rect.x0 * per_px, ey1 + rect.y1 * per_px)
    lon = math.degrees(north_west[0])
    lat = math.degrees(2 * math.atan(math.exp(north_west[1])) - math.pi / 2)
    assert map_pixel(figure, lon, lat) == pytest.approx((margin.l, margin.t), abs=0.5)


def _extent_of(figure, width, height):
    """The inset's extent, as the figure built it (the subject and the frame padded to the box)."""
    layout = figure.layout
    margin = layout.margin
    map_width, map_height = layout.width - margin.l - margin.r, layout.height - margin.t - margin.b
    frame = frame_extent(layout.map.center.lat, layout.map.center.lon, layout.map.zoom, map_width, map_height)
    locator = plan_locator(frame, [POKROVSK[0], LYMAN[0]], [POKROVSK[1], LYMAN[1]])
    return inset_extent(locator, width, height)


# ------------------------------------------- the panel matches the page's legend (issue 12)


def _open(tmp_path, **options):
    from dashboard import config
    from dashboard.store.open import open_dataset

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "CACHE_DIR", tmp_path / "cache")
        return open_dataset(**options)


def _panel(figure, title: str) -> list[tuple[str, str]]:
    """(label as read, swatch colour) of one legend group in the export's panel, top to bottom."""
    annotations = [a for a in figure.layout.annotations if a.x > 1]
    start = next(i for i, a in enumerate(annotations) if a.text == f"<b>{title}</b>")
    labels = []
    for annotation in annotations[start + 1:]:
        if annotation.yanchor != "middle":  # the next group's title, or the scale bar's label
            break
        labels.append(annotation)
    swatches = [s for s in figure.layout.shapes if s.xsizemode == "pixel" and s.type in ("circle", "rect") and not s.name]
    colour_at = {round(s.yanchor, 6): s.fillcolor for s in swatches}
    return [(a.text.replace("<br>", " "), colour_at.get(round(a.y, 6))) for a in labels]


def test_a_thirty_four_type_file_exports_the_pages_twelve_colours_and_other(tmp_path):
    rng = np.random.default_rng(5)
    types = [f"Type {i:02d}" for i in range(34)]
    rows = ["event_id,event_date,category,latitude,longitude"]
    rows += [f"T{i},2025-03-01,{rng.choice(types)},{rng.uniform(46, 51):.4f},{rng.uniform(30, 39):.4f}" for i in range(600)]
    (tmp_path / "types.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = _open(tmp_path, data=[tmp_path / "types.csv"], mapping="event_type=category")
    assert len(data.store.bounds.types) == 34
    from dashboard.render.legend import legend_entries

    page = legend_entries(ViewState(), data.store).group("Event type")
    exported = _panel(build_export_figure(ViewState(), data, width=1920, height=1080), "Event type")
    assert len(exported) == len(page) == 13
    assert {colour for _, colour in exported} == {e.colour for e in page}  # the page's twelve colours and its grey
    other = next(label for label, colour in exported if colour == OTHER_COLOUR)
    assert other == f"Other types: 22 types ({next(e.count for e in page if e.colour == OTHER_COLOUR):,})"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_control_layer_exports_the_pages_entries_with_swatches_and_areas(tmp_path, theme):
    from dashboard.render.legend import legend_entries
    from dashboard.render.style import CONTROL_COLOUR_NAMES, CONTROL_COLOURS
    from dashboard.render.territory import territory_legend

    data = _open(tmp_path, territory=Path(__file__).resolve().parents[1] / "data" / "territory-sample")
    view = ViewState(theme=theme)
    page = legend_entries(view, data.store, territory=territory_legend(data, view)).group("Control layer")
    figure = build_export_figure(view, data, width=1920, height=1080)
    exported = _panel(figure, "Control layer")
    assert exported == [(e.label, e.colour) for e in page]
    # The theme's colours, on the map as in the legend, and the subtitle's sentence names the colours drawn
    # (it said "deep purple" in the dark theme too, where the purple was not what readers saw).
    colours, names = CONTROL_COLOURS[theme], CONTROL_COLOUR_NAMES[theme]
    assert [colour for _, colour in exported] == [colours["occupied"], colours["gained"], colours["lost"]]
    assert [layer["color"] for layer in figure.layout.map.layers] == [colours["occupied"], colours["gained"], colours["lost"]]
    subtitle = next(a.text for a in figure.layout.annotations if a.text.startswith("Control line:")).replace("<br>", " ")
    assert f"gained ({names['gained']})" in subtitle and f"lost ({names['lost']})" in subtitle
    assert exported[0][0] == "Occupied as of 21 Jan 2025, per DeepStateMap"
    assert exported[1][0].startswith("Gained 11 Jan – 21 Jan 2025: ") and exported[1][0].endswith(" km²")


@pytest.mark.parametrize("shared", [False, True])
def test_the_precision_key_exports_the_pages_words_at_the_exported_zoom(tmp_path, shared):
    """One source of the words (render/legend.py); the sizes those drawn on the exported map, whose zoom
    differs from the page's.  The export used to say "region only: … (circle of its size)" at a fixed 30 px."""
    from dashboard.export.frame import MAP_SCALE
    from dashboard.render.clusters import compute_marks, mark_px, region_px
    from dashboard.render.legend import MAX_SWATCH_PX, precision_entries

    data = _open(tmp_path)
    view = ViewState(center_lat=52.0, center_lon=37.0, zoom=5.0) if shared else ViewState()
    figure = build_export_figure(view, data, width=1920, height=1080)
    zoom, centre = figure.layout.map.zoom, figure.layout.map.center
    assert zoom != (5.0 if shared else 3.6)  # the export's map is larger than the page's: another zoom
    marks = compute_marks(view.replace(center_lat=centre.lat, center_lon=centre.lon, zoom=zoom), data.store, zoom)
    page = precision_entries(marks, zoom)
    exported = _panel(figure, "Location precision")
    assert [label for label, _ in exported] == [e.label + (f" ({e.note})" if e.note else "") for e in page]
    region = marks.regions.iloc[0]
    px = float(region_px(region["radius_km"], region["latitude"], zoom))
    assert f"{px:,.0f} px at this zoom" in exported[3][0]
    # Each symbol's diameter in the panel: the marks as drawn (1.5x on an export), the region circle at its size.
    annotations = [a for a in figure.layout.annotations if a.x > 1 and a.yanchor == "middle"]
    ys = [next(a.y for a in annotations if a.text.replace("<br>", " ") == label) for label, _ in exported[:4]]
    sizes = [next(s.x1 - s.x0 for s in figure.layout.shapes if s.xsizemode == "pixel" and round(s.yanchor, 6) == round(y, 6)) for y in ys]
    assert sizes[:3] == pytest.approx([float(mark_px(n)) * MAP_SCALE for n in (1, 10, 100)])
    assert sizes[3] == pytest.approx(min(px, MAX_SWATCH_PX * MAP_SCALE))
    assert exported[4][1] is None  # "Only the country known: not drawn": no symbol
