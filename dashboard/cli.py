"""Command line: serve (the default), validate, events, export, territory.

`validate` and `events` are the contract that the app and other tools build
on: their output formats and exit codes are tested.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys

from .load import FORMATS, LoadError, load_events, parse_mapping, parse_type_values, write_rejects
from .territory import TerritoryError

SHOWN_REJECTS = 50


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="run the dashboard (the default command)")
    _add_data_arguments(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument("--debug", action="store_true", help="Dash's debug mode (reloader and error overlay)")
    serve.add_argument(
        "--basemap",
        metavar="URL",
        help="a tile URL with {z}/{x}/{y} or a MapLibre style URL, for users who have a server "
        "(default: none, so nothing leaves the machine; also $DASHBOARD_BASEMAP)",
    )

    validate = commands.add_parser("validate", help="check an event file and report every rejected row")
    validate.add_argument("path")
    _add_import_arguments(validate)
    validate.add_argument("--rejects", metavar="FILE", help="write the rejected rows (row, column, reason, value) as CSV")

    events = commands.add_parser("events", help="write the joined events to standard output")
    _add_data_arguments(events)
    events.add_argument("--from", dest="date_from", type=_date, metavar="DATE")
    events.add_argument("--to", dest="date_to", type=_date, metavar="DATE")
    events.add_argument("--type", dest="types", action="append", metavar="TYPE", help="event type (repeatable)")
    events.add_argument("--admin1", dest="regions", action="append", metavar="CODE", help="ISO 3166-2 region (repeatable)")
    events.add_argument("--format", dest="output_format", choices=["csv", "geojson"], default="csv")

    from .export import add_export_arguments
    from .territory import add_fetch_arguments, add_territory_arguments

    add_export_arguments(commands.add_parser("export", help="write the map of a view as PNG, SVG or PDF"))

    add_territory_arguments(commands.add_parser("territory", help="territorial change between two dates"))
    add_fetch_arguments(commands.add_parser("fetch-territory", help="download the DeepStateMap history (needs a network)"))
    return parser


def _add_import_arguments(parser, format_flag="--format"):
    # `events --format` names the output format (the contract), so the
    # commands that take --data call the input format --input-format.
    parser.add_argument(format_flag, dest="fmt", choices=FORMATS, default="auto", help="input format (default: from the file)")
    parser.add_argument("--map", dest="mapping", action="append", metavar="NATIVE=THEIRS,...", help="column mapping for other CSVs")
    parser.add_argument("--type-value", action="append", metavar="THEIRS=ACLED_TYPE", help="map a category of theirs onto an ACLED type")
    parser.add_argument("--encoding", default="utf-8", help="text encoding of CSV files (default utf-8)")


def _add_data_arguments(parser):
    parser.add_argument("--data", action="append", metavar="PATH", help="event file (repeatable; default: the bundled article events)")
    parser.add_argument("--territory", metavar="PATH", help="territorial-control layer: a folder of daily snapshots or one file")
    _add_import_arguments(parser, "--input-format")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-01-20") from None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = parser._subparsers._group_actions[0].choices
    if not argv or (argv[0] not in commands and argv[0] not in ("-h", "--help")):
        argv = ["serve", *argv]  # `python -m dashboard [--port P]` serves
    args = parser.parse_args(argv)
    command = args.command
    try:
        if command == "validate":
            return run_validate(args)
        if command == "events":
            return run_events(args)
        if command == "export":
            from .export import run_export_command

            return run_export_command(args)
        if command == "territory":
            from .territory import run_territory_command

            return run_territory_command(args)
        if command == "fetch-territory":
            from .territory import run_fetch_command

            return run_fetch_command(args)
        return run_serve(args)
    except (LoadError, TerritoryError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def import_options(args) -> tuple:
    """(format, column mapping, type values, encoding) from the import flags, as load and prepare take them."""
    return args.fmt, parse_mapping(args.mapping) if args.mapping else None, parse_type_values(args.type_value), args.encoding


def run_validate(args) -> int:
    from .boundaries import load_admin1
    from .gazetteer import Gazetteer

    result = load_events(args.path, *import_options(args), Gazetteer.from_admin1(load_admin1()))
    print(f"{result.source} ({result.format}): {result.summary()}")
    if result.custom_types:
        print(f"custom event types kept: {', '.join(result.custom_types)}")
    for line in result.rejects.head(SHOWN_REJECTS).itertuples():
        where = f"row {line.row}" + (f", {line.column}" if line.column else "")
        value = f" (value: {line.value!r})" if str(line.value) else ""
        print(f"  {where}: {line.reason}{value}")
    if len(result.rejects) > SHOWN_REJECTS:
        print(f"  ... and {len(result.rejects) - SHOWN_REJECTS} more problems" + ("" if args.rejects else "; --rejects FILE writes them all"))
    if args.rejects:
        write_rejects(result, args.rejects)
        print(f"rejected rows written to {args.rejects}")
    return 1 if result.rows_rejected else 0


def load_prepared(args):
    """The joined events for --data (or the bundled data), reporting rejects on stderr."""
    from .prepare import prepare_events

    prepared = prepare_events(args.data, *import_options(args))
    print_reports(prepared)
    return prepared


def print_reports(prepared) -> None:
    """Rejected rows and join notes of each file, on stderr (the first ten of each)."""
    for report in prepared.reports:
        if report.rows_rejected or report.join_notes:
            print(f"{report.source}: {report.summary()}", file=sys.stderr)
            for line in report.rejects.head(10).itertuples():
                print(f"  row {line.row}, {line.column}: {line.reason}", file=sys.stderr)
            for note in report.join_notes[:10]:
                print(f"  {note}", file=sys.stderr)


def run_events(args) -> int:
    from .load import events_to_csv, events_to_geojson
    from .store import InMemoryEventStore
    from .view import ViewState

    prepared = load_prepared(args)
    store = InMemoryEventStore(prepared.events, prepared.custom_types)
    if args.territory:
        from .territory import load_layer

        store.attach_territory(load_layer(args.territory))  # adds the territory_position column
    view = ViewState(
        date_from=args.date_from,
        date_to=args.date_to,
        types=tuple(args.types) if args.types else None,
        regions=tuple(args.regions or ()),
    )
    if view.date_from and view.date_to and view.date_from > view.date_to:
        print("error: --from is after --to.", file=sys.stderr)
        return 2
    for name, values, known in (("type", args.types, store.bounds.types), ("admin1", args.regions, store.bounds.regions)):
        unknown = [v for v in values or () if v not in known]
        if unknown:
            print(f"note: no events with --{name} {', '.join(unknown)} in the data", file=sys.stderr)
    records = store.records(store.query(view))
    records = records.sort_values(["event_date", "event_id"], kind="stable")
    text = events_to_geojson(records) if args.output_format == "geojson" else events_to_csv(records)
    sys.stdout.write(text)
    return 0


def run_serve(args) -> int:
    from .app import create_app

    app = create_app(
        data=args.data,
        territory=args.territory,
        fmt=args.fmt,
        mapping=args.mapping,
        encoding=args.encoding,
        type_values=args.type_value,
        basemap=args.basemap,
    )
    print_reports(app.dashboard_data.prepared)
    print(f"Dashboard running on http://{args.host}:{args.port}/ (Ctrl+C to stop)", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0
