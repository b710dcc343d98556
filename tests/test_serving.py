"""Production serving: gunicorn with several workers starts, serves, and every worker answers alike."""
from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import DashboardServer


def render_request(base_url: str, query: str, probe: str = "") -> dict:
    """Open the view in `query` as the browser does on a URL change, through the server's own dependency list."""
    dependencies = json.loads(urllib.request.urlopen(base_url + "/_dash-dependencies").read())
    page = next(d for d in dependencies if "map.figure" in d["output"])
    value = {("url", "search"): "?" + query}
    body = {
        "output": page["output"],
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in page["output"].strip(".").split("...")],
        "inputs": [{"id": i["id"], "property": i["property"], "value": value.get((i["id"], i["property"]))} for i in page["inputs"]],
        "changedPropIds": ["url.search"],
        "state": [{"id": i["id"], "property": i["property"], "value": None} for i in page["state"]],
    }
    request = urllib.request.Request(
        base_url + "/_dash-update-component" + (f"?probe={probe}" if probe else ""), data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    return json.loads(urllib.request.urlopen(request).read())


@pytest.fixture(scope="module")
def gunicorn_server(cache_dir):
    # The access log names the worker (pid) that answered each request.
    command = [
        sys.executable, "-m", "gunicorn", "--workers", "3", "--bind", "127.0.0.1:{port}",
        "--access-logfile", "-", "--access-logformat", "worker=%(p)s %(U)s?%(q)s", "dashboard.wsgi:server",
    ]
    running = DashboardServer(cache_dir=cache_dir, command=command)
    yield running
    running.stop()


def test_gunicorn_serves_the_page_and_the_boundaries(gunicorn_server):
    page = urllib.request.urlopen(gunicorn_server.url + "/").read().decode()
    assert "Conflict events" in page
    admin1 = json.loads(urllib.request.urlopen(gunicorn_server.url + "/geo/admin1.geojson").read())
    assert len(admin1["features"]) >= 110


def test_every_worker_gives_the_same_answer(gunicorn_server):
    from concurrent.futures import ThreadPoolExecutor

    answers: dict[str, set[str]] = {}  # worker pid -> distinct answers
    # Six at once: a sync worker answers one request at a time, so others must take
    # some (asked one after another, one idle worker could take every request).
    with ThreadPoolExecutor(6) as pool:
        for round_ in range(10):
            probes = [f"p{round_}-{i}" for i in range(6)]
            replies = pool.map(lambda probe: render_request(gunicorn_server.url, "type=Battles", probe)["response"], probes)
            for probe, reply in zip(probes, list(replies)):
                answers.setdefault(_worker_of(gunicorn_server, probe), set()).add(json.dumps(reply, sort_keys=True))
            if len(answers) == 3:
                break
    assert len(answers) >= 2, f"requests reached only workers {sorted(answers)}"
    distinct = set().union(*answers.values())
    assert len(distinct) == 1, "workers answered differently"
    assert json.loads(distinct.pop())["count"]["children"] == "2 of 12 events"


def _worker_of(server, probe: str) -> str:
    for _ in range(50):
        server.log.flush()
        for line in Path(server.log.name).read_text().splitlines():
            if line.startswith("worker=") and line.endswith(f"probe={probe}"):
                return line.split()[0]
        time.sleep(0.05)
    raise AssertionError(f"no access-log line for probe {probe}")
