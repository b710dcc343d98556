"""Row checks: native-column text -> typed events, rejects and warnings.

Keep the event, flag the field.  Only what makes an event unusable rejects
its row: no date, no position (coordinates that cannot be used and a place
the gazetteer cannot find), no type where the format defines them.  A
problem in any other field loads the event with that field emptied (or
repaired, like a link written without https://) and a warning naming the
row, the column, the reason and the value; the event's `warnings` column
says the same in one line, for the record shown on the page.

Every check runs over whole columns (pandas/numpy), as real exports run to a
million rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..schema import ACLED_TAXONOMY, DATE_PRECISIONS, GEO_PRECISIONS, NATIVE_COLUMNS
from .dates import parse_dates
from .formats import INTER_CODES, INTER_WORDS
from .places import check_coordinates
from .problems import Problems, empty_table, to_number  # noqa: F401

PRECISION_WORDS = {
    "date_precision": {w: w for w in DATE_PRECISIONS} | {"1": "day", "2": "week", "3": "month", "4": "year"},
    "geo_precision": {w: w for w in GEO_PRECISIONS} | {"1": "town", "2": "near", "3": "region", "4": "country"},
}
# A link written without its scheme, as analysts paste them: t.me/..., www.example.org/...
BARE_LINK = r"(?i)^(?:www\.|t\.me/|x\.com/|twitter\.com/|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/)\S*$"
DATE_HELP = "expected e.g. 2025-01-20, 20 January 2025, 20-Jan-2025 or 1/20/2025"


def validate(frame: pd.DataFrame, *, known_types_only: bool, gazetteer=None, type_values=None, date_order=None):
    """Native-column text table -> (typed events with a warnings column, rejects, warnings).

    date_order: "dmy", "mdy", "ymd" or None (each date column proves its own),
    or {"event_date": ..., "report_date": ...} with the orders decided over a
    whole file read in chunks (ingest/stream.py); report_date's may be the
    DateOrderError the whole column raised."""
    orders = date_order if isinstance(date_order, dict) else {"event_date": date_order, "report_date": date_order}
    rejects, warns = Problems(frame), Problems(frame)
    for column in NATIVE_COLUMNS:
        frame[column] = _trimmed(frame[column].astype(str)) if column in frame else ""
    if "_geometry_problem" in frame:
        rejects.add(frame["_geometry_problem"] != "", "geometry", lambda r: r["_geometry_problem"], "_geometry_problem")

    for column in ("event_date", "event_type"):
        rejects.add(frame[column] == "", column, "required field is empty")
    dates = parse_dates(frame["event_date"], orders["event_date"], "event_date")
    rejects.add(dates.isna(), "event_date", f"not a date ({DATE_HELP})")
    out_of_range = ((dates.dt.year < 1900) | (dates > pd.Timestamp.now() + pd.Timedelta(days=1))).fillna(False)
    rejects.add(out_of_range, "event_date", "date is before 1900 or in the future")
    report_dates = _report_dates(frame["report_date"], orders["report_date"], warns)

    _check_types(frame, rejects, warns, known_types_only, type_values)
    for column, words in PRECISION_WORDS.items():
        # A handful of distinct words in a million rows: each is read once.
        codes, distinct = pd.factorize(frame[column], use_na_sentinel=False)
        text = pd.Series(distinct, dtype=frame[column].dtype).str.lower().str.replace(r"\.0$", "", regex=True)
        mapped = text.map(words)
        default = "day" if column == "date_precision" else "town"
        warns.add(((text != "") & mapped.isna()).to_numpy()[codes], column,
                  f"unknown {column.replace('_', ' ')}, read as {default} (use {', '.join(dict.fromkeys(words.values()))})")
        read_as = mapped.fillna(default)
        frame[column] = pd.Series(read_as.to_numpy()[codes], index=frame.index, dtype=read_as.dtype)
    fatalities = _fatalities(frame, warns)
    _check_links(frame, warns)
    _check_actor_codes(frame, warns)

    latitude, longitude = check_coordinates(frame, rejects, warns, gazetteer)

    empty_id = (frame["event_id"] == "").to_numpy()
    if empty_id.any():  # an id is needed to tell events apart, not to use one
        from .formats import content_ids

        warns.add(empty_id, "event_id", "no event_id; one was made from the row's content")
        frame.loc[empty_id, "event_id"] = content_ids(frame.loc[empty_id, NATIVE_COLUMNS].drop(columns="event_id"), "row")

    keep = ~rejects.bad
    warnings = warns.table()
    events = pd.DataFrame(
        {
            "event_id": frame["event_id"],
            "event_date": dates,
            "date_precision": frame["date_precision"],
            "event_type": frame["event_type"],
            "sub_event_type": frame["sub_event_type"],
            "actor1": frame["actor1"],
            "actor2": frame["actor2"],
            "place": frame["place"],
            "admin1": frame["admin1"],
            "country": frame["country"],
            "latitude": latitude,
            "longitude": longitude,
            "geo_precision": frame["geo_precision"],
            "fatalities": fatalities.astype("Int64"),
            "summary": frame["summary"],
            "source_name": frame["source_name"],
            "source_url": frame["source_url"],
            "report_date": report_dates,
            "warnings": "",
            "source_row": frame["_row"].astype("int64"),
        }
    )
    events = (events if keep.all() else events[keep]).reset_index(drop=True)  # no copy when nothing was rejected
    warnings = warnings[warnings["row"].isin(events["source_row"].to_numpy())].reset_index(drop=True)
    events = attach_warnings(events, warnings)
    return events, rejects.table(), warnings


def _trimmed(text: pd.Series) -> pd.Series:
    """_unquoted(text.str.strip()), each step skipped when every value's first
    and last byte show it would change nothing: a byte that can be part of
    white space (an ASCII control or space, or any non-ASCII byte) at either
    end, or an apostrophe first.  Two bytes a value are far cheaper to look at
    than a copy of the column (~0.3 CPU-s for a million rows)."""
    edges = _edge_bytes(text)
    if edges is None or any(((b <= 32) | (b >= 127)).any() for b in edges):
        return _unquoted(text.str.strip())
    return _unquoted(text) if (edges[0] == ord("'")).any() else text


def _edge_bytes(text: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """(first bytes, last bytes) of the non-empty values of an arrow-backed text column, else None."""
    if not (isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow"):
        return None
    array = pa.array(text.array)
    firsts, lasts = [np.zeros(0, np.uint8)], [np.zeros(0, np.uint8)]
    for chunk in array.chunks if isinstance(array, pa.ChunkedArray) else [array]:
        if not (pa.types.is_large_string(chunk.type) or pa.types.is_string(chunk.type)):
            return None
        _, offsets, data = chunk.buffers()
        offsets = np.frombuffer(offsets, dtype=np.int64 if pa.types.is_large_string(chunk.type) else np.int32)
        offsets = offsets[chunk.offset:chunk.offset + len(chunk) + 1]
        starts, ends = offsets[:-1], offsets[1:]
        given = ends > starts
        if given.any():
            data = np.frombuffer(data, dtype=np.uint8)
            firsts.append(data[starts[given]])
            lasts.append(data[ends[given] - 1])
    return np.concatenate(firsts), np.concatenate(lasts)


def _unquoted(text: pd.Series) -> pd.Series:
    """'=SUM(...) -> =SUM(...): the apostrophe our CSVs (and spreadsheets) put
    before a formula-like text is a marker, not part of it, as Excel reads it."""
    marked = text.str.startswith("'")
    if not marked.any():
        return text
    return text.where(~marked, text.str.replace(r"^'([=+\-@\t\r])", r"\1", regex=True))


def attach_warnings(events: pd.DataFrame, warnings: pd.DataFrame) -> pd.DataFrame:
    """The events' `warnings` column: "column: reason" per problem, "; " between them."""
    if not len(warnings):
        events["warnings"] = ""
        return events
    lines = (warnings["column"] + ": " + warnings["reason"]).groupby(warnings["row"]).agg("; ".join)
    events["warnings"] = events["source_row"].map(lines).fillna("").astype(str)
    return events


def _report_dates(text: pd.Series, date_order, warns: Problems) -> pd.Series:
    from .dates import DateOrderError

    try:
        if isinstance(date_order, DateOrderError):
            raise date_order
        dates = parse_dates(text, date_order, "report_date")
    except DateOrderError as error:  # not essential: left empty, and said
        warns.add(text != "", "report_date", f"left empty: {error}")
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    warns.add((text != "") & dates.isna(), "report_date", f"not a date, left empty ({DATE_HELP})")
    return dates


def _check_types(frame, rejects, warns, known_types_only, type_values):
    if type_values:  # a mapped file's own categories put onto the taxonomy
        frame["event_type"] = frame["event_type"].map(lambda v: type_values.get(v, (v, ""))[0])
    known = frame["event_type"].isin(list(ACLED_TAXONOMY))
    if known_types_only:
        from .formats import ACLED_2016_KEPT

        unknown = ~known & (frame["event_type"] != "") & ~frame["event_type"].isin(ACLED_2016_KEPT)
        rejects.add(
            unknown, "event_type",
            lambda rows: "unknown event type " + rows["event_type"].map(repr) + " (ACLED types: " + ", ".join(ACLED_TAXONOMY) + ")",
        )
    # Each distinct (type, sub-event type) pair looked up once, not a million joined strings.
    type_codes, types = pd.factorize(frame["event_type"], use_na_sentinel=False)
    sub_codes, subs = pd.factorize(frame["sub_event_type"], use_na_sentinel=False)
    pair_codes, pairs = pd.factorize(type_codes.astype(np.int64) * len(subs) + sub_codes)
    allowed = {(t, s) for t, subs_of_t in ACLED_TAXONOMY.items() for s in subs_of_t}
    valid = np.array([(types[p // len(subs)], subs[p % len(subs)]) in allowed for p in pairs], dtype=bool)[pair_codes]
    wrong = warns.add(
        known & (frame["sub_event_type"] != "") & ~valid, "sub_event_type",
        lambda rows: "not a sub-event type of " + rows["event_type"] + ", left empty",
    )
    frame.loc[wrong, "sub_event_type"] = ""


def _fatalities(frame, warns) -> pd.Series:
    text = frame["fatalities"]
    numbers = to_number(text)
    whole = numbers.notna() & (numbers >= 0) & (numbers % 1 == 0)
    warns.add((text != "") & ~whole, "fatalities", "not a whole number of 0 or more, left empty")
    # Beyond 2**53 a float cannot tell whole numbers apart, nor can Int64 hold them all.
    too_large = whole & (numbers > 2**53)
    warns.add(too_large, "fatalities", "too large a number, left empty")
    return numbers.where(whole & ~too_large)


def _check_links(frame, warns):
    url = frame["source_url"]
    given = (url != "").to_numpy()
    if not given.any():  # most exports have no links: nothing to look at
        return
    text = url[given]
    is_link = text.str.match(r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$")
    bare = ~is_link & text.str.match(BARE_LINK)
    rows = np.flatnonzero(given)
    mask = np.zeros(len(frame), dtype=bool)
    mask[rows[bare.to_numpy()]] = True
    if mask.any():
        warns.add(mask, "source_url", lambda chosen: "link without https://, read as https://" + chosen["source_url"])
        frame.loc[mask, "source_url"] = "https://" + url[mask]
    note = np.zeros(len(frame), dtype=bool)
    note[rows[(~is_link & ~bare).to_numpy()]] = True
    warns.add(note, "source_url", lambda chosen: "not a link, kept as a note: " + chosen["source_url"].str.slice(0, 200))
    frame.loc[note, "source_url"] = ""


def _check_actor_codes(frame, warns):
    for column in ("_inter1", "_inter2"):
        if column not in frame:
            continue
        code = frame[column].astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
        known = (code == "") | code.isin(list(INTER_CODES)) | code.str.lower().isin(INTER_WORDS)
        warns.add(~known, column.lstrip("_"), "unknown ACLED actor code (1-8 or State forces, Rebel groups, ...)", column)
