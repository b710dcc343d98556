"""The map: events as points, regions or density on the offline base (MapLibre traces).

Plotly's MapLibre traces on the "white-bg" style: no tiles, no glyphs, no
sprites, so nothing is fetched from outside.  Boundaries come from data/geo
as local GeoJSON layers, named by their URLs on the app's own origin
(fetched once and cached by the browser) so that figure responses stay
small; the exporter's renderer holds the same files under the same URLs.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ..boundaries import BOUNDARY_URLS
from ..schema import GEO_PRECISION_DESCRIPTIONS, type_colour
from ..store.contract import EventStore
from ..view import ViewState
from .style import (
    DENSITY_MAX_CELLS,
    FONT,
    HOVER_SUMMARY_CHARS,
    PAGE_MAP_SIZE,
    POINT_CAP,
    PRECISION_STYLE,
    TERRITORY_COLOUR,
    THEMES,
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
    extent = store.extent()
    if extent is None:
        return fit_map_view([], [], width_px, height_px)
    west, south, east, north = extent
    return fit_map_view([west, east], [south, north], width_px, height_px)


# The white-bg style paints everything white; a world-sized fill beneath the
# land gives the sea the theme's colour (dark in the dark theme).
WORLD = {
    "type": "Feature",
    "properties": {},
    "geometry": {"type": "Polygon", "coordinates": [[[-180, -85], [180, -85], [180, 85], [-180, 85], [-180, -85]]]},
}


def boundary_layers(
    countries_source, admin1_source, theme: str, scale: float = 1.0, territory: list[dict] | None = None, basemap: str | None = None
) -> list[dict]:
    """Map layers bottom to top: sea and land (or the user's tiles), the territorial layer, region and country lines."""
    colours = THEMES[theme]
    fill = lambda source, colour: {"sourcetype": "geojson", "source": source, "type": "fill", "color": colour, "below": "traces"}  # noqa: E731
    line = lambda source, colour, width: {  # noqa: E731
        "sourcetype": "geojson", "source": source, "type": "line", "color": colour, "line": {"width": width * scale}, "below": "traces"
    }
    if basemap and "{z}" in basemap:
        ground = [{"sourcetype": "raster", "source": [basemap], "below": "traces"}]
    elif basemap:
        ground = []  # a style URL: the style draws the ground
    else:
        ground = [fill(WORLD, colours["water"]), fill(countries_source, colours["land"])]
    return [
        *ground,
        *(territory or []),
        line(admin1_source, colours["region_line"], 0.8),
        line(countries_source, colours["border"], 1.6),
    ]


def territory_layers(geojson: dict | None, opacity: float = 0.35, change: dict | None = None) -> list[dict]:
    """The control layer, drawn beneath the boundary lines and the events."""
    layers = []
    if geojson:
        layers.append(
            {"sourcetype": "geojson", "source": geojson, "type": "fill", "color": TERRITORY_COLOUR, "opacity": opacity, "below": "traces"}
        )
    if change:
        for kind, colour in (("gained", "#e66101"), ("lost", "#5e3c99")):
            features = [f for f in change.get("features", []) if f.get("properties", {}).get("change") == kind]
            if features:
                layers.append(
                    {
                        "sourcetype": "geojson",
                        "source": {"type": "FeatureCollection", "features": features},
                        "type": "fill",
                        "color": colour,
                        "opacity": 0.75,
                        "below": "traces",
                    }
                )
    return layers


def map_figure(
    view: ViewState,
    store: EventStore,
    *,
    countries_source: str = BOUNDARY_URLS["countries"],
    admin1_source: str = BOUNDARY_URLS["admin1"],
    territory: list[dict] | None = None,
    territory_label: str = "",
    basemap: str | None = None,
    selected_ids: tuple[str, ...] = (),
    scale: float = 1.0,
    width_px: int = PAGE_MAP_SIZE[0],
    height_px: int = PAGE_MAP_SIZE[1],
    notes: tuple[str, ...] = (),
) -> go.Figure:
    """The map in the view's mode.  `scale` enlarges markers and lines (presentation, export)."""
    colours = THEMES[view.theme]
    count = store.count(view)
    # Plotly's validation deep-copies every array (~40 ms per call at the
    # point cap); these figures are built by code that tests check, so skip it.
    figure = go.Figure(_validate=False)
    extra_notes = list(notes)
    if view.mode == "choropleth":
        _add_choropleth(figure, store, view, admin1_source)
        country_level = store.country_level_count(view)
        if country_level:
            extra_notes.append(
                f"{country_level:,} country-level event{'s are' if country_level != 1 else ' is'} counted in no region."
            )
    elif view.mode == "density":
        cells, size = store.grid_counts(view, DENSITY_MAX_CELLS)
        figure.add_trace(
            dict(
                type="densitymap",
                lat=cells["latitude"],
                lon=cells["longitude"],
                z=cells["count"],
                radius=max(8, int(14 * scale)),
                colorscale="YlOrRd",
                colorbar={"title": {"text": "events"}, "thickness": 14},
                hovertemplate="%{z} events<extra></extra>",
                name="density",
            )
        )
        extra_notes.append(f"Events counted in {size:g}° cells.")
    else:
        shown = _add_points(figure, store, view, selected_ids, scale)
        if shown < count:
            extra_notes.append(
                f"Showing the {shown:,} most recent of {count:,} matching events. "
                "Narrow the filters, or use the Regions or Density view to see all."
            )
    if count == 0:
        extra_notes.append("No events match these filters.")
    if territory_label:
        # A legend entry for the control layer (MapLibre layers have none of their own).
        figure.add_trace(
            dict(
                type="scattermap",
                lat=[None], lon=[None], mode="markers", marker={"size": 16 * scale, "color": TERRITORY_COLOUR},
                name=hover_text(territory_label), hoverinfo="skip", legendrank=2000,
            )
        )

    if view.center_lat is not None and view.zoom is not None:
        centre_lat, centre_lon, zoom = view.center_lat, view.center_lon, view.zoom
    else:
        centre_lat, centre_lon, zoom = fit_store_extent(store, width_px, height_px)
    figure.update_layout(
        map={
            # Offline by default; a basemap style URL only when the user gives one.
            "style": basemap if basemap and "{z}" not in basemap else "white-bg",
            "center": {"lat": centre_lat, "lon": centre_lon},
            "zoom": zoom,
            "layers": boundary_layers(countries_source, admin1_source, view.theme, scale, territory, basemap),
        },
        paper_bgcolor=colours["water"],
        plot_bgcolor=colours["water"],
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        font={"family": FONT, "color": colours["text"], "size": int(14 * scale)},
        legend={
            "bgcolor": colours["paper"],
            "bordercolor": colours["muted"],
            "borderwidth": 1,
            "x": 0.01,
            "y": 0.99,
            "xanchor": "left",
            "yanchor": "top",
            "font": {"size": int(14 * scale)},
            "itemsizing": "constant",
        },
        showlegend=view.mode == "points" or bool(territory_label),
        hoverlabel={"font": {"size": int(14 * scale), "family": FONT}, "align": "left"},
        # Keeps the user's pan and zoom while filters and playback change the data.
        uirevision="map",
    )
    for index, text in enumerate(extra_notes):
        figure.add_annotation(
            text=hover_text(text),
            xref="paper",
            yref="paper",
            x=0.99,
            y=0.02 + 0.07 * index,
            xanchor="right",
            yanchor="bottom",
            showarrow=False,
            bgcolor=colours["paper"],
            bordercolor=colours["muted"],
            borderwidth=1,
            borderpad=6,
            font={"size": int(14 * scale), "color": colours["text"]},
        )
    return figure


def _add_points(figure, store, view, selected_ids, scale) -> int:
    points = store.points(view, POINT_CAP)
    custom_types = store.custom_types
    for event_type in store.bounds.types:
        rows = points[points["event_type"] == event_type]
        if rows.empty:
            continue
        sizes = np.array([PRECISION_STYLE.get(p, PRECISION_STYLE["town"])[0] for p in rows["geo_precision"]]) * scale
        opacity = np.array([PRECISION_STYLE.get(p, PRECISION_STYLE["town"])[1] for p in rows["geo_precision"]])
        region = np.where(rows["admin1_name"] != "", rows["admin1_name"], rows["country_code"])
        custom = np.column_stack(
            [
                rows["event_id"],
                rows["day"],
                [hover_text(s) for s in rows["sub_event_type"]],
                [hover_text(s) for s in rows["place"]],
                [hover_text(s) for s in region],
                [hover_text(s, HOVER_SUMMARY_CHARS) for s in rows["summary"]],
                rows["geo_precision"],
            ]
        ).astype(str)  # a fixed-width string array: Plotly copies it in one block, not item by item
        colour = type_colour(event_type, custom_types)
        # A legend-only twin at full opacity: the legend swatch of the data
        # trace would take the faint opacity of region-level markers.
        figure.add_trace(
            dict(
                type="scattermap",
                lat=[None], lon=[None], mode="markers", marker={"size": 14 * scale, "color": colour},
                name=hover_text(event_type), legendgroup=event_type, hoverinfo="skip",
            )
        )
        figure.add_trace(
            dict(
                type="scattermap",
                lat=rows["latitude"].round(4),
                lon=rows["longitude"].round(4),
                mode="markers",
                marker={"size": sizes.round(1), "color": colour, "opacity": opacity},
                name=hover_text(event_type),
                legendgroup=event_type,
                showlegend=False,
                customdata=custom,
                hovertemplate=(
                    "<b>%{customdata[1]}</b>  " + hover_text(event_type) + ": %{customdata[2]}<br>"
                    "%{customdata[3]}, %{customdata[4]} (precision: %{customdata[6]})<br>"
                    "%{customdata[5]}<extra></extra>"
                ),
            )
        )
    if selected_ids:
        chosen = points[points["event_id"].isin(selected_ids)]
        figure.add_trace(
            dict(
                type="scattermap",
                lat=chosen["latitude"],
                lon=chosen["longitude"],
                mode="markers",
                marker={"size": 26 * scale, "color": "#000000", "opacity": 0.9},
                name="selected",
                hoverinfo="skip",
                showlegend=False,
            )
        )
        # Draw the ring beneath the event markers so the colour stays visible.
        figure.data = (figure.data[-1],) + figure.data[:-1]
    _add_precision_legend(figure, store, scale)
    return len(points)


def _add_precision_legend(figure, store, scale):
    """Legend entries that explain marker size (no data, legend only)."""
    for precision in store.precisions:
        size, opacity = PRECISION_STYLE[precision]
        figure.add_trace(
            dict(
                type="scattermap",
                lat=[None],
                lon=[None],
                mode="markers",
                marker={"size": min(size, 24) * scale, "color": "#8c8c8c", "opacity": max(opacity, 0.45)},
                name=f"{precision}: {GEO_PRECISION_DESCRIPTIONS[precision]}",
                legendgroup="precision",
                legendgrouptitle={"text": "Location precision"},
                hoverinfo="skip",
            )
        )


def _add_choropleth(figure, store, view, admin1_source):
    theme = view.theme
    counts = store.counts_by_region(view)
    names = store.region_names
    figure.add_trace(
        dict(
                type="choroplethmap",
            geojson=admin1_source,
            featureidkey="properties.admin1_code",
            locations=counts["admin1_code"],
            z=counts["count"],
            customdata=np.column_stack([counts["admin1_code"], [hover_text(names.get(c, c)) for c in counts["admin1_code"]]])
            if len(counts)
            else None,
            # OrRd from zero: a region with one event is still clearly shaded.
            colorscale="OrRd",
            zmin=0,
            zmax=max(int(counts["count"].max()), 1) if len(counts) else 1,  # zmin alone is ignored
            marker={"opacity": 0.85, "line": {"width": 0.6, "color": THEMES[theme]["border"]}},
            colorbar=_count_colourbar(counts["count"].max() if len(counts) else 1),
            hovertemplate="%{customdata[1]} (%{customdata[0]}): %{z} events<extra></extra>",
            name="events per region",
        )
    )


def _count_colourbar(largest) -> dict:
    # Whole numbers only: small counts get a tick per event instead of 1, 1, 2, 2, 3.
    bar = {"title": {"text": "events"}, "thickness": 14, "tickformat": ",d"}
    if largest <= 8:
        bar["dtick"] = 1
    return bar


