"""Days as the page shows and reads them: "11 Jan 2025" everywhere, ISO accepted when typed.

Also the date slider's marks: as many as fit its width without touching,
at a step people read (days, weeks, months, years).
"""
from __future__ import annotations

import datetime as dt
import re

SLIDER_PX = 264  # the date slider's width in CSS pixels (assets/style.css: #date-slider)
THUMB_PX = 16  # Dash's slider keeps its thumbs inside the track: marks sit 8 px in from each end
CHAR_PX = 7.7  # the widest 12 px DejaVu Sans character of a label (digits 7.6, capitals up to 7.7)
GAP_PX = 12  # air between two marks
SPILL_PX = 12  # how far a mark may reach past the slider into its box's padding (.slider-box)

MONTHS = {m.lower(): i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


def show_day(day: dt.date) -> str:
    """The one date format of the page: 11 Jan 2025."""
    return f"{day.day} {day:%b %Y}"


def parse_day(text: str) -> dt.date:
    """A typed day: "11 Jan 2025", "11 January 2025", "Jan 11, 2025" or "2025-01-11". ValueError otherwise."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}(T.*)?", text):
        year, month, day = (int(x) for x in text[:10].split("T")[0].split("-"))
        return dt.date(year, month, day)
    words = re.findall(r"[A-Za-z]+|\d+", text)
    if len(words) == 3:
        numbers = [w for w in words if w.isdigit()]
        names = [w for w in words if not w.isdigit()]
        if len(names) == 1 and len(numbers) == 2 and names[0][:3].lower() in MONTHS:
            name = names[0].lower()
            month = MONTHS[name[:3]]
            if len(name) > 3 and not any(full.startswith(name) for full in _FULL_MONTHS):
                raise ValueError(text)
            day, year = (int(numbers[0]), int(numbers[1])) if len(numbers[1]) == 4 else (int(numbers[1]), int(numbers[0]))
            if len(str(year)) == 4:
                return dt.date(year, month, day)
    raise ValueError(text)


_FULL_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
                "sept"]


# ----------------------------------------------------------- slider marks


def _days(first: dt.date, last: dt.date, step: int):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=step)


def _mondays(first: dt.date, last: dt.date, weeks: int):
    day = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    while day <= last:
        yield day
        day += dt.timedelta(weeks=weeks)


def _months(first: dt.date, last: dt.date, months: int):
    index = first.year * 12 + first.month - 1
    if first.day != 1:
        index += 1
    index += (-index) % months  # months a multiple of the step from January: Jan, Apr, Jul, Oct for 3
    while (day := dt.date(index // 12, index % 12 + 1, 1)) <= last:
        yield day
        index += months


def _years(first: dt.date, last: dt.date, years: int):
    year = first.year + (0 if (first.month, first.day) == (1, 1) else 1)
    year += (-year) % years
    while (day := dt.date(year, 1, 1)) <= last:
        yield day
        year += years


def _day_label(day, previous):
    return f"{day.day} {day:%b}" if previous is None or previous.year == day.year else f"{day.day} {day:%b %Y}"


def _month_label(day, previous):
    return f"{day:%b %Y}" if previous is None or previous.year != day.year or day.month == 1 else f"{day:%b}"


def _year_label(day, previous):
    return f"{day.year}"


# (ticks, label) from the finest to the coarsest: the first whose marks fit is used.
CANDIDATES = (
    [(lambda f, l, n=n: _days(f, l, n), _day_label) for n in (1, 2, 3)]
    + [(lambda f, l, n=n: _mondays(f, l, n), _day_label) for n in (1, 2)]
    + [(lambda f, l, n=n: _months(f, l, n), _month_label) for n in (1, 2, 3, 6)]
    + [(lambda f, l, n=n: _years(f, l, n), _year_label) for n in (1, 2, 5, 10, 20, 50, 100)]
)


def label_px(text: str) -> float:
    # Spaces are half as wide as the rest; everything else counts as the widest.
    return sum(CHAR_PX / 2 if c == " " else CHAR_PX for c in text)


def mark_x(offset: int, span: int, width: float = SLIDER_PX) -> float:
    """Where Dash draws the mark of a value: inside the track by half a thumb at each end."""
    share = offset / span if span else 0
    return THUMB_PX / 2 + share * (width - THUMB_PX)


def _inside(offset: int, text: str, span: int, width: float) -> bool:
    x, w = mark_x(offset, span, width), label_px(text)
    return x - w / 2 >= -SPILL_PX and x + w / 2 <= width + SPILL_PX


ANCHOR_LEFT = {"transform": f"translateX(-{THUMB_PX // 2}px)"}  # the label starts at the slider's left end
ANCHOR_RIGHT = {"transform": f"translateX(calc(-100% + {THUMB_PX // 2}px))"}  # ends at its right end


def mark_box(offset: int, mark, span: int, width: float = SLIDER_PX) -> tuple[float, float]:
    """(left, right) of a mark's label: centred on its value, or anchored to an end."""
    x = mark_x(offset, span, width)
    text = mark["label"] if isinstance(mark, dict) else mark
    w = label_px(text)
    style = mark.get("style") if isinstance(mark, dict) else None
    if style == ANCHOR_LEFT:
        return x - THUMB_PX / 2, x - THUMB_PX / 2 + w
    if style == ANCHOR_RIGHT:
        return x + THUMB_PX / 2 - w, x + THUMB_PX / 2
    return x - w / 2, x + w / 2


def marks_fit(marks: dict, span: int, width: float = SLIDER_PX) -> bool:
    """No mark reaches out of the slider's box and no two touch."""
    boxes = sorted(mark_box(o, m, span, width) for o, m in marks.items())
    if any(left < -SPILL_PX or right > width + SPILL_PX for left, right in boxes):
        return False
    return all(b[0] - a[1] >= GAP_PX for a, b in zip(boxes, boxes[1:]))


def _labelled(days, first, label) -> dict:
    marks, previous = {}, None
    for day in days:
        marks[(day - first).days] = label(day, previous)
        previous = day
    return marks


def day_marks(first: dt.date, last: dt.date, width: float = SLIDER_PX) -> dict:
    """Slider marks {day offset: label}: the finest calendar step whose labels fit side by side.

    Two or more marks when any fit; none for a single day (the readout says it).
    """
    span = (last - first).days
    if span <= 0:
        return {}
    for ticks, label in CANDIDATES:
        days = list(ticks(first, last))
        if len(days) > width / (CHAR_PX * 3):
            continue  # far too many to fit: skip the labelling
        marks = _labelled(days, first, label)
        # A mark at the very end whose label would stick out is left off, not the whole step.
        days = [d for d in days if _inside((d - first).days, marks[(d - first).days], span, width)]
        marks = _labelled(days, first, label)
        if len(marks) >= 2 and marks_fit(marks, span, width):
            return marks
    # Nothing regular fits (a span of a day or two at most): the two ends, their labels anchored inside.
    for start, end in ((show_day(first), show_day(last)), (f"{first.day} {first:%b}", f"{last.day} {last:%b}")):
        ends = {0: {"label": start, "style": ANCHOR_LEFT}, span: {"label": end, "style": ANCHOR_RIGHT}}
        if marks_fit(ends, span, width):
            return ends
    return {}
