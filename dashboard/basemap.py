"""The offline basemap's files: which local URL holds what, for the page and the exporter.

Everything a map figure may name lives on the app's own origin:

    /geo/basemap/<file>.geojson           display layers built by data/geo/build_basemap.py
    /geo/basemap/detail/<S>_<W>.geojson   5-degree cells of fine land, borders and admin-1 lines
    /geo/basemap/admin1/<CC>.geojson      a country's admin-1 lines and names
    /geo/basemap/places/<CC>.geojson      a country's towns (towns/<CC>.geojson: the small ones)
    /geo/countries.geojson, /geo/admin1.geojson, /geo/admin1/<CC>.geojson   the boundary files
    /glyphs/<fontstack>/<first>-<last>.pbf   label glyphs built by data/geo/build_glyphs.py
    /tiles/{z}/{x}/{y}.<ext>              tiles of a user's local .pmtiles file (served, not bundled)

`offline_files()` maps every such URL to its file: the app serves them and the
exporter hands them to its page, so both draw one figure.  No imports from
the rest of the package (boundaries.py is of the same layer: the URL scheme
"/geo/<path>.geojson" -> data/geo/<path>.geojson is the one both follow).
"""
from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

GEO_DIR = Path(__file__).resolve().parent.parent / "data" / "geo"
BASEMAP_DIR = GEO_DIR / "basemap"
GLYPHS_DIR = GEO_DIR / "glyphs"
BASEMAP_URL = "/geo/basemap/"
GLYPHS_URL = "/glyphs/{fontstack}/{range}.pbf"
GLYPH_RANGES = ((0, 255), (256, 511), (1024, 1279), (8192, 8447))
FONT_REGULAR, FONT_BOLD = "DejaVu Sans Book", "DejaVu Sans Bold"
FONTSTACKS = (FONT_REGULAR, FONT_BOLD)
WORLD_FILES = ("land", "borders", "water", "labels")
TILES_URL = "/tiles/{z}/{x}/{y}"
ATTRIBUTION = "Basemap: Natural Earth (public domain); place names: GeoNames (CC BY 4.0); font: DejaVu"
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@functools.lru_cache(maxsize=1)
def basemap_index() -> dict:
    """build_basemap.py's index: cells, world files, admin-1 and places per country, with sizes."""
    return json.loads((BASEMAP_DIR / "index.json").read_text(encoding="utf-8"))


def world_urls() -> dict[str, str]:
    return {name: f"{BASEMAP_URL}{name}.geojson" for name in WORLD_FILES}


def cell_url(name: str) -> str:
    return f"{BASEMAP_URL}detail/{name}.geojson"


def country_urls(kind: str, country: str) -> str | None:
    """A country's admin-1 ("admin1"), cities and towns ("places") or small towns ("towns") file, if one was built."""
    return f"{BASEMAP_URL}{kind}/{country}.geojson" if country in basemap_index().get(kind, {}) else None


def cells_for_bbox(west: float, south: float, east: float, north: float) -> list[str]:
    """Names of the detail cells that hold land within the box (longitudes may wrap past ±180)."""
    size = basemap_index()["cell_deg"]
    cells = basemap_index()["cells"]
    if east - west >= 360:
        west, east = -180.0, 180.0
    south, north = max(south, -90.0), min(north, 90.0)
    found = []
    for row in range(int(math.floor(south / size)), int(math.ceil(north / size))):
        for column in range(int(math.floor(west / size)), int(math.ceil(east / size))):
            lon = ((column * size + 180) % 360) - 180
            name = f"{row * size}_{int(lon)}"
            if name in cells and name not in found:
                found.append(name)
    return found


def countries_for_bbox(west: float, south: float, east: float, north: float) -> list[str]:
    """Countries whose admin-1 box meets the box."""
    found = []
    for code, entry in basemap_index()["admin1"].items():
        w, s, e, n = entry["bbox"]
        if s <= north and n >= south and (east - west >= 360 or (w <= east and e >= west) or (w <= east - 360) or (e >= west + 360)):
            found.append(code)
    return sorted(found)


def glyph_url(fontstack: str, first: int, last: int) -> str:
    return f"/glyphs/{fontstack}/{first}-{last}.pbf"


def glyph_path(fontstack: str, glyph_range: str) -> Path | None:
    """The built file of one fontstack's range; a stack of several fonts uses the first one built."""
    for font in (f.strip() for f in unquote(fontstack).split(",")):
        if font in FONTSTACKS:
            path = GLYPHS_DIR / font / f"{glyph_range}.pbf"
            return path if path.is_file() else None
    return None


def empty_glyph_range(fontstack: str, glyph_range: str) -> bytes:
    """A valid glyph PBF with no glyphs: MapLibre draws nothing for those characters instead of failing."""
    def field(number: int, data: bytes) -> bytes:
        return bytes([number << 3 | 2]) + _varint(len(data)) + data

    return field(1, field(1, fontstack.encode()) + field(2, glyph_range.encode()))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def offline_files(urls: Iterable[str] | None = None) -> dict[str, Path]:
    """Local URL -> file, for every URL a map figure may name (the given ones only, when `urls` is set).

    The app serves these; the exporter's page is handed the same files under
    the same URLs.  A URL given that is not a local file is left out (a
    user's own tile server, say); `figure_urls` lists a figure's URLs."""
    if urls is not None:
        found = {}
        for url in urls:
            path = path_for_url(url)
            if path is not None:
                found[url] = path
        return found
    files: dict[str, Path] = {}
    for path in sorted(GEO_DIR.rglob("*.geojson")):
        files["/geo/" + path.relative_to(GEO_DIR).as_posix()] = path
    for font in FONTSTACKS:
        for first, last in GLYPH_RANGES:
            files[glyph_url(font, first, last)] = GLYPHS_DIR / font / f"{first}-{last}.pbf"
    return files


def path_for_url(url: str) -> Path | None:
    """The bundled file behind a local URL, or None (never a path outside data/geo)."""
    url = unquote(url.split("?", 1)[0])
    if url.startswith("/geo/") and url.endswith(".geojson"):
        parts = url[len("/geo/"):-len(".geojson")].split("/")
        if 1 <= len(parts) <= 3 and all(_NAME.match(p) for p in parts):
            path = GEO_DIR.joinpath(*parts).with_suffix(".geojson")
            return path if path.is_file() else None
        return None
    if url.startswith("/glyphs/") and url.endswith(".pbf"):
        parts = url[len("/glyphs/"):-len(".pbf")].split("/")
        if len(parts) == 2 and re.match(r"^\d+-\d+$", parts[1]):
            return glyph_path(parts[0], parts[1])
        return None
    return None


def figure_urls(figure: dict) -> set[str]:
    """Every local URL a figure (plotly JSON, a dict) names: style sources, glyph ranges, layer and trace GeoJSON.

    Glyph URLs are listed for every fontstack the figure's labels use and
    every range built (MapLibre asks only for the ranges its labels need)."""
    layout = figure.get("layout", {})
    mapping = layout.get("map", {}) or {}
    found: set[str] = set()
    stacks: set[str] = set()
    style = mapping.get("style")
    if isinstance(style, dict):
        for source in style.get("sources", {}).values():
            for value in [source.get("data"), source.get("url"), *(source.get("tiles") or [])]:
                if isinstance(value, str) and value.startswith("/"):
                    found.add(value)
        for layer in style.get("layers", []):
            font = (layer.get("layout") or {}).get("text-font")
            if font:
                stacks.add(",".join(font))
        glyphs = style.get("glyphs")
    else:
        glyphs = None
    for layer in mapping.get("layers", []) or []:
        source = layer.get("source")
        if isinstance(source, str) and source.startswith("/"):
            found.add(source)
    for trace in figure.get("data", []):
        if isinstance(trace.get("geojson"), str) and trace["geojson"].startswith("/"):
            found.add(trace["geojson"])
        if trace.get("type") == "scattermap" and "text" in str(trace.get("mode", "")):
            stacks.add(((trace.get("textfont") or {}).get("family")) or "Open Sans Regular")
    if isinstance(glyphs, str) and glyphs.startswith("/"):
        for stack in stacks:
            for first, last in GLYPH_RANGES:
                found.add(glyphs.replace("{fontstack}", stack).replace("{range}", f"{first}-{last}"))
    return {url for url in found if "{z}" not in url}


# ----------------------------------------------------------- local pmtiles


@functools.lru_cache(maxsize=4)
def pmtiles_info(path: str) -> dict:
    """Tile type ("mvt", "png", "jpg", "webp"), zooms, bounds and vector layer names of a local .pmtiles file."""
    from pmtiles.reader import MmapSource, Reader
    from pmtiles.tile import TileType

    with open(path, "rb") as handle:
        reader = Reader(MmapSource(handle))
        header = reader.header()
        try:
            metadata = reader.metadata()
        except Exception:  # noqa: BLE001 -- a file with no or broken metadata still serves tiles
            metadata = {}
    kind = {TileType.MVT: "mvt", TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp"}.get(header["tile_type"], "mvt")
    layers = [layer.get("id") for layer in metadata.get("vector_layers", []) if isinstance(layer, dict) and layer.get("id")]
    bounds = [header.get(k, 0) / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7")]
    return {"type": kind, "minzoom": header.get("min_zoom", 0), "maxzoom": header.get("max_zoom", 14),
            "bounds": bounds, "vector_layers": layers, "compression": _enum_value(header.get("tile_compression", 1))}


def pmtiles_tile(path: str, z: int, x: int, y: int) -> bytes | None:
    """One tile's bytes as stored (maybe gzip-compressed: see pmtiles_info's "compression"), or None."""
    from pmtiles.reader import MmapSource, Reader

    with open(path, "rb") as handle:
        return Reader(MmapSource(handle)).get(z, x, y)


def is_local_pmtiles(basemap: str | None) -> bool:
    return bool(basemap) and str(basemap).lower().endswith(".pmtiles") and "://" not in str(basemap) and Path(basemap).is_file()


def _enum_value(value) -> int:
    return int(getattr(value, "value", value))
