"""Map snapshots: `python -m dashboard export` and the figure behind it.

The CLI runs as a user runs it (a subprocess, real kaleido and Debian's
chromium, nothing downloaded); the figure is checked as JSON in-process and
the images as files: PNG pixels (decoded here with zlib), SVG as XML, PDF
with pypdf.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from dashboard.export.checks import PRESETS, ExportError, format_for, image_size
from dashboard.export.figure import build_export_figure, export_view, page_export
from dashboard.export.frame import scale_bar, scale_label, wrap
from dashboard.export.renderer import Renderer
from dashboard.basemap import figure_urls, offline_files
from dashboard.boundaries import ATTRIBUTION
from dashboard.render.style import THEMES
from dashboard.schema import TYPE_COLOURS
from dashboard.view import ViewState, fit_view_to_data, view_from_query, view_to_query

ROOT = Path(__file__).resolve().parents[1]
POKROVSK = (37.177, 48.280)  # lon, lat (a Battles event, "near" precision)
LYMAN = (37.808, 48.990)
EXPORTED_AT = dt.datetime(2025, 2, 1, 12, 30, tzinfo=dt.timezone.utc)


# ----------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def export_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("export-cache")


@pytest.fixture(scope="module")
def data(export_cache):
    from dashboard import config
    from dashboard.store.open import open_dataset

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "CACHE_DIR", export_cache)
        yield open_dataset()


def run_export(*args, cache: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dashboard", "export", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "DASHBOARD_CACHE_DIR": str(cache), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def read_png(path: Path) -> np.ndarray:
    """Pixels as a (height, width, channels) uint8 array: 8-bit RGB or RGBA, not interlaced."""
    content = Path(path).read_bytes()
    assert content[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, compressed = 8, b""
    while position < len(content):
        (length,) = struct.unpack(">I", content[position : position + 4])
        kind = content[position + 4 : position + 8]
        body = content[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour_type in (2, 6) and interlace == 0
            channels = 4 if colour_type == 6 else 3
        elif kind == b"IDAT":
            compressed += body
    raw = np.frombuffer(zlib.decompress(compressed), dtype=np.uint8).reshape(height, width * channels + 1)
    pixels = np.zeros((height, width * channels), dtype=np.int32)
    previous = np.zeros(width * channels, dtype=np.int32)
    for y in range(height):
        kind, row = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind == 0:
            line = row
        elif kind == 2:  # Up: the browser's choice for every row; vectorised
            line = (row + previous) % 256
        else:  # Sub, Average, Paeth: byte by byte
            line = np.zeros_like(row)
            for x in range(len(row)):
                left = line[x - channels] if x >= channels else 0
                up, corner = previous[x], previous[x - channels] if x >= channels else 0
                if kind == 1:
                    guess = left
                elif kind == 3:
                    guess = (left + up) // 2
                else:
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    guess = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[x] = (row[x] + guess) % 256
        pixels[y] = previous = line
    return pixels.reshape(height, width, channels).astype(np.uint8)


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def map_pixel(figure, lon: float, lat: float) -> tuple[float, float]:
    """Where (lon, lat) falls in the image: Web Mercator, 512-px world at zoom 0, map inside the margins."""
    layout = figure.layout
    margin, width, height = layout.margin, layout.width, layout.height
    world = 512 * 2 ** layout.map.zoom

    def mercator(lo, la):
        return (lo + 180) / 360 * world, (1 - math.log(math.tan(math.pi / 4 + math.radians(la) / 2)) / math.pi) / 2 * world

    centre_x, centre_y = mercator(layout.map.center.lon, layout.map.center.lat)
    x, y = mercator(lon, lat)
    map_width, map_height = width - margin.l - margin.r, height - margin.t - margin.b
    return margin.l + map_width / 2 + x - centre_x, margin.t + map_height / 2 + y - centre_y


def nearest_colour_distance(pixels: np.ndarray, x: float, y: float, colour: np.ndarray, radius: int = 8) -> float:
    """The smallest RGB distance to `colour` within `radius` pixels of (x, y)."""
    x, y = int(round(x)), int(round(y))
    window = pixels[max(y - radius, 0) : y + radius + 1, max(x - radius, 0) : x + radius + 1, :3].astype(float)
    return float(np.sqrt(((window - colour) ** 2).sum(axis=2)).min())


def battles_marks(figure) -> list[tuple[float, float, float]]:
    """(lon, lat, opacity) of every mark drawn in the Battles colour (legend entries have no position)."""
    marks = []
    for trace in figure.data:
        if trace.type != "scattermap" or trace.lat is None or "markers" not in (trace.mode or "markers"):
            continue
        colours = trace.marker.color if isinstance(trace.marker.color, (list, tuple)) else [trace.marker.color] * len(trace.lat)
        for lat, lon, colour in zip(trace.lat, trace.lon, colours):
            if lat is not None and colour == TYPE_COLOURS["Battles"]:
                marks.append((float(lon), float(lat), float(trace.marker.opacity if trace.marker.opacity is not None else 1)))
    return marks


def annotation_texts(figure) -> list[str]:
    """The figure's texts as read: bold dropped, wrapped lines joined."""
    return [html.unescape(re.sub("</?b>", "", a.text).replace("<br>", " ")) for a in figure.layout.annotations]


def svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    return "\n".join("".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text"))


# --------------------------------------------------------------- the CLI


def test_png_has_the_requested_size_and_battles_colour_at_pokrovsk(tmp_path, export_cache, data):
    out = tmp_path / "battles.png"
    done = run_export("--type", "Battles", "--width", 1200, "--height", 800, "--out", out, cache=export_cache)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    pixels = read_png(out)
    assert pixels.shape[:2] == (800, 1200)
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50, "the image is blank"

    # The same figure in-process gives the map's centre, zoom, margins and marks.
    figure = build_export_figure(ViewState(types=("Battles",)), data, width=1200, height=800)
    land = rgb(THEMES["light"]["land"])
    marks = battles_marks(figure)
    assert marks, "no Battles mark on the map"
    # At this zoom the map clusters: Pokrovsk and Lyman are one mark at their mean position.
    (lon, lat, opacity), *_ = marks
    assert (lon, lat) == pytest.approx(((POKROVSK[0] + LYMAN[0]) / 2, (POKROVSK[1] + LYMAN[1]) / 2), abs=1e-3)
    battles = opacity * rgb(TYPE_COLOURS["Battles"]) + (1 - opacity) * land
    for lon, lat, _ in marks:
        x, y = map_pixel(figure, lon, lat)
        assert nearest_colour_distance(pixels, x, y, battles, radius=6) < 15, (lon, lat, x, y)
    # Far from any event the map is land or sea, not the Battles colour.
    margin = figure.layout.margin
    assert nearest_colour_distance(pixels, margin.l + 40, margin.t + 40, battles, radius=3) > 60
    # The boundary files reached the map: central Ukraine is land, not sea.
    assert nearest_colour_distance(pixels, *map_pixel(figure, 31.5, 49.0), land, radius=3) < 10


def test_svg_parses_and_carries_title_legend_and_sources(tmp_path, export_cache):
    out = tmp_path / "map.svg"
    title = "Battles around Pokrovsk & Lyman"
    done = run_export("--type", "Battles", "--preset", "hd", "--title", title, "--out", out, cache=export_cache)
    assert done.returncode == 0, done.stderr
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height")) == ("1280", "720")
    text = svg_text(out)
    for expected in (title, "Event type", "Battles (2)", "Location precision", ATTRIBUTION, "Events: RFE/RL, 21 Jan 2025", " UTC", " km at "):
        assert expected in text


def test_pdf_is_one_a4_landscape_page(tmp_path, export_cache):
    out = tmp_path / "map.pdf"
    done = run_export("--preset", "a4", "--type", "Battles", "--out", out, cache=export_cache)
    assert done.returncode == 0, done.stderr
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 842) <= 1 and abs(float(box.height) - 595) <= 1
    text = reader.pages[0].extract_text()
    assert "Battles (2)" in text and "Natural Earth" in text


def test_view_link_renders_the_pages_filters(tmp_path, export_cache, data):
    from dashboard.web.outputs import render_outputs

    view = ViewState(
        date_from=dt.date(2025, 1, 16), date_to=dt.date(2025, 1, 21), types=("Battles", "Explosions/Remote violence"), mode="choropleth"
    )
    link = "http://127.0.0.1:8050/?" + view_to_query(view)
    page_view, _ = fit_view_to_data(view_from_query(link)[0], data.store.bounds)
    page = render_outputs(data, page_view)

    exported_view, _ = export_view(view_from_query(link)[0], data.store)
    figure = build_export_figure(exported_view, data, width=1280, height=720)
    title = annotation_texts(figure)[1]  # the title: the page's count and its summary of the filters
    assert title == f'{page["count"]} · {page["summary"]}', title
    choropleth = next(trace for trace in figure.data if trace.type == "choroplethmap")
    page_choropleth = next(trace for trace in page["map"].to_figure().data if trace.type == "choroplethmap")
    assert dict(zip(choropleth.locations, choropleth.z)) == dict(zip(page_choropleth.locations, page_choropleth.z))

    out = tmp_path / "linked.svg"
    done = run_export("--view", link, "--preset", "hd", "--out", out, cache=export_cache)
    assert done.returncode == 0, done.stderr
    text = svg_text(out)
    for part in [page["count"], *page["summary"].split(" · ")]:
        assert part in text
    assert "Events per" in text  # the colourbar's title


def test_several_views_in_one_run(tmp_path, export_cache):
    saved = tmp_path / "saved_views.json"
    saved.write_text(json.dumps([{"name": "Donetsk battles", "query": "type=Battles"}, {"name": "By region", "query": "mode=choropleth"}]))
    out = tmp_path / "briefing.png"
    done = run_export("--views-file", saved, "--view", "?type=Protests", "--preset", "hd", "--out", out, cache=export_cache)
    assert done.returncode == 0, done.stderr
    expected = [tmp_path / "briefing-donetsk-battles.png", tmp_path / "briefing-by-region.png", tmp_path / "briefing-3.png"]
    assert done.stdout.split() == [str(p) for p in expected]
    for path in expected:
        assert read_png(path).shape[:2] == (720, 1280)

    out = tmp_path / "links.png"
    done = run_export("--view", "type=Battles", "--view", "type=Riots", "--preset", "hd", "--out", out, cache=export_cache)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(tmp_path / "links-1.png"), str(tmp_path / "links-2.png")]


def test_empty_selection_still_writes_a_map_that_says_so(tmp_path, export_cache, data):
    out = tmp_path / "empty.png"
    done = run_export("--from", "2025-01-01", "--to", "2025-01-02", "--preset", "hd", "--out", out, cache=export_cache)
    assert done.returncode == 0, done.stderr
    pixels = read_png(out)
    assert pixels.shape[:2] == (720, 1280)
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50
    assert "The data runs from" in done.stderr

    view, _ = export_view(ViewState(date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 1, 2)), data.store)
    figure = build_export_figure(view, data, width=1280, height=720)
    texts = annotation_texts(figure)
    assert any("No events match" in text for text in texts)
    assert any(text.startswith("0 of 12 events") for text in texts)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--preset", "poster", "--out", "{tmp}/x.png"], "unknown preset 'poster'"),
        (["--width", "9000", "--height", "1000", "--out", "{tmp}/x.png"], "out of bounds"),
        (["--width", "99", "--height", "1000", "--out", "{tmp}/x.png"], "out of bounds"),
        (["--width", "1000", "--out", "{tmp}/x.png"], "give both --width and --height"),
        (["--out", "{tmp}/missing/x.png"], "does not exist"),
        (["--out", "{tmp}/file.txt/x.png"], "is not a folder"),
        (["--out", "{tmp}/x.jpg"], "unknown image format ('.jpg')"),
        (["--out", "{tmp}/x"], "unknown image format (no extension)"),
        (["--views-file", "{tmp}/none.json", "--out", "{tmp}/x.png"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(tmp_path, export_cache, arguments, message):
    (tmp_path / "file.txt").write_text("not a folder")
    done = run_export(*[a.replace("{tmp}", str(tmp_path)) for a in arguments], cache=export_cache)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert message in done.stderr
    assert not list(tmp_path.glob("x*"))


@pytest.mark.parametrize("browser, message", [("{tmp}/no-chromium", "Chromium not found at BROWSER_PATH="), ("/bin/true", "did not start")])
def test_missing_or_broken_chromium_is_named(tmp_path, export_cache, browser, message):
    done = run_export("--out", tmp_path / "x.png", cache=export_cache, env={"BROWSER_PATH": browser.replace("{tmp}", str(tmp_path))})
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr
    assert done.stderr.rstrip().endswith("install Debian's chromium package or set BROWSER_PATH")
    assert not (tmp_path / "x.png").exists()


# ------------------------------------------------ one renderer, many images


def test_one_renderer_draws_every_format_in_turn_and_survives_a_bad_figure(data, tmp_path):
    """The page script reuses one page: what a PDF leaves behind must not
    leak into the next image, and a failed figure must not stop the next."""
    import plotly.graph_objects as go

    figure = build_export_figure(ViewState(types=("Battles",)), data, width=800, height=500)
    broken = go.Figure(figure)
    broken.update_layout(map_layers=[{"sourcetype": "geojson", "source": "/geo/missing.geojson", "type": "fill"}])
    with Renderer() as renderer:
        pdf = renderer.render(figure, "pdf", 800, 500)
        first = renderer.render(figure, "png", 800, 500)
        with pytest.raises(ExportError, match="no file for /geo/missing.geojson"):
            renderer.render(broken, "png", 800, 500)
        svg = renderer.render(figure, "svg", 800, 500)
        again = renderer.render(figure, "png", 800, 500)
    assert pdf.startswith(b"%PDF") and b"<svg" in svg[:200]
    assert struct.unpack(">II", first[16:24]) == (800, 500)
    # The same figure draws the same picture, whatever came between.
    (tmp_path / "first.png").write_bytes(first)
    (tmp_path / "again.png").write_bytes(again)
    difference = np.abs(read_png(tmp_path / "first.png").astype(int) - read_png(tmp_path / "again.png").astype(int)).sum(axis=2)
    assert (difference > 30).mean() < 0.001


# ---------------------------------------------------- the figure, in-process


def test_figure_carries_title_filters_legend_sources_and_time(data):
    view = ViewState(types=("Battles", "Strategic developments"), regions=("UA-14",))
    figure = build_export_figure(view, data, width=1920, height=1080, title="Donetsk, January", exported_at=EXPORTED_AT)
    texts = annotation_texts(figure)
    assert "Donetsk, January" in texts
    summary = next(text for text in texts if text.startswith("3 of 12 events"))
    assert "Battles, Strategic developments" in summary and "Donetsk (UA-14)" in summary and "11 Jan 2025" in summary
    footer = next(text for text in texts if ATTRIBUTION in text)
    assert "Events: RFE/RL, 21 Jan 2025" in footer and "Exported 2025-02-01 12:30 UTC" in footer
    assert {"Event type", "Location precision", "Battles (2)", "Strategic developments (1)"} <= set(texts)
    swatches = {shape.fillcolor for shape in figure.layout.shapes}
    assert {TYPE_COLOURS["Battles"], TYPE_COLOURS["Strategic developments"]} <= swatches
    # The map's files are named by the page's URLs, and each is a file the renderer can hand to its page.
    named = figure_urls(figure.to_plotly_json())
    assert "/geo/basemap/admin1/UA.geojson" in named and "/geo/basemap/land.geojson" in named
    assert set(offline_files(named)) == named


def test_nothing_overlaps_the_map(data):
    """Title and subtitle above the map, sources below, legend to its right."""
    figure = build_export_figure(ViewState(), data, width=1920, height=1080, title="A title")
    notes = {"No events match these filters."}
    for annotation in figure.layout.annotations:
        if annotation.text in notes or annotation.bordercolor:  # map_figure's own notes sit on the map, as on the page
            continue
        above = annotation.y == 1 and annotation.yanchor == "bottom" and annotation.yshift > 0
        below = annotation.y == 0 and annotation.yanchor == "top" and annotation.yshift < 0
        right = annotation.x > 1
        assert above or below or right, annotation.text
    assert all((shape.xanchor if shape.xsizemode == "pixel" else min(shape.x0, shape.x1)) > 1 for shape in figure.layout.shapes)
    assert figure.layout.showlegend is False  # drawn in the panel instead
    margin = figure.layout.margin
    assert margin.t > 60 and margin.b > 30 and margin.r > 250


def test_choropleth_has_a_colourbar_in_the_panel(data):
    figure = build_export_figure(ViewState(mode="choropleth"), data, width=1920, height=1080)
    trace = next(trace for trace in figure.data if trace.type == "choroplethmap")
    assert trace.colorbar.x > 1 and "Events per region" in annotation_texts(figure)
    assert trace.zmin == 0 and trace.zmax == max(trace.z)


def test_text_scales_with_the_image(data):
    sizes = {}
    for preset in ("hd", "slide", "a4"):
        width, height = PRESETS[preset]
        figure = build_export_figure(ViewState(), data, width=width, height=height)
        sizes[preset] = max(a.font.size for a in figure.layout.annotations)
    assert sizes["hd"] < sizes["slide"] < sizes["a4"]
    assert sizes["a4"] / sizes["slide"] == pytest.approx(2480 / 1080, rel=0.05)


@pytest.mark.parametrize("lat, zoom, longest", [(0.0, 0.0, 100), (52.0, 5.2, 160), (48.5, 12.0, 120), (-33.9, 3.0, 200)])
def test_scale_bar_is_a_round_distance_that_fits(lat, zoom, longest):
    km, pixels = scale_bar(lat, zoom, longest)
    mantissa = km / 10 ** math.floor(math.log10(km) + 1e-9)
    assert round(mantissa, 6) in (1, 2, 5)
    assert 0.4 * longest < pixels <= longest  # 1-2-5 steps: the next round distance would not fit
    # Along the parallel, km is (km / 40,075 km / cos lat) of the 512 * 2**zoom pixel world.
    world = 512 * 2**zoom
    assert pixels == pytest.approx(km / (40_075.016686 * math.cos(math.radians(lat))) * world)


def test_export_scale_bar_matches_the_map(data):
    """The bar's length, read back from the figure, spans its distance on the map at the named latitude."""
    figure = build_export_figure(ViewState(), data, width=1920, height=1080)
    label = next(text for text in annotation_texts(figure) if re.fullmatch(r"[\d,]+ k?m at \d+°[NS]", text))
    km = float(label.split()[0].replace(",", "")) / (1 if " km " in label else 1000)
    lat = float(re.search(r"at (\d+)°", label).group(1))
    assert lat == round(abs(figure.layout.map.center.lat))
    bar = next(shape for shape in figure.layout.shapes if shape.type == "line" and shape.y0 == shape.y1)
    margin = figure.layout.margin
    bar_pixels = (bar.x1 - bar.x0) * (figure.layout.width - margin.l - margin.r)
    lon = figure.layout.map.center.lon
    degrees = km / (40_075.016686 * math.cos(math.radians(figure.layout.map.center.lat))) * 360
    (x0, _), (x1, _) = map_pixel(figure, lon, figure.layout.map.center.lat), map_pixel(figure, lon + degrees, figure.layout.map.center.lat)
    assert bar_pixels == pytest.approx(x1 - x0, rel=1e-6)
    assert bar.x0 > 1  # in the panel, off the map
    assert scale_label(0.5, -12.4) == "500 m at 12°S" and scale_label(2000, 52) == "2,000 km at 52°N"


def test_shared_view_centre_keeps_its_area(data):
    view = ViewState(center_lat=48.5, center_lon=37.5, zoom=6.0)
    figure = build_export_figure(view, data, width=1920, height=1080)
    assert (figure.layout.map.center.lat, figure.layout.map.center.lon) == (48.5, 37.5)
    assert figure.layout.map.zoom > 6.0  # a larger map shows the same area closer


def test_sizes_formats_and_wrapping():
    assert image_size("a4") == (3508, 2480)
    assert image_size() == (1920, 1080)
    assert image_size(width=100, height=8000) == (100, 8000)
    with pytest.raises(ExportError, match="not both"):
        image_size("hd", 100, 100)
    assert format_for("out/Map.PDF") == "pdf"
    lines = wrap("12 of 12 events · 11 Jan 2025 – 21 Jan 2025 · all event types", 30)
    assert lines == ["12 of 12 events ·", "11 Jan 2025 – 21 Jan 2025 ·", "all event types"]
    assert wrap("near: near the named place, or part of a region", 30, separator=" ") == [
        "near: near the named place, or",
        "part of a region",
    ]
    assert wrap("a <b>", 10) == ["a &lt;b&gt;"]


def test_page_export_builds_the_figure_and_names_the_file(data):
    """The page's half of an export: the figure as JSON for the render service, and the file's name."""
    text, filename, fmt = page_export("from=2025-01-16&type=Battles&mode=density", data, "PNG", 640, 400, None)
    figure = json.loads(text)
    assert (figure["layout"]["width"], figure["layout"]["height"]) == (640, 400)
    assert any(trace["type"] == "densitymap" for trace in figure["data"])
    assert filename == "conflict-events-2025-01-16-to-2025-01-21-density.png" and fmt == "png"
    with pytest.raises(ExportError, match="unknown image format 'gif'"):
        page_export("", data, "gif", 640, 400, None)
    with pytest.raises(ExportError, match="out of bounds"):
        page_export("", data, "png", 64000, 400, None)
