"""The render service's bookkeeping, in-process and without browsers (fast tier): the queue, its
limit, positions, cancelling, forgetting abandoned exports; and what the page says about them."""
from __future__ import annotations

import stat

import pytest

from dashboard.export import service as service_module
from dashboard.export.protocol import authkey, service_address
from dashboard.export.service import Service
from dashboard.web.export_control import step_progress, step_text


def spec(fmt: str = "png") -> dict:
    return {"figure": "{}", "fmt": fmt, "width": 640, "height": 400}


def test_waiting_exports_know_their_place_and_a_full_queue_refuses():
    service = Service(workers=1, queue=2, timeout=30, browser="/usr/bin/chromium")  # slots not started: nothing runs
    first, second = service.submit(spec()), service.submit(spec())
    assert (first["ok"], first["ahead"], second["ahead"]) == (True, 0, 1)
    refused = service.submit(spec())
    assert refused == {"ok": False, "error": "2 exports are already waiting on this server; try again in a minute"}
    assert service.cancel(first["job"]) == {"ok": True}
    assert service.status(second["job"])["ahead"] == 0  # moved up
    assert service.submit(spec())["ahead"] == 1  # the freed place
    assert service.stats()["queued"] == 2


def test_no_queue_means_refused_when_every_worker_is_busy():
    service = Service(workers=1, queue=0, timeout=30, browser="/usr/bin/chromium")
    job = service.submit(spec())
    assert job["ok"]
    service.queue.popleft().state = "running"  # as a slot takes it
    assert service.submit(spec()) == {"ok": False, "error": "every renderer on this server is busy; try again in a minute"}


def test_an_export_nobody_asks_about_is_dropped_and_says_so(monkeypatch):
    service = Service(workers=1, queue=5, timeout=30, browser="/usr/bin/chromium")
    kept, dropped = service.submit(spec())["job"], service.submit(spec())["job"]
    service.jobs[dropped].seen -= service_module.ABANDON_S + 1
    service.sweep_once()
    assert service.status(kept)["state"] == "queued" and service.status(kept)["ahead"] == 0
    status = service.status(dropped)
    assert status["state"] == "failed" and "no longer known to the render service" in status["error"]


def test_a_file_is_handed_over_once():
    service = Service(workers=1, queue=5, timeout=30, browser="/usr/bin/chromium")
    job = service.submit(spec())["job"]
    assert service.result(job) == {"ok": False, "error": "the file is not ready"}
    service.finish(service.jobs[job], content=b"PNG")
    assert service.status(job)["size"] == 3
    assert service.result(job) == {"ok": True, "content": b"PNG"}
    assert service.result(job)["ok"] is False


def test_each_cache_folder_has_its_own_service_and_key(tmp_path):
    assert service_address(tmp_path / "a") != service_address(tmp_path / "b")
    assert service_address(tmp_path / "a") == service_address(tmp_path / "a")
    key = authkey(tmp_path / "a", create=True)
    assert len(key) == 32 and authkey(tmp_path / "a", create=True) == key
    assert stat.S_IMODE((tmp_path / "a" / "authkey").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "status, text, progress",
    [
        ({"state": "queued", "ahead": 2}, "Waiting: 2 exports ahead of yours.", 0.05),
        ({"state": "queued", "ahead": 1}, "Waiting: 1 export ahead of yours.", 0.05),
        ({"state": "queued", "ahead": 0}, "Waiting: yours is next.", 0.05),
        ({"state": "running", "step": "Starting the renderer…"}, "Starting the renderer…", 0.15),
        ({"state": "running", "step": "Drawing the map…"}, "Drawing the map…", 0.4),
        ({"state": "running", "step": "Writing PNG…"}, "Writing PNG…", 0.85),
        ({"state": "running", "step": ""}, "Starting…", 0.1),
    ],
)
def test_the_page_says_where_an_export_stands(status, text, progress):
    assert step_text(status) == text
    assert step_progress(status) == progress
