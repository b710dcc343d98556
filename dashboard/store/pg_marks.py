"""The PostGIS store's answers for the map's marks: events per grid cell, and
the events placed only to a region or a country, counted (postgis.py asks).

A view of dates and types (no region, actor, text... filter) is summed from
the month tables of migration 0006 (cell_months for cells of 1 degree and
more, coarse_months), with the days outside the range's whole months read
from the events; any other view groups its matching events.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .contract import (
    CLUSTER_COLUMNS,
    COARSE_COUNT_COLUMNS,
    COARSE_PRECISIONS,
    extent_cells,
)
from .pg_derived import CELL_MONTHS_DEG
from .sql import filters_only, month_parts, only_day_and_type, where

COARSE_SQL = "geo_precision = ANY(%s)"


def clusters(store, view, cell_deg: float, precisions: tuple[str, ...] | None = None, extent=None) -> pd.DataFrame:
    view, size = filters_only(view), float(cell_deg)
    cells = extent_cells(extent, size) if extent is not None else None
    source, params = _cells_from_months(store, view, size, precisions, cells) or _cells_from_events(store, view, size, precisions, cells)
    rows = store._rows(
        "SELECT r, c, event_type, n, sum(sum_lat) OVER cell / sum(n) OVER cell, sum(sum_lon) OVER cell / sum(n) OVER cell "
        f"FROM ({source}) cells WINDOW cell AS (PARTITION BY r, c) ORDER BY r, c, event_type",
        params,
    )
    if not rows:
        return pd.DataFrame(columns=CLUSTER_COLUMNS)
    r, c, types, n, lat, lon = zip(*rows)
    return pd.DataFrame(
        {
            "cell": [f"{a}:{b}" for a, b in zip(r, c)],
            "latitude": np.asarray(lat, dtype=np.float64),
            "longitude": np.asarray(lon, dtype=np.float64),
            "event_type": np.asarray(types, dtype=object),
            "count": np.asarray(n, dtype=np.int64),
        },
        columns=CLUSTER_COLUMNS,
    )


def _cells_from_events(store, view, size, precisions, cells, extra: str = "", extra_params=()) -> tuple[str, list]:
    """(r, c, event_type, n, sum_lat, sum_lon) per cell and type of the matching events (extra: more conditions)."""
    condition, params = store._where(view)
    conditions, where_params = [condition, "latitude IS NOT NULL AND longitude IS NOT NULL"], list(params)
    if extra:
        conditions.append(extra)
        where_params += list(extra_params)
    if precisions is not None:
        conditions.append("geo_precision = ANY(%s)")
        where_params.append(list(precisions))
    if cells is not None:
        first_row, last_row, first_col, last_col = cells
        # The cells' box through the geometry's GiST index, then the cells exactly (a box edge is the next cell's).
        conditions.append("geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)")
        where_params += [first_col * size - 180, first_row * size - 90, (last_col + 1) * size - 180, (last_row + 1) * size - 90]
        conditions.append("floor((latitude + 90) / %s) BETWEEN %s AND %s AND floor((longitude + 180) / %s) BETWEEN %s AND %s")
        where_params += [size, first_row, last_row, size, first_col, last_col]
    query = ("SELECT floor((latitude + 90) / %s)::bigint AS r, floor((longitude + 180) / %s)::bigint AS c, event_type, "
             f"count(*) AS n, sum(latitude) AS sum_lat, sum(longitude) AS sum_lon FROM events WHERE {' AND '.join(conditions)} GROUP BY 1, 2, 3")
    return query, [size, size, *where_params]


def _cells_from_months(store, view, size, precisions, cells) -> tuple[str, list] | None:
    """As _cells_from_events, summed from cell_months; None when the view or the cell size needs the events."""
    fine = set(store.precisions) - set(COARSE_PRECISIONS)
    k = size / CELL_MONTHS_DEG
    if (not only_day_and_type(view) or precisions is None or set(precisions) & set(COARSE_PRECISIONS)
            or not fine <= set(precisions) or k < 1 or not float(math.log2(k)).is_integer()):
        return None
    parts = month_parts(view)
    if parts is None:
        return None
    months, month_params, edges, edge_params = parts
    types, type_params = where(view.replace(date_from=None, date_to=None), store._pairs)
    k = int(k)
    conditions, params = [types, *months], [*type_params, *month_params]
    if cells is not None:
        first_row, last_row, first_col, last_col = cells
        conditions.append("r / %s BETWEEN %s AND %s AND c / %s BETWEEN %s AND %s")  # r, c >= 0: integer division is floor
        params += [k, first_row, last_row, k, first_col, last_col]
    source = f"SELECT r / {k} AS r, c / {k} AS c, event_type, n, sum_lat, sum_lon FROM cell_months WHERE {' AND '.join(conditions)}"
    if edges:
        edge_source, edge_source_params = _cells_from_events(
            store, view.replace(date_from=None, date_to=None), size, precisions, cells, f"({' OR '.join(edges)})", edge_params
        )
        source += f" UNION ALL {edge_source}"
        params += edge_source_params
    return (f"SELECT r, c, event_type, sum(n)::bigint AS n, sum(sum_lat) AS sum_lat, sum(sum_lon) AS sum_lon "
            f"FROM ({source}) parts GROUP BY 1, 2, 3"), params


def coarse_counts(store, view) -> pd.DataFrame:
    view = filters_only(view)
    parts = month_parts(view) if only_day_and_type(view) else None
    keys = "geo_precision, admin1_code, event_type"
    if parts is None:
        condition, params = store._where(view)
        query = (f"SELECT {keys}, count(*), avg(latitude), avg(longitude) FROM events "
                 f"WHERE ({condition}) AND {COARSE_SQL} GROUP BY 1, 2, 3")
        params = [*params, list(COARSE_PRECISIONS)]
    else:
        months, month_params, edges, edge_params = parts
        types, type_params = where(view.replace(date_from=None, date_to=None), store._pairs)
        source = f"SELECT {keys}, n, sum_lat, sum_lon FROM coarse_months WHERE {' AND '.join([types, *months])}"
        params = [*type_params, *month_params]
        if edges:
            source += (f" UNION ALL SELECT {keys}, count(*), sum(latitude), sum(longitude) FROM events "
                       f"WHERE {types} AND {COARSE_SQL} AND ({' OR '.join(edges)}) GROUP BY 1, 2, 3")
            params += [*type_params, list(COARSE_PRECISIONS), *edge_params]
        query = f"SELECT {keys}, sum(n)::bigint, sum(sum_lat) / sum(n), sum(sum_lon) / sum(n) FROM ({source}) parts GROUP BY 1, 2, 3"
    table = pd.DataFrame(store._rows(query, params), columns=COARSE_COUNT_COLUMNS)
    table["count"] = table["count"].astype(np.int64)
    for axis in ("latitude", "longitude"):
        table[axis] = table[axis].astype(np.float64)
    return table
