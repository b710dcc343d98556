"""The map: events as clustered points, regions or density over the offline basemap (MapLibre traces).

The basemap is a MapLibre style object (render/basemap.py) whose GeoJSON
files and glyphs are served by the app itself, so nothing is fetched from
outside; a user's own tiles or style URL (--basemap) or a local .pmtiles
file replaces its land and water.  The control layer is drawn beneath the
borders and names; events above everything.  The map carries no Plotly
legend: the legend sits beside the map (render/legend.py), and the
legend-only traces here are what the exporter's frame reads.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from .. import basemap as basemap_files
from ..boundaries import BOUNDARY_URLS
from ..schema import type_colours
from ..store.contract import EventStore
from ..view import ViewState
from .basemap import DATA_ANCHOR, basemap_style
from .clusters import SCREEN_PX, Marks, compute_marks
from .legend import precision_entries
from .plain import PlainFigure
from .points import add_point_traces
from .style import (
    DENSITY_MAX_CELLS,
    CHANGE_OPACITY,
    FONT,
    PAGE_MAP_SIZE,
    RAMPS,
    THEMES,
    control_colours,
    hover_text,
)


def fit_map_view(lons, lats, width_px: int = PAGE_MAP_SIZE[0], height_px: int = PAGE_MAP_SIZE[1]) -> tuple[float, float, float]:
    """Centre (lat, lon) and zoom that show every point, with a margin."""
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    keep = np.isfinite(lons) & np.isfinite(lats)
    if not keep.any():
        return 49.0, 32.0, 3.6  # Ukraine and its neighbours
    west, east = float(lons[keep].min()), float(lons[keep].max())
    south, north = float(lats[keep].min()), float(lats[keep].max())

    def mercator_y(lat):
        lat = max(min(lat, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    span_x = max(east - west, 0.5) / 360
    span_y = max(mercator_y(north) - mercator_y(south), 0.01) / (2 * math.pi)
    # MapLibre draws the world 512 px wide at zoom 0; keep a 30% margin so the
    # regions around the outermost events (choropleth, density) stay in view.
    zoom = min(math.log2(width_px * 0.7 / (512 * span_x)), math.log2(height_px * 0.7 / (512 * span_y)), 9)
    centre_y = (mercator_y(north) + mercator_y(south)) / 2
    centre_lat = math.degrees(2 * math.atan(math.exp(centre_y)) - math.pi / 2)
    return round(centre_lat, 4), round((west + east) / 2, 4), round(max(zoom, 1.0), 2)


def fit_store_extent(store: EventStore, width_px: int = PAGE_MAP_SIZE[0], height_px: int = PAGE_MAP_SIZE[1]):
    """fit_map_view for every event in the store."""
    return first_view(store, None, width_px, height_px)


def layers_extent(layers: list[dict] | None) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the GeoJSON in map layers (the control layer), or None."""
    xs, ys = [], []
    for layer in layers or []:
        source = layer.get("source")
        if isinstance(source, dict):
            for feature in source.get("features", []):
                geometry = feature.get("geometry") or {}
                if geometry.get("coordinates"):
                    flat = np.asarray(_flatten(geometry["coordinates"]), dtype=float)
                    if flat.size:
                        xs.extend(flat[:, 0]), ys.extend(flat[:, 1])
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def _flatten(coordinates) -> list:
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [coordinates[:2]]
    out = []
    for part in coordinates:
        out.extend(_flatten(part))
    return out


def first_view(store: EventStore, territory: list[dict] | None, width_px: int = PAGE_MAP_SIZE[0], height_px: int = PAGE_MAP_SIZE[1]):
    """The first view: every event and the whole control layer when one is drawn."""
    lons, lats = [], []
    for extent in (store.extent(), layers_extent(territory)):
        if extent is not None:
            west, south, east, north = extent
            lons += [west, east]
            lats += [south, north]
    return fit_map_view(lons, lats, width_px, height_px)


def territory_layers(geojson: dict | None, opacity: float = 0.35, change: dict | None = None, theme: str = "light") -> list[dict]:
    """The control layer in the theme's colours, drawn beneath the borders, the names and the events."""
    colours = control_colours(theme)
    layers = []
    if geojson:
        layers.append({"sourcetype": "geojson", "source": geojson, "type": "fill", "color": colours["occupied"], "opacity": opacity, "below": DATA_ANCHOR})
    if change:
        for kind in ("gained", "lost"):
            features = [f for f in change.get("features", []) if f.get("properties", {}).get("change") == kind]
            if features:
                layers.append({"sourcetype": "geojson", "source": {"type": "FeatureCollection", "features": features},
                               "type": "fill", "color": colours[kind], "opacity": CHANGE_OPACITY, "below": DATA_ANCHOR})
    return layers


def tiles_for(basemap: str | None) -> dict | None:
    """A user's basemap as the style's tiles: a local .pmtiles file or a {z}/{x}/{y} raster URL."""
    if basemap_files.is_local_pmtiles(basemap):
        return basemap_files.pmtiles_info(str(basemap))
    if basemap and "{z}" in basemap:
        return {"type": "raster", "url": basemap, "minzoom": 0, "maxzoom": 22, "vector_layers": []}
    return None


def map_figure(
    view: ViewState,
    store: EventStore,
    *,
    admin1_source: str = BOUNDARY_URLS["admin1"],
    territory: list[dict] | None = None,
    territory_label: str = "",
    basemap: str | None = None,
    selected_ids: tuple[str, ...] = (),
    scale: float = 1.0,
    width_px: int = PAGE_MAP_SIZE[0],
    height_px: int = PAGE_MAP_SIZE[1],
    notes: tuple[str, ...] = (),
    marks: Marks | None = None,
    legend_traces: bool = True,
    plain: bool = False,
) -> go.Figure | PlainFigure:
    """The map in the view's mode.  `scale` enlarges marks, lines and names (presentation, export).

    legend_traces: the legend-only traces the exporter's frame reads; the page,
    whose legend is beside the map, leaves them out (each trace is four more
    map sources for the browser to update on every change); plain: the figure as
    plain dicts (render/plain.py), as the page sends it."""
    colours = THEMES[view.theme]
    count = store.count(view)
    if view.center_lat is not None and view.zoom is not None:
        centre_lat, centre_lon, zoom = view.center_lat, view.center_lon, view.zoom
    else:
        centre_lat, centre_lon, zoom = first_view(store, territory, width_px, height_px)
    figure = PlainFigure()
    extra_notes = list(notes)
    if view.mode == "choropleth":
        _add_choropleth(figure, store, view, admin1_source)
        country_level = store.country_level_count(view)
        if country_level:
            extra_notes.append(f"{country_level:,} country-level event{'s are' if country_level != 1 else ' is'} counted in no region.")
    elif view.mode == "density":
        _add_density(figure, store, view, scale)
    else:
        # An export larger than any screen asks for the marks of all it shows.
        screen_px = (max(width_px, SCREEN_PX[0]), max(height_px, SCREEN_PX[1]))
        marks = marks if marks is not None else compute_marks(view, store, zoom, screen_px)
        add_point_traces(figure, marks, store, view.theme, zoom, scale, _selected(store, view, selected_ids))
    if count == 0:
        extra_notes.append("No events match these filters.")
    if legend_traces:
        _add_legend_traces(figure, view, store, territory_label, scale, marks, zoom)
    user_style = basemap if basemap and "{z}" not in basemap and not basemap_files.is_local_pmtiles(basemap) else None
    style = user_style or basemap_style(
        view.theme, centre=(centre_lat, centre_lon), zoom=zoom, size_px=(width_px, height_px),
        countries=store.bounds.countries, scale=scale, tiles=tiles_for(basemap),
    )
    figure.update_layout(
        map={"style": style, "center": {"lat": centre_lat, "lon": centre_lon}, "zoom": zoom,
             "layers": [{**layer, "below": ""} for layer in territory or []] if user_style else list(territory or [])},
        paper_bgcolor=colours["water"],
        plot_bgcolor=colours["water"],
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        font={"family": FONT, "color": colours["text"], "size": int(14 * scale)},
        showlegend=False,  # the legend is beside the map, never on it
        hoverlabel={"font": {"size": int(14 * scale), "family": FONT}, "align": "left"},
        uirevision="map",  # keeps the user's pan and zoom while filters and playback change the data
    )
    for index, text in enumerate(extra_notes):
        figure.add_annotation(
            text=hover_text(text), xref="paper", yref="paper", x=0.99, y=0.02 + 0.07 * index, xanchor="right", yanchor="bottom",
            showarrow=False, bgcolor=colours["paper"], bordercolor=colours["muted"], borderwidth=1, borderpad=6,
            font={"size": int(14 * scale), "color": colours["text"]},
        )
    return figure if plain else figure.to_figure()


def _selected(store, view, selected_ids):
    if not selected_ids:
        return None
    rows = store.records(view, columns=["event_id", "latitude", "longitude"])
    return rows[rows["event_id"].isin(selected_ids)]


def _add_legend_traces(figure, view, store, territory_label, scale, marks, zoom):
    """Legend-only traces (no points): what the exporter's frame lists, as the page's legend does."""
    def entry(name, colour, size, opacity=1.0, group=None, title=None, shape="circle"):
        figure.add_trace(dict(
            type="scattermap", lat=[None], lon=[None], mode="markers", marker={"size": size, "color": colour, "opacity": opacity},
            name=hover_text(name), hoverinfo="skip", legendgroup=group, legendgrouptitle={"text": title} if title else None,
            meta={"shape": shape},  # circle, ring or text: how the export's legend draws the symbol
        ))

    counts = store.counts_by_type(view)
    colours = type_colours(store.bounds.types, store.custom_types)
    for event_type in store.bounds.types:
        if counts.get(event_type):
            entry(event_type, colours[event_type], 14 * scale, group=event_type)
    if view.mode == "points":  # the page legend's words and sizes (render/legend.py), at this map's zoom and scale
        for e in precision_entries(marks, zoom, scale):
            label = f"{e.label} ({e.note})" if e.note else e.label
            entry(label, e.colour, e.size_px if e.colour else 0, e.opacity, "precision", "Location precision", e.shape)
    if territory_label:
        entry(territory_label, control_colours(view.theme)["occupied"], 16 * scale)


def _add_choropleth(figure, store, view, admin1_source):
    counts = store.counts_by_region(view)
    names = store.region_names
    figure.add_trace(dict(
        type="choroplethmap",
        geojson=admin1_source,
        featureidkey="properties.admin1_code",
        locations=counts["admin1_code"],
        z=counts["count"],
        customdata=np.column_stack([counts["admin1_code"], [hover_text(names.get(c, c)) for c in counts["admin1_code"]]]) if len(counts) else None,
        # From zero: a region with one event is still clearly shaded; most = most visible in either theme.
        colorscale=_scale(RAMPS[view.theme]),
        zmin=0,
        zmax=max(int(counts["count"].max()), 1) if len(counts) else 1,  # zmin alone is ignored
        marker={"opacity": 0.85, "line": {"width": 0.6, "color": THEMES[view.theme]["border"]}},
        colorbar=_count_colourbar(counts["count"].max() if len(counts) else 1),
        hovertemplate="%{customdata[1]} (%{customdata[0]}): %{z} events<extra></extra>",
        name="events per region", uid="choropleth",
    ))


def _add_density(figure, store, view, scale):
    """Events per grid cell on a log scale, so the few-event tail stays visible beside the busiest cells."""
    cells, size = store.grid_counts(view, DENSITY_MAX_CELLS)
    largest = max(int(cells["count"].max()), 1) if len(cells) else 1
    ticks = [v for v in (1, 10, 100, 1_000, 10_000, 100_000) if v <= max(largest, 10)]
    figure.add_trace(dict(
        type="densitymap",
        lat=cells["latitude"],
        lon=cells["longitude"],
        z=np.log10(cells["count"].to_numpy(dtype=float) + 1) if len(cells) else [],
        customdata=cells["count"],
        radius=max(8, int(14 * scale)),
        colorscale=_scale(RAMPS[view.theme]),
        zmin=0,
        zmax=math.log10(largest + 1),
        colorbar={"title": {"text": "events (log)"}, "thickness": 14, "tickvals": [math.log10(v + 1) for v in ticks], "ticktext": [f"{v:,}" for v in ticks]},
        hovertemplate="%{customdata:,} events in this cell<extra></extra>",
        name="density", uid="density",
    ))


def _scale(colours: list[str]) -> list:
    return [[i / (len(colours) - 1), c] for i, c in enumerate(colours)]


def _count_colourbar(largest) -> dict:
    # Whole numbers only: small counts get a tick per event instead of 1, 1, 2, 2, 3.
    bar = {"title": {"text": "events"}, "thickness": 14, "tickformat": ",d"}
    if largest <= 8:
        bar["dtick"] = 1
    return bar
