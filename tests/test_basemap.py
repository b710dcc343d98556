"""The offline basemap: its files, the URLs figures name, and the glyphs MapLibre reads."""
from __future__ import annotations

import importlib.util
import json

import pytest

from dashboard import basemap
from dashboard.ingest.prepare import prepare_events
from dashboard.render.map import map_figure
from dashboard.store.dataset import Dataset
from dashboard.store.memory import InMemoryEventStore
from dashboard.view import ViewState


def decode(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, object]]:
    """(field number, value) of a protobuf message: varints as ints, length-delimited as bytes."""
    end = len(data) if end is None else end
    fields, position = [], start
    while position < end:
        key, position = varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, position = varint(data, position)
        elif wire == 2:
            length, position = varint(data, position)
            value, position = data[position:position + length], position + length
        else:
            raise ValueError(f"unexpected wire type {wire}")
        fields.append((number, value))
    return fields


def varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position


def glyphs_of(data: bytes) -> tuple[str, str, dict[int, dict]]:
    (stack,) = [v for n, v in decode(data) if n == 1]
    fields = decode(stack)
    name = next(v for n, v in fields if n == 1).decode()
    glyph_range = next(v for n, v in fields if n == 2).decode()
    glyphs = {}
    for _, raw in (f for f in fields if f[0] == 3):
        g = dict(decode(raw))
        zigzag = lambda v: (v >> 1) ^ -(v & 1)  # noqa: E731
        glyphs[g[1]] = {"bitmap": g.get(2, b""), "width": g[3], "height": g[4], "left": zigzag(g[5]), "top": zigzag(g[6]), "advance": g[7]}
    return name, glyph_range, glyphs


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Dataset:
    return Dataset(store=InMemoryEventStore(prepare_events(cache_dir=tmp_path_factory.mktemp("cache")).events))


@pytest.mark.parametrize("fontstack", basemap.FONTSTACKS)
def test_glyph_ranges_decode_to_signed_distance_glyphs(fontstack):
    for first, last in basemap.GLYPH_RANGES:
        name, glyph_range, glyphs = glyphs_of((basemap.GLYPHS_DIR / fontstack / f"{first}-{last}.pbf").read_bytes())
        assert name == fontstack and glyph_range == f"{first}-{last}"
        assert all(first <= code <= last for code in glyphs) and len(glyphs) > 90
    _, _, latin = glyphs_of((basemap.GLYPHS_DIR / fontstack / "0-255.pbf").read_bytes())
    assert latin[32]["width"] == 0 and latin[32]["advance"] > 0  # a space: advance only
    for code in (ord("A"), ord("y"), ord("é")):
        g = latin[code]
        assert len(g["bitmap"]) == (g["width"] + 6) * (g["height"] + 6)  # MapLibre's 3-pixel buffer
        corner, values = g["bitmap"][0], list(g["bitmap"])
        assert corner < 100 and max(values) > 191  # outside is low, the stroke's middle above the 191 edge
    _, _, cyrillic = glyphs_of((basemap.GLYPHS_DIR / fontstack / "1024-1279.pbf").read_bytes())
    assert {ord(c) for c in "КиївЛиман"} <= set(cyrillic)
    # "y" descends below the baseline: its box reaches lower than "A"'s.
    assert latin[ord("y")]["top"] - latin[ord("y")]["height"] < latin[ord("A")]["top"] - latin[ord("A")]["height"]


@pytest.mark.skipif(importlib.util.find_spec("freetype") is None, reason="freetype-py (tests/requirements.txt) rebuilds the glyphs")
def test_glyphs_rebuild_byte_for_byte(tmp_path):
    spec = importlib.util.spec_from_file_location("build_glyphs", basemap.GEO_DIR / "build_glyphs.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    import freetype

    face = freetype.Face("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    glyphs = [build.encode_glyph(code, *build.render_glyph(face, code)) for code in range(0, 256) if build.render_glyph(face, code) is not None]
    assert build.encode_range("DejaVu Sans Book", 0, 255, glyphs) == (basemap.GLYPHS_DIR / "DejaVu Sans Book" / "0-255.pbf").read_bytes()


def test_an_unbuilt_range_is_an_empty_valid_range():
    name, glyph_range, glyphs = glyphs_of(basemap.empty_glyph_range("DejaVu Sans Book", "19968-20223"))
    assert (name, glyph_range, glyphs) == ("DejaVu Sans Book", "19968-20223", {})


VIEWS = [
    ViewState(),
    ViewState(theme="dark", present=True),
    ViewState(center_lat=48.6, center_lon=37.6, zoom=8),  # Donbas: detail cells, towns of the countries in view
    ViewState(center_lat=52.5, center_lon=13.4, zoom=7),  # Berlin, far from the data
    ViewState(mode="choropleth"),
    ViewState(mode="density", theme="dark"),
]


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: f"{v.mode}-{v.theme}-{v.zoom}")
def test_every_url_a_figure_names_is_an_offline_file(data, view):
    figure = json.loads(map_figure(view, data.store).to_json())
    urls = basemap.figure_urls(figure)
    files = basemap.offline_files()
    assert urls and urls <= set(files), urls - set(files)
    assert all(files[url].is_file() for url in urls)
    assert basemap.offline_files(urls).keys() == urls
    style = figure["layout"]["map"]["style"]
    assert style["glyphs"] == "/glyphs/{fontstack}/{range}.pbf"
    assert not [u for u in json.dumps(figure).split('"') if u.startswith(("http:", "https:"))]  # nothing names another host


def test_the_first_view_loads_little(data):
    figure = json.loads(map_figure(ViewState(), data.store).to_json())
    geojson = [u for u in basemap.figure_urls(figure) if u.endswith(".geojson")]
    total = sum(basemap.path_for_url(u).stat().st_size for u in geojson)
    assert total < 2_100_000, (total, sorted(geojson))  # was 7.6 MB (countries + admin-1)


def test_the_donbas_zoom_draws_fine_cells_and_ukraines_towns(data):
    figure = json.loads(map_figure(ViewState(center_lat=48.6, center_lon=37.6, zoom=8), data.store).to_json())
    urls = basemap.figure_urls(figure)
    assert "/geo/basemap/detail/45_35.geojson" in urls and "/geo/basemap/places/UA.geojson" in urls


def test_the_basemap_lines_are_cheap_to_draw(data):
    # Without a GPU every vertex costs in every frame: no round joins or caps (a fan of triangles at
    # each joint), and the coast, border and region lines simplified beyond MapLibre's default.
    style = map_figure(ViewState(center_lat=48.6, center_lon=37.6, zoom=8), data.store).layout.map.style
    lines = [layer for layer in style["layers"] if layer["type"] == "line"]
    assert {"borders", "coast"} <= {layer["id"] for layer in lines} and any(layer["id"].startswith("detail-") for layer in lines)
    assert all(layer["layout"] == {"line-join": "miter", "line-cap": "butt"} for layer in lines)
    simplified = {layer["source"] for layer in lines} - {"water"}  # short river segments would drop out
    assert all(style["sources"][source]["tolerance"] > 0.375 for source in simplified)


def test_paths_never_leave_the_data_folder():
    for url in ("/geo/../../etc/passwd.geojson", "/geo/basemap/../../x.geojson", "/glyphs/../../x/0-255.pbf", "/geo/%2e%2e/x.geojson", "/elsewhere"):
        assert basemap.path_for_url(url) is None
    assert basemap.path_for_url("/geo/basemap/land.geojson") == basemap.BASEMAP_DIR / "land.geojson"
    assert basemap.path_for_url("/glyphs/DejaVu%20Sans%20Book/0-255.pbf").name == "0-255.pbf"


def test_the_app_serves_every_offline_file(data):
    from dashboard.web.app import create_app

    client = create_app(data).server.test_client()
    files = basemap.offline_files()
    sample = [u for u in files if "/detail/" not in u and "/places/" not in u and "/admin1/" not in u]
    sample += ["/geo/basemap/detail/45_35.geojson", "/geo/basemap/places/UA.geojson", "/geo/admin1/UA.geojson"]
    for url in sample:
        response = client.get(url.replace(" ", "%20"))
        assert response.status_code == 200 and response.data == files[url].read_bytes(), url
    assert client.get("/glyphs/DejaVu%20Sans%20Book/19968-20223.pbf").status_code == 200  # empty, not an error
    assert client.get("/geo/basemap/nothing.geojson").status_code == 404
