"""The `events` and `validate` commands: their output and exit codes, which other tools build on.

They run in-process through click's test runner (fast: no interpreter start
per test); `test_the_command_runs_as_users_run_it` runs one as a subprocess,
`python -m dashboard ...`, as users do.

The expected regions are the article's places; everything else (ids, dates,
counts) is read from the bundled CSV itself, so the tests follow the data.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from click.testing import CliRunner

from dashboard import cli, config
from dashboard.boundaries import load_admin1
from dashboard.ingest.gazetteer import Gazetteer
from dashboard.schema import NATIVE_COLUMNS

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "data" / "events" / "article_events.csv"

# Where each of the article's places lies (ISO 3166-2).
REGION_OF_PLACE = {
    "Pokrovsk": "UA-14",
    "Lyman": "UA-14",
    "Kazan": "RU-TA",
    "Liski": "RU-VOR",
    "Smolensk": "RU-SMO",
    "Kursk": "RU-KRS",
}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


def run(cache_dir: Path, *args: str) -> SimpleNamespace:
    """The command's exit code, stdout and stderr, run in this process (an exception is a test failure)."""
    previous = config.CACHE_DIR
    config.CACHE_DIR = Path(cache_dir)
    try:
        result = CliRunner().invoke(cli.main, [str(a) for a in args], prog_name="python -m dashboard", catch_exceptions=False)
    finally:
        config.CACHE_DIR = previous
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def run_process(cache_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DASHBOARD_CACHE_DIR": str(cache_dir)}
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def bundled_rows() -> list[dict[str, str]]:
    with open(BUNDLED, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def events(cache_dir: Path, *args: str) -> list[dict[str, str]]:
    done = run(cache_dir, "events", "--format", "csv", *args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return csv_rows(done.stdout)


def write_native(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, NATIVE_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


# ------------------------------------------------------------------ events


def test_events_lists_every_bundled_event_in_its_region(cache_dir):
    rows = events(cache_dir)
    bundled = bundled_rows()
    assert len(bundled) == 12
    assert sorted(r["event_id"] for r in rows) == sorted(r["event_id"] for r in bundled)
    for row in rows:
        if row["geo_precision"] == "country":
            assert row["admin1_code"] == "", row
            assert row["admin1_name"] == "", row
            assert row["country_code"] == "UA", row
        else:
            assert row["admin1_code"] == REGION_OF_PLACE[row["place"]], row
            assert row["country_code"] == REGION_OF_PLACE[row["place"]][:2], row
            assert row["join_note"] == "", row
    assert sum(r["geo_precision"] == "country" for r in rows) == 1
    assert {r["place"] for r in rows if r["geo_precision"] != "country"} == set(REGION_OF_PLACE)


def test_events_are_sorted_by_date_and_keep_the_bundled_fields(cache_dir):
    rows = events(cache_dir)
    keys = [(r["event_date"], r["event_id"]) for r in rows]
    assert keys == sorted(keys)
    by_id = {r["event_id"]: r for r in bundled_rows()}
    for row in rows:
        original = by_id[row["event_id"]]
        for column in ("event_date", "event_type", "sub_event_type", "actor1", "actor2", "place", "summary", "source_name"):
            assert row[column] == original[column], column
        assert float(row["latitude"]) == float(original["latitude"])
        assert float(row["longitude"]) == float(original["longitude"])


def test_events_from_to_one_day(cache_dir):
    rows = events(cache_dir, "--from", "2025-01-16", "--to", "2025-01-16")
    assert len(rows) == 1
    first_liski = min((r for r in bundled_rows() if r["place"] == "Liski"), key=lambda r: r["event_date"])
    assert rows[0]["event_id"] == first_liski["event_id"]
    assert rows[0]["event_date"] == "2025-01-16"
    assert rows[0]["admin1_code"] == "RU-VOR"


def test_events_date_range_is_inclusive(cache_dir):
    rows = events(cache_dir, "--from", "2025-01-19", "--to", "2025-01-20")
    expected = {r["event_id"] for r in bundled_rows() if "2025-01-19" <= r["event_date"] <= "2025-01-20"}
    assert {r["event_id"] for r in rows} == expected
    assert len(expected) > 1


def test_events_by_type(cache_dir):
    for types in (["Battles"], ["Battles", "Strategic developments"]):
        args = [a for t in types for a in ("--type", t)]
        rows = events(cache_dir, *args)
        expected = {r["event_id"] for r in bundled_rows() if r["event_type"] in types}
        assert {r["event_id"] for r in rows} == expected
        assert expected


def test_events_by_region(cache_dir):
    rows = events(cache_dir, "--admin1", "RU-TA")
    assert {r["event_id"] for r in rows} == {r["event_id"] for r in bundled_rows() if r["place"] == "Kazan"}
    both = events(cache_dir, "--admin1", "RU-TA", "--admin1", "UA-14")
    assert {r["place"] for r in both} == {"Kazan", "Pokrovsk", "Lyman"}


def test_events_with_an_unknown_region_is_empty_with_a_note(cache_dir):
    done = run(cache_dir, "events", "--admin1", "XX-99")
    assert done.returncode == 0
    assert csv_rows(done.stdout) == []
    assert "no events with --admin1 XX-99" in done.stderr


def test_events_as_geojson(cache_dir):
    done = run(cache_dir, "events", "--format", "geojson")
    assert done.returncode == 0, done.stderr
    collection = json.loads(done.stdout)
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == len(bundled_rows())
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        properties = feature["properties"]
        assert feature["geometry"]["coordinates"] == [properties["longitude"], properties["latitude"]]
        assert properties["event_date"].startswith("2025-01-")
    kazan = [f for f in collection["features"] if f["properties"]["place"] == "Kazan"]
    assert kazan and all(f["properties"]["admin1_code"] == "RU-TA" for f in kazan)


def test_events_from_after_to_is_an_error(cache_dir):
    done = run(cache_dir, "events", "--from", "2025-01-21", "--to", "2025-01-16")
    assert done.returncode == 2
    assert "--from is after --to" in done.stderr


def test_events_bad_date_argument(cache_dir):
    done = run(cache_dir, "events", "--from", "16/01/2025")
    assert done.returncode == 2
    assert "is not a date like 2025-01-20" in done.stderr


def test_events_from_a_given_file_reports_its_rejects_on_stderr(cache_dir, tmp_path):
    good = {c: "" for c in NATIVE_COLUMNS} | {
        "event_id": "T1",
        "event_date": "2025-01-20",
        "event_type": "Battles",
        "latitude": "48.28",
        "longitude": "37.18",
    }
    path = write_native(tmp_path / "mine.csv", [good, good | {"event_id": "T2", "event_date": "never"}])
    done = run(cache_dir, "events", "--data", path)
    assert done.returncode == 0, done.stderr
    assert [r["event_id"] for r in csv_rows(done.stdout)] == ["T1"]
    assert csv_rows(done.stdout)[0]["admin1_code"] == "UA-14"
    assert "2 rows read, 1 loaded, 1 rejected" in done.stderr
    assert "row 3, event_date: not a date" in done.stderr


def test_events_use_the_cache_folder(cache_dir):
    events(cache_dir)
    assert list(cache_dir.glob("events-*.parquet"))


# ---------------------------------------------------------------- validate


def test_validate_the_bundled_file(cache_dir):
    done = run(cache_dir, "validate", BUNDLED)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "article_events.csv: 12 rows read, 12 loaded, 0 rejected" in done.stdout
    assert "detected: native events in CSV" in done.stdout.splitlines()


def test_validate_a_file_with_rejects(cache_dir, tmp_path):
    rows = bundled_rows()[:3]
    rows[1]["event_date"] = "2025-02-30"
    rows[2]["source_url"] = "javascript:alert(1)"
    path = write_native(tmp_path / "bad.csv", rows)
    done = run(cache_dir, "validate", path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].endswith("bad.csv: 3 rows read, 2 loaded, 1 rejected; 1 warning")
    assert "  row 3, event_date: not a date (expected e.g. 2025-01-20, 20 January 2025, 20-Jan-2025 or 1/20/2025) (value: '2025-02-30')" in lines
    assert "  row 4, source_url: not a link, kept as a note: javascript:alert(1) (value: 'javascript:alert(1)')" in lines


def test_validate_reports_a_malformed_row(cache_dir, tmp_path):
    path = write_native(tmp_path / "short.csv", bundled_rows()[:2])
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("X3,2025-01-20,day\n")
    done = run(cache_dir, "validate", path)
    assert done.returncode == 1
    assert "3 rows read, 2 loaded, 1 rejected" in done.stdout
    assert f"  row 4: has 3 fields, the header has {len(NATIVE_COLUMNS)} (value: 'X3,2025-01-20,day')" in done.stdout.splitlines()


def test_validate_writes_the_rejects_file(cache_dir, tmp_path):
    rows = bundled_rows()[:2]
    rows[0]["latitude"] = "-95"
    rows[0]["place"] = "Nowhereville"  # so the gazetteer cannot place it instead
    rows[1]["fatalities"] = "-2"
    path = write_native(tmp_path / "bad.csv", rows)
    rejects, warnings = tmp_path / "out" / "rejects.csv", tmp_path / "out" / "warnings.csv"
    rejects.parent.mkdir()
    done = run(cache_dir, "validate", path, "--rejects", rejects, "--warnings", warnings)
    assert done.returncode == 1
    assert f"rejected rows written to {rejects}" in done.stdout
    assert f"warnings written to {warnings}" in done.stdout
    with open(rejects, newline="", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    # "-95" is a number: written as one, not neutralised like a formula.
    assert written == [{"row": "2", "column": "latitude", "reason": "latitude and longitude look swapped (latitude beyond ±90, longitude within it)", "value": "-95"}]
    with open(warnings, newline="", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert written == [{"row": "3", "column": "fatalities", "reason": "not a whole number of 0 or more, left empty", "value": "-2"}]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.csv", "no such file"),
        (lambda d: d, "is a folder, not a file"),
        (lambda d: (d / "empty.csv", (d / "empty.csv").write_bytes(b""))[0], "the file is empty"),
        (lambda d: (d / "h.csv", (d / "h.csv").write_text(",".join(NATIVE_COLUMNS) + "\n"))[0], "header but no rows"),
        (lambda d: (d / "cp.csv", (d / "cp.csv").write_bytes("event_id,place\n1,Київ\n".encode("cp1251")))[0], "--encoding"),
    ],
    ids=["missing", "folder", "empty", "header-only", "encoding"],
)
def test_validate_an_unreadable_file_exits_2_without_a_traceback(cache_dir, tmp_path, make, message):
    done = run(cache_dir, "validate", make(tmp_path))
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_validate_a_mapped_file_and_another_encoding(cache_dir, tmp_path):
    path = tmp_path / "theirs.csv"
    path.write_bytes("Ref,Date,Lat,Lng,Category,Town\nr1,20.01.2025,48.28,37.18,Обстріл,Покровськ\n".encode("cp1251"))
    mapping = "event_id=Ref,event_date=Date,latitude=Lat,longitude=Lng,event_type=Category,place=Town"
    done = run(cache_dir, "validate", path, "--map", mapping, "--encoding", "cp1251")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "theirs.csv: 1 rows read, 1 loaded, 0 rejected" in done.stdout
    assert "detected: columns mapped with --map in CSV" in done.stdout
    assert "custom event types kept: Обстріл" in done.stdout
    missing = run(cache_dir, "validate", path, "--map", mapping.replace("Lat", "Latitude"), "--encoding", "cp1251")
    assert missing.returncode == 2
    assert "--map names columns the file does not have: Latitude" in missing.stderr


# ------------------------------------------------------- the bundled data


def test_bundled_coordinates_are_the_gazetteers():
    """Every bundled coordinate is what the gazetteer gives for the row's own
    place, country, region and precision: none was typed by hand."""
    gazetteer = Gazetteer.from_admin1(load_admin1())
    rows = bundled_rows()
    assert rows
    for row in rows:
        place = gazetteer.geocode(row["place"], row["country"], row["admin1"], row["geo_precision"] or "town")
        assert float(row["latitude"]) == round(place.latitude, 5), row["event_id"]
        assert float(row["longitude"]) == round(place.longitude, 5), row["event_id"]


def test_events_with_a_control_layer_say_inside_or_outside_on_each_day(cache_dir, tmp_path):
    from test_browser_territory import square, write_snapshot

    # 15 Jan: south of Pokrovsk; 20 Jan: grown north over it.
    write_snapshot(tmp_path, "20250115", [square(37.0, 47.9, 37.5, 48.2)])
    write_snapshot(tmp_path, "20250120", [square(37.0, 47.9, 37.5, 48.4)])
    rows = {row["event_id"]: row["territory_position"] for row in events(cache_dir, "--territory", str(tmp_path))}
    assert rows["RFERL-20250121-01"] == "inside"  # Pokrovsk, 20 Jan
    assert rows["RFERL-20250121-02"] == "outside"  # Lyman, 20 Jan
    assert rows["RFERL-20250121-10"] == "no layer"  # 11 Jan, before the first snapshot


def test_events_with_an_unreadable_control_layer_is_a_clear_error(cache_dir, tmp_path):
    result = run(cache_dir, "events", "--territory", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "does not exist; use the bundled sample" in result.stderr and "Traceback" not in result.stderr


def test_validate_prints_totals_per_reason_first_then_the_first_rows_of_each(cache_dir, tmp_path):
    rows = []
    good = bundled_rows()[0]
    for i in range(8):
        rows.append(good | {"event_id": f"T{i}", "event_type": f"Custom {i}"})  # 8 unknown types
    rows.append(good | {"event_id": "D1", "event_date": "never"})
    rows.append(good | {"event_id": "L1", "source_url": "Access can be requested"})
    path = write_native(tmp_path / "many.csv", rows)
    done = run(cache_dir, "validate", path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].endswith("many.csv: 10 rows read, 1 loaded, 9 rejected; 1 warning")
    totals = lines.index("rejected rows by reason:")
    assert lines[totals + 1].split(None, 1) == ["8", "event_type: unknown event type '…' (ACLED types: Battles, Explosions/Remote violence, "
                                                      "Violence against civilians, Protests, Riots, Strategic developments)"]
    assert lines[totals + 2].split(None, 1)[0] == "1" and "event_date: not a date" in lines[totals + 2]
    shown = [line for line in lines if line.startswith("  row ") and "event_type" in line]
    assert len(shown) == 5 and "  ... and 3 more" in lines  # the first five of a reason, then a count
    assert "warnings by reason:" in lines and "        1  source_url: not a link, kept as a note" in lines
    assert lines.index("rejected rows by reason:") < lines.index(shown[0])


def test_the_command_runs_as_users_run_it(cache_dir):
    done = run_process(cache_dir, "validate", str(BUNDLED))
    assert done.returncode == 0 and "12 rows read, 12 loaded, 0 rejected" in done.stdout
