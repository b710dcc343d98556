"""What the page shows besides the figures: the record panel, the table rows, notices.

Everything from the data is placed as text children, never as HTML, and a
source link is a link only for http(s) URLs.
"""
from __future__ import annotations

from pathlib import Path

from dash import html

from ..store.dataset import Dataset
from .layout import TABLE_COLUMNS, detail_placeholder

TABLE_FIELDS = [c for c, _, _ in TABLE_COLUMNS] + ["event_id"]


def detail_panel(record: dict | None):
    """Every field of one event, as text; the source link only for http(s) URLs."""
    if not record:
        return detail_placeholder()
    rows = []
    for key, value in record.items():
        rows.append(html.Dt(key.replace("_", " ")))
        if key == "source_url" and str(value).lower().startswith(("http://", "https://")):
            rows.append(html.Dd(html.A(str(value), href=str(value), target="_blank", rel="noopener noreferrer")))
        else:
            rows.append(html.Dd(str(value) if value not in (None, "") else "—"))
    return [html.H2("Event record"), html.Dl(rows, className="record")]


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
