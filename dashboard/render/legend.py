"""The map's legend as plain entries: the page draws them beside the map, the exporter in its margin.

The legend never sits on the map.  `legend_entries` says what every mark,
circle and shade means for one view: the event types with their colours and
counts (the first `max_types`, then "…and N more"), the location-precision
key at the sizes drawn at this zoom, the dates' precision, the control layer
with what its shading means and the ground gained and lost, and the scale
of the Regions and Density views.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..schema import OTHER_COLOUR, OTHER_LABEL, PALETTE, type_colours
from ..store.contract import EventStore
from ..view import ViewState
from .clusters import mark_px
from .style import CHANGE_OPACITY

MAX_TYPES = 12
MAX_SWATCH_PX = 40


@dataclass(frozen=True)
class Entry:
    label: str
    colour: str | None = None
    shape: str = "circle"  # circle, ring (an area of known size), square (a shaded area), ramp, text
    size_px: float = 12.0  # the swatch as drawn on the map (capped at MAX_SWATCH_PX; `note` says the real size)
    opacity: float = 1.0
    event_type: str | None = None  # a type entry: clicking it toggles the type
    count: int | None = None
    active: bool = True
    note: str = ""
    ramp: tuple[str, ...] = ()


@dataclass
class Legend:
    groups: list[tuple[str, list[Entry]]] = field(default_factory=list)
    hidden_types: list[Entry] = field(default_factory=list)  # beyond max_types: "…and N more"

    def group(self, title: str) -> list[Entry]:
        return next((entries for name, entries in self.groups if name == title), [])


def type_entries(view: ViewState, store: EventStore) -> list[Entry]:
    """Every type of the data, most events first, with its colour, count and whether it is ticked."""
    counts = store.counts_by_type(view.replace(types=None, sub_types=None))
    colours = type_colours(store.bounds.types, store.custom_types)
    ticked = set(store.bounds.types if view.types is None else view.types)
    order = {t: i for i, t in enumerate(store.bounds.types)}
    ordered = sorted(store.bounds.types, key=lambda t: (-counts.get(t, 0), order[t]))
    return [
        Entry(t, colours[t], "circle", 12.0, 1.0, event_type=t, count=counts.get(t, 0), active=t in ticked)
        for t in ordered
    ]


def legend_entries(
    view: ViewState,
    store: EventStore,
    *,
    marks=None,
    zoom: float | None = None,
    territory: dict | None = None,
    scale_note: str = "",
    ramp: tuple[str, ...] = (),
    date_precisions: dict | None = None,
    max_types: int = MAX_TYPES,
) -> Legend:
    """The legend of one view.  marks: clusters.Marks of points mode; territory: render.territory.territory_legend."""
    legend = Legend()
    types = type_entries(view, store)
    palette_types = [e for e in types if e.colour != OTHER_COLOUR]
    other = [e for e in types if e.colour == OTHER_COLOUR]
    shown = palette_types[:max_types]
    legend.hidden_types = palette_types[max_types:] + other
    if other:
        shown.append(Entry(f"{OTHER_LABEL} ({len(other)} types)", OTHER_COLOUR, "circle", 12.0,
                           count=sum(e.count or 0 for e in other), note="one grey for the types beyond the palette's 12 colours"))
    legend.groups.append(("Event type", shown))
    if view.mode == "points":
        legend.groups.append(("Location precision", precision_entries(marks, zoom)))
    elif view.mode in ("density", "choropleth"):
        legend.groups.append(("Events per " + ("cell" if view.mode == "density" else "region"), [Entry(scale_note, shape="ramp", ramp=ramp)]))
    if date_precisions:
        text = " · ".join(f"{name} {count:,}" for name, count in date_precisions.items() if count)
        legend.groups.append(("Date precision (events known to the…)", [Entry(text, shape="text")]))
    if territory:
        legend.groups.append(("Control layer", control_entries(territory)))
    return legend


def precision_entries(marks, zoom: float | None, scale: float = 1.0) -> list[Entry]:
    """The precision key at the sizes drawn: marks by count, regions at their size, countries not drawn.

    The one source of these words: the page's legend and the export's both read it.  `scale`: the
    marks' enlargement (an export draws them 1.5x); a region circle is its ground size at `zoom`."""
    entries = [Entry(f"A place (or near it): {n:,} event{'s' if n != 1 else ''}", "#8c8c8c", "circle", float(mark_px(n)) * scale, 0.9)
               for n in (1, 10, 100)]
    label = "Only the region known: a circle of the region's size"
    if marks is not None and len(marks.regions) and zoom is not None:
        from .clusters import region_px

        first = marks.regions.iloc[0]
        px = float(region_px(first["radius_km"], first["latitude"], zoom))
        entries.append(Entry(
            label, "#8c8c8c", "ring", min(px, MAX_SWATCH_PX * scale), 0.35,
            note=f"{first['admin1_name']}: {first['radius_km']:,.0f} km radius, {px:,.0f} px at this zoom",
        ))
    else:
        entries.append(Entry(label, "#8c8c8c", "ring", 30.0 * scale, 0.35))
    country = marks.country_level if marks is not None else 0
    entries.append(Entry(
        f"Only the country known: not drawn ({country:,} event{'s' if country != 1 else ''})",
        None, "text",
    ))
    return entries


def control_entries(territory: dict) -> list[Entry]:
    entries = [Entry(territory["label"], territory["colour"], "square", 16.0, territory.get("opacity", 0.35))]
    if territory.get("gained_km2") is not None:
        span = f"{territory['from']:%-d %b} – {territory['to']:%-d %b %Y}"
        entries.append(Entry(f"Gained {span}: {territory['gained_km2']:,.1f} km²", territory["gained_colour"], "square", 16.0, CHANGE_OPACITY))
        entries.append(Entry(f"Lost {span}: {territory['lost_km2']:,.1f} km²", territory["lost_colour"], "square", 16.0, CHANGE_OPACITY))
    return entries


__all__ = ["Entry", "Legend", "legend_entries", "type_entries", "precision_entries", "control_entries", "PALETTE"]
