"""Positions: coordinates checked, and places without usable ones geocoded offline.

A row whose coordinates cannot be used (not numbers, out of range, swapped,
0,0, only one of the two) is still an event if the gazetteer finds its place:
it is placed there with a warning.  Without a gazetteer, or when the place is
not found, the coordinate problem rejects the row.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .gazetteer import GeocodeError
from .problems import Problems, to_number


def check_coordinates(frame: pd.DataFrame, rejects, warns, gazetteer):
    """(latitude, longitude) arrays; rows without a position are added to `rejects`."""
    lat_text, lon_text = frame["latitude"], frame["longitude"]
    latitude = to_number(lat_text).to_numpy(dtype=float, copy=True)
    longitude = to_number(lon_text).to_numpy(dtype=float, copy=True)
    problems = Problems(frame)  # the coordinate problems, held until geocoding has had its say
    problems.add((lat_text != "") & np.isnan(latitude), "latitude", "not a number")
    problems.add((lon_text != "") & np.isnan(longitude), "longitude", "not a number")
    problems.add((lat_text == "") != (lon_text == ""), "latitude", "latitude and longitude must both be given, or neither")
    with np.errstate(invalid="ignore"):
        lat_bad = np.abs(latitude) > 90
        lon_bad = np.abs(longitude) > 180
        swapped = lat_bad & (np.abs(longitude) <= 90)
    problems.add(swapped, "latitude", "latitude and longitude look swapped (latitude beyond ±90, longitude within it)")
    problems.add(lat_bad, "latitude", "latitude out of range (−90..90)")
    problems.add(lon_bad, "longitude", "longitude out of range (−180..180)")
    problems.add((latitude == 0) & (longitude == 0), "latitude", "coordinates are 0,0, a common placeholder for a missing location")
    unusable = problems.bad
    missing = (lat_text == "").to_numpy() & (lon_text == "").to_numpy()
    latitude[unusable], longitude[unusable] = np.nan, np.nan

    # Geocode rows with no usable coordinates whose other fields are fine.
    wanted = (missing | unusable) & ~rejects.bad
    found = np.zeros(len(frame), dtype=bool)
    reasons = pd.Series("", index=frame.index, dtype=object)
    if wanted.any() and gazetteer is not None:
        found, reasons = _geocode(frame, wanted, latitude, longitude, gazetteer)
    elif wanted.any():
        reasons[wanted] = "no coordinates, and no gazetteer to geocode the place"

    # Unusable coordinates: a warning when the place was found, else the coordinate reason rejects.
    placed = unusable & found
    for mask, part in zip(problems.masks, problems.parts):
        if (mask & placed).any():
            said = dict(zip(part["row"], part["reason"]))
            warns.add(mask & placed, str(part["column"].iloc[0]),
                      lambda rows, said=said: rows["_row"].map(said) + "; placed by the gazetteer at " + rows["place"].map(repr))
    rejects.absorb(problems, skip=placed)
    failed = missing & wanted & ~found
    rejects.add(failed, "place" if gazetteer is not None else "latitude", lambda rows: reasons[rows.index])
    return latitude, longitude


def _geocode(frame, wanted, latitude, longitude, gazetteer):
    """One look-up per distinct (place, country, region, precision), merged back onto the rows."""
    columns = ["place", "country", "admin1", "geo_precision"]
    keys = frame.loc[wanted, columns]
    answers = []
    for key in keys.drop_duplicates().itertuples(index=False):
        try:
            place = gazetteer.geocode(*key)
            answers.append((*key, place.latitude, place.longitude, ""))
        except GeocodeError as error:
            answers.append((*key, np.nan, np.nan, f"no coordinates, and {error}"))
    table = pd.DataFrame(answers, columns=[*columns, "_lat", "_lon", "_reason"])
    matched = keys.reset_index().merge(table, on=columns, how="left").set_index("index").loc[keys.index]
    rows = np.flatnonzero(wanted)
    latitude[rows] = matched["_lat"].to_numpy(dtype=float)
    longitude[rows] = matched["_lon"].to_numpy(dtype=float)
    found = np.zeros(len(frame), dtype=bool)
    found[rows] = ~np.isnan(latitude[rows])
    reasons = pd.Series("", index=frame.index, dtype=object)
    reasons.loc[keys.index] = matched["_reason"].to_numpy()
    return found, reasons
