"""Load + validate: event files in the formats analysts have -> native events.

Every row read ends up either in `LoadResult.events` or in `LoadResult.rejects`
(with its row number, the column and the reason): rows_read == loaded +
rejected, always.  A file that cannot be read at all raises `LoadError` with
one sentence for the user.

Row numbers count data rows from 1, the header not included, so "row 3" is the
third record under the header (a record may span lines when a quoted field
holds a newline).

The checks are vectorised (pandas/numpy over whole columns) because real
exports run to a million rows; formats only differ in how their columns are
renamed and recoded into the native ones (the `_from_*` adapters).
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .gazetteer import Gazetteer, GeocodeError
from ..schema import ACLED_TAXONOMY, DATE_PRECISIONS, GEO_PRECISIONS, NATIVE_COLUMNS

FORMATS = ["auto", "native", "acled", "ucdp", "geojson", "geoparquet", "mapped"]

ACLED_COLUMNS = (
    "event_id_cnty event_date year time_precision disorder_type event_type sub_event_type "
    "actor1 assoc_actor_1 inter1 actor2 assoc_actor_2 inter2 interaction civilian_targeting "
    "iso region country admin1 admin2 admin3 location latitude longitude geo_precision source "
    "source_scale notes fatalities tags timestamp"
).split()

UCDP_COLUMNS = (
    "id relid year active_year code_status type_of_violence conflict_dset_id conflict_new_id "
    "conflict_name dyad_dset_id dyad_new_id dyad_name side_a_dset_id side_a_new_id side_a "
    "side_b_dset_id side_b_new_id side_b number_of_sources source_article source_office "
    "source_date source_headline source_original where_prec where_coordinates "
    "where_description adm_1 adm_2 latitude longitude geom_wkt priogrid_gid country "
    "country_id region event_clarity date_prec date_start date_end deaths_a deaths_b "
    "deaths_civilians deaths_unknown best high low gwnoa gwnob"
).split()

# The columns an export cannot do without; the rest may be missing in older files.
ACLED_REQUIRED = ["event_id_cnty", "event_date", "event_type", "sub_event_type", "actor1", "country", "location", "latitude", "longitude"]
UCDP_REQUIRED = ["id", "type_of_violence", "side_a", "side_b", "country", "latitude", "longitude", "date_start"]

# Date formats tried in order, each on the rows the earlier ones left unparsed.
# Slash dates are month-first: that is how UCDP's files write them
# ("1/22/2014 12:00:00 AM"), and a day-first reading would silently swap them.
DATE_FORMATS = [
    "ISO8601",
    "%d %B %Y",
    "%d %b %Y",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y",
]

PRECISION_WORDS = {
    "date_precision": {w: w for w in DATE_PRECISIONS} | {"1": "day", "2": "week", "3": "month", "4": "year"},
    "geo_precision": {w: w for w in GEO_PRECISIONS} | {"1": "town", "2": "near", "3": "region", "4": "country"},
}


class LoadError(Exception):
    """A file that cannot be read at all; the message is for the user."""


@dataclass
class LoadResult:
    source: str
    format: str
    rows_read: int
    events: pd.DataFrame
    rejects: pd.DataFrame  # row, column, reason, value (one line per problem)
    custom_types: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return int(self.rejects["row"].nunique()) if len(self.rejects) else 0

    @property
    def rows_loaded(self) -> int:
        return len(self.events)

    def summary(self) -> str:
        return f"{self.rows_read} rows read, {self.rows_loaded} loaded, {self.rows_rejected} rejected"


# ----------------------------------------------------------------- reading


def detect_format(path: Path, header: list[str] | None) -> str:
    suffix = "".join(path.suffixes).lower()
    if suffix.endswith((".geojson", ".json")):
        return "geojson"
    if suffix.endswith((".parquet", ".geoparquet")):
        return "geoparquet"
    columns = set(header or [])
    if "event_id_cnty" in columns:
        return "acled"
    if {"type_of_violence", "date_start"} <= columns:
        return "ucdp"
    if {"event_id", "event_date", "event_type"} <= columns:
        return "native"
    return "mapped"


def read_csv_strings(path: Path, encoding: str = "utf-8") -> tuple[pd.DataFrame, pd.DataFrame]:
    """All fields as text, row numbers in column `_row`; returns (rows, malformed).

    pyarrow reads fast on several threads; when it meets a row with the wrong
    number of fields it cannot say which record it was, so the file is then
    read again with the csv module, which can.
    """
    header = read_header(path, encoding)
    names_in_file = read_header(path, encoding, trim=False)
    malformed_seen = []

    def on_invalid_row(row):
        malformed_seen.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding, use_threads=True),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid_row),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names_in_file},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        if "Empty CSV file" in str(error):  # a header with no line break after it: no rows
            return pd.DataFrame({name: pd.Series([], dtype=str) for name in [*header, "_row"]}), _empty_rejects()
        raise LoadError(_explain_arrow_error(path, error, encoding)) from None
    if malformed_seen:
        return _read_csv_strings_slowly(path, encoding, header)
    frame = table.to_pandas()
    frame.columns = header  # trimmed, as the slow path names them: "a, b" names column "b"
    frame["_row"] = np.arange(1, len(frame) + 1)
    return frame, _empty_rejects()


def read_header(path: Path, encoding: str = "utf-8", trim: bool = True) -> list[str]:
    try:
        with open(path, "r", encoding="utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding, newline="") as handle:
            first = handle.readline()
            if not first.strip():
                raise LoadError(f"{path.name}: the file is empty (no header row).")
            rest = handle.read(1 << 16)
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise LoadError(f"{path}: is a folder, not a file.") from None
    except PermissionError:
        raise LoadError(f"{path}: permission denied.") from None
    except UnicodeDecodeError as error:
        raise LoadError(
            f"{path.name}: not readable as {encoding} text (byte 0x{error.object[error.start]:02x} at "
            f"offset {error.start}); save it as UTF-8 or pass --encoding (e.g. cp1251)."
        ) from None
    del rest
    header = next(csv.reader([first]))
    if not trim:
        return header
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise LoadError(f"{path.name}: the header names a column twice: {', '.join(dupes)}.")
    return header


def _explain_arrow_error(path: Path, error: Exception, encoding: str) -> str:
    text = str(error)
    if "UTF8" in text or "utf8" in text.lower():
        return (
            f"{path.name}: not readable as {encoding} text; save it as UTF-8 or pass --encoding (e.g. cp1251)."
        )
    if "Empty CSV file" in text:
        return f"{path.name}: the file is empty."
    return f"{path.name}: not a readable CSV file ({text.splitlines()[0]})."


def _read_csv_strings_slowly(path: Path, encoding: str, header: list[str]):
    rows, malformed = [], []
    try:
        with open(path, "r", encoding="utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding, newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            number = 0
            for fields in reader:
                if not fields:  # a blank line is not a record (pyarrow skips it too)
                    continue
                number += 1
                if len(fields) == len(header):
                    rows.append([number, *fields])
                else:
                    malformed.append(
                        {
                            "row": number,
                            "column": "",
                            "reason": f"has {len(fields)} fields, the header has {len(header)}",
                            "value": ",".join(fields)[:200],
                        }
                    )
    except (UnicodeDecodeError, csv.Error) as error:
        raise LoadError(f"{path.name}: not a readable CSV file ({error}).") from None
    frame = pd.DataFrame(rows, columns=["_row", *header])
    frame["_row"] = frame["_row"].astype("int64")
    return frame, pd.DataFrame(malformed, columns=["row", "column", "reason", "value"])


def _read_geo(path: Path, fmt: str) -> pd.DataFrame:
    """GeoJSON / GeoParquet: properties as text, coordinates from Point geometry."""
    import geopandas as gpd
    import shapely

    try:
        if fmt == "geoparquet":
            frame = gpd.read_parquet(path)
        else:
            frame = gpd.read_file(path, engine="pyogrio")
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file.") from None
    except Exception as error:  # pyogrio/pyarrow raise many kinds; the user needs one line
        raise LoadError(f"{path.name}: not a readable {fmt} file ({str(error).splitlines()[0]}).") from None
    if frame.crs is not None and not frame.crs.equals("EPSG:4326") and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    geometry = frame.geometry.values
    is_point = np.asarray(shapely.get_type_id(geometry) == 0)
    is_missing = np.asarray(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    coords = np.full((len(frame), 2), np.nan)
    if is_point.any():
        coords[is_point] = shapely.get_coordinates(geometry[is_point])
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    for column in table.columns:
        table[column] = _as_text(table[column])
    table["longitude"] = np.where(is_point, pd.Series(coords[:, 0]).map(_number_text), table.get("longitude", ""))
    table["latitude"] = np.where(is_point, pd.Series(coords[:, 1]).map(_number_text), table.get("latitude", ""))
    table["_geometry_problem"] = np.where(~is_point & ~is_missing, "geometry is not a point", "")
    table["_row"] = np.arange(1, len(table) + 1)
    return table


def _number_text(value: float) -> str:
    return "" if pd.isna(value) else repr(float(value))


def _as_text(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").fillna("")
    return series.astype(object).where(series.notna(), "").astype(str)


# ---------------------------------------------------------------- adapters


def _from_native(raw: pd.DataFrame) -> pd.DataFrame:
    return raw


def _from_acled(raw: pd.DataFrame) -> pd.DataFrame:
    timestamp = pd.to_numeric(raw.get("timestamp", ""), errors="coerce")
    report = pd.to_datetime(timestamp, unit="s", errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
    return pd.DataFrame(
        {
            "_row": raw["_row"],
            "event_id": raw["event_id_cnty"],
            "event_date": raw["event_date"],
            "date_precision": raw["time_precision"],
            "event_type": raw["event_type"],
            "sub_event_type": raw["sub_event_type"],
            "actor1": raw["actor1"],
            "actor2": raw["actor2"],
            "place": raw["location"],
            "admin1": raw["admin1"],
            "country": raw["country"],
            "latitude": raw["latitude"],
            "longitude": raw["longitude"],
            "geo_precision": raw["geo_precision"],
            "fatalities": raw["fatalities"],
            "summary": raw["notes"],
            "source_name": raw["source"],
            "source_url": "",
            "report_date": report,
        }
    )


# UCDP type_of_violence onto ACLED's taxonomy: state-based and non-state
# conflict are fighting between armed groups (Battles); one-sided violence is
# an armed group against civilians.
UCDP_VIOLENCE_TYPES = {
    "1": ("Battles", "Armed clash"),
    "2": ("Battles", "Armed clash"),
    "3": ("Violence against civilians", "Attack"),
}
UCDP_DATE_PRECISION = {"1": "day", "2": "week", "3": "week", "4": "month", "5": "year"}
UCDP_WHERE_PRECISION = {"1": "town", "2": "near", "3": "near", "4": "region", "5": "region", "6": "country", "7": "country"}


def _from_ucdp(raw: pd.DataFrame) -> pd.DataFrame:
    violence = raw["type_of_violence"].str.strip()
    event_type = violence.map(lambda v: UCDP_VIOLENCE_TYPES.get(v, (f"UCDP type_of_violence {v!s}", ""))[0])
    sub_type = violence.map(lambda v: UCDP_VIOLENCE_TYPES.get(v, ("", ""))[1])
    # source_date may hold several dates separated by ";": the first is the report date.
    report = raw["source_date"].str.split(";").str[0].str.strip()
    place = raw["where_description"].where(raw["where_description"].str.strip() != "", raw["where_coordinates"])
    summary = raw["source_headline"].str.split(";").str[0].str.strip()
    summary = summary.where(summary != "", raw["dyad_name"])
    return pd.DataFrame(
        {
            "_row": raw["_row"],
            "event_id": raw["id"],
            "event_date": raw["date_start"],
            "date_precision": raw["date_prec"].str.strip().map(UCDP_DATE_PRECISION).fillna(raw["date_prec"]),
            "event_type": event_type,
            "sub_event_type": sub_type,
            "actor1": raw["side_a"],
            "actor2": raw["side_b"],
            "place": place,
            "admin1": raw["adm_1"].str.split(" province").str[0],
            "country": raw["country"].str.replace(r"\s*\(.*\)$", "", regex=True),
            "latitude": raw["latitude"],
            "longitude": raw["longitude"],
            "geo_precision": raw["where_prec"].str.strip().map(UCDP_WHERE_PRECISION).fillna(raw["where_prec"]),
            "fatalities": raw["best"],
            "summary": summary,
            "source_name": raw["source_office"].str.replace(";", "; "),
            "source_url": "",
            "report_date": report,
        }
    )


def parse_mapping(text: str | list[str] | None) -> dict[str, str]:
    """`latitude=lat,longitude=Lng` -> {"latitude": "lat", "longitude": "Lng"}."""
    mapping: dict[str, str] = {}
    parts = text if isinstance(text, list) else [text or ""]
    for part in parts:
        for item in filter(None, (p.strip() for p in part.split(","))):
            if "=" not in item:
                raise LoadError(f"--map item {item!r} should look like native_column=file_column.")
            native, source = (s.strip() for s in item.split("=", 1))
            if native not in NATIVE_COLUMNS:
                raise LoadError(f"--map: {native!r} is not a native column; choose from {', '.join(NATIVE_COLUMNS)}.")
            mapping[native] = source
    return mapping


def _from_mapped(raw: pd.DataFrame, mapping: dict[str, str], path: Path) -> pd.DataFrame:
    missing = [source for source in mapping.values() if source not in raw.columns]
    if missing:
        raise LoadError(
            f"{path.name}: --map names columns the file does not have: {', '.join(missing)} "
            f"(it has {', '.join(c for c in raw.columns if c != '_row')})."
        )
    out = pd.DataFrame({"_row": raw["_row"]})
    for column in NATIVE_COLUMNS:
        source = mapping.get(column, column)
        out[column] = raw[source] if source in raw.columns else ""
    if "event_id" not in mapping and "event_id" not in raw.columns:
        # A stable id from the row's content, so re-imports keep the same ids.
        joined = raw.drop(columns="_row").astype(str).agg("\x1f".join, axis=1)
        out["event_id"] = [f"{path.stem}-{hashlib.sha1(s.encode()).hexdigest()[:12]}" for s in joined]
    return out


# --------------------------------------------------------------- validation


class _Problems:
    """Collects (row mask, column, reason) checks into one rejects table."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.bad = np.zeros(len(frame), dtype=bool)
        self.bad_by_column: dict[str, np.ndarray] = {}
        self.parts: list[pd.DataFrame] = []

    def add(self, mask, column: str, reason, value_column: str | None = None):
        # One reason per row and column: an empty date is not also "unparseable".
        already = self.bad_by_column.get(column, np.zeros(len(self.frame), dtype=bool))
        mask = np.asarray(mask, dtype=bool) & ~already
        if not mask.any():
            return
        rows = self.frame.loc[mask]
        source = value_column or column
        values = rows[source] if source in rows else ""
        reasons = reason(rows) if callable(reason) else reason
        self.parts.append(
            pd.DataFrame({"row": rows["_row"].to_numpy(), "column": column, "reason": reasons, "value": values})
        )
        self.bad |= mask
        self.bad_by_column[column] = already | mask

    def table(self) -> pd.DataFrame:
        if not self.parts:
            return _empty_rejects()
        table = pd.concat(self.parts, ignore_index=True)
        table["value"] = table["value"].astype(str).str.slice(0, 200)
        return table.sort_values(["row", "column"], kind="stable", ignore_index=True)


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series([], dtype="int64"), "column": [], "reason": [], "value": []})


def to_number(text: pd.Series) -> pd.Series:
    """Text -> float64, NaN where empty or not a number.

    pyarrow's cast is ~5x faster than pandas' to_numeric on a million rows,
    but fails on the whole column at the first bad value; then the slower
    element-wise path finds which values are bad.
    """
    values = pa.array(text.astype(str), type=pa.string())
    try:
        numbers = pc.cast(pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values), pa.float64())
        return pd.Series(numbers.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(text, errors="coerce").astype("float64")


def parse_dates(text: pd.Series) -> pd.Series:
    """Mixed-format dates -> day-resolution timestamps (NaT where none fits)."""
    text = text.astype(str).str.strip()
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    # pandas reads "now" and "today" as the current moment: not a date in a file.
    todo = (text != "") & ~text.str.lower().isin(["now", "today"])
    for fmt in DATE_FORMATS:
        if not todo.any():
            break
        attempt = _to_datetime(text[todo], fmt)
        parsed[todo] = attempt
        todo &= parsed.isna()
    return parsed.dt.floor("D")


def _to_datetime(text: pd.Series, fmt: str) -> pd.Series:
    """One format over a column; a UTC offset ("...T05:00+05:00", "Z") is dropped,
    keeping the local day, and offsets that differ between rows do not fail."""
    try:
        attempt = pd.to_datetime(text, format=fmt, errors="coerce")
    except (ValueError, TypeError):  # "Mixed timezones detected": one value at a time
        attempt = pd.Series([_to_timestamp(value, fmt) for value in text], index=text.index, dtype="datetime64[us]")
    if isinstance(attempt.dtype, pd.DatetimeTZDtype):
        attempt = attempt.dt.tz_localize(None)
    return attempt


def _to_timestamp(value: str, fmt: str):
    try:
        stamp = pd.to_datetime(value, format=fmt, errors="coerce")
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    if pd.isna(stamp):
        return pd.NaT
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def validate(frame: pd.DataFrame, *, known_types_only: bool, gazetteer: Gazetteer | None, type_values=None):
    """Native-column text table -> (typed events, rejects)."""
    problems = _Problems(frame)
    for column in NATIVE_COLUMNS:
        frame[column] = frame[column].astype(str).str.strip() if column in frame else ""
    if "_geometry_problem" in frame:
        problems.add(frame["_geometry_problem"] != "", "geometry", lambda r: r["_geometry_problem"], "_geometry_problem")

    for column in ("event_id", "event_date", "event_type"):
        problems.add(frame[column] == "", column, "required field is empty")

    dates = parse_dates(frame["event_date"])
    problems.add(
        dates.isna(),
        "event_date",
        "not a date (expected e.g. 2025-01-20, 20 January 2025 or 1/20/2025)",
    )
    out_of_range = (dates.dt.year < 1900) | (dates > pd.Timestamp.now() + pd.Timedelta(days=1))
    problems.add(out_of_range.fillna(False), "event_date", "date is before 1900 or in the future")
    report_dates = parse_dates(frame["report_date"])
    problems.add((frame["report_date"] != "") & report_dates.isna(), "report_date", "not a date")

    if type_values:  # a mapped file's own categories put onto the taxonomy
        frame["event_type"] = frame["event_type"].map(lambda v: type_values.get(v, (v, ""))[0])
    known = frame["event_type"].isin(list(ACLED_TAXONOMY))
    if known_types_only:
        problems.add(
            ~known & (frame["event_type"] != ""),
            "event_type",
            lambda rows: "unknown event type " + rows["event_type"].map(repr) + " (ACLED types: " + ", ".join(ACLED_TAXONOMY) + ")",
        )
    valid_pairs = {(t, s) for t, subs in ACLED_TAXONOMY.items() for s in subs}
    pair_ok = _pairs_ok(frame, valid_pairs)
    problems.add(
        known & (frame["sub_event_type"] != "") & ~pair_ok,
        "sub_event_type",
        lambda rows: rows["sub_event_type"].map(repr) + " is not a sub-event type of " + rows["event_type"],
    )

    for column, words in PRECISION_WORDS.items():
        text = frame[column].str.lower().str.replace(r"\.0$", "", regex=True)
        mapped = text.map(words)
        problems.add(
            (text != "") & mapped.isna(), column, f"unknown {column.replace('_', ' ')} (use {', '.join(dict.fromkeys(words.values()))})"
        )
        frame[column] = mapped.fillna("day" if column == "date_precision" else "town")

    fatalities = to_number(frame["fatalities"])
    whole = fatalities.notna() & (fatalities >= 0) & (fatalities % 1 == 0)
    problems.add((frame["fatalities"] != "") & ~whole, "fatalities", "not a whole number of 0 or more")
    # Beyond 2**53 a float cannot tell whole numbers apart, nor can Int64 hold them all.
    too_large = whole & (fatalities > 2**53)
    problems.add(too_large, "fatalities", "too large a number")
    fatalities = fatalities.where(whole & ~too_large)
    url = frame["source_url"]
    problems.add(
        (url != "") & ~url.str.match(r"(?i)^https?://"), "source_url", "must start with http:// or https://"
    )

    latitude, longitude = _check_coordinates(frame, problems)
    latitude, longitude = _geocode_missing(frame, latitude, longitude, gazetteer, problems)

    # Duplicate ids: the first occurrence is kept, later ones are rejected.
    # Duplicate ids among the rows that are otherwise valid: the first is kept,
    # later ones are rejected (a rejected first copy does not block a good one).
    candidate = ~problems.bad & (frame["event_id"] != "").to_numpy()
    ids = frame["event_id"].where(candidate)
    duplicated = ids.duplicated() & ids.notna()
    if duplicated.any():
        first_row = frame[candidate].drop_duplicates("event_id").set_index("event_id")["_row"]
        problems.add(
            duplicated,
            "event_id",
            lambda rows: "duplicate event_id (first on row " + rows["event_id"].map(first_row).astype(str) + ")",
        )

    keep = ~problems.bad
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
            "source_row": frame["_row"].astype("int64"),
        }
    )[keep].reset_index(drop=True)
    return events, problems.table()


def _pairs_ok(frame, valid_pairs):
    pairs = frame["event_type"] + "\x1f" + frame["sub_event_type"]
    return pairs.isin([f"{t}\x1f{s}" for t, s in valid_pairs])


def _check_coordinates(frame: pd.DataFrame, problems: _Problems):
    lat_text, lon_text = frame["latitude"], frame["longitude"]
    latitude = to_number(lat_text).to_numpy(dtype=float, copy=True)
    longitude = to_number(lon_text).to_numpy(dtype=float, copy=True)
    problems.add((lat_text != "") & np.isnan(latitude), "latitude", "not a number")
    problems.add((lon_text != "") & np.isnan(longitude), "longitude", "not a number")
    problems.add((lat_text == "") != (lon_text == ""), "latitude", "latitude and longitude must both be given, or neither")
    with np.errstate(invalid="ignore"):
        lat_bad = np.abs(latitude) > 90
        lon_bad = np.abs(longitude) > 180
        swapped = lat_bad & (np.abs(longitude) <= 90)
    problems.add(swapped, "latitude", "latitude and longitude look swapped (latitude beyond ±90, longitude within it)")
    problems.add(lat_bad, "latitude", "latitude out of range (−90..90)")
    problems.add(lon_bad, "longitude", "longitude out of range (−180..180)")
    problems.add((latitude == 0) & (longitude == 0), "latitude", "coordinates are 0,0, a common placeholder for a missing location")
    return latitude, longitude


def _geocode_missing(frame, latitude, longitude, gazetteer, problems):
    """Rows with a place name and no coordinates are geocoded offline."""
    missing = np.isnan(latitude) & np.isnan(longitude) & (frame["latitude"] == "").to_numpy() & ~problems.bad
    if not missing.any():
        return latitude, longitude
    if gazetteer is None:
        problems.add(missing, "latitude", "no coordinates, and no gazetteer to geocode the place")
        return latitude, longitude
    # One gazetteer look-up per distinct (place, country, region, precision),
    # then a merge back onto the rows: cheap however many rows share a place.
    columns = ["place", "country", "admin1", "geo_precision"]
    keys = frame.loc[missing, columns]
    answers = []
    for key in keys.drop_duplicates().itertuples(index=False):
        try:
            found = gazetteer.geocode(*key)
            answers.append((*key, found.latitude, found.longitude, None))
        except GeocodeError as error:
            answers.append((*key, np.nan, np.nan, f"no coordinates, and {error}"))
    table = pd.DataFrame(answers, columns=[*columns, "_lat", "_lon", "_reason"])
    matched = keys.reset_index().merge(table, on=columns, how="left").set_index("index").loc[keys.index]
    rows = np.flatnonzero(missing)
    latitude[rows], longitude[rows] = matched["_lat"].to_numpy(dtype=float), matched["_lon"].to_numpy(dtype=float)
    failed = matched["_reason"].notna()
    if failed.any():
        reasons = matched["_reason"]
        bad = np.zeros(len(frame), dtype=bool)
        bad[rows[failed.to_numpy()]] = True
        problems.add(bad, "place", lambda chosen: reasons[chosen.index])
    return latitude, longitude


# ------------------------------------------------------------------ public


def load_events(
    path,
    fmt: str = "auto",
    mapping: dict[str, str] | None = None,
    type_values: dict[str, tuple[str, str]] | None = None,
    encoding: str = "utf-8",
    gazetteer: Gazetteer | None = None,
) -> LoadResult:
    """Read and validate one event file."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"{path}: no such file.")
    if path.is_dir():
        raise LoadError(f"{path}: is a folder, not a file.")
    if path.stat().st_size == 0:
        raise LoadError(f"{path.name}: the file is empty.")
    if fmt not in FORMATS:
        raise LoadError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}.")
    geo = fmt in ("geojson", "geoparquet") or (fmt == "auto" and detect_format(path, None) in ("geojson", "geoparquet"))
    if geo:
        fmt = fmt if fmt != "auto" else detect_format(path, None)
        raw, malformed = _read_geo(path, fmt), _empty_rejects()
        header = list(raw.columns)
    else:
        raw, malformed = read_csv_strings(path, encoding)
        header = [c for c in raw.columns if c != "_row"]
        if fmt == "auto":
            fmt = "mapped" if mapping else detect_format(path, header)
    rows_read = len(raw) + len(malformed)
    if rows_read == 0:
        raise LoadError(f"{path.name}: the file has a header but no rows.")

    if mapping:
        frame = _from_mapped(raw, mapping, path)
    elif fmt in ("native", "geojson", "geoparquet"):
        _require_columns(path, header, ["event_id", "event_date", "event_type"], fmt)
        frame = _from_native(raw)
    elif fmt == "acled":
        _require_columns(path, header, ACLED_REQUIRED, "ACLED export")
        frame = _from_acled(_with_optional_columns(raw, ACLED_COLUMNS))
    elif fmt == "ucdp":
        _require_columns(path, header, UCDP_REQUIRED, "UCDP GED file")
        frame = _from_ucdp(_with_optional_columns(raw, UCDP_COLUMNS))
    else:
        raise LoadError(
            f"{path.name}: cannot tell the format from its columns ({', '.join(header[:12])}); "
            "pass --format, or --map native=file_column pairs."
        )
    # Native, ACLED and UCDP define their types; a mapped file may bring its own.
    known_types_only = not mapping
    events, rejects = validate(frame, known_types_only=known_types_only, gazetteer=gazetteer, type_values=type_values)
    if len(malformed):
        rejects = pd.concat([malformed, rejects], ignore_index=True).sort_values("row", kind="stable", ignore_index=True)
    custom = sorted(set(events["event_type"].unique()) - set(ACLED_TAXONOMY))
    result = LoadResult(str(path), fmt, rows_read, events, rejects, custom)
    assert result.rows_loaded + result.rows_rejected == rows_read, "a row was lost"  # the contract
    return result


def _require_columns(path: Path, header: list[str], needed: list[str], what: str):
    missing = [c for c in needed if c not in header]
    if missing:
        raise LoadError(f"{path.name}: not a complete {what}: missing columns {', '.join(missing)}.")


def _with_optional_columns(raw: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Older exports lack some columns (e.g. ACLED's civilian_targeting): they read as empty."""
    missing = [c for c in columns if c not in raw.columns]
    return raw.assign(**dict.fromkeys(missing, "")) if missing else raw


def parse_type_values(items: list[str] | None) -> dict[str, tuple[str, str]]:
    """`--type-value "Shelling=Explosions/Remote violence"` -> {Shelling: (type, '')}."""
    values: dict[str, tuple[str, str]] = {}
    for item in items or []:
        if "=" not in item:
            raise LoadError(f"--type-value {item!r} should look like THEIRS=ACLED type.")
        theirs, ours = (s.strip() for s in item.split("=", 1))
        if ours not in ACLED_TAXONOMY:
            raise LoadError(f"--type-value: {ours!r} is not an ACLED event type ({', '.join(ACLED_TAXONOMY)}).")
        values[theirs] = (ours, "")
    return values
