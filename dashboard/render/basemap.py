"""The offline basemap as a MapLibre style: land, water, borders and names, all from the app's origin.

Plotly's built-in styles name a remote glyph server, so `layout.map.style`
is a whole style object instead: its sources are the GeoJSON files of
data/geo/basemap and its glyphs /glyphs/{fontstack}/{range}.pbf, both
served by the app (and handed to the exporter's page, see
basemap.offline_files).  The figure chooses the files for its view: the
coarse world always; from DETAIL_ZOOM on, fine 5-degree cells of what is in
view; admin-1 names and towns of the data's countries, and of the
countries in view once zoomed in.
"""
from __future__ import annotations

import math

from .. import basemap as files
from .style import THEMES

DETAIL_ZOOM = 5.5  # fine land, borders and admin-1 lines from here on
COUNTRIES_IN_VIEW_ZOOM = 5.5  # admin-1 names and towns of every country in view from here on
PLACE_BANDS = range(2, 11)
FINE_TOWNS_ZOOM = 7  # the small towns' files (named from zoom 8) are loaded from here on  # the `z` of a place: the zoom its name appears at
# Simplification of the line and fill sources, in screen pixels at each zoom (MapLibre's default is
# 0.375): half as many vertices in the coast, border and region lines, which software WebGL
# (no GPU) pays for in every frame; the difference is under a pixel.  Rivers keep the default:
# simplified, short river segments drop out.
TOLERANCE = 0.75
DATA_ANCHOR = "data-below"  # data layers (the control layer) are inserted beneath this layer

BASEMAP_COLOURS = {
    "light": {
        "coast": "#9fbdd3", "river": "#9cc0da", "region_line": "#b4b0a8", "border": "#7d7870",
        "place": "#1f1f1f", "town": "#3a3a3a", "region": "#6e6a62", "country": "#4a4a4a", "sea": "#3d6b8f",
        "halo": "#ffffff",
    },
    "dark": {
        "coast": "#30526c", "river": "#2d5877", "region_line": "#4a545f", "border": "#8c96a1",
        "place": "#f0f0f0", "town": "#d6d6d6", "region": "#a3abb4", "country": "#c4cad1", "sea": "#7fa8c9",
        "halo": "#101418",
    },
}


def view_bbox(centre_lat: float, centre_lon: float, zoom: float, width_px: int, height_px: int, margin: float = 0.5):
    """(west, south, east, north) the map shows, widened by `margin` of its size on each side."""
    world_px = 512 * 2**zoom
    half_w = (width_px * (0.5 + margin)) * 360 / world_px
    y = _mercator_y(centre_lat)
    half_h = (height_px * (0.5 + margin)) * 2 * math.pi / world_px
    return centre_lon - half_w, _lat(y - half_h), centre_lon + half_w, _lat(y + half_h)


def _mercator_y(lat: float) -> float:
    lat = max(min(lat, 85.0), -85.0)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _lat(y: float) -> float:
    return max(min(math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2), 85.0), -85.0)


def basemap_style(
    theme: str,
    *,
    centre: tuple[float, float],
    zoom: float,
    size_px: tuple[int, int],
    countries=(),
    scale: float = 1.0,
    tiles: dict | None = None,
) -> dict:
    """The style object for `layout.map.style`.

    countries: ISO alpha-2 codes whose admin-1 names and towns are always
    drawn (the data's).  tiles: a local .pmtiles basemap (basemap.pmtiles_info)
    drawn instead of the bundled land and water."""
    colours = {**THEMES[theme], **BASEMAP_COLOURS[theme]}
    west, south, east, north = view_bbox(centre[0], centre[1], zoom, *size_px)
    chosen = set(countries)
    if zoom >= COUNTRIES_IN_VIEW_ZOOM:
        chosen |= set(files.countries_for_bbox(west, south, east, north))
    cells = files.cells_for_bbox(west, south, east, north) if zoom >= DETAIL_ZOOM - 0.5 and not tiles else []
    world = files.world_urls()
    sources: dict = {name: {"type": "geojson", "data": url} for name, url in world.items()}
    for name in ("land", "borders"):
        sources[name]["tolerance"] = TOLERANCE
    layers: list[dict] = [{"id": "background", "type": "background", "paint": {"background-color": colours["water"]}}]
    if tiles:
        sources.pop("land"), sources.pop("borders")
        layers += _tile_layers(tiles, sources, colours)
    else:
        layers.append(_fill("land", "land", colours["land"]))
        layers.append(_line("coast", "land", colours["coast"], 0.7 * scale))
        if cells:
            sources["detail-frames"] = {"type": "geojson", "data": _frames(cells)}
            layers.append({**_fill("detail-water", "detail-frames", colours["water"]), "minzoom": DETAIL_ZOOM})
            for cell in cells:
                sources[f"cell-{cell}"] = {"type": "geojson", "data": files.cell_url(cell), "tolerance": TOLERANCE}
                layers.append({**_fill(f"detail-land-{cell}", f"cell-{cell}", colours["land"], ["==", ["get", "kind"], "land"]), "minzoom": DETAIL_ZOOM})
    layers += [
        _fill("water-lakes", "water", colours["water"], ["==", ["get", "kind"], "lake"]),
        {**_line("water-rivers", "water", colours["river"], None, ["==", ["get", "kind"], "river"]),
         "paint": {"line-color": colours["river"], "line-width": ["interpolate", ["linear"], ["zoom"], 3, 0.6 * scale, 8, 1.8 * scale]}},
        {"id": DATA_ANCHOR, "type": "background", "paint": {"background-opacity": 0}},
    ]
    admin_sources = []
    for code in sorted(chosen):
        url = files.country_urls("admin1", code)
        if url:
            sources[f"admin1-{code}"] = {"type": "geojson", "data": url, "tolerance": TOLERANCE}
            admin_sources.append(f"admin1-{code}")
    coarse_max = DETAIL_ZOOM if cells else 24
    for source in admin_sources:
        layers.append({**_line(f"region-lines-{source}", source, colours["region_line"], 0.7 * scale, ["==", ["get", "kind"], "line"]),
                       "minzoom": 3, "maxzoom": coarse_max})
    for cell in cells:
        layers.append({**_line(f"detail-regions-{cell}", f"cell-{cell}", colours["region_line"], 0.8 * scale, ["==", ["get", "kind"], "region"]),
                       "minzoom": DETAIL_ZOOM})
    if "borders" in sources:
        layers.append({**_line("borders", "borders", colours["border"], 1.2 * scale), "maxzoom": coarse_max})
    for cell in cells:
        layers.append({**_line(f"detail-borders-{cell}", f"cell-{cell}", colours["border"], 1.4 * scale, ["==", ["get", "kind"], "border"]),
                       "minzoom": DETAIL_ZOOM})
    layers += _label_layers(sources, admin_sources, chosen, colours, scale, zoom)
    return {"version": 8, "name": f"dashboard-{theme}", "glyphs": files.GLYPHS_URL, "sources": sources, "layers": layers}


def _label_layers(sources: dict, admin_sources: list[str], countries, colours: dict, scale: float, zoom: float) -> list[dict]:
    """Names, lowest priority first (MapLibre places the top layer's labels first)."""
    layers = [
        _symbol("label-rivers", "water", ["all", ["==", ["get", "kind"], "river"], ["has", "name"]], colours["sea"], colours["halo"], 11 * scale,
                minzoom=5, extra_layout={"symbol-placement": "line", "symbol-spacing": 400}),
        _symbol("label-seas", "labels", ["==", ["get", "kind"], "sea"], colours["sea"], colours["halo"], 12 * scale,
                extra_layout={"text-letter-spacing": 0.08, "text-max-width": 7, "symbol-sort-key": ["get", "z"]}),
    ]
    for source in admin_sources:
        layers.append(_symbol(
            f"label-{source}", source, ["==", ["get", "kind"], "label"], colours["region"], colours["halo"], 11.5 * scale, minzoom=4.5,
            extra_layout={"symbol-sort-key": ["get", "z"], "text-max-width": 8, "text-letter-spacing": 0.04},
        ))
    town_sources = [("labels", "world")]
    for kind in ("places", "towns") if zoom >= FINE_TOWNS_ZOOM else ("places",):
        for code in sorted(countries):
            url = files.country_urls(kind, code)
            if url:
                sources[f"{kind}-{code}"] = {"type": "geojson", "data": url}
                town_sources.append((f"{kind}-{code}", code))
    for band in PLACE_BANDS:  # a dot at each named place (beneath every name)
        for source, _ in town_sources:
            condition = ["all", ["==", ["get", "kind"], "place"], ["==", ["get", "z"], band]]
            layers.append({"id": f"place-dots-{band}-{source}", "type": "circle", "source": source, "filter": condition, "minzoom": band,
                           "paint": {"circle-radius": (3.2 if band <= 4 else 2.4) * scale, "circle-color": colours["town"],
                                     "circle-stroke-color": colours["halo"], "circle-stroke-width": 1}})
    for band in reversed(PLACE_BANDS):
        for source, _ in town_sources:
            condition = ["all", ["==", ["get", "kind"], "place"], ["==", ["get", "z"], band]]
            big = band <= 4
            layers.append(_symbol(
                f"places-{band}-{source}", source, condition, colours["place"] if big else colours["town"], colours["halo"],
                (14 if big else 12.5 if band <= 6 else 11.5) * scale, minzoom=band, font=files.FONT_BOLD if big else files.FONT_REGULAR,
                # Beside its dot, on whichever side is free (an event mark's count may sit on the place itself).
                extra_layout={"symbol-sort-key": ["-", 0, ["coalesce", ["get", "pop"], 0]], "text-max-width": 8,
                              "text-variable-anchor": ["left", "right", "top", "bottom"], "text-radial-offset": 0.55, "text-justify": "auto"},
            ))
    layers.append(_symbol(
        "label-countries", "labels", ["==", ["get", "kind"], "country"], colours["country"], colours["halo"],
        ["interpolate", ["linear"], ["zoom"], 2, 11 * scale, 6, 16 * scale], font=files.FONT_BOLD,
        extra_layout={"symbol-sort-key": ["get", "z"], "text-letter-spacing": 0.06, "text-max-width": 7, "text-transform": "uppercase"},
    ))
    return layers


def _fill(layer_id: str, source: str, colour: str, condition=None) -> dict:
    layer = {"id": layer_id, "type": "fill", "source": source, "paint": {"fill-color": colour, "fill-antialias": False}}
    if condition:
        layer["filter"] = condition
    return layer


def _line(layer_id: str, source: str, colour: str, width: float | None, condition=None) -> dict:
    # Miter joins and butt caps: at 0.6-1.8 px wide they look the same as round ones, and round
    # ones add a fan of triangles at every joint and end (half the vertices of a river layer).
    layer = {"id": layer_id, "type": "line", "source": source, "paint": {"line-color": colour, "line-width": width or 1},
             "layout": {"line-join": "miter", "line-cap": "butt"}}
    if condition:
        layer["filter"] = condition
    return layer


def _symbol(layer_id, source, condition, colour, halo, size, *, minzoom=0, font=files.FONT_REGULAR, extra_layout=None) -> dict:
    return {
        "id": layer_id,
        "type": "symbol",
        "source": source,
        "filter": condition,
        "minzoom": minzoom,
        "layout": {"text-field": ["get", "name"], "text-font": [font], "text-size": size, "text-padding": 3, **(extra_layout or {})},
        "paint": {"text-color": colour, "text-halo-color": halo, "text-halo-width": 1.4, "text-halo-blur": 0.4},
    }


def _frames(cells: list[str]) -> dict:
    """The detail cells' squares, painted as water beneath their fine land (the coarse land overshoots coasts)."""
    size = files.basemap_index()["cell_deg"]
    features = []
    for cell in cells:
        south, west = (int(v) for v in cell.split("_"))
        ring = [[west, south], [west + size, south], [west + size, south + size], [west, south + size], [west, south]]
        features.append({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "features": features}


def _tile_layers(tiles: dict, sources: dict, colours: dict) -> list[dict]:
    """A local .pmtiles basemap served as /tiles/{z}/{x}/{y}.<ext>: raster drawn as is, vector drawn plainly."""
    url = tiles.get("url") or files.TILES_URL + "." + tiles["type"]
    common = {"tiles": [url], "minzoom": tiles["minzoom"], "maxzoom": tiles["maxzoom"]}
    if tiles["type"] != "mvt":
        sources["local-tiles"] = {"type": "raster", "tileSize": 256, **common}
        return [{"id": "local-tiles", "type": "raster", "source": "local-tiles"}]
    sources["local-tiles"] = {"type": "vector", **common}
    layers = []
    for name in tiles["vector_layers"]:
        base = {"source": "local-tiles", "source-layer": name}
        layers += [
            {**base, "id": f"tiles-{name}-fill", "type": "fill", "filter": ["==", ["geometry-type"], "Polygon"],
             "paint": {"fill-color": colours["land"], "fill-outline-color": colours["coast"]}},
            {**base, "id": f"tiles-{name}-line", "type": "line", "filter": ["==", ["geometry-type"], "LineString"],
             "paint": {"line-color": colours["border"], "line-width": 1}},
        ]
    return layers
