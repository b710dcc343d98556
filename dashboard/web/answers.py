"""The page's answers remembered: the same view asked twice, by one analyst
or by fifty (a briefing room, a shared link, playback going round), is
drawn once.

The main callback's figures and panels for a view are kept as the JSON Dash
would send, keyed by the data's version and everything the answer depends
on, in the dataset's answer cache: Redis when DASHBOARD_REDIS is set (shared
by every worker and machine), else a small in-process LRU.  A remembered
answer is sent as plain JSON values, which the page reads exactly as the
components and partial updates (Dash Patch) they were made from.
"""
from __future__ import annotations

import hashlib
import json

from dash import no_update
from plotly.io.json import to_json_plotly

from ..store.dataset import Dataset
from ..view import ViewState
from .outputs import shown_outputs

KEY_PREFIX = "territorial-dashboard:answer:v2:"


def answer_key(data: Dataset, view: ViewState, kind: str, before: ViewState | None, **rest) -> str:
    """Everything an answer depends on: the data (its version, the control layer), the view, what the page shows now."""
    parts = [
        data.store.version, str(getattr(data.territory, "source", "") or ""), data.label, repr(view), kind,
        repr(before) if kind == "patch" else "", json.dumps(rest, sort_keys=True, default=list),
    ]
    return KEY_PREFIX + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


def remembered_outputs(data: Dataset, view: ViewState, kind: str, selected_ids=(), map_selection_ids=None, saved=None,
                       move_map: bool = False, before: ViewState | None = None, table: bool = True) -> dict:
    """shown_outputs, from the answer cache when this answer was made before."""
    cache = data.answers
    if cache is None or kind == "none":
        return shown_outputs(data, view, kind, selected_ids, map_selection_ids, saved, move_map, before, table)
    key = answer_key(data, view, kind, before, selected=sorted(selected_ids or ()), map=sorted(map_selection_ids or ()),
                     saved=list(saved) if saved else None, move_map=move_map, table=table)
    found = cache.get(key)
    if found is not None:
        try:
            return _without_table(json.loads(found), table)
        except ValueError:
            pass  # a damaged entry is made afresh and overwritten
    out = shown_outputs(data, view, kind, selected_ids, map_selection_ids, saved, move_map, before, table)
    cache.set(key, to_json_plotly({k: v for k, v in out.items() if v is not no_update}).encode())
    return out


def _without_table(out: dict, table: bool) -> dict:
    """A remembered answer made without the table: its table outputs are no_update again (not JSON)."""
    if not table:
        out["table"] = out["table_class"] = no_update
    return out
