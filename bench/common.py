"""What the benchmarks share: servers they start and stop, synthetic data, Chromium, the machine note.

Every benchmark is run from the repository root as a module, so the
`dashboard` package it measures is the one in this checkout:

    cd <repo> && python -m bench.bench_browser ...

(`python bench/bench_x.py` would put bench/ first on sys.path and import
whatever `dashboard` is installed, possibly another checkout; `ensure_checkout`
refuses that with a clear message.)  Servers are started as subprocesses
with cwd and PYTHONPATH set to this checkout, for the same reason.

Traffic goes only to 127.0.0.1; every server started here is stopped by
the `Server` context manager, also on errors and Ctrl+C.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CHROMIUM = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Playwright drives Debian's Chromium (no browser download): executable_path=CHROMIUM.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader", "--disable-background-networking"]
VIEWPORT = {"width": 1600, "height": 1000}
BUNDLED_EVENTS = ROOT / "data" / "events" / "article_events.csv"


def ensure_checkout() -> None:
    """Stop with a clear message unless `dashboard` is imported from this checkout."""
    try:
        import dashboard
    except ImportError as error:  # pragma: no cover - a broken environment
        sys.exit(f"cannot import the dashboard package ({error}); run from the repository root: python -m bench.<script>")
    where = Path(dashboard.__file__).resolve().parent
    if where != ROOT / "dashboard":
        sys.exit(
            f"the dashboard package comes from {where}, not from this checkout ({ROOT}).\n"
            f"Run the benchmark from the repository root as a module: cd {ROOT} && python -m bench.<script>"
        )


def subprocess_env(**extra: str) -> dict:
    """The environment for a server: this checkout first on the path, output unbuffered."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine_note() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    if n < 1e3:
        return f"{n:.0f} B"
    if n < 1e6:
        return f"{n / 1e3:.1f} KB"
    return f"{n / 1e6:.2f} MB"


def fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.0f} ms"


# ------------------------------------------------------------------- data


SYNTHETIC_BLOCK = 1_000_000


def synthetic_csv(rows: int, folder: Path) -> Path:
    """bench_import.synthetic_events(rows) as a CSV in `folder`, written once (reused if there)."""
    path = folder / f"synthetic-{rows}.csv"
    if path.exists():
        return path
    from .bench_import import synthetic_events

    start = time.perf_counter()
    # Written a million rows at a time (each its own seed and ids), so ten
    # million never sit in memory at once; the first million are the 1M file's.
    with open(path.with_suffix(".tmp"), "w", newline="") as handle:
        for first in range(0, rows, SYNTHETIC_BLOCK):
            block = synthetic_events(min(SYNTHETIC_BLOCK, rows - first), seed=7 + first // SYNTHETIC_BLOCK, first_id=first)
            block.to_csv(handle, index=False, header=first == 0)
    path.with_suffix(".tmp").rename(path)
    print(f"  wrote {rows:,} synthetic events ({path.stat().st_size / 1e6:.0f} MB CSV) in {time.perf_counter() - start:.1f} s", flush=True)
    return path


def prepare_cache(data: Path | None, cache_dir: Path, timeout: float = 900) -> float:
    """Parse, validate and join `data` once into `cache_dir` (a subprocess), so servers start from the cache.

    Several gunicorn workers starting at once would otherwise each do the cold import."""
    code = "from dashboard.store.open import open_dataset; import sys; d = open_dataset(sys.argv[1:] or None); print(d.store.total)"
    start = time.perf_counter()
    subprocess.run(
        [PYTHON, "-c", code, *([str(data)] if data else [])], cwd=ROOT, check=True, timeout=timeout,
        env=subprocess_env(DASHBOARD_CACHE_DIR=str(cache_dir)), stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


# ---------------------------------------------------------------- servers


class Server:
    """A server subprocess on 127.0.0.1: started, waited for, always stopped (context manager)."""

    def __init__(self, name: str, command: list[str], port: int, env: dict, log_dir: Path, start_timeout: float = 600):
        self.name, self.command, self.port, self.env = name, command, port, env
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}-{port}.log"
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.start_seconds = None
        self.launched_at = None  # wall clock (time.time()), to compare with the server's own log

    def __enter__(self) -> "Server":
        start = time.perf_counter()
        self.launched_at = time.time()
        with open(self.log_path, "wb") as log:
            # A session of its own, so that stopping it stops its workers too.
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_until_up(start)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.perf_counter() - start
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_until_up(self, start: float) -> None:
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; log {self.log_path}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.perf_counter() - start > self.start_timeout:
                raise RuntimeError(f"{self.name} did not answer within {self.start_timeout:.0f} s; log {self.log_path}:\n{self.log_tail()}")
            time.sleep(0.3)

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)  # the group this Popen started: the server and its workers only
        except ProcessLookupError:
            return
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def get_json(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read())


def dashboard_server(data: Path | None, cache_dir: Path, log_dir: Path) -> Server:
    """`python -m dashboard serve --port P [--data FILE]`, as a user starts it."""
    port = free_port()
    command = [PYTHON, "-m", "dashboard", "serve", "--port", str(port), *(["--data", str(data)] if data else [])]
    return Server("dashboard", command, port, subprocess_env(DASHBOARD_CACHE_DIR=str(cache_dir)), log_dir)


def naive_server(data: Path | None, log_dir: Path) -> Server:
    """bench/naive_app.py on Dash's development server (threaded, as `app.run` is)."""
    port = free_port()
    command = [PYTHON, "-m", "bench.naive_app", "--port", str(port), "--data", str(data or BUNDLED_EVENTS)]
    return Server("naive", command, port, subprocess_env(), log_dir)


def gunicorn_server(app: str, workers: int, env: dict, log_dir: Path, preload: bool = False, timeout_s: int = 300, name: str = "gunicorn",
                    options: list[str] = ()) -> Server:
    """gunicorn with `workers` sync workers on 127.0.0.1 (the deployment the README describes); `options` more flags."""
    port = free_port()
    command = [
        PYTHON, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
        "--timeout", str(timeout_s), "--graceful-timeout", "5", *(["--preload"] if preload else []), *options, app,
    ]
    return Server(name, command, port, subprocess_env(**env), log_dir)


def launch_chromium(playwright):
    """Debian's Chromium through Playwright; never a downloaded browser."""
    if not Path(CHROMIUM).exists():
        sys.exit(f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set BROWSER_PATH)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
