"""`python -m dashboard export`: one view or many saved views to files, in one browser.

    plan = plan_export(args)          # every check that needs no data: size, format, file, views, Chromium
    data = open the dataset           # the CLI's job (store.open); export never names a store
    for path in export_images(plan, data): ...

`run_export_command(args, open_data)` does the three with the CLI's exit
codes: 0 done, 2 a bad option or a missing piece, said in one line.  The
command line renders in its own process with one Chromium for every image;
the page's exports go through the render service instead (service.py).
"""
from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ..view import view_from_query
from .checks import ExportError, check_writable, format_for, image_size, write_file
from .chromium import find_chromium
from .figure import build_export_figure, export_view

EXIT_OK, EXIT_ERROR = 0, 2


@dataclass
class ExportPlan:
    """An export the options allow, checked before the data is read."""

    paths: list[Path]  # one file per view
    named_queries: list[tuple[str | None, str | None]]  # (saved view name, query) per file
    fmt: str
    width: int
    height: int
    browser_path: str
    args: object  # the remaining options: title, date_from, date_to, types, regions, mode


def run_export_command(args, open_data) -> int:
    """Check, open the data with `open_data()` (returns a Dataset), write every image; print each path."""
    # One clear line for a failure: the browser library's own warnings would repeat it.
    for name in ("choreographer", "kaleido"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        plan = plan_export(args)
        data = open_data()
        for path in export_images(plan, data):
            print(path, flush=True)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def plan_export(args) -> ExportPlan:
    """Every check that needs no data, in the order a user fixes them."""
    out = Path(args.out)
    fmt = format_for(out)
    width, height = image_size(args.preset, args.width, args.height)
    check_writable(out)
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise ExportError("--from is after --to")
    named_queries = _named_queries(args)
    browser_path = find_chromium()
    return ExportPlan(_output_paths(out, named_queries), named_queries, fmt, width, height, browser_path, args)


def export_images(plan: ExportPlan, data):
    """Render every view of the plan from `data` (a store.dataset.Dataset) in one browser; yields each file written."""
    from .renderer import Renderer

    views = _views(plan.args, plan.named_queries, data.store)
    with Renderer(plan.browser_path) as renderer:
        for path, (name, view) in zip(plan.paths, views):
            figure = build_export_figure(view, data, width=plan.width, height=plan.height, title=plan.args.title or name)
            write_file(path, renderer.render(figure, plan.fmt, plan.width, plan.height))
            yield path


def _named_queries(args) -> list[tuple[str | None, str | None]]:
    """(name, query) per image; one (None, None) when the flags alone make the view."""
    named = []
    if args.views_file:
        named += _read_views_file(args.views_file)
    named += [(None, query) for query in args.views or ()]
    return named or [(None, None)]


def _read_views_file(path) -> list[tuple[str, str]]:
    """(name, query) of each view saved from the page (its "Export views" file)."""
    from ..store.saved_views import FileSavedViews, SavedViewsError

    if not Path(path).is_file():
        raise ExportError(f"saved views file {path} does not exist")
    try:
        views = FileSavedViews(Path(path)).list()
    except SavedViewsError as error:
        raise ExportError(f"saved views {path}: {error}") from None
    if not views:
        raise ExportError(f'saved views {path} holds no views: expected a list of {{"name": ..., "query": ...}}')
    return [(view["name"], view["query"]) for view in views]


def _views(args, named_queries, store):
    """(name, view) per image: the link's view, with the flags given on top."""
    overrides = {
        key: value
        for key, value in (
            ("date_from", args.date_from),
            ("date_to", args.date_to),
            ("types", tuple(args.types) if args.types else None),
            ("regions", tuple(args.regions) if args.regions else None),
            ("mode", args.mode),
        )
        if value is not None
    }
    for name, query in named_queries:
        view, notices = view_from_query(query or "")
        view, fit_notices = export_view(view.replace(**overrides), store)
        for notice in notices + fit_notices:
            print(f"note: {name + ': ' if name else ''}{notice}", file=sys.stderr)
        yield name, view


def _output_paths(out: Path, named_queries) -> list[Path]:
    """FILE for one image; FILE-1, FILE-2... or FILE-<saved view name> for several."""
    if len(named_queries) == 1:
        return [out]
    paths, used = [], set()
    for index, (name, _) in enumerate(named_queries, 1):
        slug = re.sub(r"[^a-z0-9]+", "-", (name or "").lower()).strip("-")[:60] or str(index)
        if slug in used:
            slug = f"{slug}-{index}"
        used.add(slug)
        paths.append(out.with_name(f"{out.stem}-{slug}{out.suffix}"))
    return paths


__all__ = ["ExportPlan", "export_images", "plan_export", "run_export_command"]
