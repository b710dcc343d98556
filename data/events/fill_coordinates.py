"""Fill empty latitude/longitude in a native event CSV from the offline gazetteer.

    python data/events/fill_coordinates.py data/events/article_events.csv

(with the project installed: `pip install -r requirements.txt` installs it.)

The bundled article events were written with place, region and country only;
this script put their coordinates in, so none was typed by hand.  Rows that
already have coordinates are left alone; a place the gazetteer cannot place
unambiguously stops the script with the reason.
"""
import csv
import sys
from pathlib import Path

from dashboard.boundaries import load_admin1
from dashboard.ingest.gazetteer import Gazetteer


def fill(path: Path) -> int:
    gazetteer = Gazetteer.from_admin1(load_admin1())
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    filled = 0
    for row in rows:
        if row["latitude"].strip() or row["longitude"].strip():
            continue
        place = gazetteer.geocode(row["place"], row["country"], row["admin1"], row["geo_precision"] or "town")
        row["latitude"], row["longitude"] = f"{place.latitude:.5f}", f"{place.longitude:.5f}"
        filled += 1
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return filled


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {fill(Path(name))} rows geocoded")
