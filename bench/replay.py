"""Replaying recorded callback requests with varied filter values (bench_load, bench_callback).

A session is what bench_browser.record_session captured in a real browser:
the POST bodies of `/_dash-update-component`, grouped by user action, in
the order the page sent them.  A replayed action sends the same bodies in
the same order, as the Dash renderer does: the outputs of one response
(e.g. `view.data` from the controls callback) become the inputs of the next
body of the action (the render callback), so the server sees the chain a
browser causes, not a request made up by hand.

Before sending, the filter values in a body -- slider days, date inputs,
event types, search text, map mode, the URL -- are replaced by one
consistent random view (`Varier`), so that concurrent clients do not all
ask the same question and hit the same cache; the current view the page
sends as State (`view.data`) is the view the previous action of that client
showed, as in a browser (the server may send only what changed).  Values
are derived from what the recorded bodies hold (first day, last slider day,
the types), so it works on any data and on the naive app too (which has
only the slider).
"""
from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from urllib.parse import urlencode

SEARCH_WORDS = ["civilians", "russia", "drone", "kazan", "ukraine"]
WINDOWS_DAYS = [1, 7, 30]
MODES = ["points"] * 8 + ["choropleth", "density"]


def save_session(session: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(session, indent=1))


def load_session(path: Path) -> list[dict]:
    return json.loads(path.read_text())


def is_render(body: dict) -> bool:
    """The main callback: the one that draws the map (the dashboard's render_view, the naive app's update)."""
    return "map.figure" in body.get("output", "")


def _items(entries):
    """The {id, property, value} items of a body's inputs or state, also inside the
    lists Dash sends for a group of inputs (`[Input(...) for ...]` in the callback)."""
    for item in entries or []:
        if isinstance(item, list):
            yield from _items(item)
        elif isinstance(item, dict) and "id" in item:
            yield item


def _values(body: dict):
    for part in ("inputs", "state"):
        yield from _items(body.get(part))


def _get(body: dict, key: str):
    for item in _values(body):
        if f"{item['id']}.{item['property']}" == key:
            return item.get("value")
    return None


class Varier:
    """One random, consistent view per action, written into whichever inputs a body has."""

    def __init__(self, session: list[dict], seed: int = 1):
        bodies = [json.loads(b) for action in session for b in action["bodies"]]
        sliders = [v for b in bodies if isinstance(v := _get(b, "date-slider.value"), list) and len(v) == 2]
        self.last_day = max((max(v) for v in sliders), default=0)
        firsts = [d for b in bodies if (d := parse_day(_get(b, "date-from.value")))]
        self.first_day = min(firsts) if firsts else None
        type_lists = [v for b in bodies if isinstance(v := _get(b, "types.value"), list)]
        self.types = max(type_lists, key=len, default=[])
        self.random = random.Random(seed)
        self.shown: str | None = None  # the query of the view this client's page shows (None: as recorded)

    def view(self) -> dict:
        r = self.random
        window = r.choice(WINDOWS_DAYS)
        end = r.randint(min(window - 1, self.last_day), self.last_day)
        view = {"days": [max(end - window + 1, 0), end], "types": list(self.types), "text": "", "mode": "points"}
        if self.types and r.random() < 0.3:
            view["types"] = sorted(r.sample(self.types, r.randint(1, len(self.types))), key=self.types.index)
        if r.random() < 0.3:
            view["text"] = r.choice(SEARCH_WORDS)
        view["mode"] = r.choice(MODES)
        return view

    def query(self, view: dict) -> str:
        """The view as the dashboard's URL query (dashboard/view.py's names)."""
        pairs = []
        if self.first_day:
            pairs += [("from", str(self.first_day + dt.timedelta(days=view["days"][0]))), ("to", str(self.first_day + dt.timedelta(days=view["days"][1])))]
        if self.types and view["types"] != self.types:
            pairs += [("type", t) for t in view["types"]]
        if view["text"]:
            pairs.append(("q", view["text"]))
        if view["mode"] != "points":
            pairs.append(("mode", view["mode"]))
        return urlencode(pairs)

    def apply(self, body: dict, view: dict) -> dict:
        """A copy of `body` whose filter inputs and state show `view`."""
        body = json.loads(json.dumps(body))
        values = {
            "date-slider.value": list(view["days"]),
            "types.value": list(view["types"]),
            "text.value": view["text"],
            "mode.value": view["mode"],
        }
        if self.first_day:
            values["date-from.value"] = str(self.first_day + dt.timedelta(days=view["days"][0]))
            values["date-to.value"] = str(self.first_day + dt.timedelta(days=view["days"][1]))
        query = self.query(view)
        values["view.data"] = query  # as an Input: the view to draw (a render callback fed by the controls')
        values["url.search"] = ("?" + query) if query else ""
        for item in _items(body.get("inputs")):
            key = f"{item.get('id')}.{item.get('property')}"
            if key in values and "value" in item:
                item["value"] = values[key]
        for item in _items(body.get("state")):
            key = f"{item.get('id')}.{item.get('property')}"
            if key == "view.data" and self.shown is not None:
                item["value"] = self.shown  # as State: what the page shows before this action
            elif key in values and key != "view.data" and "value" in item:
                item["value"] = values[key]
        return body


def parse_day(text) -> dt.date | None:
    """A date input's text: ISO 2025-01-20 or "20 Jan 2025" as the page shows it; None if neither."""
    if not isinstance(text, str) or not text.strip():
        return None
    for parse in (dt.date.fromisoformat, lambda t: dt.datetime.strptime(t, "%d %b %Y").date()):
        try:
            return parse(text.strip())
        except ValueError:
            pass
    return None


def chain(body: dict, outputs: dict) -> dict:
    """Put the outputs of earlier responses of the action into this body's inputs and state."""
    for item in _values(body):
        key = f"{item['id']}.{item['property']}"
        if key in outputs:
            item["value"] = outputs[key]
    return body


def outputs_of(response_bytes: bytes) -> dict:
    """{"id.property": value} from a Dash callback response."""
    try:
        data = json.loads(response_bytes)
    except ValueError:
        return {}
    found = {}
    for component, props in (data.get("response") or {}).items():
        if isinstance(props, dict):
            for prop, value in props.items():
                found[f"{component}.{prop}"] = value
    return found


def replay_action(bodies: list[str], post, varier: Varier | None, view: dict | None = None, keep_bodies: bool = False) -> list[dict]:
    """Send one action's bodies in order through `post(body_bytes) -> (status, response_bytes)`.

    `post` returns (status, response bytes, seconds).  Returns one record per request: render (bool),
    status, seconds, bytes, error (None or a sentence), and with `keep_bodies` the body sent and the response."""
    outputs: dict = {}
    view = view if view is not None or varier is None else varier.view()
    records = []
    for index, text in enumerate(bodies):
        body = json.loads(text)
        if varier is not None:
            body = varier.apply(body, view)
        body = chain(body, outputs)
        status, data, seconds = post(json.dumps(body).encode())
        render = is_render(body)
        record = {"render": render, "status": status, "seconds": seconds, "bytes": len(data or b""), "error": _dash_error(status, data)}
        if keep_bodies:
            record.update(body=body, response=data)
        records.append(record)
        if status != 200 and status != 204:
            break
        if index + 1 < len(bodies) and not render:
            outputs.update(outputs_of(data))
    if varier is not None and records and all(r["status"] in (200, 204) for r in records):
        varier.shown = varier.query(view)
    return records


def _dash_error(status: int, data: bytes | None) -> str | None:
    if status in (200, 204):
        return None
    return f"HTTP {status}: {(data or b'')[:200]!r}"
