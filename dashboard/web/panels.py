"""What the page shows besides the figures: the record panel, the table rows, notices.

Everything from the data is placed as text children, never as HTML, and a
source link is a link only for http(s) URLs.

The record panel is for reading: a headline (type, place, date with its
precision), the summary, the source as a link, data notes, other events at
the same place, and the rest under "Details" with human labels.
"""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from dash import html

from ..schema import display_text
from ..store.dataset import Dataset
from ..view import ViewState
from .dates import show_day
from .layout import TABLE_COLUMNS, detail_placeholder

RECORD_TEXT_CHARS = 4_000  # a record panel shows whole summaries; beyond this a field is a data error

TABLE_FIELDS = [c for c, _, _ in TABLE_COLUMNS] + ["event_id"]
SAME_PLACE_LIMIT = 8  # other events at the same coordinates listed in the record
SAME_PLACE_COLUMNS = ["event_id", "event_date", "event_type", "sub_event_type", "summary", "latitude", "longitude"]

# Columns the panel places itself, or that only the pipeline needs.
SHOWN_ELSEWHERE = {
    "event_type", "sub_event_type", "place", "admin1", "admin1_name", "admin1_code", "country", "country_code", "event_date",
    "date_precision", "geo_precision", "summary", "source_name", "source_url", "warnings", "latitude", "longitude",
    "event_id", "source_file", "source_row", "join_note", "territory_position",
}
DETAIL_LABELS = {"actor1": "Actor", "actor2": "Other actor", "fatalities": "Fatalities", "report_date": "Reported",
                 "notes": "Notes", "tags": "Tags", "interaction": "Interaction"}
PLACE_PRECISION = {
    "town": "at the place named",
    "near": "near the place named",
    "region": "somewhere in the region",
    "country": "somewhere in the country",
}


def _text(value) -> str:
    """A field as text, or "" for what is not a value (None, NaN, NaT, empty)."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    text = str(value).strip()
    return "" if text in ("NaT", "nan", "None", "<NA>") else text


def shown(value, limit: int = RECORD_TEXT_CHARS) -> str:
    """A field as the record panel shows it: schema.display_text (bidi controls removed, long runs broken, capped)."""
    return display_text(_text(value), limit)


def _day(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(_text(value)[:10])
    except ValueError:
        return None


def dated(record: dict) -> str:
    """The event's date with its precision: 20 Jan 2025, week of 20 Jan 2025, Jan 2025, 2025."""
    day = _day(record.get("event_date"))
    if day is None:
        return "date unknown"
    precision = _text(record.get("date_precision")) or "day"
    if precision == "week":
        return f"week of {show_day(day)}"
    if precision == "month":
        return f"{day:%b %Y}"
    if precision == "year":
        return f"{day.year}"
    return show_day(day)


def placed(record: dict) -> str:
    """Kazan, Republic of Tatarstan, Russia -- or 'near Pokrovsk, ...' / 'somewhere in Kursk, Russia'."""
    place = _text(record.get("place"))
    region = _text(record.get("admin1_name")) or _text(record.get("admin1"))
    country = _text(record.get("country")) or _text(record.get("country_code"))
    precision = _text(record.get("geo_precision"))
    if precision == "country":
        return f"somewhere in {country or place or 'an unknown country'}"
    if precision == "region":
        return f"somewhere in {', '.join(p for p in (region or place, country) if p)}"
    names = [p for p in (place, region if region != place else "", country) if p]
    return ("near " if precision == "near" else "") + ", ".join(names)


def _link(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def _source(record: dict, data: Dataset | None):
    name = _text(record.get("source_name")) or "source not named"
    url = _text(record.get("source_url"))
    children = [html.Span("Source: ", className="label")]
    name = shown(name)
    children.append(html.A(name, href=url, target="_blank", rel="noopener noreferrer") if _link(url) else html.Span(name))
    if not _link(url) and url:
        children.append(html.Span(f" ({shown(url)})", className="muted"))  # shown, not linked: not http(s)
    parts = [html.P(children, className="record-source")]
    if data is not None and (data.title or data.label):
        dataset = data.title or data.label
        ref = html.A(dataset, href=data.url, target="_blank", rel="noopener noreferrer") if _link(data.url or "") else html.Span(dataset)
        parts.append(html.P([html.Span("Dataset: ", className="label"), ref] + ([f" ({data.label})"] if data.title and data.label else []),
                            className="record-dataset small"))
    return parts


def _notes(record: dict):
    warnings = record.get("warnings")
    if isinstance(warnings, (list, tuple)):
        notes = [_text(w) for w in warnings if _text(w)]
    else:
        notes = [n.strip() for n in _text(warnings).replace("\n", ";").split(";") if n.strip()]
    if not notes:
        return []
    return [html.Div([html.H3("Data notes"), html.Ul([html.Li(shown(n)) for n in notes])], className="record-notes")]


def _details(record: dict):
    rows = []

    def add(label, value):
        if value:
            rows.extend([html.Dt(label), html.Dd(shown(value))])

    actors = [_text(record.get("actor1")), _text(record.get("actor2"))]
    add("Actors", " against ".join(a for a in actors if a))
    fatalities = _text(record.get("fatalities"))
    add("Fatalities", fatalities)
    reported = _day(record.get("report_date"))
    add("Reported", show_day(reported) if reported else "")
    add("Date precision", {"day": "the day", "week": "the week", "month": "the month", "year": "the year"}.get(_text(record.get("date_precision")), ""))
    add("Location precision", PLACE_PRECISION.get(_text(record.get("geo_precision")), _text(record.get("geo_precision"))))
    region, code = _text(record.get("admin1_name")), _text(record.get("admin1_code"))
    add("Region", f"{region} ({code})" if region and code else region or code)
    country, country_code = _text(record.get("country")), _text(record.get("country_code"))
    add("Country", f"{country} ({country_code})" if country and country_code and country != country_code else country or country_code)
    lat, lon = record.get("latitude"), record.get("longitude")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and math.isfinite(lat) and math.isfinite(lon):
        add("Coordinates", f"{lat:.4f}, {lon:.4f}")
    add("Placed", _text(record.get("join_note")))
    position = _text(record.get("territory_position"))
    add("Against the control line", position)
    for key, value in record.items():
        if key not in SHOWN_ELSEWHERE and key not in ("actor1", "actor2", "fatalities", "report_date"):
            add(DETAIL_LABELS.get(key, key.replace("_", " ").capitalize()), _text(value))
    add("Event ID", _text(record.get("event_id")))
    source_file, source_row = _text(record.get("source_file")), _text(record.get("source_row"))
    add("From", f"{source_file}, row {source_row}" if source_file and source_row else source_file)
    return html.Details([html.Summary("Details"), html.Dl(rows, className="record")], className="record-details")


def same_place(record: dict, store) -> list[dict]:
    """Other events at the same coordinates (4 decimals), newest first, asked of the store through the contract."""
    lat, lon = record.get("latitude"), record.get("longitude")
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (lat, lon)):
        return []
    code, country = _text(record.get("admin1_code")), _text(record.get("country_code"))
    view = ViewState(regions=(code,)) if code else ViewState(countries=(country,)) if country else ViewState()
    records = store.records(view, columns=SAME_PLACE_COLUMNS)
    here = records[(records["latitude"].round(4) == round(lat, 4)) & (records["longitude"].round(4) == round(lon, 4))]
    here = here[here["event_id"] != record.get("event_id")]
    return here.head(SAME_PLACE_LIMIT).to_dict("records")


def _same_place_list(events: list[dict]):
    if not events:
        return []
    items = []
    for event in events:
        day = _day(str(event.get("event_date"))[:10])
        items.append(html.Li([html.Strong(show_day(day) if day else ""), f" · {shown(event.get('event_type'))}: ",
                              shown(event.get("summary"), 140)]))
    return [html.Div([html.H3(f"Also at this place ({len(events)}{'+' if len(events) >= SAME_PLACE_LIMIT else ''})"), html.Ul(items)],
                     className="record-same-place")]


def detail_panel(record: dict | None, data: Dataset | None = None):
    """One event for reading; every value as text, the source link only for http(s) URLs."""
    if not record:
        return detail_placeholder()
    kind = " · ".join(shown(t) for t in (_text(record.get("event_type")), _text(record.get("sub_event_type"))) if t) or "Event"
    headline = [
        html.H2(kind, className="record-type"),
        html.P([html.Span(shown(placed(record)) or "place unknown", className="record-place"), " · ", html.Span(dated(record), className="record-date")],
               className="record-where"),
    ]
    summary = shown(record.get("summary"))
    body = headline + ([html.P(summary, className="record-summary")] if summary else []) + _source(record, data)
    others = same_place(record, data.store) if data is not None else []
    return body + _notes(record) + _same_place_list(others) + [_details(record)]


def table_rows(records) -> list[dict]:
    table = records[TABLE_FIELDS].copy()
    table["event_date"] = table["event_date"].dt.strftime("%Y-%m-%d")
    return table.to_dict("records")


def load_notices(data: Dataset) -> list[str]:
    """What the page says at start: rows that did not load, and anything the loader wants known."""
    notices = list(data.notices)
    for report in data.reports:
        if report.rows_rejected:
            notices.append(
                f"{Path(report.source).name}: {report.rows_rejected:,} of {report.rows_read:,} rows were rejected and are not shown; "
                f"`python -m dashboard validate {report.source}` lists them with their reasons."
            )
    return notices
