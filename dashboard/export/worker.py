"""One render worker: a process that keeps one Chromium and draws the jobs the render service sends.

    python -m dashboard.export.worker FD BROWSER TIMEOUT SERVICE_PID

FD is this end of a socket pair with the service (multiprocessing
Connection messages).  The service sends {"figure", "fmt", "width",
"height"} per job, or None to stop; the worker answers
("step", text) as it goes, ("ready", process group, isolated) once its
Chromium runs, then ("done", bytes) or ("error", one sentence).

The worker runs at low CPU priority (nice 10, which its Chromium inherits):
exports are background work and the page's map updates come first.  It
never outlives the service: the kernel kills it when the service's thread
that started it ends (PR_SET_PDEATHSIG), and a watchdog thread kills its
Chromium's process group and exits if the service is gone.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection

NICE = 10
WATCH_S = 0.5
STARTING = "Starting the renderer…"
PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """This process gets `sig` when the thread that started it ends (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def kill_group(group: int | None) -> None:
    if group:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Worker:
    def __init__(self, conn: Connection, browser_path: str, timeout: float, parent: int):
        self.conn = conn
        self.browser_path = browser_path
        self.timeout = timeout
        self.parent = parent
        self.renderer = None

    def watch_parent(self) -> None:
        """Exit, taking Chromium along, as soon as the service is gone."""
        while True:
            time.sleep(WATCH_S)
            if os.getppid() != self.parent:
                kill_group(self.renderer.process_group if self.renderer else None)
                os._exit(1)

    def run(self) -> None:
        threading.Thread(target=self.watch_parent, name="watch-service", daemon=True).start()
        try:
            while True:
                try:
                    job = self.conn.recv()
                except (EOFError, OSError):
                    return
                if job is None:
                    return
                self.conn.send(self.render(job))
        finally:
            self.close()

    def render(self, job: dict) -> tuple:
        from .checks import ExportError

        try:
            if self.renderer is None:
                self.open()
            content = self.renderer.render(
                job["figure"], job["fmt"], job["width"], job["height"], on_step=lambda text: self.conn.send(("step", text))
            )
            return ("done", content)
        except ExportError as error:
            if self.renderer is None or not self.alive():
                self.close()
            return ("error", str(error))
        except Exception as error:  # noqa: BLE001 -- the page gets one sentence; the next job gets a fresh browser
            self.close()
            return ("error", f"the renderer failed ({type(error).__name__}: {str(error)[:200]})")

    def open(self) -> None:
        from .renderer import Renderer

        self.conn.send(("step", STARTING))
        renderer = Renderer(self.browser_path, timeout=self.timeout)
        self.renderer = renderer.__enter__()
        self.conn.send(("ready", renderer.process_group, renderer.isolated))

    def alive(self) -> bool:
        process = getattr(self.renderer._browser, "subprocess", None)
        return process is not None and process.poll() is None

    def close(self) -> None:
        renderer, self.renderer = self.renderer, None
        if renderer is None:
            return
        group = renderer.process_group
        try:
            renderer.__exit__(None, None, None)
        except Exception:  # noqa: BLE001 -- closing a broken browser: make sure it is gone
            pass
        kill_group(group)


def main(argv: list[str]) -> int:
    fd, browser_path, timeout, parent = int(argv[0]), argv[1], float(argv[2]), int(argv[3])
    die_with_parent()
    if os.getppid() != parent:  # the service died before the guard was set
        return 1
    os.nice(NICE)
    worker = Worker(Connection(fd), browser_path, timeout, parent)

    def stop(signum, frame):
        kill_group(worker.renderer.process_group if worker.renderer else None)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the server; the service stops us
    for name in ("choreographer", "kaleido", "logistro"):
        logging.getLogger(name).setLevel(logging.ERROR)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
