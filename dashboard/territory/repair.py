"""Repairing control-layer geometry: invalid polygons made valid, empty or out-of-range ones reported and skipped."""
from __future__ import annotations


import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .model import polygonal, polygons_of

def clean_geometries(geometries: np.ndarray, found, keep: np.ndarray) -> np.ndarray:
    """Repair or reject each geometry; updates ``keep`` in place.

    Coordinate rule: longitude (x) must lie in [-180, 180] and latitude (y)
    in [-90, 90]; anything else (latitude/longitude swapped far from the
    equator, projected metres, infinities) is an error and the feature is
    skipped.  Swaps that stay within both ranges cannot be told apart from
    real places and are not detected.
    """
    geometries = shapely.force_2d(geometries.astype(object))
    cleaned = geometries.copy()
    missing = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    with np.errstate(invalid="ignore"):
        bounds = shapely.bounds(geometries)
        in_range = (np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1) & (np.abs(bounds[:, [1, 3]]) <= 90).all(axis=1)
    plain_polygon = np.isin(shapely.get_type_id(geometries), [3, 6])  # Polygon, MultiPolygon
    valid = shapely.is_valid(geometries)
    for row in np.flatnonzero(keep & ~(~missing & in_range & plain_polygon & valid)):
        if missing[row]:
            problem = "no geometry (missing, empty or malformed)"
        elif not in_range[row]:
            problem = _range_problem(bounds[row])
        else:
            cleaned[row], problem, repaired = _repair(geometries[row])
            if repaired:
                found.add(row, problem, "repaired")
                continue
        found.add(row, problem)
        keep[row] = False
    return cleaned


def _range_problem(bounds: np.ndarray) -> str:
    min_x, min_y, max_x, max_y = (round(float(v), 3) for v in bounds)
    return (
        f"coordinates outside longitude -180..180 / latitude -90..90 (x {min_x}..{max_x}, y {min_y}..{max_y});"
        " latitude and longitude swapped, or not in degrees?"
    )


def _repair(geometry: BaseGeometry) -> tuple[BaseGeometry | None, str, bool]:
    """(geometry, what was wrong, whether it could be repaired)."""
    kind = geometry.geom_type
    if kind not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        return None, f"a {kind}, not a polygon", False
    reason = f"a {kind}: kept its polygon parts"
    if kind == "GeometryCollection":
        geometry = shapely.MultiPolygon(polygons_of(geometry))
        if geometry.is_empty:
            return None, "a GeometryCollection with no polygon in it", False
    if not geometry.is_valid:
        reason = f"invalid polygon ({shapely.is_valid_reason(geometry)}), fixed with make_valid"
        # "structure" keeps only polygonal output for polygonal input.
        geometry = polygonal(shapely.make_valid(geometry, method="structure", keep_collapsed=False))
        if geometry.is_empty:
            return None, "invalid polygon with no area left after repair", False
    return geometry, reason, True
