"""Date columns as analysts' files write them -> day-resolution timestamps.

Every pattern is matched with one vectorised regular expression over the
whole column, never value by value, so a million rows with mixed UTC offsets
take as long as a million plain ISO dates.

Forms read: ISO 8601 (with or without a time and an offset: the local day is
kept, as written), `20 January 2025`, `20 Jan 2025`, `20-Jan-2025`, `9-May-20`,
`January 20, 2025`, numbers with separators (`31-12-19`, `1/22/2014 12:00:00
AM`, `20.01.2025`, `2025/01/20`) and Excel serial day numbers (`45677`).

Day-first or month-first is decided per column, from the values: a first
number over 12 proves day-first, a second number over 12 proves month-first.
A column that proves neither while holding values such as 05/02/2014 is
refused (`DateOrderError`) unless the caller names the order: it is never
guessed, so a day is never swapped silently.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

DATE_ORDERS = ("dmy", "mdy", "ymd")
ORDER_WORDS = {"dmy": "day-month-year", "mdy": "month-day-year", "ymd": "year-month-day"}

# An optional time after the day: "T18:30", " 12:00:00 AM", "T05:00:00.123+05:00", "Z".
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)?)?"
_ISO = rf"^(?P<y>\d{{4}})-(?P<m>\d{{2}})-(?P<d>\d{{2}}){_TIME}$"
_NUMERIC = rf"^(?P<a>\d{{1,4}})[/.\-](?P<b>\d{{1,2}})[/.\-](?P<c>\d{{1,4}}){_TIME}$"
_DAY_MONTH_YEAR = rf"^(?P<d>\d{{1,2}})[ \-/.]+(?P<mon>[A-Za-z]{{3,9}})\.?[ \-/.,]+(?P<y>\d{{2}}|\d{{4}}){_TIME}$"
_MONTH_DAY_YEAR = rf"^(?P<mon>[A-Za-z]{{3,9}})\.?[ \-]+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?[ \-]+(?P<y>\d{{4}}){_TIME}$"
_SERIAL = r"^(?P<n>\d{5})(?:\.\d+)?$"

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
# Excel counts days from 1899-12-30 (its 1900 leap-year bug folded in); serials
# of five digits are 1927-05-18 .. 2173-10-14, and a year alone is never one.
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")


class DateOrderError(ValueError):
    """A column of dates whose day/month order the values do not prove; the message is for the user."""


def parse_dates(text: pd.Series, order: str | None = None, column: str = "event_date") -> pd.Series:
    """Text -> datetime64 days, NaT where no form fits.

    `order` ("dmy", "mdy" or "ymd") reads numeric dates so; without it the
    column's own values must prove the order, else DateOrderError.
    """
    # A million events fall on a few thousand days: each written form is read
    # once.  The distinct values keep the order they first appear in, so the
    # order's proof, and the examples a DateOrderError shows, are the same.
    codes, distinct = pd.factorize(text, use_na_sentinel=False)
    if len(distinct) == len(text):
        return _parse_dates(text, order, column)
    parsed = _parse_dates(pd.Series(distinct), order, column).to_numpy()
    return pd.Series(parsed[codes], index=text.index)


def _parse_dates(text: pd.Series, order: str | None, column: str) -> pd.Series:
    values = pc.utf8_trim_whitespace(_arrow_text(text))
    size = len(values)
    year, month, day, serial = (np.full(size, -1, dtype=np.int64) for _ in range(4))
    todo = _mask(pc.not_equal(values, "")).copy()

    def take(pattern):
        """The named groups of `pattern` (RE2, run by pyarrow over the whole column) where it matches a row still to do."""
        rows = np.flatnonzero(todo)
        if not len(rows):
            return rows, {}
        found = pc.extract_regex(_subset(values, rows), pattern)
        hit = np.asarray(found.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        rows = rows[hit]
        todo[rows] = False
        matched = found.filter(pa.array(hit))
        return rows, {matched.type.field(i).name: matched.field(i) for i in range(matched.type.num_fields)}

    # Plain ISO days, by far the most common form, in one strptime over the column.
    plain = _mask(pc.match_substring_regex(values, r"^\d{4}-\d{2}-\d{2}$")) & todo
    direct = np.full(size, np.datetime64("NaT"), dtype="datetime64[s]")
    if plain.any():
        rows = np.flatnonzero(plain)
        written = _subset(values, rows)
        stamps = pc.strptime(written, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls 2025-02-30 over into March: a day is real only if it reads back as written.
        real = _mask(pc.equal(pc.day(stamps), pc.cast(pc.utf8_slice_codeunits(written, 8, 10), pa.int64())))
        direct[rows[real]] = stamps.filter(pa.array(real)).to_numpy(zero_copy_only=False)
        todo &= ~plain
    rows, parts = take(_ISO)
    if len(rows):
        year[rows], month[rows], day[rows] = (_ints(parts[k]) for k in ("y", "m", "d"))
    for pattern in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR):
        rows, parts = take(pattern)
        if len(rows):
            names = pd.Series(pc.utf8_lower(parts["mon"]).to_numpy(zero_copy_only=False), dtype=object)
            month[rows] = names.map(MONTHS).fillna(-1).astype(np.int64).to_numpy()
            day[rows] = _ints(parts["d"])
            year[rows] = _full_year(_texts(parts["y"]))
    rows, parts = take(_NUMERIC)
    if len(rows):
        written = pd.Series(_subset(values, rows).to_numpy(zero_copy_only=False), dtype=object)
        year[rows], month[rows], day[rows] = _numeric_dates(pd.DataFrame({k: _texts(v) for k, v in parts.items()}), written, order, column)
    rows, parts = take(_SERIAL)
    if len(rows):
        serial[rows] = _ints(parts["n"])
    out = _assemble(year, month, day, serial, text.index)
    if plain.any():
        out[plain] = direct[plain]
    return out


def _subset(values: pa.Array, rows: np.ndarray) -> pa.Array:
    return values if len(rows) == len(values) else values.take(pa.array(rows))


def _mask(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _arrow_text(text: pd.Series) -> pa.Array:
    try:
        array = pa.array(text.array) if not pd.api.types.is_object_dtype(text) else pa.array(text.to_numpy(), type=pa.string(), from_pandas=True)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if pa.types.is_large_string(array.type) or pa.types.is_string(array.type):
            return array.cast(pa.string())
    except (pa.ArrowException, TypeError, ValueError):
        pass
    return pa.array(["" if v is None or v != v else str(v) for v in text], type=pa.string())


def _ints(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(values, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _texts(values: pa.Array) -> pd.Series:
    return pd.Series(values.to_numpy(zero_copy_only=False), dtype=object)


def _full_year(two_or_four: pd.Series) -> np.ndarray:
    """"20" -> 2020, "85" -> 1985 (Excel's and strptime's pivot: 00-68 are 20xx), "2020" -> 2020."""
    values = two_or_four.astype(np.int64).to_numpy()
    short = two_or_four.str.len().to_numpy() <= 2
    return np.where(short, np.where(values <= 68, 2000 + values, 1900 + values), values)


def _numeric_dates(parts, written, order, column):
    """(year, month, day) arrays for dates written as three numbers."""
    a, b, c = (parts[k].astype(np.int64).to_numpy() for k in ("a", "b", "c"))
    a_len, c_len = parts["a"].str.len().to_numpy(), parts["c"].str.len().to_numpy()
    y, m, d = np.full(len(a), -1), np.full(len(a), -1), np.full(len(a), -1)
    year_first = (a_len == 4) & (c_len <= 2)  # 2025/01/20: year-month-day is the only reading
    y[year_first], m[year_first], d[year_first] = a[year_first], b[year_first], c[year_first]
    rest = (a_len <= 2) & (c_len != 3)
    if rest.any():
        chosen = order or infer_order(a[rest], b[rest], written[rest], column)
        if chosen == "ymd":
            y[rest], m[rest], d[rest] = _full_year(parts["a"][rest]), b[rest], c[rest]
        else:
            first_is_day = chosen == "dmy"
            d[rest] = a[rest] if first_is_day else b[rest]
            m[rest] = b[rest] if first_is_day else a[rest]
            y[rest] = _full_year(parts["c"][rest])
    return y, m, d


def infer_order(first: np.ndarray, second: np.ndarray, samples: pd.Series, column: str = "event_date") -> str:
    """"dmy" or "mdy" for numeric dates, proved by the values, else DateOrderError."""
    # A value is proof only if the other number can be a month (20/20/2025 proves nothing).
    day_first = (first > 12) & (first <= 31) & (second >= 1) & (second <= 12)
    month_first = (second > 12) & (second <= 31) & (first >= 1) & (first <= 12)
    if day_first.any() and month_first.any():
        one = samples.to_numpy()[day_first][0]
        other = samples.to_numpy()[month_first][0]
        raise DateOrderError(
            f"the {column} column mixes day-first and month-first dates (e.g. {one!r} and {other!r}); "
            "correct the file, or pass --date-order dmy or mdy to read it one way and reject the rest."
        )
    if day_first.any():
        return "dmy"
    if month_first.any():
        return "mdy"
    ambiguous = (first != second) & (first >= 1) & (first <= 12) & (second >= 1) & (second <= 12)
    if ambiguous.any():
        shown = ", ".join(repr(s) for s in pd.unique(samples.to_numpy()[ambiguous])[:3])
        raise DateOrderError(
            f"the {column} column's dates could be day-first or month-first (e.g. {shown}) and none of its values "
            "settles which; pass --date-order dmy or --date-order mdy."
        )
    return "dmy"  # every value reads the same either way (e.g. 05/05/2025)


def _assemble(year, month, day, serial, index) -> pd.Series:
    ok = (year >= 1) & (year <= 9999) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    out = np.full(len(year), np.datetime64("NaT"), dtype="datetime64[D]")
    if ok.any():
        months = (year[ok] - 1970) * 12 + (month[ok] - 1)
        first = months.astype("datetime64[M]").astype("datetime64[D]")
        candidate = first + (day[ok] - 1)
        # 31 February overflows into March: not a date.
        real = candidate.astype("datetime64[M]") == first.astype("datetime64[M]")
        out[np.flatnonzero(ok)[real]] = candidate[real]
    from_serial = serial > 0
    if from_serial.any():
        out[from_serial] = EXCEL_EPOCH + serial[from_serial]
    return pd.Series(out.astype("datetime64[us]"), index=index)
