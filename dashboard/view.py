"""The view: everything that defines what is on screen, as one small value.

It round-trips through the URL query string (`view_to_query` /
`view_from_query`), drives the callbacks, and is what the exporter takes, so
a snapshot or a shared link shows exactly what the screen showed.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

MAP_MODES = ("points", "choropleth", "density")
THEMES = ("light", "dark")


@dataclass(frozen=True)
class ViewState:
    date_from: dt.date | None = None  # None: the data's first day
    date_to: dt.date | None = None  # None: the data's last day
    types: tuple[str, ...] | None = None  # None: every type; () none ticked
    sub_types: tuple[str, ...] | None = None  # None: every sub-type of the ticked types
    countries: tuple[str, ...] = ()  # ISO alpha-2; () means any
    regions: tuple[str, ...] = ()  # ISO 3166-2 admin-1 codes; () means any
    actors: tuple[str, ...] = ()
    text: str = ""
    mode: str = "points"
    center_lat: float | None = None  # None: fit the data
    center_lon: float | None = None
    zoom: float | None = None
    theme: str = "light"
    present: bool = False
    territory: bool = True  # show the territorial layer where one is loaded
    territory_position: str = ""  # "", "inside", "outside": events against the line
    territory_opacity: float = 0.35

    def replace(self, **changes) -> "ViewState":
        return dataclasses.replace(self, **changes)


DEFAULT_VIEW = ViewState()
DEFAULT_OPACITY = DEFAULT_VIEW.territory_opacity

# URL parameter names, short and readable in a shared link.
_LIST_PARAMS = {"types": "type", "sub_types": "sub", "countries": "country", "regions": "region", "actors": "actor"}


def view_to_query(view: ViewState) -> str:
    """The view as a query string (no leading "?"); defaults are left out."""
    pairs: list[tuple[str, str]] = []
    if view.date_from:
        pairs.append(("from", view.date_from.isoformat()))
    if view.date_to:
        pairs.append(("to", view.date_to.isoformat()))
    for attribute, name in _LIST_PARAMS.items():
        values = getattr(view, attribute)
        if values is None:
            continue
        if attribute in ("types", "sub_types") and not values:
            pairs.append((name, ""))  # explicitly none ticked
        pairs.extend((name, value) for value in values)
    if view.text:
        pairs.append(("q", view.text))
    if view.mode != "points":
        pairs.append(("mode", view.mode))
    if view.center_lat is not None and view.center_lon is not None and view.zoom is not None:
        pairs.append(("at", f"{view.center_lat:.4f},{view.center_lon:.4f},{view.zoom:.2f}"))
    if view.theme != "light":
        pairs.append(("theme", view.theme))
    if view.present:
        pairs.append(("present", "1"))
    if not view.territory:
        pairs.append(("territory", "0"))
    if view.territory_position:
        pairs.append(("line", view.territory_position))
    if view.territory_opacity != DEFAULT_OPACITY:
        pairs.append(("opacity", f"{view.territory_opacity:g}"))
    return urlencode(pairs)


def view_from_query(query: str) -> tuple[ViewState, list[str]]:
    """Parse a query string (or a whole URL) into a view, never failing.

    A parameter that is malformed or unknown is dropped and named in the
    notices, so the page opens on a valid view and says what it ignored.
    Values are checked against the data later (`ViewState` knows no data).
    """
    if "://" in query or query.startswith("/"):
        query = urlsplit(query).query
    query = query.lstrip("?")
    params = parse_qs(query, keep_blank_values=True)
    notices: list[str] = []
    changes: dict = {}
    for name in ("from", "to"):
        if name in params:
            text = params.pop(name)[-1]
            try:
                changes["date_" + name] = dt.date.fromisoformat(text)
            except ValueError:
                notices.append(f"Ignored {name}={text!r}: not a date like 2025-01-20.")
    if changes.get("date_from") and changes.get("date_to") and changes["date_from"] > changes["date_to"]:
        changes["date_from"], changes["date_to"] = changes["date_to"], changes["date_from"]
        notices.append("The start date was after the end date; they were swapped.")
    for attribute, name in _LIST_PARAMS.items():
        if name in params:
            values = tuple(dict.fromkeys(v for v in params.pop(name) if v != ""))
            changes[attribute] = values
    if "q" in params:
        changes["text"] = params.pop("q")[-1][:200]
    _choice(params, "mode", MAP_MODES, changes, notices)
    _choice(params, "theme", THEMES, changes, notices)
    if "at" in params:
        text = params.pop("at")[-1]
        try:
            lat, lon, zoom = (float(x) for x in text.split(","))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 <= zoom <= 22) or not all(
                math.isfinite(x) for x in (lat, lon, zoom)
            ):
                raise ValueError
            changes.update(center_lat=lat, center_lon=lon, zoom=zoom)
        except ValueError:
            notices.append(f"Ignored at={text!r}: expected latitude,longitude,zoom.")
    for name, attribute in (("present", "present"), ("territory", "territory")):
        if name in params:
            text = params.pop(name)[-1]
            if text in ("1", "0", "true", "false"):
                changes[attribute] = text in ("1", "true")
            else:
                notices.append(f"Ignored {name}={text!r}: expected 1 or 0.")
    if "line" in params:
        text = params.pop("line")[-1]
        if text in ("", "inside", "outside"):
            changes["territory_position"] = text
        else:
            notices.append(f"Ignored line={text!r}: expected inside or outside.")
    if "opacity" in params:
        text = params.pop("opacity")[-1]
        try:
            opacity = round(float(text), 2)
            if not 0.05 <= opacity <= 1:
                raise ValueError
            changes["territory_opacity"] = opacity
        except ValueError:
            notices.append(f"Ignored opacity={text!r}: expected a number from 0.05 to 1.")
    for unknown in params:
        notices.append(f"Ignored unknown parameter {unknown!r}.")
    return DEFAULT_VIEW.replace(**changes), notices


def _choice(params, name, allowed, changes, notices):
    if name in params:
        text = params.pop(name)[-1]
        if text in allowed:
            changes[name] = text
        else:
            notices.append(f"Ignored {name}={text!r}: expected one of {', '.join(allowed)}.")


@dataclass(frozen=True)
class DataBounds:
    """What the data allows: the view is checked against it."""

    first_day: dt.date
    last_day: dt.date
    types: tuple[str, ...]
    sub_types: tuple[str, ...]
    countries: tuple[str, ...]
    regions: tuple[str, ...]
    actors: frozenset = field(default_factory=frozenset)


def fit_view_to_data(view: ViewState, bounds: DataBounds) -> tuple[ViewState, list[str]]:
    """Clamp dates to the data and drop values the data does not have, saying so."""
    notices: list[str] = []
    changes: dict = {}
    for attribute in ("date_from", "date_to"):
        day = getattr(view, attribute)
        if day is not None and not (bounds.first_day <= day <= bounds.last_day):
            clamped = min(max(day, bounds.first_day), bounds.last_day)
            changes[attribute] = clamped
            notices.append(
                f"{day.isoformat()} is outside the data ({bounds.first_day} to {bounds.last_day}); used {clamped}."
            )
    for attribute, allowed, label in (
        ("types", bounds.types, "event type"),
        ("sub_types", bounds.sub_types, "sub-event type"),
        ("countries", bounds.countries, "country"),
        ("regions", bounds.regions, "region"),
        ("actors", bounds.actors, "actor"),
    ):
        values = getattr(view, attribute)
        if not values:
            continue
        unknown = [v for v in values if v not in allowed]
        if unknown:
            changes[attribute] = tuple(v for v in values if v in allowed)
            if attribute in ("types", "sub_types") and not changes[attribute]:
                changes[attribute] = None  # nothing valid left: show all rather than nothing
            notices.append(f"Ignored unknown {label}: {', '.join(repr(v[:60]) for v in unknown)}.")
    return (view.replace(**changes) if changes else view), notices


def step_range(view: ViewState, bounds: DataBounds, step: int, play_mode: str = "day", window_days: int = 7) -> tuple[ViewState, bool]:
    """Move the view's end date by `step` days for playback.

    play_mode "day" shows one day, "window" the last `window_days` days,
    "cumulative" everything from the data's first day.  Returns the new view
    and whether the end of the data was reached (playback then stops).
    """
    end = view.date_to or bounds.last_day
    new_end = end + dt.timedelta(days=step)
    new_end = min(max(new_end, bounds.first_day), bounds.last_day)
    if play_mode == "cumulative":
        new_start = bounds.first_day
    elif play_mode == "window":
        new_start = max(new_end - dt.timedelta(days=max(int(window_days or 1), 1) - 1), bounds.first_day)
    else:
        new_start = new_end
    return view.replace(date_from=new_start, date_to=new_end), new_end >= bounds.last_day


def playback_start(view: ViewState, bounds: DataBounds, play_mode: str = "day", window_days: int = 7) -> ViewState:
    """Where Play begins: the first frame of the data, for the chosen mode."""
    start_view = view.replace(date_to=bounds.first_day - dt.timedelta(days=1))
    return step_range(start_view, bounds, 1, play_mode, window_days)[0]
