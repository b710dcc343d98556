"""The data's display name and source: <data>.meta.json beside the file, overridable on the command line."""
from __future__ import annotations

import json
import shutil

import pytest

from conftest import ROOT
from dashboard import config
from dashboard.store.open import open_dataset, read_metadata

ARTICLE = ROOT / "data" / "events" / "article_events.csv"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")


def test_bundled_data_names_its_publisher_and_date():
    data = open_dataset()
    assert data.label == "RFE/RL, 21 Jan 2025"
    assert data.publisher == "RFE/RL" and data.published == "2025-01-21"
    assert "RFE/RL" in data.title and data.url.startswith("https://")


def test_title_and_source_flags_override_the_file():
    data = open_dataset(title="Strikes on Russia", source="Analyst desk, 1 Feb 2025")
    assert (data.title, data.label) == ("Strikes on Russia", "Analyst desk, 1 Feb 2025")


def test_without_a_meta_file_the_file_name_is_the_source(tmp_path):
    path = tmp_path / "events.csv"
    shutil.copy(ARTICLE, path)
    data = open_dataset([str(path)])
    assert (data.label, data.title, data.notices) == ("events.csv", "", [])


def test_bad_fields_are_left_out_with_a_notice(tmp_path):
    path = tmp_path / "events.csv"
    shutil.copy(ARTICLE, path)
    (tmp_path / "events.meta.json").write_text(json.dumps(
        {"title": "T", "publisher": "P", "published": "21/01/2025", "url": "javascript:alert(1)", "extra": 1, "summary": 5}
    ))
    meta, notices = read_metadata([str(path)])
    assert meta == {"title": "T", "publisher": "P"}
    assert len(notices) == 2 and "21/01/2025" in notices[0] and "javascript" in notices[1]
    (tmp_path / "events.meta.json").write_text("{not json")
    meta, notices = read_metadata([str(path)])
    assert meta == {} and "could not be read" in notices[0]
