"""A fresh clone: the bundled control-layer sample works, and a missing layer folder says what to do."""
from __future__ import annotations

from conftest import ROOT
from dashboard.cli import run
from dashboard.territory import load_layer

SAMPLE = ROOT / "data" / "territory-sample"


def test_the_bundled_sample_loads_as_five_days_around_the_article(capsys):
    layer = load_layer(SAMPLE)
    days = [str(d)[:10] for d in layer.snapshots["date"]]
    assert days == ["2025-01-11", "2025-01-15", "2025-01-18", "2025-01-20", "2025-01-21"]
    assert layer.licence == "GPL-3.0"
    size = sum(p.stat().st_size for p in SAMPLE.glob("*.geojson"))
    assert size < 400_000  # a few hundred KB, not the raw snapshots
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert "GPL-3.0" in readme and "cyterat/deepstate-map-data" in readme and (SAMPLE / "LICENSE").exists()
    assert (SAMPLE / "derive.py").exists()


def test_a_missing_territory_folder_says_in_one_sentence_what_to_do(capsys, tmp_path):
    missing = tmp_path / "territory"
    code = run(["serve", "--territory", str(missing), "--port", "1"])
    error = capsys.readouterr().err
    assert code == 2
    assert "does not exist" in error and "--territory data/territory-sample/" in error and "fetch-territory" in error
    assert "Traceback" not in error
