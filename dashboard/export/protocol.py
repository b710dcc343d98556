"""What the render service and its clients share: where it listens, the key, the log line.

The service listens on an abstract Unix socket (Linux: no file to go
stale, no path-length limit) named after its run folder and this protocol's
version, so servers of one cache folder share one service and an older
service is never asked in a newer language.  Anyone on the machine can see
an abstract socket, so both sides prove they know a key kept in the run
folder, readable by its owner only (multiprocessing's HMAC handshake).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from pathlib import Path

PROTOCOL = 1
KEY_FILE = "authkey"


def run_dir_for(cache_dir: Path) -> Path:
    return Path(cache_dir) / "export-service"


def service_address(run_dir: Path) -> str:
    digest = hashlib.sha256(f"{Path(run_dir).resolve()}|{PROTOCOL}".encode()).hexdigest()[:24]
    return f"\0territorial-dashboard-export-{digest}"


def authkey(run_dir: Path, create: bool = False) -> bytes:
    """The run folder's key; with `create`, made (owner-only) if missing."""
    path = Path(run_dir) / KEY_FILE
    if create and not path.exists():
        Path(run_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def log(message: str) -> None:
    """One line of the service's log (its standard output, run folder/service.log)."""
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M:%S} {message}", flush=True)
