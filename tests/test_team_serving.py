"""The team deployment served for real: several app servers on one database, gunicorn
with DASHBOARD_STORE, and a database that goes away and comes back.

The outage test runs its OWN throwaway PostgreSQL cluster (initdb + pg_ctl
in a temporary folder, on a free port), so the machine's shared cluster is
never stopped.  Needs PostgreSQL 15 + PostGIS and Redis (tests/setup_machine.sh).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest

import pg_databases
from conftest import DashboardServer, free_port
from pg_databases import closed_port, new_database, redis_url
from test_serving import render_request
from dashboard import cli
from dashboard.web.app import STORE_NOTICE

pytestmark = pytest.mark.slow
BUNDLED = "data/events/article_events.csv"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture(scope="module")
def team_database():
    url = new_database()
    assert cli.run(["import", BUNDLED, "--into", url]) == 0
    yield url
    pg_databases.drop(url)


def call(base_url: str, output_has: str, changed: list[str], values: dict) -> dict:
    """POST one callback as the browser does: the one whose outputs include `output_has`."""
    dependencies = json.loads(urllib.request.urlopen(base_url + "/_dash-dependencies").read())
    callback = next(d for d in dependencies if output_has in d["output"])

    def items(kind):
        return [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")} for i in callback[kind]]

    output = callback["output"]
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in output.strip(".").split("...")]
    body = {"output": output, "outputs": outputs if output.startswith("..") else outputs[0],
            "inputs": items("inputs"), "state": items("state"), "changedPropIds": changed}
    request = urllib.request.Request(base_url + "/_dash-update-component", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 200
        return json.loads(answer.read())


def save_view(base_url: str, name: str, query: str) -> dict:
    return call(base_url, "saved-list.options", ["save-view.n_clicks"],
                {"save-view.n_clicks": 1, "view-name.value": name, "view.data": query})


def saved_names(base_url: str) -> list[str]:
    answer = call(base_url, "saved-list.options", [], {})
    return [option["value"] for option in answer["response"]["saved-list"]["options"]]


def test_two_servers_on_one_database_see_every_view_saved_on_either(team_database, cache_dir):
    one = DashboardServer("--store", team_database, cache_dir=cache_dir, env={"DASHBOARD_REDIS": redis_url()})
    two = DashboardServer("--store", team_database, cache_dir=cache_dir)  # and one without Redis
    try:
        messages, errors = [], []

        def saves(server, label):
            for i in range(8):
                try:
                    answer = save_view(server.url, f"{label} {i}", f"type=Battles&q={label}{i}")
                    messages.append(answer["response"]["views-message"]["children"])
                except Exception as error:  # noqa: BLE001 - collected and asserted below
                    errors.append(repr(error))

        threads = [threading.Thread(target=saves, args=(s, label)) for s, label in ((one, "A"), (two, "B"), (one, "C"), (two, "D"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [] and len(messages) == 32 and all(m.startswith("Saved") for m in messages)
        expected = {f"{label} {i}" for label in "ABCD" for i in range(8)}
        assert set(saved_names(one.url)) == expected == set(saved_names(two.url))
        # Both serve the same events from the database.
        assert render_request(one.url, "type=Battles")["response"]["count"]["children"] == "2 of 12 events"
        assert render_request(two.url, "q=kursk")["response"]["count"]["children"] == "2 of 12 events"
    finally:
        one.stop()
        two.stop()


@pytest.mark.parametrize("preload", [False, True], ids=["workers-load", "preload-then-fork"])
def test_gunicorn_workers_serve_the_database(team_database, cache_dir, preload):
    command = [sys.executable, "-m", "gunicorn", "--workers", "3", "--bind", "127.0.0.1:{port}", "dashboard.wsgi:server"]
    if preload:
        command.insert(3, "--preload")  # the pool must be made anew in each forked worker
    server = DashboardServer(cache_dir=cache_dir, command=command,
                             env={"DASHBOARD_STORE": team_database, "DASHBOARD_REDIS": redis_url()})
    try:
        answers = {json.dumps(render_request(server.url, "type=Battles")["response"], sort_keys=True) for _ in range(12)}
        assert len(answers) == 1
        assert json.loads(answers.pop())["count"]["children"] == "2 of 12 events"
        assert render_request(server.url, "q=liski")["response"]["count"]["children"] == "2 of 12 events"
    finally:
        server.stop()


def test_gunicorn_says_one_sentence_and_stops_when_the_database_is_not_there(cache_dir):
    url = f"postgresql://127.0.0.1:{closed_port()}/events"
    env = {**os.environ, "DASHBOARD_STORE": url, "DASHBOARD_CACHE_DIR": str(cache_dir)}
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{free_port()}", "dashboard.wsgi:server"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode != 0
    assert f"error: Cannot use the database at {url}: Connection refused." in done.stderr
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------ outage


class ThrowawayCluster:
    """A PostgreSQL 15 cluster of its own in a temporary folder, on a free port (trust auth, loopback only)."""

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            message = f"{PG_BIN / 'initdb'} missing: apt-get install postgresql-15-postgis-3"
            pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
        self.folder = Path(tempfile.mkdtemp(prefix="dashboard-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_owner = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: the postgres user owns this cluster
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self._run(PG_BIN / "initdb", "-D", self.data, "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.start()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/team"
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE team")

    def _run(self, *args):
        subprocess.run([*self.as_owner, *map(str, args)], check=True, capture_output=True, timeout=120)

    def start(self):
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.folder / "log", "-w", "start")

    def stop(self):
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def remove(self):
        subprocess.run([*self.as_owner, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def own_cluster():
    cluster = ThrowawayCluster()
    try:
        yield cluster
    finally:
        cluster.remove()


def test_a_database_lost_while_serving_is_a_notice_then_recovers(own_cluster, cache_dir):
    assert cli.run(["import", BUNDLED, "--into", own_cluster.url]) == 0
    server = DashboardServer("--store", own_cluster.url, cache_dir=cache_dir)
    try:
        assert render_request(server.url, "type=Battles")["response"]["count"]["children"] == "2 of 12 events"
        own_cluster.stop()
        for query in ("q=kazan", "region=UA-14"):  # views not answered before: they need the database
            answer = render_request(server.url, query)  # urllib raises on a 500: this is a 200
            assert answer["sideUpdate"]["count"]["children"] == STORE_NOTICE
            assert answer["sideUpdate"]["store-retry"]["disabled"] is False  # the page asks again by itself
            assert "map" not in answer.get("response", {})  # the figures stay as they were
        saved = save_view(server.url, "during the outage", "type=Battles")
        assert saved["response"]["views-message"]["children"].startswith("Not saved: Cannot use the database")
        own_cluster.start()
        deadline = time.monotonic() + 30
        while True:
            answer = render_request(server.url, "q=kazan")
            if "response" in answer and "count" in answer["response"] or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert answer["response"]["count"]["children"] == "3 of 12 events"
        assert answer["response"]["store-retry"]["disabled"] is True
        # The page's own retry (the interval firing) redraws from the controls and turns itself off.
        controls = {f"{c['id']}.{c['property']}": c.get("value") for c in answer["response"].get("controls", [])}
        retried = call(server.url, "map.figure", ["store-retry.n_intervals"], {"store-retry.n_intervals": 3, **controls})
        assert retried["response"]["store-retry"]["disabled"] is True and "map" in retried["response"]
        assert save_view(server.url, "after", "type=Battles")["response"]["views-message"]["children"] == "Saved “after”."
    finally:
        server.stop()
