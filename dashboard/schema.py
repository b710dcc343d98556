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

# One qualitative palette of 12 colours for event types, shared by map,
# legend, timeline and exports: Okabe & Ito's (2008) colour-blind-safe eight
# without white, then four of Paul Tol's "muted" and a brown, chosen so every
# pair differs by at least 25 CIE76 Delta-E in normal vision and 12 under
# simulated deuteranopia and protanopia (Machado et al. 2009); see
# tests/test_palette.py.  ACLED's six types keep their Okabe-Ito colours.
TYPE_COLOURS = {
    "Battles": "#D55E00",  # vermillion
    "Explosions/Remote violence": "#0072B2",  # blue
    "Violence against civilians": "#CC79A7",  # reddish purple
    "Protests": "#009E73",  # bluish green
    "Riots": "#E69F00",  # orange
    "Strategic developments": "#56B4E9",  # sky blue
}
EXTRA_COLOURS = ["#332288", "#882255", "#999933", "#F0E442", "#6F4E37", "#000000"]  # indigo, wine, olive, yellow, brown, black
PALETTE = list(TYPE_COLOURS.values()) + EXTRA_COLOURS
OTHER_COLOUR = "#C8C8C8"  # types beyond the palette: "Other types" in every legend
OTHER_LABEL = "Other types"


def type_colours(types, custom_types=()) -> dict[str, str]:
    """Event type -> colour for a data set's types.

    ACLED types keep their colours; custom types take the palette's other
    colours in order -- all twelve when the data has no ACLED type -- and
    the types beyond the palette share OTHER_COLOUR."""
    types = list(dict.fromkeys(list(types) + [t for t in custom_types if t not in types]))
    acled_present = any(t in TYPE_COLOURS for t in types)
    free = EXTRA_COLOURS if acled_present else PALETTE
    colours, index = {}, 0
    for event_type in types:
        if event_type in TYPE_COLOURS and acled_present:
            colours[event_type] = TYPE_COLOURS[event_type]
        elif index < len(free):
            colours[event_type] = free[index]
            index += 1
        else:
            colours[event_type] = OTHER_COLOUR
    return colours


def type_colour(event_type: str, custom_types: list[str] | tuple = (), types: list[str] | tuple | None = None) -> str:
    """The colour of one event type.  `types`: every type of the data (store.bounds.types), so
    custom types can take the whole palette when the data has no ACLED type."""
    if types is None:
        if event_type in TYPE_COLOURS:
            return TYPE_COLOURS[event_type]
        types = list(TYPE_COLOURS)  # as before: custom types after the ACLED ones
    return type_colours(types, custom_types).get(event_type, OTHER_COLOUR)


# ------------------------------------------------------------ display text

# Bidirectional controls (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI, LRM,
# RLM, ALM): in a name from a data file they can reorder what the reader sees
# ("Trojan Source"), so they are dropped from displayed text.
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
# Other control characters (NUL, BEL, ESC, C1 ...) but line breaks and tabs become spaces.
_CONTROLS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0)], " ")
_TRANSLATE = {**BIDI_CONTROLS, **_CONTROLS}
ZERO_WIDTH_SPACE = "\u200b"


def display_text(value, limit: int = 300, run: int = 40) -> str:
    """Text from a data file made fit to show in a hover label or a record panel.

    None/NaN -> ""; bidirectional and other control characters removed; at
    most `limit` characters kept (then "…"); and a break opportunity (a zero
    width space) inserted every `run` characters of an unbroken run, so a
    5,000-character word wraps instead of widening the box.  The result is
    plain text: whoever puts it into HTML or a Plotly label still escapes it.
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value).translate(_TRANSLATE)
    if len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    if run <= 0 or len(text) <= run:
        return text
    pieces, stretch = [], 0
    for ch in text:
        if ch.isspace() or ch in "-/":
            stretch = 0
        elif stretch >= run:
            pieces.append(ZERO_WIDTH_SPACE)
            stretch = 0
        pieces.append(ch)
        if not (ch.isspace() or ch in "-/"):
            stretch += 1
    return "".join(pieces)
