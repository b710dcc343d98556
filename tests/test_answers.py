"""The page's answers remembered (web/answers.py): the same view is drawn once."""
from __future__ import annotations

import datetime as dt
import json
import secrets

import pytest
from pg_databases import redis_url
from plotly.io.json import to_json_plotly

from dashboard.ingest.prepare import prepare_events
from dashboard.store.cached import LocalCache, RedisCache
from dashboard.store.dataset import Dataset
from dashboard.store.memory import InMemoryEventStore
from dashboard.view import ViewState
from dashboard.web.answers import remembered_outputs
from dashboard.web.outputs import shown_outputs


class CountingStore:
    """The store, counting the questions it is asked."""

    def __init__(self, store):
        self.store, self.asked = store, 0

    def __getattr__(self, name):
        value = getattr(self.store, name)
        if callable(value):
            def counted(*args, **kwargs):
                self.asked += 1
                return value(*args, **kwargs)
            return counted
        return value


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    return prepare_events(cache_dir=tmp_path_factory.mktemp("cache")).events


def dataset(events, answers) -> Dataset:
    return Dataset(store=CountingStore(InMemoryEventStore(events)), label="article", answers=answers)


VIEWS = [
    ("full", None, ViewState(mode="points")),
    ("patch", ViewState(), ViewState(date_from=dt.date(2025, 1, 16), types=("Battles", "Explosions/Remote violence"))),
    ("full", None, ViewState(mode="choropleth", theme="dark", present=True)),
]


@pytest.mark.parametrize("kind, before, view", VIEWS)
def test_a_view_asked_again_is_not_drawn_again_and_reads_the_same(events, kind, before, view):
    data = dataset(events, LocalCache())
    first = remembered_outputs(data, view, kind, before=before)
    asked = data.store.asked
    again = remembered_outputs(data, view, kind, before=before)
    assert asked > 0 and data.store.asked == asked  # the store was not asked again
    fresh = shown_outputs(dataset(events, None), view, kind, before=before)
    assert json.loads(to_json_plotly(again)) == json.loads(to_json_plotly(first)) == json.loads(to_json_plotly(fresh))


def test_another_view_theme_selection_or_data_is_another_answer(events):
    data = dataset(events, LocalCache())
    view = ViewState(date_from=dt.date(2025, 1, 16))
    remembered_outputs(data, view, "full")
    for other in (view.replace(theme="dark"), view.replace(date_to=dt.date(2025, 1, 20)), view.replace(zoom=7.0, center_lat=48.5, center_lon=37.5)):
        asked = data.store.asked
        remembered_outputs(data, other, "full")
        assert data.store.asked > asked, other
    asked = data.store.asked
    remembered_outputs(data, view, "full", selected_ids=("RFERL-20250121-02",))
    assert data.store.asked > asked
    # New data (another version) is never answered from the old.
    changed = dataset(events.iloc[:-1], data.answers)
    remembered_outputs(changed, view, "full")
    assert changed.store.asked > 0


def test_workers_share_their_answers_through_redis(events):
    url = redis_url()
    worker_a, worker_b = dataset(events, RedisCache(url)), dataset(events, RedisCache(url))
    # A zoom no earlier run left in Redis.
    view = ViewState(date_from=dt.date(2025, 1, 16), date_to=dt.date(2025, 1, 21), zoom=5.0 + secrets.randbelow(1000) / 1000,
                     center_lat=49.0, center_lon=37.0)
    first = remembered_outputs(worker_a, view, "full")
    again = remembered_outputs(worker_b, view, "full")
    assert worker_b.store.asked == 0  # the other worker drew it
    assert json.loads(to_json_plotly(again)) == json.loads(to_json_plotly(first))


def test_a_page_without_its_table_is_sent_no_rows_and_its_answer_is_kept_apart(events):
    """Until the table is scrolled to (callbacks.show_table), answers carry no rows: the store is not asked for them."""
    from dash import no_update

    data = dataset(events, LocalCache())
    view = ViewState(date_from=dt.date(2025, 1, 16))
    without = remembered_outputs(data, view, "full", table=False)
    assert without["table"] is no_update and without["table_class"] is no_update
    again = remembered_outputs(data, view, "full", table=False)  # from the cache: still no rows, not JSON null
    assert again["table"] is no_update and again["table_class"] is no_update
    with_table = remembered_outputs(data, view, "full", table=True)
    assert len(with_table["table"]) == int(with_table["table_note"].split()[0]) > 0
    assert with_table["table_class"] == "ag-theme-quartz"
    assert without["table_note"] == with_table["table_note"]  # the note above the table says the same
