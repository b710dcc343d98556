"""What an export asks for, checked before any work: image size, format, the file to write.

Every failure is an ExportError whose message is one sentence a user can act
on; the CLI prints it after "error: ", the page after "Not exported: ".
"""
from __future__ import annotations

import os
from pathlib import Path

from .. import config

PRESETS = {"slide": (1920, 1080), "hd": (1280, 720), "a4": (3508, 2480), "square": (1080, 1080)}
DEFAULT_PRESET = "slide"
FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
MIN_SIDE, MAX_SIDE = config.IMAGE_MIN_SIDE, config.IMAGE_MAX_SIDE


class ExportError(Exception):
    """Bad input or a missing piece; the message says which."""


def image_size(preset: str | None = None, width: int | None = None, height: int | None = None) -> tuple[int, int]:
    """Pixel size from a preset name or an explicit width and height."""
    if preset is not None and (width is not None or height is not None):
        raise ExportError("give --preset or --width and --height, not both")
    if (width is None) != (height is None):
        raise ExportError("give both --width and --height")
    if width is None:
        preset = preset or DEFAULT_PRESET
        if preset not in PRESETS:
            raise ExportError(f"unknown preset {preset!r}: choose {', '.join(PRESETS)}")
        width, height = PRESETS[preset]
    for side in (width, height):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ExportError(f"image size {width}x{height} is out of bounds: each side must be {MIN_SIDE} to {MAX_SIDE} pixels")
    return int(width), int(height)


def check_format(fmt) -> str:
    """A format name as the page sends it ("png", "svg", "pdf")."""
    fmt = fmt.lower() if isinstance(fmt, str) else ""
    if fmt not in FORMATS:
        raise ExportError(f"unknown image format {fmt!r}: use png, svg or pdf")
    return fmt


def format_for(path) -> str:
    """The image format named by the file's extension."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        shown = f"'.{suffix}'" if suffix else "no extension"
        raise ExportError(f"unknown image format ({shown}) in {path}: use .png, .svg or .pdf")
    return suffix


def check_writable(path) -> None:
    """Fail before any work if the file cannot be written."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if not folder.exists():
        raise ExportError(f"cannot write {path}: folder {folder} does not exist")
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ExportError(f"cannot write {path}: permission denied")


def write_file(path: Path, content: bytes) -> None:
    try:
        Path(path).write_bytes(content)
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
