"""The page's side of the render service: submit an export, ask where it stands, fetch the file.

    service = RenderService()                  # config: cache folder, EXPORT_WORKERS, _QUEUE, _TIMEOUT_S
    ticket = service.submit(figure_text, "png", 1920, 1080)
    service.status(ticket["job"])              # {"state": "queued", "ahead": 2, ...}
    content = service.result(ticket["job"])    # once "done"

Every call is one short request over a Unix socket, so any web process
(a thread of the development server, any gunicorn worker) can ask.  The
first submit on a machine starts the service (service.py) as a child of
this process, with a lifeline pipe: it ends when this process ends.  If it
is gone when an export is submitted (its owner stopped), the next submit
starts a new one; an export that was waiting in the old one says so.
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client
from pathlib import Path

from .. import config
from .checks import ExportError
from .chromium import find_chromium
from .protocol import authkey, run_dir_for, service_address

START_WAIT_S = 20
ANSWER_WAIT_S = 10
GONE = "the render service stopped (was the server restarted?); export again"

# The write ends of the lifelines of services this process started: never
# closed, so each service lives exactly as long as this process.
_started: dict[Path, tuple[int, subprocess.Popen]] = {}
_starting = threading.Lock()


class ServiceGone(Exception):
    pass


class RenderService:
    def __init__(self, cache_dir: Path | None = None, workers: int | None = None, queue: int | None = None, timeout: float | None = None):
        self.run_dir = run_dir_for(cache_dir or config.CACHE_DIR)
        self.workers = workers or config.EXPORT_WORKERS
        self.queue = config.EXPORT_QUEUE if queue is None else queue
        self.timeout = timeout or config.EXPORT_TIMEOUT_S

    # ------------------------------------------------------------- requests

    def submit(self, figure_text: str, fmt: str, width: int, height: int) -> dict:
        """Queue an export; {"job", "state", "ahead", "step"}.  ExportError when refused or unavailable."""
        spec = {"figure": figure_text, "fmt": fmt, "width": int(width), "height": int(height)}
        try:
            answer = self._ask({"op": "submit", "spec": spec})
        except ServiceGone:
            self.start()
            try:
                answer = self._ask({"op": "submit", "spec": spec})
            except ServiceGone:
                raise ExportError(f"the render service does not answer; see {self.run_dir / 'service.log'}") from None
        if not answer.get("ok"):
            raise ExportError(answer.get("error", "the render service refused the export"))
        return answer

    def status(self, job: str) -> dict:
        """{"state": queued|running|done|failed, "ahead", "step", "error", "size"}."""
        try:
            return self._ask({"op": "status", "job": str(job)})
        except ServiceGone:
            return {"state": "failed", "error": GONE}

    def result(self, job: str) -> bytes:
        try:
            answer = self._ask({"op": "result", "job": str(job)})
        except ServiceGone:
            raise ExportError(GONE) from None
        if not answer.get("ok"):
            raise ExportError(answer.get("error", "the file is not ready"))
        return answer["content"]

    def cancel(self, job: str) -> bool:
        try:
            return bool(self._ask({"op": "cancel", "job": str(job)}).get("ok"))
        except ServiceGone:
            return False

    def stats(self) -> dict | None:
        """The service's pid, workers, Chromium process groups and queue; None when it is not running."""
        try:
            return self._ask({"op": "stats"})
        except ServiceGone:
            return None

    def _ask(self, request: dict) -> dict:
        try:
            key = authkey(self.run_dir)
            conn = Client(service_address(self.run_dir), family="AF_UNIX", authkey=key)
        except (OSError, EOFError, AuthenticationError):  # no key yet, nobody listening, or a service from another key
            raise ServiceGone from None
        with conn:
            try:
                conn.send(request)
                if not conn.poll(ANSWER_WAIT_S):
                    raise ServiceGone
                return conn.recv()
            except (OSError, EOFError):
                raise ServiceGone from None

    # ------------------------------------------------------------- starting

    def start(self) -> None:
        """Start the service for this cache folder unless one answers; wait until it does."""
        browser = find_chromium()  # a missing browser is said now, in one sentence
        with _starting:
            authkey(self.run_dir, create=True)
            with open(self.run_dir / "start.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # one starter per folder, across processes
                if self.stats() is not None:
                    return
                self._spawn(browser)
                deadline = time.monotonic() + START_WAIT_S
                while self.stats() is None:
                    if time.monotonic() > deadline:
                        raise ExportError(f"the render service did not start; see {self.run_dir / 'service.log'}")
                    time.sleep(0.05)

    def _spawn(self, browser: str) -> None:
        old = _started.pop(self.run_dir, None)
        if old is not None:  # its service is gone: let go of the lifeline and the process entry
            os.close(old[0])
            old[1].poll()
        lifeline, keep = os.pipe()  # both ends close on exec; the service is passed the reading end
        command = [
            sys.executable, "-m", "dashboard.export.service", str(self.run_dir), str(lifeline),
            str(self.workers), str(self.queue), str(self.timeout), browser,
        ]
        with open(self.run_dir / "service.log", "ab") as log:
            process = subprocess.Popen(
                command, pass_fds=(lifeline,), cwd=config.ROOT, start_new_session=True,  # Ctrl+C is the server's to handle
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        os.close(lifeline)
        _started[self.run_dir] = (keep, process)


__all__ = ["RenderService", "ServiceGone"]
