"""The legend's entries (render/legend.py) and its page form (web/legend.py)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.ingest.prepare import prepare_events
from dashboard.render.clusters import compute_marks, mark_px
from dashboard.render.legend import legend_entries
from dashboard.schema import OTHER_COLOUR, PALETTE
from dashboard.store.memory import InMemoryEventStore
from dashboard.view import ViewState
from dashboard.web.legend import VISIBLE_TYPES, legend_children


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    return InMemoryEventStore(prepare_events(cache_dir=tmp_path_factory.mktemp("cache")).events)


def many_types(n: int) -> InMemoryEventStore:
    rng = np.random.default_rng(5)
    types = [f"Type {i:02d}" for i in range(n)]
    rows = 2_000
    frame = pd.DataFrame({
        "event_id": [f"T{i}" for i in range(rows)], "event_date": pd.Timestamp("2025-03-01"),
        "event_type": rng.choice(types, rows, p=np.arange(n, 0, -1) / np.arange(n, 0, -1).sum()),
        "sub_event_type": "", "actor1": "A", "actor2": "", "place": "P", "summary": "s",
        "latitude": rng.uniform(45, 52, rows), "longitude": rng.uniform(25, 40, rows), "geo_precision": "town",
        "admin1_code": "UA-14", "admin1_name": "Donetsk", "country_code": "UA",
    })
    return InMemoryEventStore(frame)


def test_types_are_listed_with_colour_and_count_then_other_and_the_rest_fold_away():
    store = many_types(34)
    legend = legend_entries(ViewState(), store)
    types = legend.group("Event type")
    palette_entries = [e for e in types if e.event_type]
    assert [e.colour for e in palette_entries] == [e.colour for e in palette_entries if e.colour in PALETTE]
    assert len(palette_entries) == 12 and len({e.colour for e in palette_entries}) == 12
    other = types[-1]
    assert other.colour == OTHER_COLOUR and "22 types" in other.label
    assert len(legend.hidden_types) == 22
    assert sum(e.count for e in palette_entries) + other.count == 2_000
    counts = [e.count for e in palette_entries]
    assert counts == sorted(counts, reverse=True)  # the busiest types first
    html = str(legend_children(legend))
    assert f"…and {12 - VISIBLE_TYPES + 22} more" in html


def test_unticked_types_stay_in_the_legend_marked_off(bundled):
    legend = legend_entries(ViewState(types=("Battles",)), bundled)
    entries = {e.event_type: e for e in legend.group("Event type")}
    assert entries["Battles"].active and not entries["Strategic developments"].active
    assert entries["Strategic developments"].count == 5  # its count whatever the filter


def test_precision_key_has_the_sizes_drawn(bundled):
    view = ViewState(center_lat=52, center_lon=37, zoom=6)
    marks = compute_marks(view, bundled, 6)
    entries = legend_entries(view, bundled, marks=marks, zoom=6).group("Location precision")
    sizes = [e.size_px for e in entries[:3]]
    assert sizes == [float(mark_px(1)), float(mark_px(10)), float(mark_px(100))] and sizes == sorted(sizes)
    region = entries[3]
    assert region.shape == "ring" and "km radius" in region.note and "px at this zoom" in region.note
    assert "1 event" in entries[4].label and entries[4].colour is None  # the country-level event: not drawn


def test_control_layer_says_what_it_shades_and_what_changed(bundled):
    territory = {"label": "Occupied as of 21 Jan 2025, per DeepStateMap", "colour": "#C51B7D", "opacity": 0.35,
                 "gained_colour": "#40004B", "lost_colour": "#00CED1", "gained_km2": 12.34, "lost_km2": 1.5,
                 "from": dt.date(2025, 1, 11), "to": dt.date(2025, 1, 21)}
    entries = legend_entries(ViewState(), bundled, territory=territory).group("Control layer")
    assert entries[0].label == "Occupied as of 21 Jan 2025, per DeepStateMap" and entries[0].shape == "square"
    assert "12.3 km²" in entries[1].label and entries[1].colour == "#40004B"
    assert "1.5 km²" in entries[2].label and entries[2].colour == "#00CED1"


def test_density_states_its_scale(bundled):
    legend = legend_entries(ViewState(mode="density"), bundled, scale_note="Events per grid cell, on a log scale", ramp=("#000", "#fff"))
    (entry,) = legend.group("Events per cell")
    assert "log scale" in entry.label and entry.shape == "ramp"
