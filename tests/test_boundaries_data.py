"""The bundled boundary files against the ground: areas, known places, the world.

Fast (no browser): reads data/geo only. The per-unit area tolerances mirror the
accuracy table in data/geo/SOURCES.md, so a rebuild that gets worse fails here.
"""
from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from dashboard.boundaries import (
    ADMIN1_DIR, ADMIN1_INDEX_PATH, GEO_DIR, admin1_path_for, admin1_url_for, boundary_path_for_url,
    load_admin1, load_countries,
)
from dashboard.ingest.gazetteer import Gazetteer

EQUAL_AREA = 6933
AREA_TOLERANCE_PCT = 3.0
# Units outside 3%, with their cause (SOURCES.md, "Accuracy"): the bound is a
# little above today's error, so a worse rebuild fails.
DOCUMENTED_AREA_ERROR_PCT = {
    "UA-40": 6.0,  # +5.2%: geoBoundaries' city clipped to Natural Earth's coarse coast
    "UA-48": 5.0,  # -4.3%: estuaries counted in the official area are water in Natural Earth
    "UA-65": 9.0,  # -8.0%: same (Dnipro estuary, Kakhovka reservoir, Sivash)
}


@pytest.fixture(scope="module")
def ukraine():
    return load_admin1(["UA"])


@pytest.fixture(scope="module")
def areas(ukraine):
    official = pd.read_csv(GEO_DIR / "ukraine_admin1_areas.csv").set_index("admin1_code")
    ours = ukraine.set_index("admin1_code").to_crs(EQUAL_AREA).area / 1e6
    official["ours_km2"] = ours
    official["diff_pct"] = (ours - official["official_km2"]) / official["official_km2"] * 100
    return official


def region_at(admin1, lon, lat) -> list[str]:
    return admin1[admin1.contains(Point(lon, lat))]["admin1_code"].tolist()


def geocode(name, country):
    place = Gazetteer().geocode(name, country)
    return place.longitude, place.latitude


# ------------------------------------------------------------ (a) areas


def test_every_ukrainian_unit_has_an_official_area(areas, ukraine):
    assert len(ukraine) == 27
    assert set(areas.index) == set(ukraine["admin1_code"])
    assert areas["ours_km2"].notna().all()


@pytest.mark.parametrize("code", sorted(pd.read_csv(GEO_DIR / "ukraine_admin1_areas.csv")["admin1_code"]))
def test_unit_area_is_within_its_documented_tolerance(areas, code):
    row = areas.loc[code]
    tolerance = DOCUMENTED_AREA_ERROR_PCT.get(code, AREA_TOLERANCE_PCT)
    print(f"{code} {row['name']}: official {row['official_km2']:.0f} km², ours {row['ours_km2']:.0f} km² ({row['diff_pct']:+.1f}%)")
    assert abs(row["diff_pct"]) <= tolerance


def test_documented_exceptions_are_still_needed(areas):
    # An exception that a better source has fixed should be removed (and SOURCES.md updated).
    for code in DOCUMENTED_AREA_ERROR_PCT:
        assert abs(areas.loc[code, "diff_pct"]) > AREA_TOLERANCE_PCT, code


def test_kyiv_city_has_its_official_area(areas):
    # Natural Earth's polygon was 1,642 km²; the border now comes from geoBoundaries.
    assert areas.loc["UA-30", "ours_km2"] == pytest.approx(839, rel=0.03)


# ------------------------------------------------------------ (b) Kyiv and its suburbs


def test_kyiv_is_in_kyiv_city(ukraine):
    assert region_at(ukraine, *geocode("Kyiv", "UA")) == ["UA-30"]


@pytest.mark.parametrize("town", ["Bucha", "Brovary", "Boryspil"])
def test_suburbs_outside_natural_earths_kyiv_are_in_kyiv_oblast(ukraine, town):
    assert region_at(ukraine, *geocode(town, "UA")) == ["UA-32"]


# Natural Earth's Kyiv city covered these: each joined to Kyiv city until the border
# with Kyiv Oblast came from geoBoundaries.
@pytest.mark.parametrize("town", ["Irpin", "Hostomel", "Vyshhorod"])
def test_suburbs_are_in_kyiv_oblast(ukraine, town):
    assert region_at(ukraine, *geocode(town, "UA")) == ["UA-32"]


def test_moshchun_is_in_kyiv_oblast(ukraine):
    # A village (not in the gazetteer's GeoNames cities): its published position.
    assert region_at(ukraine, 30.347, 50.606) == ["UA-32"]


def test_ukraines_regions_still_fill_its_outline_without_overlaps(ukraine):
    # The Kyiv and Sevastopol borders are moved inside their pair of units: the
    # regions must still be a clean coverage that fills the country's outline.
    assert shapely.coverage_is_valid(ukraine.geometry.values)
    outline = load_countries().set_index("country_code").loc["UA", "geometry"]
    union = shapely.coverage_union_all(ukraine.geometry.values)
    assert union.symmetric_difference(outline).area < 1e-6 * outline.area


# ------------------------------------------------------------ (c) Snake Island


def test_snake_island_is_in_odesa_oblast(ukraine):
    assert region_at(ukraine, 30.204, 45.255) == ["UA-51"]
    odesa = ukraine.set_index("admin1_code").loc["UA-51", "geometry"]
    island = [part for part in odesa.geoms if part.contains(Point(30.204, 45.255))][0]
    km2 = gpd.GeoSeries([island], crs=4326).to_crs(EQUAL_AREA).area.iloc[0] / 1e6
    assert km2 == pytest.approx(0.205, rel=0.1)


# ------------------------------------------------------------ (d) the world's regions


@pytest.mark.parametrize(
    "city, country, region_name",
    [
        ("Nairobi", "KE", "Nairobi"),
        ("Dhaka", "BD", "Dhaka"),
        ("Kabul", "AF", "Kabul"),
        ("Minsk", "BY", "Minsk"),
        ("Chisinau", "MD", "Chișinău"),
        ("Tbilisi", "GE", "Tbilisi"),
        ("Almaty", "KZ", "Almaty"),
        ("Bogota", "CO", "Bogotá"),
        ("Kano", "NG", "Kano State"),
        ("Yangon", "MM", "Yangon"),
    ],
)
def test_cities_on_three_continents_get_their_countrys_region(city, country, region_name):
    admin1 = load_admin1([country])
    codes = region_at(admin1, *geocode(city, country))
    assert len(codes) == 1
    row = admin1.set_index("admin1_code").loc[codes[0]]
    assert row["country_code"] == country
    assert codes[0].startswith(f"{country}-")
    assert row["admin1_name"] == region_name


def test_all_countries_load_together():
    admin1 = load_admin1()
    index = json.loads(ADMIN1_INDEX_PATH.read_text(encoding="utf-8"))
    assert set(admin1["country_code"]) == set(index)
    assert admin1["country_code"].value_counts().to_dict() == {code: v["regions"] for code, v in index.items()}
    assert len(index) > 200


# ------------------------------------------------------------ (e) countries


@pytest.mark.parametrize(
    "country, lon, lat",
    [("DE", 10.45, 51.17), ("IR", 53.69, 32.43), ("KZ", 66.92, 48.02), ("AM", 44.51, 40.18), ("UA", 31.17, 48.38)],
)
def test_countries_layer_has_the_land(country, lon, lat):
    countries = load_countries()
    assert country in set(countries["country_code"])
    assert countries[countries.contains(Point(lon, lat))]["country_code"].tolist() == [country]


def test_crimea_is_drawn_in_ukraine():
    countries = load_countries()
    assert countries[countries.contains(Point(34.10, 44.95))]["country_code"].tolist() == ["UA"]


# ------------------------------------------------------------ (f) the build's checks


def test_geometries_are_valid_polygons_and_codes_unique():
    admin1, countries = load_admin1(), load_countries()
    for frame in (admin1, countries):
        assert frame.crs.to_epsg() == 4326
        assert frame.geometry.is_valid.all()
        assert not frame.geometry.is_empty.any()
        assert frame.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert not admin1["admin1_code"].duplicated().any()
    assert not countries["country_code"].duplicated().any()
    assert (admin1["admin1_code"].str[:2] == admin1["country_code"]).all()
    assert shapely.coverage_is_valid(admin1.geometry.values)


def test_regions_and_countries_cover_the_same_land():
    admin1, countries = load_admin1(), load_countries()
    for code, group in admin1.groupby("country_code"):
        outline = countries.set_index("country_code").loc[code, "geometry"]
        assert shapely.union_all(group.geometry.values).symmetric_difference(outline).area < 1e-6, code


def test_transitional_admin1_file_is_ukraine_and_russia():
    legacy = gpd.read_file(GEO_DIR / "admin1.geojson")
    assert set(legacy["country_code"]) == {"UA", "RU"}
    assert sorted(legacy["admin1_code"]) == sorted(load_admin1(["UA", "RU"])["admin1_code"])


def test_per_country_paths_and_urls():
    assert admin1_path_for("ua") == ADMIN1_DIR / "UA.geojson"
    assert admin1_url_for("KE") == "/geo/admin1/KE.geojson"
    assert boundary_path_for_url("/geo/admin1/KE.geojson") == ADMIN1_DIR / "KE.geojson"
    assert boundary_path_for_url("/geo/countries.geojson") == GEO_DIR / "countries.geojson"
    for bad in ("/geo/admin1/ke.geojson", "/geo/admin1/../countries.geojson", "/geo/admin1/ZZ.geojson"):
        assert boundary_path_for_url(bad) is None
    with pytest.raises(KeyError):
        admin1_path_for("ZZ")
    assert load_admin1(["ZZ"]).empty
    assert np.array_equal(load_admin1("UA")["admin1_code"], load_admin1(["UA"])["admin1_code"])
