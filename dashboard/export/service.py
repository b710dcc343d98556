"""The render service: the page's exports, drawn outside the processes that answer the page.

Why a service of our own rather than Dash background callbacks: Dash's
DiskcacheManager starts one process per callback call with no limit (twenty
clicks, twenty processes, each starting its own Chromium), and Celery would
add a broker and a worker to run beside the app.  Here one small process
per machine (per cache folder: every server of one user shares
~/.cache/territorial-dashboard) owns at most config.EXPORT_WORKERS render
workers (worker.py), each with one warm Chromium, and a first-come queue of
at most config.EXPORT_QUEUE waiting exports.  Any web process - the
development server's threads or any gunicorn worker - submits an export,
asks where it stands ("2 exports ahead of yours", "Drawing the map…") and
fetches the file, each in a request of a few milliseconds (client.py), so
no web worker waits on a browser and map updates are answered meanwhile.

    python -m dashboard.export.service RUN_DIR LIFELINE_FD WORKERS QUEUE TIMEOUT BROWSER

The web process that starts it (client.py) passes the read end of a pipe
whose write end only it holds.  When that process ends - stopped, killed,
crashed - the pipe reads end-of-file and the service kills its workers'
Chromium process groups and exits; SIGTERM does the same.  A worker that
takes longer than the timeout, or whose export is cancelled, is killed with
its Chromium and replaced by a fresh one for the next job.  Idle workers
close their browser after WORKER_IDLE_S.  Nothing here imports plotly or
the data: the web process builds the figure, the workers draw it.
"""
from __future__ import annotations

import collections
import fcntl
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection, Listener, answer_challenge, deliver_challenge
from pathlib import Path

from .. import config
from .protocol import PROTOCOL, authkey, log, service_address

WORKER_IDLE_S = 300  # a worker with no job this long closes its Chromium
ABANDON_S = 60  # an export nobody asked about this long (the page was closed) is dropped
RESULT_TTL_S = 300  # a finished file nobody fetched this long is dropped
POLL_S = 0.25  # how often a busy slot looks for a cancel or the deadline
BROWSER_START_S = 60  # a worker's Chromium must be up within this


@dataclass
class Job:
    spec: dict
    id: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    state: str = "queued"  # queued, running, done, failed
    step: str = ""
    error: str = ""
    content: bytes | None = None
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    finished: float | None = None
    seen: float = field(default_factory=time.monotonic)
    cancelled: bool = False


class Slot:
    """One render worker, started when a job needs it, and the thread that feeds it."""

    def __init__(self, service: "Service", index: int):
        self.service, self.index = service, index
        self.process: subprocess.Popen | None = None
        self.conn: Connection | None = None
        self.group: int | None = None  # its Chromium's process group, once running
        self.idle_since = time.monotonic()
        self.thread = threading.Thread(target=self.run, name=f"slot-{index}", daemon=True)

    def run(self) -> None:
        while True:
            job = self.service.next_job(self)
            if job is None:
                continue
            self.render(job)
            self.idle_since = time.monotonic()

    def render(self, job: Job) -> None:
        service = self.service
        if not self.alive():
            try:
                self.start()
            except OSError as error:
                return service.finish(job, error=f"the renderer could not start ({error.strerror or error})")
        # The limit is on drawing: a cold worker's browser start has its own (BROWSER_START_S).
        deadline = job.started + (service.timeout if self.group else BROWSER_START_S)
        try:
            self.conn.send({key: job.spec[key] for key in ("figure", "fmt", "width", "height")})
            while True:
                if job.cancelled:
                    return self.fail(job, "the export was cancelled", kill=True)
                remaining = deadline - time.monotonic()
                if remaining <= 0 and not self.group:
                    return self.fail(job, f"the renderer did not start within {BROWSER_START_S} s", kill=True)
                if remaining <= 0:
                    return self.fail(job, f"it took longer than {service.timeout:g} s, the limit on this server, and was stopped; try a smaller image", kill=True)
                if not self.conn.poll(min(remaining, POLL_S)):
                    continue
                kind, *value = self.conn.recv()
                if kind == "step":
                    service.update(job, step=value[0])
                elif kind == "ready":
                    self.group, deadline = value[0], time.monotonic() + service.timeout
                    log(f"slot {self.index}: Chromium process group {self.group}, network {'isolated' if value[1] else 'NOT isolated'}")
                elif kind == "done":
                    return service.finish(job, content=value[0])
                else:
                    return self.fail(job, value[0], kill=False)
        except (EOFError, OSError, BrokenPipeError):
            return self.fail(job, "the renderer stopped unexpectedly; export again", kill=True)

    def fail(self, job: Job, reason: str, kill: bool) -> None:
        if kill:
            self.stop(force=True)
        self.service.finish(job, error=reason)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-m", "dashboard.export.worker", str(theirs.fileno()), self.service.browser, str(self.service.timeout), str(os.getpid())]
        try:  # from the folder that holds the package, so `-m dashboard...` finds it
            self.process = subprocess.Popen(command, pass_fds=(theirs.fileno(),), cwd=config.ROOT, stdin=subprocess.DEVNULL)
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.group = None
        log(f"slot {self.index}: worker {self.process.pid} started")

    def stop(self, force: bool = False) -> None:
        """Close the worker: politely when idle, or kill it and its Chromium at once."""
        process, conn, group = self.process, self.conn, self.group
        self.process = self.conn = self.group = None
        if process is None:
            return
        if not force and conn is not None:
            try:
                conn.send(None)
                process.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                force = True
        if force or process.poll() is None:
            if group:
                try:
                    os.killpg(group, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            process.kill()
            process.wait()
        if conn is not None:
            conn.close()
        log(f"slot {self.index}: worker {process.pid} stopped{' (killed)' if force else ''}")


class Service:
    def __init__(self, workers: int, queue: int, timeout: float, browser: str):
        self.queue_limit, self.timeout, self.browser = queue, timeout, browser
        self.jobs: dict[str, Job] = {}
        self.queue: collections.deque[Job] = collections.deque()
        self.changed = threading.Condition()
        self.slots = [Slot(self, index) for index in range(workers)]
        self.stopping = False

    def start(self) -> None:
        for slot in self.slots:
            slot.thread.start()
        threading.Thread(target=self.sweep, name="sweep", daemon=True).start()

    # ---------------------------------------------------------------- jobs

    def submit(self, spec: dict) -> dict:
        with self.changed:
            busy = sum(1 for job in self.jobs.values() if job.state == "running")
            if len(self.queue) >= self.queue_limit and busy + len(self.queue) >= len(self.slots):
                waiting = len(self.queue)
                if not waiting:
                    return {"ok": False, "error": "every renderer on this server is busy; try again in a minute"}
                return {"ok": False, "error": f"{waiting} export{'s are' if waiting != 1 else ' is'} already waiting on this server; try again in a minute"}
            job = Job(spec)
            self.jobs[job.id] = job
            self.queue.append(job)
            self.changed.notify_all()
            log(f"job {job.id}: queued ({spec['fmt']} {spec['width']}x{spec['height']}), {len(self.queue) - 1} ahead")
            return {"ok": True, "job": job.id, **self._describe(job)}

    def next_job(self, slot: Slot) -> Job | None:
        """The next queued job for `slot`, or None after a while (the idle worker is closed meanwhile)."""
        with self.changed:
            if not self.queue:
                self.changed.wait(timeout=5)
            if self.stopping or not self.queue:
                idle = not self.queue and slot.alive() and time.monotonic() - slot.idle_since > WORKER_IDLE_S
            else:
                job = self.queue.popleft()
                job.state, job.started, job.step = "running", time.monotonic(), "Starting…"
                self.changed.notify_all()
                log(f"job {job.id}: started on slot {slot.index} after {job.started - job.submitted:.1f} s waiting")
                return job
        if idle:
            slot.stop()
        return None

    def update(self, job: Job, step: str) -> None:
        with self.changed:
            job.step = step

    def finish(self, job: Job, content: bytes | None = None, error: str = "") -> None:
        with self.changed:
            job.state, job.content, job.error, job.finished = ("done" if content is not None else "failed"), content, error, time.monotonic()
            job.step = ""
        took = job.finished - (job.started or job.finished)
        log(f"job {job.id}: {'done' if content is not None else 'failed: ' + error} in {took:.1f} s" + (f", {len(content)} bytes" if content else ""))

    def status(self, job_id: str) -> dict:
        with self.changed:
            job = self.jobs.get(job_id)
            if job is None:
                return {"state": "failed", "error": "this export is no longer known to the render service (it was dropped or the server restarted); export again"}
            job.seen = time.monotonic()
            return self._describe(job)

    def _describe(self, job: Job) -> dict:
        ahead = next((index for index, queued in enumerate(self.queue) if queued is job), 0)
        return {"state": job.state, "ahead": ahead, "step": job.step, "error": job.error, "size": len(job.content or b"")}

    def result(self, job_id: str) -> dict:
        with self.changed:
            job = self.jobs.get(job_id)
            if job is None or job.state != "done":
                return {"ok": False, "error": "the file is not ready"}
            del self.jobs[job_id]
            return {"ok": True, "content": job.content}

    def cancel(self, job_id: str) -> dict:
        with self.changed:
            job = self.jobs.pop(job_id, None)
            if job is None:
                return {"ok": False}
            job.cancelled = True
            if job in self.queue:
                self.queue.remove(job)
            log(f"job {job_id}: cancelled while {job.state}")
            return {"ok": True}

    def stats(self) -> dict:
        with self.changed:
            return {
                "queued": len(self.queue),
                "running": sum(1 for job in self.jobs.values() if job.state == "running"),
                "workers": [slot.process.pid for slot in self.slots if slot.alive()],
                "chromium_groups": [slot.group for slot in self.slots if slot.group],
                "pid": os.getpid(),
                "protocol": PROTOCOL,
            }

    def sweep(self) -> None:
        while True:
            time.sleep(5)
            self.sweep_once()

    def sweep_once(self) -> None:
        """Drop exports whose page stopped asking (it was closed) and files nobody fetched."""
        now = time.monotonic()
        with self.changed:
            for job in list(self.jobs.values()):
                if job.state in ("queued", "running") and now - job.seen > ABANDON_S:
                    self.jobs.pop(job.id)
                    job.cancelled = True  # a running one: its slot stops the worker
                    if job in self.queue:
                        self.queue.remove(job)
                    log(f"job {job.id}: dropped, nobody asked for {ABANDON_S} s")
                elif job.finished and now - job.finished > RESULT_TTL_S:
                    self.jobs.pop(job.id)

    def shutdown(self) -> None:
        with self.changed:
            self.stopping = True
        for slot in self.slots:
            slot.stop(force=True)

    # -------------------------------------------------------------- requests

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        if op == "submit":
            return self.submit(request["spec"])
        if op == "status":
            return self.status(request["job"])
        if op == "result":
            return self.result(request["job"])
        if op == "cancel":
            return self.cancel(request["job"])
        if op == "stats":
            return self.stats()
        return {"ok": False, "error": f"unknown request {op!r}"}


def serve(run_dir: Path, lifeline: int, workers: int, queue: int, timeout: float, browser: str) -> int:
    lock = open(run_dir / "service.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("another render service holds this folder; exiting")
        return 1
    service = Service(workers, queue, timeout, browser)
    key = authkey(run_dir)
    listener = Listener(service_address(run_dir), family="AF_UNIX")  # the handshake runs in each connection's thread
    service.start()

    def stop(*_):
        service.shutdown()
        log("stopped")
        os._exit(0)

    def watch_lifeline():
        while os.read(lifeline, 1):  # nothing is ever written: this returns b"" when the owner is gone
            pass
        log("the server that started the service is gone")
        stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=watch_lifeline, name="lifeline", daemon=True).start()
    log(f"render service {os.getpid()} ready: {workers} worker(s), queue {queue}, timeout {timeout:g} s, {browser}")
    while True:
        try:
            conn = listener.accept()
        except OSError as error:
            log(f"accept failed: {error}")
            continue
        threading.Thread(target=_answer, args=(service, conn, key), daemon=True).start()


def _answer(service: Service, conn: Connection, key: bytes) -> None:
    """One request per connection, from a client that proves it knows the key."""
    with conn:
        try:
            deliver_challenge(conn, key)
            answer_challenge(conn, key)
            conn.send(service.handle(conn.recv()))
        except (AuthenticationError, EOFError, OSError, KeyError, TypeError, ValueError) as error:
            log(f"bad request: {type(error).__name__}")


if __name__ == "__main__":
    directory, fd, count, waiting, seconds, path = sys.argv[1:7]
    sys.exit(serve(Path(directory), int(fd), int(count), int(waiting), float(seconds), path))
