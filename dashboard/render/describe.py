"""The view in words: the summary line, titles of exports, the source line."""
from __future__ import annotations

from ..boundaries import SHORT_ATTRIBUTION
from ..store.contract import EventStore
from ..view import ViewState

def describe_view(view: ViewState, store: EventStore, count: int) -> str:
    """The filters in plain words, for the summary line, titles and exports."""
    first, last = view.date_from or store.bounds.first_day, view.date_to or store.bounds.last_day
    dates = first.strftime("%-d %b %Y") if first == last else f"{first.strftime('%-d %b %Y')} – {last.strftime('%-d %b %Y')}"
    if view.types is None or set(view.types) >= set(store.bounds.types):
        kinds = "all event types"
    elif not view.types:
        kinds = "no event types"
    else:
        kinds = ", ".join(t for t in store.bounds.types if t in view.types)
    parts = [f"{count:,} of {store.total:,} events", dates, kinds]
    if view.sub_types:
        parts.append("sub-types: " + ", ".join(view.sub_types))
    if view.countries:
        parts.append("in " + ", ".join(view.countries))
    if view.regions:
        names = store.region_names
        parts.append("regions: " + ", ".join(f"{names.get(c, c)} ({c})" for c in view.regions))
    if view.actors:
        parts.append("actors: " + ", ".join(view.actors))
    if view.text.strip():
        parts.append(f'text "{view.text.strip()}"')
    if view.territory_position:
        parts.append(f"{view.territory_position} the control line")
    return " · ".join(parts)


def source_line(data, view: ViewState) -> str:
    """Where the data comes from, for the title band (`data` is a store.dataset.Dataset)."""
    bounds = data.store.bounds
    parts = [f"Events: {data.label} (to {bounds.last_day:%-d %b %Y})", SHORT_ATTRIBUTION]
    if data.territory is not None and view.territory:
        snapshot = data.territory.snapshot_on(view.date_to or bounds.last_day)
        parts.append(f"Control line: {data.territory.name}" + (f" as of {snapshot.date:%-d %b %Y}" if snapshot else ""))
    return " · ".join(parts)
