"""Downloading the DeepStateMap history (the only part that needs a network), resumable."""
from __future__ import annotations

import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


from .model import first_line


class DownloadError(Exception):
    """The server answered, but not with the whole file."""


def file_name_from_url(url: str) -> str:
    name = Path(urllib.parse.urlparse(url).path).name
    return name or "territory.geojson"


def download_reason(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return first_line(error)


def download_resumable(url: str, part: Path, timeout: float = 60.0, progress=None) -> None:
    """Download ``url`` into ``part``, continuing an earlier partial
    download with an HTTP Range request when the server allows it."""
    progress = progress or sys.stderr
    label = part.name.removesuffix(".part")
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing past our end: already complete
            return
        raise
    with response:
        if offset and getattr(response, "status", None) != 206:
            offset = 0  # the server ignored the Range header: start again
        elif offset:
            _check_range_start(response.headers.get("Content-Range", ""), offset)
            print(f"Resuming {label} at {_size(offset)}", file=progress)
        total = _expected_total(response, offset)
        with open(part, "ab" if offset else "wb") as out:
            received = _copy_with_progress(response, out, offset, total, label, progress)
    if total is not None and received != total:
        raise DownloadError(f"the transfer stopped at {received:,} of {total:,} bytes")


def _check_range_start(content_range: str, offset: int) -> None:
    match = re.match(r"bytes (\d+)-", content_range)
    if not match or int(match.group(1)) != offset:
        raise DownloadError(f"the server sent the range '{content_range}', not one starting at byte {offset}")


def _expected_total(response, offset: int) -> int | None:
    content_range = response.headers.get("Content-Range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def _copy_with_progress(response, out, received: int, total: int | None, label: str, progress) -> int:
    last_shown = 0.0
    while chunk := response.read(1 << 16):
        out.write(chunk)
        received += len(chunk)
        now = time.monotonic()
        if now - last_shown > 0.25:
            _show_progress(progress, label, received, total, end="\r")
            last_shown = now
    _show_progress(progress, label, received, total, end="\n")
    return received


def _show_progress(stream, label: str, received: int, total: int | None, end: str) -> None:
    text = f"Downloading {label}: {_size(received)}"
    if total:
        text += f" of {_size(total)} ({100 * received / total:.0f}%)"
    print(text, end=end, file=stream, flush=True)


def _size(count: int) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 1e6 else f"{count / 1e3:,.1f} KB"


# --------------------------------------------------------------------------
