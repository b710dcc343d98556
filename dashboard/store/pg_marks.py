"""The PostGIS store's answers for the map's marks: events per grid cell, and
the events placed only to a region or a country, counted (postgis.py asks)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .contract import CLUSTER_COLUMNS, COARSE_COUNT_COLUMNS, COARSE_PRECISIONS
from .sql import filters_only


def clusters(store, view, cell_deg: float, precisions: tuple[str, ...] | None = None, extent=None) -> pd.DataFrame:
    condition, params = store._where(filters_only(view))
    if precisions is not None:
        condition, params = f"({condition}) AND geo_precision = ANY(%s)", [*params, list(precisions)]
    if extent is not None:  # the box through the geometry's GiST index
        condition = f"({condition}) AND geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)"
        params = [*params, *(float(x) for x in extent)]
    size = float(cell_deg)
    rows = store._rows(
        "SELECT r, c, event_type, n, sum(sum_lat) OVER cell / sum(n) OVER cell, sum(sum_lon) OVER cell / sum(n) OVER cell FROM ("
        " SELECT floor((latitude + 90) / %s)::bigint AS r, floor((longitude + 180) / %s)::bigint AS c, event_type,"
        " count(*) AS n, sum(latitude) AS sum_lat, sum(longitude) AS sum_lon FROM events"
        f" WHERE {condition} AND latitude IS NOT NULL AND longitude IS NOT NULL GROUP BY 1, 2, 3) cells"
        " WINDOW cell AS (PARTITION BY r, c) ORDER BY r, c, event_type",
        [size, size, *params],
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


def coarse_counts(store, view) -> pd.DataFrame:
    condition, params = store._where(filters_only(view))
    rows = store._rows(
        "SELECT geo_precision, admin1_code, event_type, count(*), avg(latitude), avg(longitude) FROM events "
        f"WHERE ({condition}) AND geo_precision = ANY(%s) GROUP BY 1, 2, 3",
        [*params, list(COARSE_PRECISIONS)],
    )
    table = pd.DataFrame(rows, columns=COARSE_COUNT_COLUMNS)
    table["count"] = table["count"].astype(np.int64)
    for axis in ("latitude", "longitude"):
        table[axis] = table[axis].astype(np.float64)
    return table
