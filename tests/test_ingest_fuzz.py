"""Odd files never end in a traceback: a seeded mutation fuzz over CSV, GeoJSON and .xlsx, and special files through the CLI.

Each case either loads -- and then rows read = loaded + rejected + folded,
and rows read equals the record count that an independent reader (Python's
csv module, json, openpyxl) finds in the same bytes -- or fails with one
`LoadError` sentence.  Anything else is a bug.  (The slow tier: 5,000 cases.)
"""
from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
import traceback
from pathlib import Path

import openpyxl
import pytest

from dashboard.ingest.load import LoadError, load_events
from test_load import ACLED_EXPORT_COLUMNS, acled_row, native_row
from dashboard.schema import NATIVE_COLUMNS

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
SEED = 20250120


def native_csv(rows: int = 12) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(NATIVE_COLUMNS)
    for i in range(rows):
        writer.writerow(native_row(f"E{i}", summary=f"note {i}, with a comma", event_date=f"2025-01-{i % 28 + 1:02d}").values())
    return buffer.getvalue().encode("utf-8")


def acled_csv(rows: int = 8) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ACLED_EXPORT_COLUMNS)
    for i in range(rows):
        writer.writerow(acled_row(f"UKR{i % 6}", event_date=f"{i % 28 + 1}-Jan-25").values())
    return buffer.getvalue().encode("utf-8")


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["truncate", "insert", "flip", "bom", "nul", "delete", "dup_line", "newline", "quote", "comma", "cr", "latin"])
        at = rng.randrange(len(data) + 1) if data else 0
        if kind == "truncate":
            data = data[:at]
        elif kind == "insert":
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 20)))
        elif kind == "flip" and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif kind == "bom":
            data[at:at] = b"\xef\xbb\xbf"
        elif kind == "nul":
            data[at:at] = b"\x00" * rng.randint(1, 3)
        elif kind == "delete":
            del data[at:at + rng.randint(1, 40)]
        elif kind == "dup_line":
            lines = bytes(data).split(b"\n")
            if lines:
                lines.insert(rng.randrange(len(lines) + 1), lines[rng.randrange(len(lines))])
            data = bytearray(b"\n".join(lines))
        elif kind == "newline":
            data[at:at] = b"\n"
        elif kind == "quote":
            data[at:at] = b'"'
        elif kind == "comma":
            data[at:at] = b","
        elif kind == "cr":
            data = bytearray(bytes(data).replace(b"\r\n", b"\r"))
        elif kind == "latin":
            data[at:at] = "Київ".encode("cp1251")
    return bytes(data)


def mutate_header(data: bytes, rng: random.Random) -> bytes:
    header, _, rest = data.partition(b"\n")
    names = header.rstrip(b"\r").split(b",")
    kind = rng.choice(["duplicate", "missing", "empty", "quoted_newline", "spaces", "case"])
    if kind == "duplicate":
        names.append(names[rng.randrange(len(names))])
    elif kind == "missing":
        names.pop(rng.randrange(len(names)))
    elif kind == "empty":
        names.insert(rng.randrange(len(names) + 1), b"")
    elif kind == "quoted_newline":
        i = rng.randrange(len(names))
        names[i] = b'"' + names[i] + b'\nname"'
    elif kind == "spaces":
        names = [b" " + n + b" " for n in names]
    else:
        names = [n.upper() for n in names]
    return b",".join(names) + b"\r\n" + rest


def csv_record_count(data: bytes) -> int | None:
    """Records after the header, as Python's csv module reads the same bytes (None if it cannot)."""
    try:
        text = data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None
    return sum(1 for r in rows[1:] if r)


def geojson_doc(rng: random.Random) -> bytes:
    features = []
    for i in range(rng.randint(0, 8)):
        properties = {k: v for k, v in native_row(f"G{i}").items() if k not in ("latitude", "longitude")}
        for key in rng.sample(sorted(properties), rng.randint(0, 4)):
            properties[key] = rng.choice([None, 3, -1.5, "", "x" * rng.randint(0, 300), [1, 2], {"a": 1}, True, "2025-13-45", "=cmd"])
        geometry = rng.choice([
            {"type": "Point", "coordinates": [37.18, 48.28]},
            {"type": "Point", "coordinates": [rng.uniform(-400, 400), rng.uniform(-200, 200)]},
            None,
            {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            {"type": "Point", "coordinates": []},
        ])
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def xlsx_doc(path: Path, rng: random.Random) -> int:
    """A workbook with odd cells; returns its record count as openpyxl sees it."""
    book = openpyxl.Workbook()
    sheet = book.active
    header = list(NATIVE_COLUMNS)
    if rng.random() < 0.2:
        header.append(rng.choice(header))
    sheet.append(header)
    records = 0
    for i in range(rng.randint(0, 10)):
        row = list(native_row(f"X{i}").values())
        for j in rng.sample(range(len(row)), rng.randint(0, 5)):
            row[j] = rng.choice([None, 45677, 45677.5, -3, "", "x" * rng.randint(0, 500), "=1+1", True, 1e300, "05/02/2020"])
        if rng.random() < 0.1:
            row = [None] * len(row)
        sheet.append(row)
        records += any(c not in (None, "") for c in row)
    book.save(path)
    return records


def check(path: Path, expected: int | None, failures: list, label: str, **options) -> None:
    try:
        result = load_events(path, **options)
    except LoadError as error:
        message = str(error)
        if "\n" in message or "Traceback" in message or not message:
            failures.append((label, f"not one sentence: {message!r}"))
        return
    except Exception:  # noqa: BLE001 -- the point of the test
        failures.append((label, traceback.format_exc(limit=-3)))
        return
    total = result.rows_loaded + result.rows_rejected + result.rows_folded
    if total != result.rows_read:
        failures.append((label, f"read {result.rows_read} != {total}"))
    if expected is not None and result.rows_read != expected:
        failures.append((label, f"read {result.rows_read}, the independent reader found {expected}"))


def test_five_thousand_odd_files_no_traceback_and_every_row_counted(tmp_path):
    rng = random.Random(SEED)
    failures: list = []
    bases = [native_csv(), acled_csv()]
    cases = 0
    for n in range(3500):
        base = bases[n % 2]
        data = mutate_header(base, rng) if rng.random() < 0.15 else base
        data = mutate_bytes(data, rng)
        path = tmp_path / f"case{n % 7}.csv"
        path.write_bytes(data)
        check(path, csv_record_count(data), failures, f"csv {n}")
        cases += 1
    for n in range(1000):
        data = geojson_doc(rng)
        if rng.random() < 0.4:
            data = mutate_bytes(data, rng)
        path = tmp_path / f"case{n % 7}.geojson"
        path.write_bytes(data)
        try:
            expected = len(json.loads(data)["features"])
        except Exception:  # noqa: BLE001
            expected = None
        check(path, expected, failures, f"geojson {n}")
        cases += 1
    for n in range(500):
        path = tmp_path / f"case{n % 7}.xlsx"
        expected = xlsx_doc(path, rng)
        if rng.random() < 0.1:
            path.write_bytes(mutate_bytes(path.read_bytes(), rng))
            expected = None
        check(path, expected, failures, f"xlsx {n}")
        cases += 1
    assert cases == 5000
    assert failures == [], f"{len(failures)} failures, first: {failures[:3]}"


def test_huge_fields_and_headers(tmp_path):
    failures: list = []
    header = ",".join(NATIVE_COLUMNS)
    row = ",".join(native_row().values())
    # A 10 MB field: longer than pyarrow's block.
    big = row.replace("Clashes near Pokrovsk.", "x" * 10_000_000)
    (tmp_path / "big.csv").write_text(header + "\n" + big + "\n" + row.replace("E1", "E2") + "\n")
    check(tmp_path / "big.csv", 2, failures, "10 MB field")
    result = load_events(tmp_path / "big.csv")
    assert result.rows_loaded == 2 and len(result.events.loc[0, "summary"]) == 10_000_000
    # A header over 131,072 characters (the csv module's default field limit).
    (tmp_path / "long-header.csv").write_text(header + "," + "h" * 140_000 + "\n" + row + ",x\n")
    check(tmp_path / "long-header.csv", 1, failures, "long header")
    # A million empty columns: refused at once, not compared pairwise.
    (tmp_path / "wide.csv").write_text(header + "," * 1_000_000 + "\n" + row + "\n")
    with pytest.raises(LoadError, match="1,000,018 columns"):
        load_events(tmp_path / "wide.csv")
    # Quoted newlines in the header.
    (tmp_path / "nl.csv").write_text('"event\nid",' + ",".join(NATIVE_COLUMNS[1:]) + "\n" + row + "\n")
    check(tmp_path / "nl.csv", None, failures, "newline in header")
    assert failures == []


def run_cli(*args, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)


def special_files(tmp_path: Path) -> dict[str, list]:
    good = tmp_path / "good.csv"
    good.write_bytes(native_csv(3))
    loop = tmp_path / "loop.csv"
    os.symlink(loop, loop)
    dangling = tmp_path / "dangling.csv"
    os.symlink(tmp_path / "nowhere.csv", dangling)
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    return {
        "symlink loop": ["validate", loop],
        "dangling symlink": ["validate", dangling],
        "bogus encoding": ["validate", good, "--encoding", "bogus-enc"],
        "utf-16 without BOM": ["validate", good, "--encoding", "utf-16"],
        "rejects is a folder": ["validate", good, "--rejects", tmp_path],
        "rejects in a missing folder": ["validate", good, "--rejects", tmp_path / "no" / "such" / "x.csv"],
        "warnings is a folder": ["validate", good, "--warnings", tmp_path],
        "geojson format on a CSV": ["validate", good, "--format", "geojson"],
        "xlsx format on a CSV": ["validate", good, "--format", "xlsx"],
        "a folder": ["validate", tmp_path],
        "/dev/null": ["validate", "/dev/null"],
        "a FIFO": ["validate", fifo],
        "events from a folder": ["events", "--data", tmp_path],
        "bad date order": ["validate", good, "--date-order", "ydm"],
    }


def test_special_files_through_the_cli_are_one_sentence_and_exit_2(tmp_path):
    outcomes = {}
    for name, args in special_files(tmp_path).items():
        done = run_cli(*args)
        outcomes[name] = (done.returncode, done.stderr.strip())
    for name, (code, stderr) in outcomes.items():
        assert code == 2, (name, code, stderr)
        assert "Traceback" not in stderr, (name, stderr)
        assert stderr.startswith("error: ") or stderr.startswith("Usage:"), (name, stderr)
        if stderr.startswith("error: "):
            assert len(stderr.splitlines()) == 1, (name, stderr)
    assert "is a folder" in outcomes["rejects is a folder"][1]
    assert "unknown text encoding 'bogus-enc'" in outcomes["bogus encoding"][1]
    assert "not a regular file" in outcomes["/dev/null"][1] and "not a regular file" in outcomes["a FIFO"][1]
    assert "GeoJSON" in outcomes["geojson format on a CSV"][1]
