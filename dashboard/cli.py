"""Command line: serve (the default), validate, import, events, export, territory, fetch-territory.

Built with click (already installed with Flask).  Each command gathers its
options and calls one function of the package that does the work; exit
codes: 0 done, 1 done but some rows were rejected (validate), 2 the input
or an option could not be used (one sentence on stderr, never a traceback).
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from types import SimpleNamespace

import click

from . import config
from .ingest.dates import DATE_ORDERS
from .ingest.dedupe import ON_DUPLICATE
from .ingest.load import FORMATS, LoadError
from .store.contract import StoreUnavailable
from .territory import TerritoryError

EXIT_OK, EXIT_REJECTED, EXIT_ERROR = 0, 1, 2


class DefaultGroup(click.Group):
    """A group that runs `serve` when no command is named: `python -m dashboard --port 8051`.

    (What the click-default-group package does, in the five lines it takes.)"""

    default_command = "serve"

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Offline territorial-map dashboard for conflict events."""


def _iso_date(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2025-01-20") from None


def import_options(format_flag: str = "--format"):
    """The options every command that reads event files takes."""

    def decorate(command):
        for option in reversed(
            [
                click.option(format_flag, "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
                             help="input layout (native, acled, ucdp, mapped) or container (csv, geojson, geoparquet, gpkg, xlsx); auto detects both"),
                click.option("--map", "mapping", multiple=True, metavar="NATIVE=THEIRS,...", help="column mapping for other CSVs"),
                click.option("--type-value", "type_value", multiple=True, metavar="THEIRS=ACLED_TYPE", help="map a category of theirs onto an ACLED type"),
                click.option("--encoding", default="utf-8", show_default=True, help="text encoding of CSV files"),
                click.option("--date-order", "date_order", type=click.Choice(DATE_ORDERS),
                             help="read numeric dates such as 05/02/2014 day-first (dmy), month-first (mdy) or year-first (ymd) "
                             "when the values do not prove it"),
                click.option("--on-duplicate", "on_duplicate", type=click.Choice(ON_DUPLICATE), default="keep", show_default=True,
                             help="an id repeated with other content: keep (load it as ID~2, with a warning) or reject"),
            ]
        ):
            command = option(command)
        return command

    return decorate


SAMPLE_TERRITORY = "data/territory-sample/"


def _territory_path(ctx, param, value):
    """A control layer that is not there: say in one sentence what to use instead."""
    if value and not Path(value).exists():
        raise click.BadParameter(
            f"{value} does not exist; use the bundled sample (--territory {SAMPLE_TERRITORY}) "
            "or download the whole history with `python -m dashboard fetch-territory`."
        )
    return value


def data_options(command):
    command = import_options("--input-format")(command)
    command = click.option(
        "--store", metavar="URL", default=None,
        help="a team database (postgresql://user@host/db) instead of event files (default $DASHBOARD_STORE)",
    )(command)
    command = click.option(
        "--territory", metavar="PATH", callback=_territory_path,
        help=f"territorial-control layer: a folder of daily snapshots or one file (a sample: {SAMPLE_TERRITORY})",
    )(command)
    return click.option("--data", multiple=True, metavar="PATH", help="event file (repeatable; default: the bundled article events)")(command)


def _args(**values) -> SimpleNamespace:
    """Options as attributes; repeatable ones as lists (None when not given), as the run functions take them."""
    return SimpleNamespace(**{k: (list(v) or None) if isinstance(v, tuple) else v for k, v in values.items()})


def _fail(error: Exception) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(EXIT_ERROR)


@main.command()
@data_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8050, show_default=True)
@click.option("--debug", is_flag=True, help="Dash's debug mode (reloader and error overlay)")
@click.option("--basemap", metavar="URL", help="a tile URL with {z}/{x}/{y} or a MapLibre style URL (default: none, fully offline)")
@click.option("--title", metavar="TEXT", help="the data's display name (default: \"title\" of <data>.meta.json)")
@click.option("--source", metavar="TEXT", help="the source line, e.g. 'RFE/RL, 21 Jan 2025' (default: publisher and date of <data>.meta.json)")
def serve(**options):
    """Run the dashboard (the default command)."""
    from .commands import run_serve

    try:
        sys.exit(run_serve(_args(**options)))
    except (LoadError, TerritoryError, StoreUnavailable) as error:
        _fail(error)


@main.command()
@click.argument("path")
@import_options()
@click.option("--rejects", metavar="FILE", help="write every rejected row (row, column, reason, value) as CSV")
@click.option("--warnings", metavar="FILE", help="write every warning (row, column, reason, value) of the loaded rows as CSV")
def validate(**options):
    """Check an event file and report every rejected row and every warning.

    "row N" is the line of a CSV file (the header is line 1; a quoted field
    that holds a line break makes later rows' numbers larger), the row of an
    .xlsx sheet, or the feature's number in GeoJSON, GeoParquet and
    GeoPackage.  Exit 0: every row loaded; 1: some rows were rejected;
    2: the file or an option could not be used."""
    from .commands import run_validate

    try:
        sys.exit(run_validate(_args(**options)))
    except LoadError as error:
        _fail(error)


@main.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--into", metavar="URL", help="the team database, postgresql://user@host/db (default $DASHBOARD_STORE)")
@click.option("--replace", is_flag=True,
              help="the data becomes exactly these files: events in the database but not in them are removed (default: kept)")
@import_options()
def import_command(**options):
    """Import event files into the team database (PostgreSQL + PostGIS).

    Events already there with the same id are updated when they changed, the
    others are kept (or removed with --replace); all in one transaction."""
    from .commands import run_import

    try:
        sys.exit(run_import(_args(**options)))
    except (LoadError, StoreUnavailable) as error:
        _fail(error)


@main.command()
@data_options
@click.option("--from", "date_from", callback=_iso_date, metavar="DATE")
@click.option("--to", "date_to", callback=_iso_date, metavar="DATE")
@click.option("--type", "types", multiple=True, metavar="TYPE", help="event type (repeatable)")
@click.option("--admin1", "regions", multiple=True, metavar="CODE", help="ISO 3166-2 region (repeatable)")
@click.option("--format", "output_format", type=click.Choice(["csv", "geojson"]), default="csv", show_default=True)
def events(**options):
    """Write the joined events to standard output."""
    from .commands import run_events

    try:
        sys.exit(run_events(_args(**options)))
    except (LoadError, TerritoryError, StoreUnavailable) as error:
        _fail(error)


@main.command()
@click.option("--out", required=True, metavar="FILE", help="output file: .png, .svg or .pdf")
@click.option("--from", "date_from", callback=_iso_date, metavar="DATE")
@click.option("--to", "date_to", callback=_iso_date, metavar="DATE")
@click.option("--type", "types", multiple=True, metavar="TYPE", help="event type (repeatable)")
@click.option("--admin1", "regions", multiple=True, metavar="CODE", help="ISO 3166-2 region (repeatable)")
@click.option("--mode", type=click.Choice(["points", "choropleth", "density"]), help="map mode (default: points, or the view's)")
@click.option("--preset", metavar="NAME", help="image size: slide 1920x1080, hd 1280x720, a4 3508x2480, square 1080x1080 (default slide)")
@click.option("--width", type=int, metavar="PX")
@click.option("--height", type=int, metavar="PX")
@click.option("--title", help="title of the image (default: the summary of the view)")
@click.option("--view", "views", multiple=True, metavar="URL_OR_QUERY", help="a shared view link from the page (repeatable: one image each)")
@click.option("--views-file", metavar="FILE", help='saved views: a JSON list of {"name": ..., "query": ...}, one image each')
@data_options
def export(**options):
    """Write the map of a view as PNG, SVG or PDF (for slides and reports)."""
    from .export.batch import run_export_command
    from .export.checks import ExportError

    args = _args(**options)

    def open_data():
        # Opened here, after the export's own checks: export never names a store.
        from .store.open import open_dataset

        try:
            return open_dataset(args.data, args.territory, args.fmt, args.mapping, args.encoding, args.type_value, store=args.store)
        except TerritoryError as error:
            raise ExportError(f"territory layer: {error}") from None

    try:
        sys.exit(run_export_command(args, open_data))
    except (LoadError, StoreUnavailable) as error:
        _fail(error)


@main.command()
@click.option("--layer", required=True, help="snapshot folder (*_YYYYMMDD.geojson) or layer file")
@click.option("--from", "day_from", required=True, metavar="DATE", help="first day, YYYY-MM-DD")
@click.option("--to", "day_to", required=True, metavar="DATE", help="second day, YYYY-MM-DD")
@click.option("--geojson", metavar="OUT", help="write the gained/lost polygons to this GeoJSON file")
def territory(**options):
    """Territorial change between two dates."""
    from .territory.commands import run_territory_command

    sys.exit(run_territory_command(_args(**options)))


@main.command("fetch-territory")
@click.option("--url", default=None, help="where to download the layer from (default: the DeepStateMap history)")
@click.option("--data-dir", default=None, help="folder to save it in (default data/territory)")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="seconds to wait for the server")
def fetch_territory(**options):
    """Download the DeepStateMap history (needs a network)."""
    from .territory.commands import run_fetch_command
    from .territory.model import DEFAULT_DATA_DIR, DEFAULT_FETCH_URL

    options["url"] = options["url"] or DEFAULT_FETCH_URL
    options["data_dir"] = options["data_dir"] or str(DEFAULT_DATA_DIR)
    sys.exit(run_fetch_command(_args(**options)))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI in-process and return its exit code (tests and __main__ use this)."""
    try:
        main.main(args=argv, prog_name="python -m dashboard", standalone_mode=True)
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_ERROR)
    return EXIT_OK


__all__ = ["main", "run", "config"]
