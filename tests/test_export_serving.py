"""Page exports on a running server, driven over HTTP as the page drives them.

- Twenty exports at once: every one finishes, no more than EXPORT_WORKERS
  Chromiums run at any moment, the waiting ones are told how many exports
  are ahead, and map updates (the main render callback) keep answering in
  seconds - before the render service, they waited 150 s behind the exports.
- SIGTERM to the server while an export draws: nothing it started survives
  (render service, workers, Chromium and its helpers).

Both on the development server and on gunicorn with four workers.  The
export callback is called as the browser calls it: a click, then the poll
every second, through the server's own dependency list.
"""
from __future__ import annotations

import base64
import json
import statistics
import struct
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import DashboardServer
from test_export_service import browsers, gone, tree_of
from test_serving import render_request

pytestmark = pytest.mark.slow  # real Chromium; conftest's tiers do not know this module

WORKERS = 2
SERVERS = {
    "development server": None,
    "gunicorn, 4 workers": [sys.executable, "-m", "gunicorn", "--workers", "4", "--bind", "127.0.0.1:{port}", "dashboard.wsgi:server"],
}


@pytest.fixture(params=list(SERVERS), scope="module")
def export_server(request, tmp_path_factory):
    cache = tmp_path_factory.mktemp("export-serving")
    running = DashboardServer(cache_dir=cache, command=SERVERS[request.param], env={"DASHBOARD_EXPORTS": str(WORKERS), "DASHBOARD_EXPORT_QUEUE": "20"})
    running.kind = request.param
    yield running
    running.stop()


class ExportCallback:
    """The page's export callback, over HTTP."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        dependencies = json.loads(urllib.request.urlopen(base_url + "/_dash-dependencies").read())
        self.dependency = next(d for d in dependencies if any(i["id"] == "export-button" for i in d["inputs"]))

    def call(self, changed: str, values: dict) -> dict:
        dependency = self.dependency
        outputs = [dict(zip(("id", "property"), part.split("."))) for part in dependency["output"].strip(".").split("...")]
        fields = lambda items: [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")} for i in items]  # noqa: E731
        body = {"output": dependency["output"], "outputs": outputs, "inputs": fields(dependency["inputs"]), "state": fields(dependency["state"]), "changedPropIds": [changed]}
        request = urllib.request.Request(self.base_url + "/_dash-update-component", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())["response"]

    def export(self, query: str, size: str = "hd", messages: list | None = None, timeout: float = 600) -> dict:
        """Click Export and poll until the file comes or the page says why not; the download's data, or {"failed": message}."""
        values = {"view.data": query, "export-format.value": "png", "export-size.value": size, "export-button.n_clicks": 1}
        answer = self.call("export-button.n_clicks", values)
        deadline = time.monotonic() + timeout
        for tick in range(1, 100_000):
            message = answer.get("export-message", {}).get("children")
            if messages is not None and message:
                messages.append(message)
            if "export-download" in answer:
                return answer["export-download"]["data"]
            job = answer.get("export-job", {}).get("data", values.get("export-job.data"))
            if job is None:
                return {"failed": message}
            assert time.monotonic() < deadline, f"export still running: {message}"
            time.sleep(1)
            values.update({"export-job.data": job, "export-poll.n_intervals": tick})
            answer = self.call("export-poll.n_intervals", values)
        raise AssertionError("unreachable")


def png_size(download: dict) -> tuple[int, int]:
    content = base64.b64decode(download["content"])
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", content[16:24])


def test_map_updates_answer_while_twenty_exports_run(export_server):
    callback = ExportCallback(export_server.url)
    render_request(export_server.url, "type=Battles")  # the app's first render warms its caches, as a user's page load does
    results, messages = [None] * 20, [[] for _ in range(20)]
    queries = ["", "type=Battles", "mode=density", "mode=choropleth", "type=Protests"]

    def one(index):
        try:
            results[index] = callback.export(queries[index % len(queries)], messages=messages[index])
        except Exception as error:  # noqa: BLE001 -- reported below with the others
            results[index] = {"failed": repr(error)}

    most_browsers, done = 0, threading.Event()

    def watch():
        nonlocal most_browsers
        while not done.is_set():
            most_browsers = max(most_browsers, len(browsers(export_server.process.pid)))
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    latencies = []
    time.sleep(2)
    days = ["2025-01-11", "2025-01-13", "2025-01-15", "2025-01-17", "2025-01-19"]
    while any(thread.is_alive() for thread in threads) and len(latencies) < 15:
        started = time.monotonic()
        answer = render_request(export_server.url, f"from={days[len(latencies) % 5]}&type=Battles&mode={'points' if len(latencies) % 2 else 'choropleth'}")
        latencies.append(time.monotonic() - started)
        assert "events" in answer["response"]["count"]["children"]
        time.sleep(1)
    for thread in threads:
        thread.join(600)
    done.set()

    failed = [r for r in results if r is None or "failed" in r]
    assert failed == [], failed
    assert all(png_size(r) == (1280, 720) and r["filename"].startswith("conflict-events-") for r in results)
    assert 1 <= most_browsers <= WORKERS, most_browsers
    assert len(latencies) >= 3, "the exports finished before map updates could be timed"
    print(f"{export_server.kind}: map update latencies while 20 exports ran: {', '.join(f'{s:.2f}' for s in latencies)} s")
    # The failure this guards against: every update waited 150 s behind the exports.  Typical updates
    # stay well under 2 s; one that meets a worker busy starting its render may take longer on 2 cores.
    assert statistics.median(latencies) < 2, latencies
    assert max(latencies) < 30, latencies
    waited = [m for ms in messages for m in ms if m.startswith("Waiting: ")]
    assert any(m.endswith("exports ahead of yours.") for m in waited), waited
    assert any(m in ("Drawing the map…", "Writing PNG…") for ms in messages for m in ms)


def test_sigterm_leaves_no_chromium(tmp_path):
    """The server is stopped (SIGTERM) while a large export draws; everything it started is gone within seconds."""
    for kind, command in SERVERS.items():
        server = DashboardServer(cache_dir=tmp_path, command=command, env={"DASHBOARD_EXPORTS": "1"})
        try:
            callback = ExportCallback(server.url)
            thread = threading.Thread(target=lambda: _ignore_errors(callback.export, "", size="a4"), daemon=True)
            thread.start()
            deadline = time.monotonic() + 120
            while not browsers(server.process.pid):
                assert time.monotonic() < deadline, f"{kind}: no Chromium started"
                time.sleep(0.2)
            family = tree_of(server.process.pid)[1:]
            assert any(p.name() == "chromium" for p in family)
            server.process.terminate()  # SIGTERM
            server.process.wait(30)
            left = gone(family, timeout=15)
            assert left == [], f"{kind}: {[(p.pid, p.name()) for p in left]}"
        finally:
            if server.process.poll() is None:
                server.process.kill()
            server.log.close()


def _ignore_errors(function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except (urllib.error.URLError, ConnectionError, AssertionError, OSError):
        pass  # the server was stopped under it: that is the test
