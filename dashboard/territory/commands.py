"""The territory and fetch-territory commands: reports for the terminal (cli.py wires them)."""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd

from .fetch import DownloadError, download_reason, file_name_from_url, download_resumable
from .measure import change_between
from .model import Change, TerritoryError, TerritoryLayer
from .read import load_layer, load_layer_file




def run_territory_command(args: argparse.Namespace) -> int:
    """Area on two days and what was gained and lost between them.
    Exit 0 when done, 2 on unreadable input or a bad date."""
    try:
        day_from = _parse_cli_day(args.day_from, "--from")
        day_to = _parse_cli_day(args.day_to, "--to")
        layer = load_layer(args.layer)
        change = change_between(layer, day_from, day_to)
    except TerritoryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(_change_report(layer, change, day_from, day_to))
    if args.geojson:
        try:
            Path(args.geojson).write_text(json.dumps(change.to_geojson()), encoding="utf-8")
        except OSError as error:
            print(f"error: could not write {args.geojson} ({error.strerror or error}).", file=sys.stderr)
            return 2
        print(f"Change polygons written to {args.geojson}")
    return 0


def _parse_cli_day(text: str, option: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(dt.date.fromisoformat(text.strip()))
    except ValueError:
        raise TerritoryError(f"{option} '{text}' is not a date; use YYYY-MM-DD.") from None


def _km2(value: float, signed: bool = False) -> str:
    return f"{value:{'+' if signed else ''},.1f} km2"


def _change_report(layer: TerritoryLayer, change: Change, day_from, day_to) -> str:
    first, last = layer.dates[0], layer.dates[-1]
    lines = [
        f"Layer: {layer.name} ({len(layer.dates)} snapshots, {first:%Y-%m-%d} to {last:%Y-%m-%d}; "
        f"source: {layer.source}; licence: {layer.licence})",
        f"From {day_from:%Y-%m-%d}: snapshot of {change.date_from:%Y-%m-%d}, area {_km2(change.area_from_km2)}",
        f"To   {day_to:%Y-%m-%d}: snapshot of {change.date_to:%Y-%m-%d}, area {_km2(change.area_to_km2)}",
        f"Gained: {_km2(change.gained_km2)}",
        f"Lost:   {_km2(change.lost_km2)}",
        f"Net:    {_km2(change.net_km2, signed=True)}",
    ]
    if not layer.issues:
        lines.append("Validation: no issues.")
    else:
        lines.append(f"Validation: {len(layer.issues)} issue(s):")
        lines.extend(f"  {issue}" for issue in layer.issues)
    return "\n".join(lines)


# --------------------------------------------------------------------------
# CLI: fetch-territory




def run_fetch_command(args: argparse.Namespace) -> int:
    """Download, validate, then replace.  Exit 0 when saved, 1 when the
    download or its validation failed (any previous file is kept)."""
    folder = Path(args.data_dir)
    target = folder / file_name_from_url(args.url)
    part = target.with_name(target.name + ".part")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        download_resumable(args.url, part, timeout=args.timeout)
    except (urllib.error.URLError, http.client.HTTPException, OSError, DownloadError) as error:
        resume = f"; run again to resume from {part}" if part.exists() and part.stat().st_size else ""
        print(f"error: could not download {args.url} ({download_reason(error)}){resume}.", file=sys.stderr)
        return 1
    try:
        layer = load_layer_file(part)
    except TerritoryError as error:
        part.unlink(missing_ok=True)  # a bad file must not be resumed from
        kept = f"{target} is kept unchanged" if target.exists() else "nothing was saved"
        print(f"error: the download is not a usable territory layer ({error}); {kept}.", file=sys.stderr)
        return 1
    os.replace(part, target)
    first, last = layer.dates[0], layer.dates[-1]
    print(f"Saved {target}: {len(layer.dates)} snapshots from {first:%Y-%m-%d} to {last:%Y-%m-%d}, "
          f"{len(layer.issues)} validation issue(s).")
    return 0
