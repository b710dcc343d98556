"""One table of the page's controls: each widget, the part of the view it sets, and how.

Adding a filter is one `Control` here plus its widget in layout.py: the
callback's inputs and outputs, `controls_from_view` and `view_from_controls`
are all derived from `CONTROLS`.  Reading a control also validates it: a
crafted or out-of-range value (the browser sends whatever it likes) falls
back to the default with a notice, never an error.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Callable

from ..view import DEFAULT_VIEW, MAP_MODES, THEMES, DataBounds, ViewState
from .dates import parse_day, show_day

MAX_TEXT = 200
MAX_LIST = 500  # values in one multi-select: more is not a person choosing


class Invalid(ValueError):
    """A control's value that cannot be read; the message says why."""


@dataclass(frozen=True)
class Control:
    id: str  # the component's id in layout.py
    to_widget: Callable[[ViewState, DataBounds], Any]  # the value the widget shows for a view
    from_widget: Callable[[Any, DataBounds], dict]  # the view's fields set by a value (raises Invalid)
    label: str  # for notices: "Ignored <label> ...: reason"
    prop: str = "value"
    follows_trigger: bool = False  # read only when it is the control that changed (the slider mirrors the dates)


# ------------------------------------------------------------- readers


def _strings(value, label: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"{label}: expected a list of names")
    if len(value) > MAX_LIST:
        raise Invalid(f"{label}: more than {MAX_LIST} values")
    return list(value)


def _day(value, label: str) -> dt.date | None:
    """A date input's text: "20 Jan 2025" as the page shows it, or ISO 2025-01-20 as people paste it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise Invalid(f"{label}: expected a date like 20 Jan 2025")
    try:
        return parse_day(value[:40])
    except ValueError:
        raise Invalid(f"{label}: {value[:40]!r} is not a date like 20 Jan 2025 or 2025-01-20") from None


def _choice(value, allowed, label: str):
    if value not in allowed:
        raise Invalid(f"{label}: expected one of {', '.join(map(str, allowed))}")
    return value


def _switch(value, label: str) -> bool:
    # A one-box checklist: ["on"] or [].
    return "on" in _strings(value, label)


def _subset(wanted: list[str], allowed: tuple[str, ...]) -> tuple[str, ...] | None:
    """Ticked values in the data's order; None when every one is ticked (the default: all)."""
    chosen = set(wanted)
    if allowed and chosen >= set(allowed):
        return None
    return tuple(v for v in allowed if v in chosen)


def _read_slider(value, bounds: DataBounds) -> dict:
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(_is_number(v) for v in value):
        raise Invalid("date slider: expected two day numbers")
    span = (bounds.last_day - bounds.first_day).days
    low, high = sorted(min(max(int(v), 0), span) for v in value)
    return {
        "date_from": bounds.first_day + dt.timedelta(days=low),
        "date_to": bounds.first_day + dt.timedelta(days=high),
    }


def _read_opacity(value, bounds: DataBounds) -> dict:
    if not _is_number(value) or not 0.05 <= value <= 1:
        raise Invalid("layer opacity: expected a number from 0.05 to 1")
    return {"territory_opacity": round(float(value), 2)}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _first(view: ViewState, bounds: DataBounds) -> dt.date:
    return view.date_from or bounds.first_day


def _last(view: ViewState, bounds: DataBounds) -> dt.date:
    return view.date_to or bounds.last_day


# --------------------------------------------------------------- table

CONTROLS: list[Control] = [
    Control(
        "date-from",
        lambda v, b: show_day(_first(v, b)),
        lambda x, b: {"date_from": _day(x, "start date")},
        "start date",
    ),
    Control(
        "date-to",
        lambda v, b: show_day(_last(v, b)),
        lambda x, b: {"date_to": _day(x, "end date")},
        "end date",
    ),
    Control(
        "date-slider",
        lambda v, b: [(_first(v, b) - b.first_day).days, (_last(v, b) - b.first_day).days],
        _read_slider,
        "date slider",
        follows_trigger=True,
    ),
    Control(
        "types",
        lambda v, b: list(b.types) if v.types is None else list(v.types),
        lambda x, b: {"types": _subset(_strings(x, "event types"), b.types)},
        "event types",
    ),
    Control(
        "sub-types",
        lambda v, b: list(b.sub_types) if v.sub_types is None else list(v.sub_types),
        lambda x, b: {"sub_types": _subset(_strings(x, "sub-types"), b.sub_types)},
        "sub-types",
    ),
    Control("countries", lambda v, b: list(v.countries), lambda x, b: {"countries": tuple(_strings(x, "countries"))}, "countries"),
    Control("regions", lambda v, b: list(v.regions), lambda x, b: {"regions": tuple(_strings(x, "regions"))}, "regions"),
    Control("actors", lambda v, b: list(v.actors), lambda x, b: {"actors": tuple(_strings(x, "actors"))}, "actors"),
    Control(
        "text",
        lambda v, b: v.text,
        lambda x, b: {"text": _text(x)},
        "search text",
    ),
    Control("mode", lambda v, b: v.mode, lambda x, b: {"mode": _choice(x, MAP_MODES, "map mode")}, "map mode"),
    Control("theme", lambda v, b: v.theme, lambda x, b: {"theme": _choice(x, THEMES, "theme")}, "theme"),
    Control("present", lambda v, b: ["on"] if v.present else [], lambda x, b: {"present": _switch(x, "presentation")}, "presentation"),
    Control(
        "territory-shown",
        lambda v, b: ["on"] if v.territory else [],
        lambda x, b: {"territory": _switch(x, "control layer")},
        "control layer",
    ),
    Control(
        "territory-position",
        lambda v, b: v.territory_position,
        lambda x, b: {"territory_position": _choice(x, ("", "inside", "outside"), "events against the line")},
        "events against the line",
    ),
    Control("territory-opacity", lambda v, b: v.territory_opacity, _read_opacity, "layer opacity"),
]
CONTROL_IDS = [c.id for c in CONTROLS]


def _text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid("search text: expected text")
    return value.strip()[:MAX_TEXT]


# ------------------------------------------------------------- derived


def controls_from_view(view: ViewState, bounds: DataBounds) -> dict[str, Any]:
    """Component id -> the value its widget shows for the view."""
    return {c.id: c.to_widget(view, bounds) for c in CONTROLS}


def view_from_controls(
    values: dict[str, Any], bounds: DataBounds, trigger: str | None = None, base: ViewState = DEFAULT_VIEW
) -> tuple[ViewState, list[str]]:
    """The view the widgets show, and a notice for each value that could not be read.

    `base` supplies what no control sets (the map's centre and zoom) and the
    fallback of a control whose value is invalid.  The control that changed
    (`trigger`) is read last, so the slider's new range wins over the date
    inputs it mirrors.
    """
    changes: dict = {}
    notices: list[str] = []
    order = [c for c in CONTROLS if c.id != trigger] + [c for c in CONTROLS if c.id == trigger]
    for control in order:
        if control.follows_trigger and control.id != trigger:
            continue
        if control.id not in values:
            continue
        try:
            changes.update(control.from_widget(values[control.id], bounds))
        except Invalid as error:
            notices.append(f"Ignored {error}.")
    view = base.replace(**changes)
    if view.date_from and view.date_to and view.date_from > view.date_to:
        view = view.replace(date_from=view.date_to, date_to=view.date_from)
        notices.append("The start date was after the end date; they were swapped.")
    return view, notices


def at_data_ends_as_default(view: ViewState, bounds: DataBounds) -> ViewState:
    """Dates at the data's ends are the default: links stay short and follow new data."""
    if view.date_from == bounds.first_day and view.date_to in (None, bounds.last_day):
        view = view.replace(date_from=None)
    if view.date_to == bounds.last_day and view.date_from is None:
        view = view.replace(date_to=None)
    return view
