"""Layouts: telling native, ACLED, UCDP GED and mapped tables apart, and adapting them to native columns.

A layout is a set of columns, whatever the container (CSV, GeoJSON,
GeoParquet, GeoPackage, .xlsx): detection reads the header only, without
regard to case (ACLED's files before 2019 wrote EVENT_ID_CNTY).  Adapters
rename and recode; every check is validate.py's.  Columns starting with "_"
carry what a later stage needs (the row number, ACLED's edit time, actor
codes, which columns hold actors).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from ..schema import ACLED_TAXONOMY, NATIVE_COLUMNS
from .rawtable import LoadError, shown_names

LAYOUTS = ["native", "acled", "ucdp", "mapped"]

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
ACLED_REQUIRED = ["event_id_cnty", "event_date", "event_type", "actor1", "country", "location", "latitude", "longitude"]
UCDP_REQUIRED = ["id", "type_of_violence", "side_a", "side_b", "country", "latitude", "longitude", "date_start"]
# ACLED before 2019 named the associated actors "ally" actors.
ACLED_RENAMES = {"ally_actor_1": "assoc_actor_1", "ally_actor_2": "assoc_actor_2"}
ACLED_API_ONLY = {"data_id", "event_id_no_cnty", "iso3"}

# ACLED's actor codes: numbers in the API and older files, words in newer exports.
INTER_CODES = {
    "0": "", "1": "State forces", "2": "Rebel groups", "3": "Political militias", "4": "Identity militias",
    "5": "Rioters", "6": "Protesters", "7": "Civilians", "8": "External/Other forces",
}
INTER_WORDS = {w.lower() for w in INTER_CODES.values() if w}

# ACLED's taxonomy before 2019, put onto today's where one type became one;
# "Riots/Protests" split in two and stays a custom type of its own.
ACLED_2016_TYPES = {
    "Battle-No change of territory": ("Battles", "Armed clash"),
    "Battle-Government regains territory": ("Battles", "Government regains territory"),
    "Battle-Non-state actor overtakes territory": ("Battles", "Non-state actor overtakes territory"),
    "Remote violence": ("Explosions/Remote violence", ""),
    "Violence against civilians": ("Violence against civilians", ""),
    "Strategic development": ("Strategic developments", ""),
    "Headquarters or base established": ("Strategic developments", "Headquarters or base established"),
    "Non-violent transfer of territory": ("Strategic developments", "Non-violent transfer of territory"),
}
ACLED_2016_KEPT = ["Riots/Protests"]

# UCDP type_of_violence onto ACLED's taxonomy: state-based and non-state
# conflict are fighting between armed groups (Battles); one-sided violence is
# an armed group against civilians.
UCDP_VIOLENCE_TYPES = {"1": ("Battles", "Armed clash"), "2": ("Battles", "Armed clash"), "3": ("Violence against civilians", "Attack")}
UCDP_DATE_PRECISION = {"1": "day", "2": "week", "3": "week", "4": "month", "5": "year"}
UCDP_WHERE_PRECISION = {"1": "town", "2": "near", "3": "near", "4": "region", "5": "region", "6": "country", "7": "country"}


# The columns (as the adapted raw table names them) that differ between the
# rows of ACLED's one-row-per-actor layout; see dedupe.py.
ACTOR_COLUMNS = {
    "native": ["actor1", "actor2"],
    "acled": ["actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction"],
    "ucdp": ["side_a", "side_b"],
}


def actor_columns(layout: str, mapping: dict | None) -> list[str]:
    if mapping:
        return [mapping.get(c, c) for c in ("actor1", "actor2")]
    return ACTOR_COLUMNS.get(layout, [])


def normalise_raw(raw: pd.DataFrame, layout: str) -> pd.DataFrame:
    """ACLED's and UCDP's column names in lower case, old names under today's."""
    if layout not in ("acled", "ucdp"):
        return raw
    renames = ACLED_RENAMES if layout == "acled" else {}
    return raw.rename(columns=lambda c: renames.get(c.lower(), c.lower()) if c != "_row" and not c.startswith("_") else c)


def detect_layout(header: list[str]) -> tuple[str, str]:
    """(layout, what to call it) from the column names."""
    columns = {h.lower() for h in header}
    if "event_id_cnty" in columns:
        if "sub_event_type" not in columns:
            return "acled", "ACLED export (pre-2019 layout)"
        if columns & ACLED_API_ONLY:
            return "acled", "ACLED export (API layout)"
        return "acled", "ACLED export"
    if {"type_of_violence", "date_start"} <= columns:
        return "ucdp", "UCDP GED"
    if {"event_id", "event_date", "event_type"} <= columns:
        return "native", "native events"
    return "mapped", "columns mapped with --map"


def adapt(raw: pd.DataFrame, layout: str, path: Path, mapping: dict | None, what: str) -> pd.DataFrame:
    if mapping:
        return from_mapped(raw, mapping, path)
    if layout == "native":
        require(path, raw.columns, ["event_id", "event_date", "event_type"], what)
        return from_native(raw)
    if layout == "acled":
        require(path, raw.columns, ACLED_REQUIRED, what)
        return from_acled(with_optional(raw, ACLED_COLUMNS))
    if layout == "ucdp":
        require(path, raw.columns, UCDP_REQUIRED, what)
        return from_ucdp(with_optional(raw, UCDP_COLUMNS))
    header = [c for c in raw.columns if not c.startswith("_")]
    raise LoadError(
        f"{path.name}: cannot tell the format from its columns ({shown_names(header)}); "
        "pass --format, or --map native=file_column pairs."
    )


def require(path: Path, header, needed: list[str], what: str) -> None:
    missing = [c for c in needed if c not in set(header)]
    if missing:
        raise LoadError(f"{path.name}: not a complete {what}: missing columns {', '.join(missing)}.")


def with_optional(raw: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Older exports lack some columns (e.g. ACLED's civilian_targeting): they read as empty."""
    missing = [c for c in columns if c not in raw.columns]
    return raw.assign(**dict.fromkeys(missing, "")) if missing else raw


def from_native(raw: pd.DataFrame) -> pd.DataFrame:
    out = with_optional(raw, NATIVE_COLUMNS)
    return out


def from_acled(raw: pd.DataFrame) -> pd.DataFrame:
    timestamp = pd.to_numeric(raw["timestamp"], errors="coerce")
    report = pd.to_datetime(timestamp, unit="s", errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
    event_type, sub_type = raw["event_type"].str.strip(), raw["sub_event_type"].str.strip()
    old = event_type.isin(list(ACLED_2016_TYPES))
    if old.any():  # the pre-2019 names, where the mapping is one to one
        new = event_type[old].map(lambda t: ACLED_2016_TYPES[t])
        event_type = event_type.where(~old, new.str[0])
        sub_type = sub_type.where(~old | (sub_type != ""), new.str[1])
    return pd.DataFrame(
        {
            "_row": raw["_row"],
            "event_id": raw["event_id_cnty"],
            "event_date": raw["event_date"],
            "date_precision": raw["time_precision"],
            "event_type": event_type,
            "sub_event_type": sub_type,
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
            "_timestamp": timestamp,
            "_inter1": raw["inter1"],
            "_inter2": raw["inter2"],
            "_assoc_actor_1": raw["assoc_actor_1"],
            "_assoc_actor_2": raw["assoc_actor_2"],
        }
    )


def from_ucdp(raw: pd.DataFrame) -> pd.DataFrame:
    violence = raw["type_of_violence"].str.strip().str.replace(r"\.0$", "", regex=True)
    event_type = violence.map(lambda v: UCDP_VIOLENCE_TYPES.get(v, (f"UCDP type_of_violence {v!s}", ""))[0])
    sub_type = violence.map(lambda v: UCDP_VIOLENCE_TYPES.get(v, ("", ""))[1])
    # source_date may hold several dates separated by ";": the first is the report date.
    report = raw["source_date"].str.split(";").str[0].str.strip()
    place = raw["where_description"].where(raw["where_description"].str.strip() != "", raw["where_coordinates"])
    summary = raw["source_headline"].str.split(";").str[0].str.strip()
    summary = summary.where(summary != "", raw["dyad_name"])
    date_prec = raw["date_prec"].str.strip().str.replace(r"\.0$", "", regex=True)
    where_prec = raw["where_prec"].str.strip().str.replace(r"\.0$", "", regex=True)
    return pd.DataFrame(
        {
            "_row": raw["_row"],
            "event_id": raw["id"].str.replace(r"^(\d+)\.0$", r"\1", regex=True),
            "event_date": raw["date_start"],
            "date_precision": date_prec.map(UCDP_DATE_PRECISION).fillna(date_prec),
            "event_type": event_type,
            "sub_event_type": sub_type,
            "actor1": raw["side_a"],
            "actor2": raw["side_b"],
            "place": place,
            "admin1": raw["adm_1"].str.split(" province").str[0],
            "country": raw["country"].str.replace(r"\s*\(.*\)$", "", regex=True),
            "latitude": raw["latitude"],
            "longitude": raw["longitude"],
            "geo_precision": where_prec.map(UCDP_WHERE_PRECISION).fillna(where_prec),
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


def from_mapped(raw: pd.DataFrame, mapping: dict[str, str], path: Path) -> pd.DataFrame:
    missing = [source for source in mapping.values() if source not in raw.columns]
    if missing:
        raise LoadError(
            f"{path.name}: --map names columns the file does not have: {', '.join(missing)} "
            f"(it has {shown_names([c for c in raw.columns if not c.startswith('_')], 40)})."
        )
    unmapped = [c for c in ("event_date", "event_type") if c not in mapping and c not in raw.columns]
    if unmapped:  # one message, not one rejected row per row
        raise LoadError(
            f"{path.name}: --map does not say which column holds {' or '.join(unmapped)} "
            f"(e.g. --map {unmapped[0]}=TheirColumn); the file has {shown_names([c for c in raw.columns if not c.startswith('_')])}."
        )
    where = {"latitude", "longitude", "place"}
    if not any(mapping.get(c, c) in raw.columns for c in where):
        raise LoadError(f"{path.name}: --map names no latitude/longitude or place column, so no event can be placed.")
    out = pd.DataFrame({"_row": raw["_row"]})
    for column in NATIVE_COLUMNS:
        source = mapping.get(column, column)
        out[column] = raw[source] if source in raw.columns else ""
    if "event_id" not in mapping and "event_id" not in raw.columns:
        out["event_id"] = content_ids(raw, path.stem)
    return out


def content_ids(raw: pd.DataFrame, stem: str) -> list[str]:
    """A stable id from the row's content, so re-imports keep the same ids."""
    joined = raw.drop(columns=[c for c in raw.columns if c.startswith("_")]).astype(str).agg("\x1f".join, axis=1)
    return [f"{stem}-{hashlib.sha1(s.encode()).hexdigest()[:12]}" for s in joined]


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
