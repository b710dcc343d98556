"""From a ViewState to a SQL WHERE clause with its parameters (the PostGIS store's filters).

Same meaning as the in-memory store's `rows()`, filter by filter:

    dates        event_date between the two days (either may be open)
    types        event_type in the list; () matches nothing
    sub_types    sub_event_type in the list, except that a ticked type with
                 none of its sub-types ticked keeps all of them
    countries    country_code in the list; () means any (likewise regions)
    actors       actor1 or actor2 in the list
    text         case-insensitive substring of place, summary and actors,
                 joined with " \\x1f " as the in-memory store joins them;
                 the import lower-cases that text with Python's str.lower
                 into search_text, which a pg_trgm GIN index serves for LIKE
    territory    the event's position against the attached control layer

Values always travel as parameters, never inside the SQL text.
"""
from __future__ import annotations

import datetime as dt

from ..view import ViewState

SEARCH_SEPARATOR = " \x1f "
SEARCH_FIELDS = ("place", "summary", "actor1", "actor2")


def filters_only(view: ViewState) -> ViewState:
    """The view without what does not filter (map position, theme...): the key of its answers."""
    return ViewState(
        date_from=view.date_from, date_to=view.date_to, types=view.types, sub_types=view.sub_types,
        countries=tuple(view.countries), regions=tuple(view.regions), actors=tuple(view.actors),
        text=view.text.strip().lower(), territory_position=view.territory_position,
    )


def without_day_and_type(view: ViewState) -> ViewState:
    """The filters the per-day summary cannot apply itself (everything but dates, types, sub-types)."""
    return ViewState(
        countries=tuple(view.countries), regions=tuple(view.regions), actors=tuple(view.actors),
        text=view.text.strip().lower(), territory_position=view.territory_position,
    )


def only_day_and_type(view: ViewState) -> bool:
    """True when the view filters on nothing but dates, types and sub-types."""
    return without_day_and_type(view) == ViewState()


def only_actors_day_and_type(view: ViewState) -> bool:
    """True when the view filters on actors and on nothing else but dates, types and sub-types."""
    return bool(view.actors) and only_day_and_type(view.replace(actors=()))


SUMMARY_SELECT = "event_date, event_type, sub_event_type, country_level::int AS country_level, date_precision"


def summary_query(view: ViewState, pairs, layer_key: str | None = None) -> tuple[str, list]:
    """(query, parameters) of the matching events per day, type, sub-type, country-level flag and
    date precision (pg_summary.SUMMARY_COLUMNS), before the view's dates and types; from the
    events, also per month and region (rows with by_region 1).

    A view of actors only is summed from the actor count tables (pg_derived.py: each actor's
    events, less those of each pair of its actors, counted twice otherwise); others from the events.
    """
    view = without_day_and_type(view)
    if only_actors_day_and_type(view):
        actors = list(view.actors)
        return (
            f"SELECT 0 AS by_region, {SUMMARY_SELECT}, '' AS admin1_code, sum(n)::bigint AS n FROM ("
            f"SELECT {SUMMARY_SELECT}, n FROM actor_counts WHERE actor = ANY(%s) UNION ALL "
            f"SELECT {SUMMARY_SELECT}, -n FROM actor_pair_counts WHERE low = ANY(%s) AND high = ANY(%s)"
            ") parts GROUP BY 2, 3, 4, 5, 6 HAVING sum(n) <> 0",
            [actors, actors, actors],
        )
    condition, params = where(view, pairs, layer_key)
    # Two groupings in one pass: the summary and, for counts_by_region, the same
    # events per month, type, sub-type and region (by_region 1, the month's first day in event_date).
    return (
        "SELECT (grouping(admin1_code) = 0)::int AS by_region, "
        "coalesce(event_date, date_trunc('month', min(event_date))::date) AS event_date, "
        "event_type, sub_event_type, coalesce((geo_precision = 'country')::int, 0) AS country_level, "
        "coalesce(date_precision, '') AS date_precision, coalesce(admin1_code, '') AS admin1_code, count(*) AS n "
        f"FROM events WHERE {condition} GROUP BY GROUPING SETS ("
        "(event_date, event_type, sub_event_type, geo_precision = 'country', date_precision), "
        "(date_trunc('month', event_date), event_type, sub_event_type, admin1_code))",
        params,
    )


def covered_types(sub_types, pairs) -> list[str]:
    """Types that have at least one of the ticked sub-types (the others keep all theirs)."""
    wanted = set(sub_types)
    return sorted({t for t, s in pairs if s in wanted})


def like_pattern(text: str) -> str:
    """`%text%` for LIKE, with LIKE's own characters taken literally."""
    needle = text.strip().lower()
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_text(place, summary, actor1, actor2) -> str:
    """What the text filter searches, as the import stores it."""
    return SEARCH_SEPARATOR.join((place, summary, actor1, actor2)).lower()


def where(view: ViewState, pairs, layer_key: str | None = None, prefix: str = "") -> tuple[str, list]:
    """(" AND "-joined conditions or "TRUE", parameters) for the view's filters.

    pairs: every (event_type, sub_event_type) in the data, for the sub-type rule.
    layer_key: the attached territory layer's key, or None (the filter is then ignored).
    prefix: a table alias with its dot ("e.") when the query joins tables.
    """
    p = prefix
    conditions: list[str] = []
    params: list = []
    if view.date_from:
        conditions.append(f"{p}event_date >= %s")
        params.append(view.date_from)
    if view.date_to:
        conditions.append(f"{p}event_date <= %s")
        params.append(view.date_to)
    if view.types is not None:
        if not view.types:
            conditions.append("FALSE")
        else:
            conditions.append(f"{p}event_type = ANY(%s)")
            params.append(list(view.types))
    if view.sub_types is not None:
        covered = covered_types(view.sub_types, pairs)
        if covered:
            conditions.append(f"({p}sub_event_type = ANY(%s) OR NOT ({p}event_type = ANY(%s)))")
            params += [list(view.sub_types), covered]
    for column, values in (("country_code", view.countries), ("admin1_code", view.regions)):
        if len(values) == 1:  # "= value", not "= ANY": the index on (region, date) then gives the newest first, in order
            conditions.append(f"{p}{column} = %s")
            params.append(values[0])
        elif values:
            conditions.append(f"{p}{column} = ANY(%s)")
            params.append(list(values))
    if view.actors:
        conditions.append(f"({p}actor1 = ANY(%s) OR {p}actor2 = ANY(%s))")
        params += [list(view.actors), list(view.actors)]
    if view.territory_position and layer_key:
        conditions.append(f"{p}seq IN (SELECT seq FROM territory_positions WHERE layer_key = %s AND position = %s)")
        params += [layer_key, view.territory_position]
    if view.text.strip():
        conditions.append(f"{p}search_text LIKE %s")
        params.append(like_pattern(view.text))
    return (" AND ".join(conditions) or "TRUE"), params


def whole_months(date_from, date_to) -> tuple:
    """(first day of the first whole month of the range, first day after its last whole month); None: unbounded."""
    first = end = None
    if date_from:
        first = date_from.replace(day=1)
        if date_from.day != 1:
            first = (first + dt.timedelta(days=31)).replace(day=1)
    if date_to:
        end = (date_to + dt.timedelta(days=1)).replace(day=1)
    return first, end


def edge_days(view: ViewState, first, end) -> tuple[list[str], list]:
    """Conditions on event_date (to be OR-ed) for the days of the view's range outside its whole months."""
    edges, params = [], []
    if first is not None and view.date_from < first:
        edges.append("(event_date >= %s AND event_date < %s)")
        params += [view.date_from, first]
    if end is not None and end <= view.date_to:
        edges.append("(event_date >= %s AND event_date <= %s)")
        params += [end, view.date_to]
    return edges, params


def month_parts(view: ViewState) -> tuple[list[str], list, list[str], list] | None:
    """(conditions on `month`, parameters, edge-day conditions to OR, parameters), or None when the range has no whole month."""
    first, end = whole_months(view.date_from, view.date_to)
    if first is not None and end is not None and first >= end:
        return None
    months, params = [], []
    if first is not None:
        months.append("month >= %s")
        params.append(first)
    if end is not None:
        months.append("month < %s")
        params.append(end)
    edges, edge_params = edge_days(view, first, end)
    return months, params, edges, edge_params


def region_months_query(view: ViewState, pairs) -> tuple[str, list]:
    """Region counts of a view that filters only dates, types and perhaps actors: (query, parameters).

    Whole months are summed from region_months, or for actors from
    actor_region_months less actor_pair_region_months (pg_derived.py); the
    days at either end of the range, if any, are counted in the events (the
    date index finds them).
    """
    undated = view.replace(date_from=None, date_to=None)
    types, params = where(undated.replace(actors=()), pairs)
    parts = month_parts(view)
    if parts is None:  # no whole month: all from the events
        condition, all_params = where(view, pairs)
        return f"SELECT admin1_code, count(*) FROM events WHERE {condition} AND admin1_code <> '' GROUP BY 1 ORDER BY 1", all_params
    months, month_params, edges, edge_params = parts
    months = [types, *months]
    in_months = " AND ".join(months)
    if view.actors:
        actors = list(view.actors)
        query = (f"SELECT admin1_code, n FROM actor_region_months WHERE actor = ANY(%s) AND {in_months} UNION ALL "
                 f"SELECT admin1_code, -n FROM actor_pair_region_months WHERE low = ANY(%s) AND high = ANY(%s) AND {in_months}")
        query_params = [actors, *params, *month_params, actors, actors, *params, *month_params]
    else:
        query, query_params = f"SELECT admin1_code, n FROM region_months WHERE {in_months}", [*params, *month_params]
    if edges:
        others, other_params = where(undated, pairs)
        query += f" UNION ALL SELECT admin1_code, count(*) FROM events WHERE {others} AND admin1_code <> '' AND ({' OR '.join(edges)}) GROUP BY 1"
        query_params += [*other_params, *edge_params]
    return f"SELECT admin1_code, sum(n)::bigint FROM ({query}) parts GROUP BY 1 HAVING sum(n) > 0 ORDER BY 1", query_params


# The events table's data columns, in record order, with their kinds
# (text: never NULL, "" when missing; date; float; int: may be NULL).
EVENT_COLUMNS = {
    "event_id": "text", "event_date": "date", "date_precision": "text", "event_type": "text",
    "sub_event_type": "text", "actor1": "text", "actor2": "text", "place": "text", "admin1": "text",
    "country": "text", "latitude": "float", "longitude": "float", "geo_precision": "text",
    "fatalities": "int", "summary": "text", "source_name": "text", "source_url": "text",
    "report_date": "date", "source_row": "int", "admin1_code": "text", "admin1_name": "text",
    "country_code": "text", "join_note": "text", "source_file": "text", "warnings": "text",
}
