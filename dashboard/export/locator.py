"""The export's locator inset: where the exported map sits in its country.

    frame = frame_extent(lat, lon, zoom, map_width, map_height)
    locator = plan_locator(frame, event_lons, event_lats)   # None: the map shows the whole country
    shapes = locator_shapes(locator, anchor_x, anchor_y, width, height, colours, unit)

The country is the one (or the few) holding the events on the map, else the
one the map shows most of; its outline comes from data/geo/countries.geojson
(Natural Earth admin-1 dissolved, Crimea in Ukraine), its neighbours are
drawn fainter around it, and a rectangle marks the map's extent.

Drawn as plotly layout shapes (SVG paths measured in pixels from an anchor),
not as a second map: the inset sits in the frame's panel, which is margin,
where no plotly subplot can go (a subplot's domain is inside the plot area);
a second MapLibre map would also need WebGL and the page script's file
hand-over twice and comes out as a raster in SVG and PDF.  Paths draw the
same in kaleido's Chromium, in SVG and in PDF, offline, with no map library.
Everything is in Web Mercator, as the map is, so the rectangle is the map's
own shape.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.geometry
from shapely.geometry import box

MAX_LAT = 85.0  # Web Mercator's edge, near enough
MAX_COUNTRIES = 3  # the inset names and outlines no more
MIN_EVENT_SHARE = 0.1  # a country with fewer of the map's events is context, not subject
PAD_SHARE = 0.06  # water around the outline, of the inset's longer side
SIMPLIFY_PX = 0.5  # outline detail finer than this is not drawn
MIN_FRAME_PX = 8  # a frame smaller than this in the inset is drawn this size, about its centre
COLOURS = {  # the subject country and the frame rectangle, per theme
    "light": {"country": "#d3cab6", "frame": "#d7191c"},
    "dark": {"country": "#56606c", "frame": "#ff5a4f"},
}


@dataclass(frozen=True)
class Locator:
    names: tuple[str, ...]  # the subject countries, most events first
    codes: tuple[str, ...]
    frame: tuple[float, float, float, float]  # the map's extent, Web Mercator (x0, y0, x1, y1) in radians
    subject: tuple  # each country's outline, projected (shapely), longitudes unwrapped across 180°
    bounds: tuple[float, float, float, float]  # subject and frame together, projected

    @property
    def title(self) -> str:
        names = list(self.names)
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"Map area in {listed}"


def mercator(lon, lat):
    """(x, y) in radians of the unit Web Mercator (the map's 512-pixel world is 2π wide)."""
    lat = np.clip(np.asarray(lat, dtype=float), -MAX_LAT, MAX_LAT)
    return np.radians(np.asarray(lon, dtype=float)), np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


def to_lonlat(x, y):
    return np.degrees(np.asarray(x, dtype=float)), np.degrees(2 * np.arctan(np.exp(np.asarray(y, dtype=float))) - np.pi / 2)


def frame_extent(lat: float, lon: float, zoom: float, width_px: float, height_px: float) -> tuple[float, float, float, float]:
    """The map's extent in Web Mercator: MapLibre draws the world 512 * 2**zoom pixels wide."""
    cx, cy = (float(v) for v in mercator(lon, lat))
    per_px = 2 * math.pi / (512 * 2**zoom)
    return cx - width_px / 2 * per_px, cy - height_px / 2 * per_px, cx + width_px / 2 * per_px, cy + height_px / 2 * per_px


def _project(geometry):
    return shapely.transform(geometry, lambda xy: np.column_stack(mercator(xy[:, 0], xy[:, 1])))


def _unwrap(geometry, centre_lon: float):
    """A country across 180° (Russia's Chukotka, the Aleutians, Fiji) in one piece about the map:
    each part moved by 360° where that brings it nearer the map's centre."""
    west, _, east, _ = geometry.bounds
    if east - west <= 180:
        return geometry
    parts = []
    for part in shapely.get_parts(geometry):
        middle = (part.bounds[0] + part.bounds[2]) / 2
        shift = min((0, 360, -360), key=lambda s: abs(middle + s - centre_lon))
        parts.append(shapely.transform(part, lambda xy, s=shift: xy + [s, 0]) if shift else part)
    return shapely.union_all(parts)


def plan_locator(frame, lons=(), lats=(), weights=None, countries=None) -> Locator | None:
    """The inset for a map of extent `frame` (frame_extent) whose events are at (lons, lats),
    `weights` events at each (one each by default).

    None when the map already shows the whole of every subject country, or
    shows no country at all (open sea).  `countries` is boundaries.load_countries()
    unless given (tests pass their own)."""
    if countries is None:
        from ..boundaries import load_countries

        countries = load_countries()
    x0, y0, x1, y1 = frame
    (west, east), (south, north) = to_lonlat([x0, x1], [y0, y1])
    view = box(west, south, east, north)
    lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    weights = np.ones(len(lons)) if weights is None else np.asarray(weights, dtype=float)
    inside = (lons >= west) & (lons <= east) & (lats >= south) & (lats <= north)
    chosen = _countries_of_events(countries, lons[inside], lats[inside], weights[inside])
    if not chosen:
        chosen = _country_most_shown(countries, view)
    if not chosen:
        return None
    rows = countries.iloc[chosen]
    subject = tuple(_project(_unwrap(g, (west + east) / 2)) for g in rows.geometry)
    sx0, sy0, sx1, sy1 = shapely.total_bounds(subject)
    if sx0 >= x0 and sy0 >= y0 and sx1 <= x1 and sy1 <= y1:
        return None  # the map shows the whole country: an inset would only repeat it
    bounds = (min(sx0, x0), min(sy0, y0), max(sx1, x1), max(sy1, y1))
    return Locator(tuple(rows["country_name"]), tuple(rows["country_code"]), tuple(frame), subject, bounds)


def _countries_of_events(countries, lons, lats, weights) -> list[int]:
    """Rows of the countries holding at least MIN_EVENT_SHARE of the events on land, most first."""
    if not len(lons):
        return []
    points, rows = countries.sindex.query(shapely.points(lons, lats), predicate="intersects")
    if not len(rows):
        return []
    points, first = np.unique(points, return_index=True)  # a point on a shared border counts once
    held = np.bincount(rows[first], weights=weights[points], minlength=len(countries))
    order = np.argsort(-held, kind="stable")
    return [int(i) for i in order[:MAX_COUNTRIES] if held[i] > 0 and held[i] >= MIN_EVENT_SHARE * held.sum()]


def _country_most_shown(countries, view) -> list[int]:
    """The country covering most of the map (by projected area), when no event says which."""
    rows = countries.sindex.query(view, predicate="intersects")
    if not len(rows):
        return []
    areas = [_project(shapely.intersection(countries.geometry.iloc[i], view)).area for i in rows]
    return [int(rows[int(np.argmax(areas))])]


def marks_px(figure, frame, width_px: float, height_px: float) -> list[tuple[float, float, float]]:
    """(x, y, radius) in map pixels from the top left of every mark drawn on the map, so an inset can avoid them.

    A choropleth covers the map with regions: one mark as large as the map."""
    x0, _, _, y1 = frame
    per_px = (frame[2] - x0) / width_px
    marks = []
    for trace in figure.data:
        if trace.type == "choroplethmap":
            return [(width_px / 2, height_px / 2, width_px + height_px)]
        if trace.type not in ("scattermap", "densitymap") or trace.lat is None:
            continue
        lats = np.asarray(trace.lat, dtype=float)
        keep = np.isfinite(lats)
        if not keep.any():
            continue  # a legend-only trace
        xs, ys = mercator(np.asarray(trace.lon, dtype=float)[keep], lats[keep])
        if trace.type == "densitymap":
            sizes = np.full(len(xs), 2.0 * (trace.radius or 30))
        else:
            size = trace.marker.size if trace.marker.size is not None else 6
            sizes = np.asarray(size, dtype=float)[keep] if np.ndim(size) else np.full(len(xs), float(size))
        marks += zip((xs - x0) / per_px, (y1 - ys) / per_px, sizes / 2)
    return marks


def areas_px(figure, frame, width_px: float):
    """The map's shaded areas (the control layer) in map pixels from the top left, as one shapely geometry, or None."""
    x0, _, _, y1 = frame
    per_px = (frame[2] - x0) / width_px
    shapes = []
    for layer in figure.layout.map.layers or ():
        if isinstance(layer.source, dict):
            shapes += [shapely.geometry.shape(f["geometry"]) for f in layer.source.get("features", []) if f.get("geometry")]
    if not shapes:
        return None
    projected = _project(shapely.union_all(shapes))
    return shapely.transform(projected, lambda xy: np.column_stack([(xy[:, 0] - x0) / per_px, (y1 - xy[:, 1]) / per_px]))


def inset_extent(locator: Locator, width_px: float, height_px: float) -> tuple[float, float, float, float]:
    """What the inset shows, projected: the subject and the frame with water around, in the inset's proportions."""
    x0, y0, x1, y1 = locator.bounds
    pad = PAD_SHARE * max(x1 - x0, y1 - y0)
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    per_px = max((x1 - x0) / width_px, (y1 - y0) / height_px)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - width_px / 2 * per_px, cy - height_px / 2 * per_px, cx + width_px / 2 * per_px, cy + height_px / 2 * per_px


def _context(extent, countries):
    """Every country in the inset's extent, projected and clipped to it (both sides of 180° when it reaches
    over), each apart so that their borders show."""
    x0, y0, x1, y1 = extent
    (west, east), (south, north) = to_lonlat([x0, x1], [y0, y1])
    pieces = []
    for shift in (0, 360, -360):
        window = box(west - shift, south, east - shift, north)
        rows = countries.sindex.query(window, predicate="intersects")
        for geometry in countries.geometry.iloc[rows]:
            piece = shapely.intersection(geometry, window)
            pieces.append(shapely.transform(piece, lambda xy, s=shift: xy + [s, 0]) if shift else piece)
    return shapely.clip_by_rect(_project(np.array(pieces, dtype=object)), *extent) if pieces else []


def _path(geometries, to_px) -> str:
    """An SVG path of (multi)polygons' rings, in pixels; the even-odd rule makes holes of inner rings."""
    commands = []
    for polygon in shapely.get_parts(shapely.get_parts(np.asarray(geometries, dtype=object))):  # collections hold multipolygons
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            xy = to_px(np.asarray(ring.coords))
            commands.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in xy) + "Z")
    return "".join(commands)


def locator_shapes(locator: Locator, anchor_x: float, anchor_y: float, width: float, height: float,
                   colours: dict, theme: str, unit: float = 1.0, countries=None) -> list[dict]:
    """The inset as plotly shapes: water, neighbours, the subject country, the frame.

    (anchor_x, anchor_y) is the inset's top-left corner in paper coordinates;
    every path is in pixels from it (plotly's pixel sizemode: y grows upwards)."""
    if countries is None:
        from ..boundaries import load_countries

        countries = load_countries()
    extent = inset_extent(locator, width, height)
    ex0, _, _, ey1 = extent
    per_px = (extent[2] - ex0) / width

    def to_px(xy):
        return np.column_stack([(xy[:, 0] - ex0) / per_px, (xy[:, 1] - ey1) / per_px])

    tolerance = SIMPLIFY_PX * per_px
    context = shapely.simplify(_context(extent, countries), tolerance)
    subject = shapely.simplify(shapely.clip_by_rect(np.array(locator.subject, dtype=object), *extent), tolerance)
    theme_colours = COLOURS[theme]
    border = {"color": colours["border"], "width": max(0.6 * unit, 0.5)}

    def shape(**fields) -> dict:
        return {"xref": "paper", "yref": "paper", "xsizemode": "pixel", "ysizemode": "pixel",
                "xanchor": anchor_x, "yanchor": anchor_y, "layer": "above", **fields}

    fx0, fy0, fx1, fy1 = locator.frame
    (px0, py0), (px1, py1) = to_px(np.array([[fx0, fy0], [fx1, fy1]]))
    grow = max(MIN_FRAME_PX * unit - (px1 - px0), MIN_FRAME_PX * unit - (py1 - py0), 0) / 2
    return [
        shape(name="locator-water", type="rect", x0=0, y0=-height, x1=width, y1=0, fillcolor=colours["water"], line={"color": colours["muted"], "width": max(unit, 0.5)}),
        shape(name="locator-countries", type="path", path=_path(context, to_px), fillcolor=colours["land"], line=border, fillrule="evenodd"),
        shape(name="locator-subject", type="path", path=_path(subject, to_px), fillcolor=theme_colours["country"], line={**border, "color": colours["text"]}, fillrule="evenodd"),
        # The map's extent, over everything; a frame too small to see is drawn at a visible size about its centre.
        shape(name="locator-frame", type="rect", x0=float(px0 - grow), y0=float(py0 - grow), x1=float(px1 + grow), y1=float(py1 + grow),
              line={"color": theme_colours["frame"], "width": max(2.5 * unit, 1.5)}, fillcolor="rgba(0,0,0,0)"),
    ]
