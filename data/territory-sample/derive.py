"""Derive the bundled control-layer sample from DeepStateMap daily snapshots.

    python data/territory-sample/derive.py SNAPSHOT_FOLDER [--out data/territory-sample]

SNAPSHOT_FOLDER holds `deepstatemap_data_YYYYMMDD.geojson` files as the
github.com/cyterat/deepstate-map-data repository publishes them (GPL-3.0).
For each day in DAYS the polygons are simplified (Douglas-Peucker, topology
kept, TOLERANCE_DEG) and coordinates rounded to 4 decimals (about 10 m), so
five days take a few hundred KB; the dashboard reads the output folder with
`--territory data/territory-sample/`.  Only the derived files are committed.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
from shapely.geometry import mapping

# The bundled events run from 11 to 21 January 2025: a snapshot before,
# during and at the end of them, and the two days of the briefing.
DAYS = ["20250111", "20250115", "20250118", "20250120", "20250121"]
TOLERANCE_DEG = 0.004  # about 300-450 m at these latitudes; the line stays within it
HERE = Path(__file__).resolve().parent


def _rounded(coordinates):
    if isinstance(coordinates, (list, tuple)) and coordinates and isinstance(coordinates[0], (int, float)):
        return [round(coordinates[0], 4), round(coordinates[1], 4)]
    return [_rounded(c) for c in coordinates]


def derive(folder: Path, out: Path) -> list[Path]:
    written = []
    for day in DAYS:
        source = folder / f"deepstatemap_data_{day}.geojson"
        frame = gpd.read_file(source)
        frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
        simplified = frame.geometry.simplify(TOLERANCE_DEG, preserve_topology=True).make_valid()
        features = [
            {"type": "Feature", "properties": {}, "geometry": {**(g := mapping(geometry)), "coordinates": _rounded(g["coordinates"])}}
            for geometry in simplified
            if not geometry.is_empty and geometry.geom_type in ("Polygon", "MultiPolygon")
        ]
        target = out / source.name
        target.write_text(json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")) + "\n", encoding="utf-8")
        written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of deepstatemap_data_YYYYMMDD.geojson files")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write the sample (default: this folder)")
    args = parser.parse_args()
    for path in derive(args.folder, args.out):
        print(f"{path} {path.stat().st_size / 1024:,.0f} KB")


if __name__ == "__main__":
    main()
