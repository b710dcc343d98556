"""Writing events and problem tables out: CSV, GeoJSON and JSON records.

Every CSV the project writes goes through here, and every one is safe to
open in a spreadsheet: a text cell beginning with =, +, -, @, a tab or a
carriage return would be run as a formula (CSV injection), so it is written
with a leading apostrophe, as OWASP advises.  Numbers are written as
numbers: -3.5 stays -3.5, in a numeric column or a text one.
"""
from __future__ import annotations

import csv
import io
import json

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"  # -3.5 is a number to a spreadsheet, not a formula


def neutralise(text: pd.Series) -> pd.Series:
    """Text cells that a spreadsheet would take for a formula, prefixed with '."""
    values = text.astype(object).where(text.notna(), "").astype(str)
    risky = values.str.startswith(FORMULA_START)
    if risky.any():
        risky &= ~values.str.match(PLAIN_NUMBER)
    return values.where(~risky, "'" + values)


def _safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column]):
            out[column] = neutralise(out[column])
    return out


def to_csv_text(frame: pd.DataFrame) -> str:
    """Any table as CSV text, formula-safe."""
    out = _safe_frame(frame)
    # The csv writer quotes a field holding a character of the line terminator,
    # so a text with a lone "\r" (which readers take for a line break) is only
    # quoted when lines end in "\r\n": then, and only then, they do.
    text = out.select_dtypes(exclude=["number", "datetime"])
    has_cr = any(text[c].astype(str).str.contains("\r", regex=False).any() for c in text.columns)
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n" if has_cr else "\n")
    return buffer.getvalue()


def write_problems(table: pd.DataFrame, path) -> None:
    """Rejects or warnings (row, column, reason, value), one line per problem."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(to_csv_text(table[["row", "column", "reason", "value"]]))


def write_rejects(result, path) -> None:
    """The rejected rows, one line per problem, as CSV (row numbers as in the report)."""
    write_problems(result.rejects, path)


def write_warnings(result, path) -> None:
    """The warned fields of loaded rows, one line per problem, as CSV."""
    write_problems(result.warnings, path)


def events_to_csv(events: pd.DataFrame) -> str:
    """Events as native CSV text (dates ISO, coordinates as stored), formula-safe."""
    out = events.copy()
    for column in ("event_date", "report_date"):
        if column in out:
            out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d").fillna("")
    return to_csv_text(out)


def events_to_geojson(events: pd.DataFrame) -> str:
    features = []
    for record in json.loads(events_to_records_json(events)):
        lon, lat = record.get("longitude"), record.get("latitude")
        features.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": record}
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def events_to_records_json(events: pd.DataFrame) -> str:
    out = events.copy()
    for column in ("event_date", "report_date"):
        if column in out:
            out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d")
    return out.to_json(orient="records", force_ascii=False)
