"""The controller: from what changed on the page to the next view.

A pure function of its inputs, so it is tested directly; the Dash callback
in callbacks.py only gathers the values and hands back the result.
"""
from __future__ import annotations

import math

import numpy as np

from ..view import DEFAULT_VIEW, DataBounds, ViewState, fit_view_to_data, playback_start, step_range, view_from_query
from .controls import at_data_ends_as_default, view_from_controls

PLAY_MODES = ("day", "window", "cumulative")
PLAYBACK_TRIGGERS = ("player", "step-forward", "step-back", "play")
SLIDE_TRIGGERS = ("saved-list", "prev-view", "next-view")


def playback_settings(play_mode, window_days) -> tuple[str, int]:
    """The playback mode and window, valid whatever the page sent."""
    mode = play_mode if play_mode in PLAY_MODES else "day"
    days = window_days if isinstance(window_days, (int, float)) and not isinstance(window_days, bool) else 7
    days = int(min(max(days, 1), 365)) if math.isfinite(days) else 7
    return mode, days


def next_view(bounds: DataBounds, trigger, search, controls: dict, events: dict, current_query, playing: bool, saved: dict):
    """(view, notices, playing, saved) after `trigger` changed.

    controls: component id -> value, for every control in controls.CONTROLS.
    events: timeline_selection, map_click, relayout, play_mode, window_days.
    saved: options, value (the chosen saved view) and views (the file's list).
    """
    notices: list[str] = []
    current, _ = view_from_query(current_query or "")
    play_mode, window_days = playback_settings(events.get("play_mode"), events.get("window_days"))
    if trigger is None or trigger == "url":
        view, notices = view_from_query(search if isinstance(search, str) else "")
    elif trigger == "reset":
        view = DEFAULT_VIEW.replace(theme=current.theme, present=current.present, mode=current.mode)
    elif trigger in PLAYBACK_TRIGGERS:
        view = current
        if trigger == "play" and not playing:
            playing = True
            if view.date_to is None or view.date_to >= bounds.last_day:
                view = playback_start(view, bounds, play_mode, window_days)
        elif trigger == "play":
            playing = False
        else:
            view, at_end = step_range(view, bounds, -1 if trigger == "step-back" else 1, play_mode, window_days)
            if trigger == "player" and at_end:
                playing = False
            if trigger != "player":
                playing = False  # a manual step pauses playback
    elif trigger in SLIDE_TRIGGERS:
        view, notices, saved = _saved_view(trigger, current, saved)
    elif trigger == "exit-present":
        view = current.replace(present=False)
    elif trigger == "fly-to":
        view = fly_to(current, events.get("fly_to"))
    else:
        values = dict(controls)
        base = current
        if trigger == "timeline":
            values.update(_brushed_dates(events.get("timeline_selection")))
        if trigger == "map":
            region = _clicked_region(events.get("map_click"))
            if region and values.get("mode") == "choropleth":
                values["regions"] = [region]
        if trigger == "map-relayout":
            centre = map_centre(events.get("relayout"))
            if centre:
                base = base.replace(center_lat=centre["lat"], center_lon=centre["lon"], zoom=centre["zoom"])
        view, notices = view_from_controls(values, bounds, trigger, base)
    view, fit_notices = fit_view_to_data(view, bounds)
    return at_data_ends_as_default(view, bounds), notices + fit_notices, playing, saved


# How close the map comes to an event chosen in the table, by how precisely it is placed.
FLY_ZOOM = {"town": 9.0, "near": 8.0, "region": 6.0, "country": 4.0}


def fly_to(view: ViewState, target) -> ViewState:
    """The view centred on an event chosen in the table, zoomed in to its precision (never out)."""
    if not isinstance(target, dict):
        return view
    lat, lon = target.get("lat"), target.get("lon")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (lat, lon)):
        return view
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return view
    zoom = FLY_ZOOM.get(target.get("precision"), 8.0) if isinstance(target.get("precision"), str) else 8.0
    if view.zoom is not None and view.zoom > zoom and view.zoom <= 22:
        zoom = view.zoom
    return view.replace(center_lat=round(lat, 4), center_lon=round(lon, 4), zoom=zoom)


def _saved_view(trigger, current: ViewState, saved: dict):
    # The file is the source of truth: the list on the page may not have loaded yet.
    views = [v for v in saved.get("views") or [] if isinstance(v, dict) and isinstance(v.get("name"), str)]
    options = [o for o in saved.get("options") or [] if isinstance(o, dict) and isinstance(o.get("value"), str)]
    names = [v["name"] for v in views] or [o["value"] for o in options]
    chosen = saved.get("value") if isinstance(saved.get("value"), str) else None
    if trigger != "saved-list" and names:
        position = names.index(chosen) if chosen in names else -1
        position = (position + (1 if trigger == "next-view" else -1)) % len(names)
        chosen = names[position]
    query = next((v.get("query", "") for v in views if v["name"] == chosen), None)
    notices: list[str] = []
    if query is None:
        view = current
    else:
        view, notices = view_from_query(str(query))
        view = view.replace(present=current.present or view.present)
    return view, notices, {**saved, "value": chosen}


def _brushed_dates(selection) -> dict:
    """The timeline's brushed range as the two date inputs' values, each end to the nearest day."""
    try:
        start, end = selection["range"]["x"][:2]
        return {"date-from": _round_day(start), "date-to": _round_day(end)}
    except (TypeError, KeyError, ValueError, IndexError):
        return {}


def _round_day(value) -> str:
    # A brushed range ends mid-day; each end is taken to the nearest day.
    stamp = np.datetime64(str(value).replace(" ", "T")[:19])
    return str((stamp + np.timedelta64(12, "h")).astype("datetime64[D]"))


def _clicked_region(click) -> str | None:
    try:
        location = (click.get("points") or [{}])[0].get("location")
    except (AttributeError, TypeError, IndexError):
        return None
    return location if isinstance(location, str) else None


def map_centre(relayout) -> dict | None:
    """The map's centre and zoom after a pan or zoom; None for anything else (hover, resize)."""
    if not isinstance(relayout, dict) or "map.center" not in relayout:
        return None
    centre = relayout.get("map.center")
    zoom = relayout.get("map.zoom")
    if not isinstance(centre, dict):
        return None
    lat, lon = centre.get("lat"), centre.get("lon")
    if isinstance(lon, (int, float)) and not isinstance(lon, bool) and math.isfinite(lon):
        lon = (lon + 180) % 360 - 180  # a pan across the antimeridian reports 190° for -170°
    numbers = [x for x in (lat, lon, zoom) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)]
    if len(numbers) != 3 or not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 <= zoom <= 22):
        return None
    return {"lat": round(lat, 4), "lon": round(lon, 4), "zoom": round(zoom, 2)}

