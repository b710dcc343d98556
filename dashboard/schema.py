"""The project's own event schema, the ACLED taxonomy and the shared palette.

One place for the names every stage agrees on: loaders write these columns,
the join adds the JOINED_COLUMNS, the store, figures and exports read them.
"""
from __future__ import annotations

# Columns of the native format (CSV / GeoJSON properties), in file order.
# They map onto ACLED (event_id_cnty, event_date, time_precision, event_type,
# sub_event_type, actor1, actor2, location, admin1, country, latitude,
# longitude, geo_precision, fatalities, notes, source) and UCDP GED (id,
# date_start, date_prec, type_of_violence, side_a, side_b, where_description,
# adm_1, country, latitude, longitude, where_prec, best, source_*) -- see
# load.py for each mapping.
NATIVE_COLUMNS = [
    "event_id",
    "event_date",
    "date_precision",
    "event_type",
    "sub_event_type",
    "actor1",
    "actor2",
    "place",
    "admin1",
    "country",
    "latitude",
    "longitude",
    "geo_precision",
    "fatalities",
    "summary",
    "source_name",
    "source_url",
    "report_date",
]

# Added by the spatial join (join.py).
JOINED_COLUMNS = ["country_code", "admin1_code", "admin1_name", "join_note"]

DATE_PRECISIONS = ["day", "week", "month", "year"]

# Coarsest last. "region" is admin-1; "country" is coarser than admin-1, so a
# country-level event is joined to its country only (no region count inflated).
GEO_PRECISIONS = ["town", "near", "region", "country"]
GEO_PRECISION_DESCRIPTIONS = {
    "town": "the named town or village",
    "near": "near the named place, or part of a region",
    "region": "only the region (admin-1) is known",
    "country": "only the country is known",
}

# ACLED's event types and sub-event types (6 and 25), in ACLED's order.
ACLED_TAXONOMY: dict[str, list[str]] = {
    "Battles": [
        "Armed clash",
        "Government regains territory",
        "Non-state actor overtakes territory",
    ],
    "Explosions/Remote violence": [
        "Chemical weapon",
        "Air/drone strike",
        "Suicide bomb",
        "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED",
        "Grenade",
    ],
    "Violence against civilians": [
        "Sexual violence",
        "Attack",
        "Abduction/forced disappearance",
    ],
    "Protests": [
        "Peaceful protest",
        "Protest with intervention",
        "Excessive force against protesters",
    ],
    "Riots": ["Violent demonstration", "Mob violence"],
    "Strategic developments": [
        "Agreement",
        "Arrests",
        "Change to group/activity",
        "Disrupted weapons use",
        "Headquarters or base established",
        "Looting/property destruction",
        "Non-violent transfer of territory",
        "Other",
    ],
}

# Okabe-Ito: the colour-blind-safe palette (Okabe & Ito 2008), one colour per
# ACLED type, shared by map, legend, timeline and exports.  Custom types from
# mapped CSVs take the remaining colours in order, then grey.
TYPE_COLOURS = {
    "Battles": "#D55E00",  # vermillion
    "Explosions/Remote violence": "#0072B2",  # blue
    "Violence against civilians": "#CC79A7",  # reddish purple
    "Protests": "#009E73",  # bluish green
    "Riots": "#E69F00",  # orange
    "Strategic developments": "#56B4E9",  # sky blue
}
EXTRA_COLOURS = ["#F0E442", "#000000", "#999999"]


def type_colour(event_type: str, custom_types: list[str] | tuple = ()) -> str:
    """The colour of an event type; custom types get the spare colours in order."""
    if event_type in TYPE_COLOURS:
        return TYPE_COLOURS[event_type]
    extras = [t for t in custom_types if t not in TYPE_COLOURS]
    if event_type in extras:
        index = extras.index(event_type)
        return EXTRA_COLOURS[min(index, len(EXTRA_COLOURS) - 1)]
    return EXTRA_COLOURS[-1]
