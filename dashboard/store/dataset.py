"""A dataset as the app, the exporter and the CLI see it: a store and what came with it.

Built by `store.open.open_dataset` (the only place that names a store
implementation); everything above the store takes a `Dataset`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from .contract import EventStore


@dataclass
class Dataset:
    store: EventStore
    label: str = ""  # the data's name for titles and source lines (file names, or a publisher)
    title: str = ""  # a display name of the data (<data>.meta.json "title", or --title)
    publisher: str = ""  # who published it ("RFE/RL"), from <data>.meta.json
    published: str = ""  # when, ISO date text ("2025-01-21")
    url: str = ""  # where the data or its article is, http(s) only
    reports: list = field(default_factory=list)  # ingest.prepare.FileReport per input file
    territory: object | None = None  # territory.TerritoryLayer, when a control layer is loaded
    views: object | None = None  # saved views: list(), save(name, query), delete(name), import_text(text) (saved_views.py)
    basemap: str | None = None  # optional tile URL ({z}/{x}/{y}) or style URL; None: fully offline
    notices: list[str] = field(default_factory=list)  # said once on the page (e.g. "serving uncached")
    change_cache: dict = field(default_factory=dict)  # territorial change per pair of snapshot dates
    answers: object | None = None  # the page's answers remembered: get(key) -> bytes | None, set(key, bytes) (web/answers.py)

    @property
    def rejected_reports(self) -> list:
        return [r for r in self.reports if r.rows_rejected]
