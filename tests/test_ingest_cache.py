"""The on-disk cache: verified, rebuilt when damaged, written atomically, never a reason to stop."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dashboard.ingest import cache
from dashboard.ingest.prepare import prepare_events
from test_prepare import native_row, write_native

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def events_file(tmp_path) -> Path:
    rows = [native_row("A1"), native_row("A2", place="Lyman", latitude="48.99", longitude="37.81"), native_row("A3", event_date="never")]
    return write_native(tmp_path / "a.csv", rows)


def entry_files(folder: Path) -> dict[str, Path]:
    (meta,) = folder.glob("events-*.json")
    key = meta.stem.split("-", 1)[1]
    return cache.paths(folder, key)


def same(a, b):
    pd.testing.assert_frame_equal(a.events, b.events)
    assert [r.summary() for r in a.reports] == [r.summary() for r in b.reports]
    for x, y in zip(a.reports, b.reports):
        assert x.rejects.astype(str).to_dict("records") == y.rejects.astype(str).to_dict("records")
        assert x.warnings.astype(str).to_dict("records") == y.warnings.astype(str).to_dict("records")


def test_the_metadata_lists_a_checksum_of_each_file(tmp_path, events_file):
    folder = tmp_path / "cache"
    prepare_events([events_file], cache_dir=folder)
    files = entry_files(folder)
    meta = json.loads(files["meta"].read_text())
    assert meta["files"] == {name: cache.sha256(files[name]) for name in ("events", "problems")}
    assert not list(folder.glob(".*.tmp")), "temporary files left behind"


def damages(files: dict[str, Path]):
    """(name, how to damage) pairs: flipped bytes at several offsets, truncation, wrong-shaped metadata."""
    size = files["events"].stat().st_size
    for offset in (0, 4, 100, size // 3, size // 2, size - 12, size - 1):
        yield f"flip events@{offset}", ("events", "flip", offset)
    psize = files["problems"].stat().st_size
    for offset in (0, psize // 2, psize - 1):
        yield f"flip problems@{offset}", ("problems", "flip", offset)
    yield "truncate events", ("events", "truncate", size // 2)
    yield "empty events", ("events", "truncate", 0)
    yield "truncate meta", ("meta", "truncate", 10)
    for text in ('[]', '{}', '"text"', 'null', '{"version": 2}', '{"version": 2, "columns": "x", "files": {}, "reports": []}',
                 '{"version": 2, "columns": [], "files": {"events": 1, "problems": 2}, "reports": []}', "not json at all", "\x00\xff"):
        yield f"meta {text[:20]!r}", ("meta", "write", text)
    yield "meta missing a report key", ("meta", "drop-report-key", "rows_read")
    yield "meta report of the wrong type", ("meta", "report-value", ("rows_read", "many"))
    yield "events deleted", ("events", "delete", None)
    yield "events replaced by a folder", ("events", "folder", None)


def damage(files, what):
    name, how, arg = what
    path = files[name]
    if how == "flip":
        data = bytearray(path.read_bytes())
        data[arg] ^= 0xFF
        path.write_bytes(bytes(data))
    elif how == "truncate":
        path.write_bytes(path.read_bytes()[:arg])
    elif how == "write":
        path.write_text(arg, encoding="utf-8", errors="surrogateescape")
    elif how in ("drop-report-key", "report-value"):
        meta = json.loads(path.read_text())
        if how == "drop-report-key":
            del meta["reports"][0][arg]
        else:
            meta["reports"][0][arg[0]] = arg[1]
        path.write_text(json.dumps(meta))
    elif how == "delete":
        path.unlink()
    elif how == "folder":
        path.unlink()
        path.mkdir()


@pytest.mark.slow  # dozens of imports, or the CLI in a subprocess
def test_every_kind_of_damage_is_detected_and_rebuilt(tmp_path, events_file):
    folder = tmp_path / "cache"
    first = prepare_events([events_file], cache_dir=folder)
    good = {name: path.read_bytes() for name, path in entry_files(folder).items()}
    cases = list(damages(entry_files(folder)))
    assert len(cases) >= 20
    for label, what in cases:
        files = entry_files(folder)
        damage(files, what)
        again = prepare_events([events_file], cache_dir=folder)  # no traceback, whatever the damage
        assert again.from_cache is False, label
        same(again, first)
        assert again.notices == [], label
        # Rebuilt: the next start reads the cache again, intact.
        files = entry_files(folder)
        assert {name: path.read_bytes() for name, path in files.items() if path.is_file()}.keys() == good.keys(), label
        assert prepare_events([events_file], cache_dir=folder).from_cache is True, label


def test_a_cache_path_that_is_a_file_serves_uncached_and_says_so_once(tmp_path, events_file):
    blocker = tmp_path / "cache"
    blocker.write_text("I am a file")
    prepared = prepare_events([events_file], cache_dir=blocker)
    assert prepared.from_cache is False
    assert len(prepared.events) == 2
    assert len(prepared.notices) == 1
    assert str(blocker) in prepared.notices[0] and "served uncached" in prepared.notices[0]
    nested = prepare_events([events_file], cache_dir=blocker / "below")  # ENOTDIR
    assert len(nested.events) == 2 and len(nested.notices) == 1


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_full_or_read_only_disk_serves_uncached(tmp_path, events_file, monkeypatch, code):
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(cache, "write_geoparquet_points", refuse)
    prepared = prepare_events([events_file], cache_dir=tmp_path / "cache")
    assert len(prepared.events) == 2
    assert prepared.notices == [
        f"The cache could not be written ({tmp_path / 'cache'}: {os.strerror(code)}); the events are served uncached, "
        "so the next start reads the files again."
    ]
    assert not list((tmp_path / "cache").glob("*")), "a half-written entry or temporary file was left"


@pytest.mark.parametrize("crash_at", [".parquet", ".json"])
def test_a_crash_mid_write_leaves_the_old_entry_or_none(tmp_path, events_file, monkeypatch, crash_at):
    folder = tmp_path / "cache"
    first = prepare_events([events_file], cache_dir=folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    real_replace = os.replace

    def crash(source, target):
        if str(target).endswith(crash_at):
            raise KeyboardInterrupt("power cut")
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):  # another entry (other options) being written when the power goes
        prepare_events([events_file], fmt="native", cache_dir=folder)
    monkeypatch.setattr(os, "replace", real_replace)
    assert not list(folder.glob(".*.tmp")), "temporary files left behind"
    assert len(list(folder.glob("events-*.json"))) == 1, "metadata of a half-written entry"
    old = prepare_events([events_file], cache_dir=folder)
    assert old.from_cache is True
    same(old, first)
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name in before} == before
    rebuilt = prepare_events([events_file], fmt="native", cache_dir=folder)
    assert rebuilt.from_cache is False
    same(rebuilt, first)


@pytest.mark.slow  # dozens of imports, or the CLI in a subprocess
def test_the_cli_serves_uncached_and_prints_the_notice(tmp_path, events_file):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "events", "--data", str(events_file)],
        cwd=REPO, env={**os.environ, "DASHBOARD_CACHE_DIR": str(blocker)}, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("served uncached") == 1
    assert [line.split(",")[0] for line in done.stdout.splitlines()[1:]] == ["A1", "A2"]


@pytest.mark.slow  # dozens of imports, or the CLI in a subprocess
def test_a_home_folder_that_cannot_hold_a_cache_serves_uncached(tmp_path, events_file):
    not_a_home = tmp_path / "home-is-a-file"
    not_a_home.write_text("x")
    env = {k: v for k, v in os.environ.items() if k != "DASHBOARD_CACHE_DIR"} | {"HOME": str(not_a_home)}
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "events", "--data", str(events_file)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("served uncached") == 1
    assert [line.split(",")[0] for line in done.stdout.splitlines()[1:]] == ["A1", "A2"]
