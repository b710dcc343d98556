"""Production serving: gunicorn with several workers starts, serves, and every worker answers alike."""
from __future__ import annotations

import json
import sys
import urllib.request

import pytest

from conftest import DashboardServer


def render_request(base_url: str, query: str) -> dict:
    """Call the main render callback as the browser does, through the server's own dependency list."""
    dependencies = json.loads(urllib.request.urlopen(base_url + "/_dash-dependencies").read())
    render = next(d for d in dependencies if any(i["id"] == "view" and i["property"] == "data" for i in d["inputs"]))
    inputs = [
        {"id": i["id"], "property": i["property"], "value": query if i["id"] == "view" else None} for i in render["inputs"]
    ]
    body = {
        "output": render["output"],
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in render["output"].strip(".").split("...")],
        "inputs": inputs,
        "changedPropIds": ["view.data"],
        "state": [],
    }
    request = urllib.request.Request(
        base_url + "/_dash-update-component", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    return json.loads(urllib.request.urlopen(request).read())


@pytest.fixture(scope="module")
def gunicorn_server(cache_dir):
    command = [sys.executable, "-m", "gunicorn", "--workers", "3", "--bind", "127.0.0.1:{port}", "dashboard.wsgi:server"]
    running = DashboardServer(cache_dir=cache_dir, command=command)
    yield running
    running.stop()


def test_gunicorn_serves_the_page_and_the_boundaries(gunicorn_server):
    page = urllib.request.urlopen(gunicorn_server.url + "/").read().decode()
    assert "Conflict events" in page
    admin1 = json.loads(urllib.request.urlopen(gunicorn_server.url + "/geo/admin1.geojson").read())
    assert len(admin1["features"]) >= 110


def test_every_worker_gives_the_same_answer(gunicorn_server):
    # Many requests over fresh connections reach all three workers.
    answers = {json.dumps(render_request(gunicorn_server.url, "type=Battles")["response"], sort_keys=True) for _ in range(12)}
    assert len(answers) == 1
    response = json.loads(answers.pop())
    assert response["count"]["children"] == "2 of 12 events"
