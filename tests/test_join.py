"""The spatial join: points -> country, admin-1 region, and a note where the match is not exact.

Points off the coast are not guessed: they are constructed from the boundaries
themselves (buffer the land by d km in a local equidistant projection and take
the point of that outline nearest a spot out at sea), so "d km from the nearest
region" is true by construction, measured independently of join.py's own
Web-Mercator arithmetic.
"""
from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point
from shapely.ops import nearest_points

from dashboard.boundaries import load_admin1, load_countries
from dashboard.ingest.join import NEAREST_TOLERANCE_KM, join_admin1

SEA_OF_AZOV = (36.6, 46.1)  # lon, lat: open water, bounded by Ukraine and Russia only
BLACK_SEA = (34.0, 43.3)  # open water well south of Crimea, far from Turkey


def events_at(points, geo_precision="town") -> pd.DataFrame:
    """A minimal events table: one event per (lon, lat), ids e1, e2, ..., source rows 1, 2, ..."""
    return pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(1, len(points) + 1)],
            "longitude": [float(lon) for lon, _ in points],
            "latitude": [float(lat) for _, lat in points],
            "geo_precision": geo_precision,
            "source_row": np.arange(1, len(points) + 1),
        }
    )


def local_crs(lon: float, lat: float) -> str:
    return f"+proj=aeqd +lat_0={lat} +lon_0={lon} +units=m +datum=WGS84"


def point_off_coast(sea: tuple[float, float], km: float) -> tuple[float, float]:
    """The point `km` from the nearest admin-1 region, on the side facing `sea`."""
    crs = local_crs(*sea)
    regions = load_admin1().to_crs(crs)
    sea_point = Point(0, 0)  # the projection's centre
    nearby = regions[regions.distance(sea_point) < 400_000]
    land = shapely.union_all(nearby.geometry.values)
    # .boundary, not .exterior: buffered land can close around an enclosed sea.
    outline = land.buffer(km * 1000, quad_segs=64).boundary
    on_outline = nearest_points(outline, sea_point)[0]
    lonlat = gpd.GeoSeries([on_outline], crs=crs).to_crs(4326).iloc[0]
    return lonlat.x, lonlat.y


def nearest_region(lon: float, lat: float) -> tuple[str, float]:
    """(admin1_code, km) of the region nearest the point, measured in a projection centred on it."""
    regions = load_admin1().to_crs(local_crs(lon, lat))
    metres = regions.distance(Point(0, 0))
    best = int(np.argmin(metres.to_numpy()))
    return regions["admin1_code"].iloc[best], float(metres.iloc[best]) / 1000


def km_in_note(note: str) -> float:
    match = re.fullmatch(r"nearest region, (\d+\.\d) km away", note)
    assert match, f"unexpected join note {note!r}"
    return float(match.group(1))


# ------------------------------------------------------------- known points


@pytest.mark.parametrize(
    ("name", "lon", "lat", "admin1_code", "country_code"),
    [
        ("Pokrovsk", 37.177, 48.280, "UA-14", "UA"),
        ("Lyman", 37.808, 48.990, "UA-14", "UA"),
        ("Kazan", 49.122, 55.789, "RU-TA", "RU"),
        ("Liski", 39.504, 50.982, "RU-VOR", "RU"),
        ("Smolensk", 32.051, 54.778, "RU-SMO", "RU"),
        ("Kursk", 36.185, 51.727, "RU-KRS", "RU"),
        ("Simferopol", 34.10, 44.95, "UA-43", "UA"),
        ("Sevastopol", 33.52, 44.60, "UA-40", "UA"),
        ("Lviv", 24.023, 49.838, "UA-46", "UA"),
        ("Kyiv", 30.524, 50.455, "UA-30", "UA"),
    ],
)
def test_known_points_fall_in_their_region(name, lon, lat, admin1_code, country_code):
    joined, notes = join_admin1(events_at([(lon, lat)]))
    row = joined.iloc[0]
    assert row["admin1_code"] == admin1_code, name
    assert row["country_code"] == country_code, name
    assert row["admin1_name"] == load_admin1().set_index("admin1_code").loc[admin1_code, "admin1_name"]
    assert row["join_note"] == ""
    assert notes == []


def test_join_keeps_every_event_and_its_columns():
    events = events_at([(37.177, 48.280), (49.122, 55.789), (0.0, -60.0)])
    events["summary"] = ["a", "b", "c"]
    joined, _ = join_admin1(events)
    assert len(joined) == len(events)
    pd.testing.assert_frame_equal(joined[events.columns], events)
    for column in ("country_code", "admin1_code", "admin1_name", "join_note"):
        assert joined[column].map(type).eq(str).all(), column


def test_a_point_in_a_country_without_loaded_regions_gets_its_country_and_no_region():
    # Only Ukraine's and Russia's regions are given: Minsk falls back to the world countries layer.
    minsk = (27.567, 53.900)
    joined, _ = join_admin1(events_at([minsk]), admin1=load_admin1(["UA", "RU"]))
    assert joined.loc[0, "country_code"] == "BY"
    assert joined.loc[0, "admin1_code"] == ""


def test_a_point_in_a_neighbouring_country_gets_that_countrys_region():
    minsk = (27.567, 53.900)
    joined, _ = join_admin1(events_at([minsk]))
    assert joined.loc[0, "country_code"] == "BY"
    assert joined.loc[0, "admin1_code"] == "BY-HM"


# ------------------------------------------------------------ off the coast


def test_a_point_just_off_the_coast_takes_the_nearest_region_and_says_how_far():
    lon, lat = point_off_coast(SEA_OF_AZOV, 2.0)
    expected_code, expected_km = nearest_region(lon, lat)
    assert expected_km == pytest.approx(2.0, abs=0.05)  # the construction worked
    assert load_admin1().contains(Point(lon, lat)).sum() == 0  # it is at sea

    joined, notes = join_admin1(events_at([(lon, lat)]))
    row = joined.iloc[0]
    assert row["admin1_code"] == expected_code
    assert row["country_code"] == expected_code[:2]
    assert km_in_note(row["join_note"]) == pytest.approx(expected_km, abs=0.15)
    assert notes == [f"row 1 (e1): {row['join_note']}"]


def test_a_point_far_out_at_sea_gets_no_region_and_is_reported():
    lon, lat = point_off_coast(BLACK_SEA, 30.0)
    assert nearest_region(lon, lat)[1] == pytest.approx(30.0, abs=0.1)

    inland = (37.177, 48.280)
    joined, notes = join_admin1(events_at([inland, (lon, lat)]))
    far = joined.iloc[1]
    assert far["admin1_code"] == ""
    assert far["admin1_name"] == ""
    assert far["country_code"] == ""
    assert far["join_note"] == "outside every region"
    assert notes == ["row 2 (e2): outside every region"]
    assert joined.iloc[0]["admin1_code"] == "UA-14"


@pytest.mark.parametrize(("fraction", "snaps"), [(0.8, True), (1.5, False)])
def test_the_tolerance_boundary(fraction, snaps):
    km = fraction * NEAREST_TOLERANCE_KM
    lon, lat = point_off_coast(SEA_OF_AZOV, km)
    expected_code, expected_km = nearest_region(lon, lat)
    assert expected_km == pytest.approx(km, abs=0.05)

    joined, notes = join_admin1(events_at([(lon, lat)]))
    row = joined.iloc[0]
    if snaps:
        assert row["admin1_code"] == expected_code
        assert km_in_note(row["join_note"]) == pytest.approx(km, abs=0.2)
    else:
        assert row["admin1_code"] == ""
        assert row["join_note"] == "outside every region"
    assert len(notes) == 1


def test_rows_in_notes_come_from_source_row_not_position():
    lon, lat = point_off_coast(BLACK_SEA, 30.0)
    events = events_at([(lon, lat)])
    events["source_row"] = [17]
    _, notes = join_admin1(events)
    assert notes == ["row 17 (e1): outside every region"]


# ---------------------------------------------------------- country level


def test_a_country_level_event_keeps_its_country_and_no_region():
    kyiv = (30.5238, 50.45466)  # where the gazetteer puts a Ukraine-level event
    events = pd.concat([events_at([kyiv], "country"), events_at([kyiv], "town")], ignore_index=True)
    joined, notes = join_admin1(events)
    country_level, town = joined.iloc[0], joined.iloc[1]
    assert country_level["country_code"] == "UA"
    assert country_level["admin1_code"] == ""
    assert country_level["admin1_name"] == ""
    assert country_level["join_note"] == "country-level event: no region"
    assert town["admin1_code"] == "UA-30"  # the same point, located to the town, does get a region
    assert notes == []


def test_join_uses_the_boundaries_it_is_given():
    square = shapely.box(10, 10, 11, 11)
    admin1 = gpd.GeoDataFrame(
        {"admin1_code": ["XX-01"], "admin1_name": ["Test"], "country_code": ["XX"]}, geometry=[square], crs=4326
    )
    countries = gpd.GeoDataFrame({"country_code": ["XX"]}, geometry=[square], crs=4326)
    joined, _ = join_admin1(events_at([(10.5, 10.5), (37.177, 48.280)]), admin1, countries)
    assert joined["admin1_code"].tolist() == ["XX-01", ""]
    assert joined["join_note"].tolist() == ["", "outside every region"]


def test_the_cell_shortcut_places_every_point_as_the_polygon_by_polygon_search_does(monkeypatch):
    # Random points over Ukraine and its neighbours, and points on the regions'
    # shared borders (their vertices), where the smaller bounding box wins.
    from dashboard.ingest import join

    rng = np.random.default_rng(5)
    regions = load_admin1(["UA", "MD", "BY"])
    vertices = shapely.get_coordinates(regions.geometry.values)[::50]
    lon = np.concatenate([rng.uniform(21, 41, 30_000), vertices[:, 0], [np.nan, 200.0]])
    lat = np.concatenate([rng.uniform(43, 57, 30_000), vertices[:, 1], [50.0, 50.0]])
    for polygons in (regions.geometry.values, load_countries().geometry.values):
        with_cells, _ = join.locate(lon, lat, polygons, nearest=False)
        assert (with_cells >= 0).mean() > 0.3  # the points do fall in the polygons
        monkeypatch.setattr(join, "_in_whole_cells", lambda lon, *_: np.full(len(lon), -1, dtype=np.int64))
        without, _ = join.locate(lon, lat, polygons, nearest=False)
        monkeypatch.undo()
        np.testing.assert_array_equal(with_cells, without)


# Just inside Belarus (region BY-BR), 1.1 km from Ukraine's nearest region; Minsk, well inside.
BY_BR_NEAR_UKRAINE, MINSK = (27.0, 51.77), (27.567, 53.900)


def countries_wrong_at_the_belarus_border() -> gpd.GeoDataFrame:
    """A countries layer that disagrees with the regions: Ukraine drawn ~10 km too wide, Belarus
    ~30 km too narrow, so BY_BR_NEAR_UKRAINE is "in Ukraine" yet in none of Ukraine's regions."""
    countries = load_countries()
    chosen = countries[countries["country_code"].isin(["UA", "BY"])].copy()
    widen = np.where(chosen["country_code"] == "UA", 0.1, -0.3)
    chosen["geometry"] = shapely.buffer(chosen.geometry.values, widen)
    return chosen.reset_index(drop=True)


def test_a_point_left_over_by_its_countrys_regions_gets_the_same_region_whatever_comes_with_it():
    # Alone (one chunk of a streamed import) or beside a point in Belarus (the
    # whole file), the point takes the region it lies in, not Ukraine's nearest.
    countries = countries_wrong_at_the_belarus_border()
    alone, _ = join_admin1(events_at([BY_BR_NEAR_UKRAINE]), countries=countries)
    beside, _ = join_admin1(events_at([BY_BR_NEAR_UKRAINE, MINSK]), countries=countries)
    assert alone.loc[0, "country_code"] == "BY" and beside.loc[0, "country_code"] == "BY"
    assert alone.loc[0, "admin1_code"] == beside.loc[0, "admin1_code"] == "BY-BR"
    assert alone.loc[0, "join_note"] == beside.loc[0, "join_note"] == ""


def test_countries_layer_matches_admin1_outlines():
    # The country of a point in a region is the region's country; the two layers agree.
    admin1, countries = load_admin1(), load_countries()
    for code in ("UA", "RU"):
        regions = shapely.union_all(admin1[admin1["country_code"] == code].geometry.values)
        outline = countries[countries["country_code"] == code].geometry.iloc[0]
        assert regions.symmetric_difference(outline).area < 1e-6 * outline.area
