"""Writing events and rejects out: CSV, GeoJSON and JSON records.

Every CSV the project writes goes through here.
"""
from __future__ import annotations

import csv
import io
import json

import pandas as pd


def write_rejects(result, path) -> None:
    """The rejected rows, one line per problem, as CSV (row numbers as in the report)."""
    result.rejects.to_csv(path, index=False)


def events_to_csv(events: pd.DataFrame) -> str:
    """Events as native CSV text (dates ISO, coordinates as stored)."""
    out = events.copy()
    for column in ("event_date", "report_date"):
        if column in out:
            out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d").fillna("")
    # The csv writer quotes a field holding a character of the line terminator,
    # so a text with a lone "\r" (which readers take for a line break) is only
    # quoted when lines end in "\r\n": then, and only then, they do.
    text = out.select_dtypes(exclude=["number", "datetime"])
    has_cr = any(text[c].astype(str).str.contains("\r", regex=False).any() for c in text.columns)
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n" if has_cr else "\n")
    return buffer.getvalue()


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
