"""The render service with real workers and Debian's chromium: the bound, the queue, the timeout, cancelling, dying with its owner.

Each test starts its own service (its own cache folder, so its own socket)
from this process, and stops it at the end.  Chromium processes are found
as the service's descendants with psutil; "browsers" are Chromium's main
processes (no --type=), one per warm renderer.
"""
from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from dashboard.export.checks import ExportError
from dashboard.export.client import RenderService
from dashboard.export.figure import page_export

pytestmark = pytest.mark.slow  # real Chromium; conftest's tiers do not know this module

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from dashboard import config
    from dashboard.store.open import open_dataset

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "CACHE_DIR", tmp_path_factory.mktemp("service-events"))
        yield open_dataset()


@pytest.fixture()
def start_service(tmp_path):
    started = []

    def start(**limits) -> RenderService:
        service = RenderService(cache_dir=tmp_path / f"cache-{len(started)}", **limits)
        service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        stats = service.stats()
        if stats:
            os.kill(stats["pid"], signal.SIGTERM)
            gone(tree_of(stats["pid"]))


def figure(data, query: str = "", size: tuple[int, int] = (640, 400), fmt: str = "png") -> str:
    return page_export(query, data, fmt, *size)[0]


def tree_of(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def browsers(pid: int) -> list[psutil.Process]:
    """Chromium main processes under `pid`: the chromium binary (not Debian's /usr/bin/chromium
    shell script or its subshells, which share the name) without --type= (its helpers), and
    not a child of another chromium: a helper is forked from the browser and carries the
    browser's command line until it execs as --type=zygote (seen as a third browser under load)."""
    found = []
    for process in tree_of(pid):
        try:
            parent = process.parent()
            forked = parent is not None and Path(parent.exe()).name == "chromium"
            if Path(process.exe()).name == "chromium" and not forked and not any(part.startswith("--type=") for part in process.cmdline()):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def gone(processes: list[psutil.Process], timeout: float = 15) -> list[psutil.Process]:
    """The processes still alive (zombies count as gone) after up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def wait_for(service: RenderService, job: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = service.status(job)
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"export {job} still {status} after {timeout} s")


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", content[16:24])


def test_exports_wait_their_turn_and_no_more_than_n_browsers_run(start_service, data):
    service = start_service(workers=2, queue=10)
    figures = [figure(data, query) for query in ("", "type=Battles", "mode=density", "mode=choropleth", "type=Protests", "")]
    jobs = [service.submit(text, "png", 640, 400)["job"] for text in figures]
    pid = service.stats()["pid"]
    ahead: dict[str, list[int]] = {job: [] for job in jobs}
    most_browsers, most_running, pending = 0, 0, set(jobs)
    deadline = time.monotonic() + 400
    while pending and time.monotonic() < deadline:
        statuses = {job: service.status(job) for job in jobs if job in pending}
        for job, status in statuses.items():
            if status["state"] == "queued":
                ahead[job].append(status["ahead"])
            elif status["state"] in ("done", "failed"):
                assert status["state"] == "done", status
                assert png_size(service.result(job)) == (640, 400)
                pending.discard(job)
        most_running = max(most_running, service.stats()["running"])  # one answer: the statuses above are asked one by one
        most_browsers = max(most_browsers, len(browsers(pid)))
        time.sleep(0.1)
    assert not pending, "exports did not finish"
    assert most_running == 2 and 1 <= most_browsers <= 2
    # First come, first served: a waiting export only moves up, and the last ones waited behind others.
    for job, seen in ahead.items():
        assert seen == sorted(seen, reverse=True), (job, seen)
    assert max(ahead[jobs[-1]], default=0) >= 2, ahead
    assert len(service.stats()["workers"]) <= 2


def test_a_slow_export_is_stopped_at_the_timeout_with_its_browser(start_service, data):
    service = start_service(workers=1, timeout=5)
    started = time.monotonic()
    job = service.submit(figure(data, size=(8000, 8000)), "png", 8000, 8000)["job"]
    status = wait_for(service, job, timeout=120)
    took = time.monotonic() - started
    assert status["state"] == "failed"
    assert "took longer than 5 s, the limit on this server" in status["error"]
    assert took < 60  # stopped near the limit (after the cold start), not left to finish
    assert gone(browsers(service.stats()["pid"])) == []  # its Chromium was killed with the worker
    # (That a killed worker's place goes to a fresh one is tested with cancelling, below.)


def test_a_full_queue_refuses_and_cancel_frees_a_place(start_service, data):
    service = start_service(workers=1, queue=1)
    first = service.submit(figure(data), "png", 640, 400)["job"]
    deadline = time.monotonic() + 60
    while service.status(first)["state"] == "queued" and time.monotonic() < deadline:
        time.sleep(0.05)
    second = service.submit(figure(data), "png", 640, 400)["job"]
    with pytest.raises(ExportError, match=r"^1 export is already waiting on this server; try again in a minute$"):
        service.submit(figure(data), "png", 640, 400)
    assert service.cancel(second)
    assert "no longer known" in service.status(second)["error"]
    third = service.submit(figure(data), "png", 640, 400)["job"]  # the cancelled one's place
    # Cancelling a running export stops its worker and Chromium at once.
    worker = service.stats()["workers"]
    assert service.cancel(first)
    assert gone([psutil.Process(pid) for pid in worker]) == []
    status = wait_for(service, third)
    assert status["state"] == "done", status


def test_the_service_and_its_chromium_die_with_the_process_that_started_it(tmp_path):
    """The owner is killed outright (SIGKILL: no clean-up code runs); nothing it started survives."""
    owner_script = textwrap.dedent(
        f"""
        import json, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from dashboard.store.open import open_dataset
        from dashboard.export.client import RenderService
        from dashboard.export.figure import page_export
        data = open_dataset()
        service = RenderService(cache_dir=Path({str(tmp_path / "cache")!r}), workers=1)
        service.submit(page_export("", data, "png", 4000, 3000)[0], "png", 4000, 3000)
        while not service.stats()["chromium_groups"]:
            time.sleep(0.1)
        print(json.dumps(service.stats()), flush=True)
        time.sleep(600)
        """
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", owner_script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "DASHBOARD_CACHE_DIR": str(tmp_path / "events")},
    )
    try:
        stats = json.loads(owner.stdout.readline())
        family = [p for p in tree_of(owner.pid) if p.pid != owner.pid]
        assert browsers(owner.pid) and any(p.pid == stats["pid"] for p in family)
        owner.kill()
        owner.wait()
        assert gone(family) == []
    finally:
        if owner.poll() is None:
            owner.kill()
