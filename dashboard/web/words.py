"""The view in words for the page: its title, the line under it and the source line.

The title is the open saved view's name, or else a short sentence from the
filters ("Explosions/Remote violence in Donetsk Oblast, 16–21 Jan 2025");
the line under it names every filter; the source line names the data's
publisher and date (Dataset.label, from <data>.meta.json or --source).
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

from ..boundaries import SHORT_ATTRIBUTION, admin1_index
from ..render.describe import describe_view
from ..view import ViewState, view_from_query
from .dates import show_day

MAX_NAMED = 2  # types or places named in a title; more are counted


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    try:
        return {code: entry.get("country_name") or code for code, entry in admin1_index().items()}
    except (OSError, ValueError):
        return {}


def day_range(first: dt.date, last: dt.date) -> str:
    """11–21 Jan 2025, 28 Jan – 3 Feb 2025, 11 Jan 2025 for one day."""
    if first == last:
        return show_day(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%b %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{show_day(first)} – {show_day(last)}"


def _named(values, noun: str) -> str:
    values = list(values)
    if len(values) <= MAX_NAMED:
        return " and ".join(values)
    return f"{len(values)} {noun}"


def title_sentence(view: ViewState, store) -> str:
    """A title from the filters: what, where, when."""
    bounds = store.bounds
    if view.types is None or set(view.types) >= set(bounds.types):
        what = "Events" if view.sub_types is None else _named(view.sub_types, "sub-types")
    elif not view.types:
        what = "No event types"
    else:
        what = _named([t for t in bounds.types if t in view.types], "event types")
    if view.text.strip():
        what += f" mentioning “{view.text.strip()}”"
    names = store.region_names
    if view.regions:
        where = " in " + _named([names.get(c, c) for c in view.regions], "regions")
    elif view.countries:
        where = " in " + _named([country_names().get(c, c) for c in view.countries], "countries")
    else:
        where = ""
    first, last = view.date_from or bounds.first_day, view.date_to or bounds.last_day
    return f"{what}{where}, {day_range(first, last)}"


def _comparable(view: ViewState) -> ViewState:
    # What makes a slide the same slide: not where the map was panned, the theme or presentation mode.
    return view.replace(present=False, theme="light", center_lat=None, center_lon=None, zoom=None)


def page_title(view: ViewState, store, saved_name=None, saved_query=None) -> str:
    """The saved view's name while its view is on screen; else the filters as a sentence."""
    if isinstance(saved_name, str) and saved_name.strip() and isinstance(saved_query, str):
        if _comparable(view_from_query(saved_query)[0]) == _comparable(view):
            return saved_name.strip()
    return title_sentence(view, store)


def filters_line(view: ViewState, store, count: int) -> str:
    """Every filter in words, without the count (the header shows it once, beside this line)."""
    words = describe_view(view, store, count)
    return words.split(" · ", 1)[1] if " · " in words else words


def source_text(data, view: ViewState) -> str:
    """Source: RFE/RL, 21 Jan 2025 · Boundaries: Natural Earth, geoBoundaries · Control line: DeepStateMap as of 20 Jan 2025."""
    parts = [f"Source: {data.label}" if data.label else "Source: not named"]
    parts.append(SHORT_ATTRIBUTION)
    if data.territory is not None and view.territory:
        bounds = data.store.bounds
        snapshot = data.territory.snapshot_on(view.date_to or bounds.last_day)
        parts.append(f"Control line: {data.territory.name}" + (f" as of {show_day(snapshot.date)}" if snapshot else ""))
    return " · ".join(parts)
