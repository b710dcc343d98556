"""The offline gazetteer: names (+ country / region hints) -> one GeoNames city, or an error."""
from __future__ import annotations

import pytest

from dashboard.boundaries import load_admin1
from dashboard.ingest.gazetteer import Gazetteer, GeocodeError, country_code_for, normalise_name, region_core

KAZAN_RU = 551487
KAZAN_TR = 743615
POKROVSK_UA = 704422
ENGELS_RU = 563464  # its GeoNames alternate names include "Pokrovsk"
KYIV = 703448
LVIV = 702550


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.from_admin1(load_admin1())


def test_kazan_without_hints_is_ambiguous_and_lists_both(gazetteer):
    with pytest.raises(GeocodeError) as caught:
        gazetteer.geocode("Kazan")
    message = str(caught.value)
    assert "ambiguous" in message
    assert f"(RU, GeoNames {KAZAN_RU})" in message
    assert f"(TR, GeoNames {KAZAN_TR})" in message
    assert "add a country or region" in message


@pytest.mark.parametrize("country", ["Russia", "RU", "RUS", "Russian Federation", "russia"])
def test_kazan_with_a_country_hint(gazetteer, country):
    place = gazetteer.geocode("Kazan", country)
    assert place.geonameid == KAZAN_RU
    assert place.country_code == "RU"
    assert place.latitude == pytest.approx(55.79, abs=0.05)
    assert place.longitude == pytest.approx(49.12, abs=0.05)


def test_kazan_with_turkey_is_the_turkish_one(gazetteer):
    place = gazetteer.geocode("Kazan", "Turkey")
    assert place.geonameid == KAZAN_TR
    assert place.country_code == "TR"


@pytest.mark.parametrize("region", ["Tatarstan", "RU-TA", "Republic of Tatarstan", "Татарстан"])
def test_kazan_with_a_region_hint_only(gazetteer, region):
    place = gazetteer.geocode("Kazan", "", region)
    assert place.geonameid == KAZAN_RU


def test_a_region_hint_that_excludes_the_place_is_not_found(gazetteer):
    with pytest.raises(GeocodeError, match="not found in the gazetteer \\(in Voronezh, Russia\\)"):
        gazetteer.geocode("Kazan", "Russia", "Voronezh")


def test_pokrovsk_is_ukraines_not_engels(gazetteer):
    # Engels (Russia) was once Pokrovsk, and GeoNames keeps that as an alternate
    # name; the current name wins, so this is not ambiguous.
    place = gazetteer.geocode("Pokrovsk")
    assert place.geonameid == POKROVSK_UA
    assert place.country_code == "UA"
    assert place.name == "Pokrovsk"
    assert gazetteer.geocode("Pokrovsk", "Ukraine", "Donetsk").geonameid == POKROVSK_UA


def test_an_alternate_name_is_used_when_the_hints_exclude_the_current_one(gazetteer):
    assert gazetteer.geocode("Pokrovsk", "Russia").geonameid == ENGELS_RU


def test_unknown_place_is_an_error_naming_it(gazetteer):
    with pytest.raises(GeocodeError, match="place 'Nowhereville-on-Sea' not found in the gazetteer"):
        gazetteer.geocode("Nowhereville-on-Sea")


def test_empty_place_is_an_error(gazetteer):
    with pytest.raises(GeocodeError, match="no place name"):
        gazetteer.geocode("  ")


def test_unknown_country_is_an_error(gazetteer):
    with pytest.raises(GeocodeError, match="unknown country 'Atlantis'"):
        gazetteer.geocode("Kazan", "Atlantis")


@pytest.mark.parametrize(("place", "country"), [("Ukraine", ""), ("Ukraine", "Ukraine"), ("somewhere", "UA")])
def test_country_precision_gives_the_capital(gazetteer, place, country):
    capital = gazetteer.geocode(place, country, "", "country")
    assert capital.geonameid == KYIV
    assert capital.country_code == "UA"
    assert capital.name == "Kyiv"


def test_country_precision_for_an_unknown_country_is_an_error(gazetteer):
    with pytest.raises(GeocodeError, match="country 'Narnia' not found"):
        gazetteer.geocode("Narnia", "", "", "country")


@pytest.mark.parametrize("spelling", ["Lviv", "L'viv", "L’viv", "lviv", "LVIV", "  Lviv  ", "Lwów"])
def test_names_are_case_accent_and_apostrophe_insensitive(gazetteer, spelling):
    assert gazetteer.geocode(spelling).geonameid == LVIV


def test_normalise_name():
    assert normalise_name("L'viv") == normalise_name("Lviv") == "lviv"
    assert normalise_name("Zaporizhzhia") != normalise_name("Zaporizhia")  # no fuzzy matching
    assert normalise_name("Ivano-Frankivsk") == "ivano frankivsk"
    assert normalise_name("Bílá  Cérkva") == "bila cerkva"


def test_region_core_drops_the_kind_of_region():
    assert region_core("Voronezh Oblast") == region_core("Voronezh region") == "voronezh"
    assert region_core("Republic of Tatarstan") == "tatarstan"


@pytest.mark.parametrize(("name", "code"), [("Ukraine", "UA"), ("UKR", "UA"), ("ua", "UA"), ("Russian Federation", "RU")])
def test_country_code_for(name, code):
    assert country_code_for(name) == code


def test_country_code_for_nothing_or_nonsense():
    assert country_code_for("") is None
    assert country_code_for("Atlantis") is None


def test_on_demand_region_hints_read_only_the_countries_asked_about(monkeypatch):
    from dashboard import boundaries

    asked = []
    real = boundaries.load_admin1

    def spy(codes=None):
        asked.append(None if codes is None else tuple(codes))
        return real(codes)

    on_demand = Gazetteer(admin1_loader=spy)
    kazan = on_demand.geocode("Kazan", "", "Tatarstan")
    assert (kazan.country_code, round(kazan.latitude, 2)) == ("RU", 55.79)
    assert on_demand.geocode("Pokrovsk", "Ukraine", "Donetsk").country_code == "UA"
    assert None not in asked, "the whole world's regions were loaded"
    assert set(asked) <= {("RU",), ("TR",), ("UA",)}
