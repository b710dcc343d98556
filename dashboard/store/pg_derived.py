"""The count tables the import derives from the events (pg_import._finish rebuilds them).

    event_counts              events per day, type, sub-type, country-level flag
                              and date precision: every count of a view of dates
                              and types (pg_summary)
    region_months             events per month, type, sub-type and region
    actor_counts              event_counts per actor: each event once per DISTINCT
                              actor among actor1 and actor2
    actor_pair_counts         event_counts per unordered pair of two different
                              actors of one event (low < high)
    actor_region_months       region_months per actor, likewise
    actor_pair_region_months  region_months per pair, likewise
    cell_months               town- and near-level events per month, type, sub-type
                              and 1-degree cell, with their coordinates' sums (the
                              map's marks, pg_marks.py)
    coarse_months             region- and country-level events per month, type,
                              sub-type, precision and region, likewise

A view of actors counts an event whose actor1 OR actor2 is among them.  With
one actor, actor_counts is exactly that.  With several, an event holding two
of them is in actor_counts twice; it is in actor_pair_counts once, under the
pair, so the pairs of the view's actors are subtracted (sql.summary_query,
sql.region_months_query).
Subtracting rather than summing only when exact keeps every actor view off
the events table: a view of two frequent actors is the common case.
"""
from __future__ import annotations

CELL_MONTHS_DEG = 1.0  # cell_months' grid; the map's cells from it are 1, 2, 4 ... degrees
COARSE_SQL = "('region', 'country')"  # contract.COARSE_PRECISIONS

# The events grouped once per day and once per month and region, each with both actors: every
# table below is summed from these two (two scans of the events instead of six).
GROUPS = {
    "day_groups": "SELECT actor1, actor2, event_date, event_type, sub_event_type, geo_precision = 'country' AS country_level, "
                  "date_precision, count(*) AS n FROM events GROUP BY 1, 2, 3, 4, 5, 6, 7",
    "month_groups": "SELECT actor1, actor2, date_trunc('month', event_date)::date AS month, event_type, sub_event_type, admin1_code, "
                    "count(*) AS n FROM events WHERE admin1_code <> '' GROUP BY 1, 2, 3, 4, 5, 6",
}
# Each group's distinct actors, one row each (actor2 only when it differs from actor1).
_EACH_ACTOR = "CROSS JOIN LATERAL unnest(CASE WHEN actor2 <> actor1 THEN ARRAY[actor1, actor2] ELSE ARRAY[actor1] END) AS a(actor)"
_PAIR = "least(actor1, actor2), greatest(actor1, actor2)"
_DAY = "event_date, event_type, sub_event_type, country_level, date_precision"
_MONTH = "month, event_type, sub_event_type, admin1_code"

REBUILD = {  # table (its columns): the query that fills it
    "event_counts (event_date, event_type, sub_event_type, country_level, date_precision, n)":
        f"SELECT {_DAY}, sum(n) FROM day_groups GROUP BY 1, 2, 3, 4, 5",
    "region_months": f"SELECT {_MONTH}, sum(n) FROM month_groups GROUP BY 1, 2, 3, 4",
    "actor_counts": f"SELECT a.actor, {_DAY}, sum(n) FROM day_groups {_EACH_ACTOR} GROUP BY 1, 2, 3, 4, 5, 6",
    "actor_pair_counts": f"SELECT {_PAIR}, {_DAY}, sum(n) FROM day_groups WHERE actor1 <> actor2 GROUP BY 1, 2, 3, 4, 5, 6, 7",
    "actor_region_months": f"SELECT a.actor, {_MONTH}, sum(n) FROM month_groups {_EACH_ACTOR} GROUP BY 1, 2, 3, 4, 5",
    "actor_pair_region_months": f"SELECT {_PAIR}, {_MONTH}, sum(n) FROM month_groups WHERE actor1 <> actor2 GROUP BY 1, 2, 3, 4, 5, 6",
    # The map's marks (migration 0006, pg_marks.py): straight from the events, which hold the coordinates.
    "cell_months": "SELECT date_trunc('month', event_date)::date, event_type, sub_event_type, "
                   f"floor((latitude + 90) / {CELL_MONTHS_DEG})::int, floor((longitude + 180) / {CELL_MONTHS_DEG})::int, "
                   "count(*), sum(latitude), sum(longitude) FROM events "
                   f"WHERE geo_precision NOT IN {COARSE_SQL} AND latitude IS NOT NULL AND longitude IS NOT NULL GROUP BY 1, 2, 3, 4, 5",
    "coarse_months": "SELECT date_trunc('month', event_date)::date, event_type, sub_event_type, geo_precision, admin1_code, "
                     f"count(*), sum(latitude), sum(longitude) FROM events WHERE geo_precision IN {COARSE_SQL} GROUP BY 1, 2, 3, 4, 5",
}


def rebuild_counts(conn) -> None:
    """Every count table above, from the events as they are now (inside the import's transaction)."""
    for name, query in GROUPS.items():
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {query}")
    for target, query in REBUILD.items():
        table = target.split()[0]
        conn.execute(f"DELETE FROM {table}")
        conn.execute(f"INSERT INTO {target} {query}")
        conn.execute(f"ANALYZE {table}")
