"""What the serve, validate, import and events commands do (cli.py parses their options).

`validate` and `events` are the contract other tools build on: their output
formats and exit codes are tested.
"""
from __future__ import annotations

import sys

from .ingest.load import load_events, parse_mapping, parse_type_values
from .ingest.write import events_to_csv, events_to_geojson, write_rejects

SHOWN_REJECTS = 50
EXIT_OK, EXIT_REJECTED, EXIT_ERROR = 0, 1, 2


def import_options(args) -> tuple:
    """(format, column mapping, type values, encoding) from the import flags, as load and prepare take them."""
    return args.fmt, parse_mapping(args.mapping) if args.mapping else None, parse_type_values(args.type_value), args.encoding


def run_validate(args) -> int:
    from .boundaries import load_admin1
    from .ingest.gazetteer import Gazetteer

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
        try:
            write_rejects(result, args.rejects)
        except OSError as error:
            print(f"error: could not write {args.rejects} ({error.strerror or error}).", file=sys.stderr)
            return EXIT_ERROR
        print(f"rejected rows written to {args.rejects}")
    return EXIT_REJECTED if result.rows_rejected else EXIT_OK


def print_reports(reports) -> None:
    """Rejected rows and join notes of each file, on stderr (the first ten of each)."""
    for report in reports:
        if report.rows_rejected or report.join_notes:
            print(f"{report.source}: {report.summary()}", file=sys.stderr)
            for line in report.rejects.head(10).itertuples():
                print(f"  row {line.row}, {line.column}: {line.reason}", file=sys.stderr)
            for note in report.join_notes[:10]:
                print(f"  {note}", file=sys.stderr)


def run_import(args) -> int:
    """Read, validate and join the files as the app does, report each, and load them into the team database."""
    from . import config
    from .store.pg import connect, is_database_url, safe_url
    from .store.pg_import import ImportFailed, load_events, prepare_for_import

    url = args.into or config.STORE_URL
    if not is_database_url(url):
        print("error: say which database to import into: --into postgresql://user@host/database (or set DASHBOARD_STORE).",
              file=sys.stderr)
        return EXIT_ERROR
    connect(url).close()  # a database that is not there is said before the files are read
    prepared = prepare_for_import(args.paths, *import_options(args))
    for report in prepared.reports:
        print(f"{report.source} ({report.format}): {report.summary()}")
        for line in report.rejects.head(10).itertuples():
            print(f"  row {line.row}" + (f", {line.column}" if line.column else "") + f": {line.reason}")
        if report.rows_rejected > 10:
            print(f"  ... `python -m dashboard validate {report.source}` lists all {report.rows_rejected:,}")
    try:
        summary = load_events(url, prepared.events, prepared.reports)
    except ImportFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(f"{safe_url(url)}: {summary.sentence()}")
    return EXIT_REJECTED if any(r.rows_rejected for r in prepared.reports) else EXIT_OK


def _open(args, basemap=None):
    from .store.open import open_dataset

    data = open_dataset(
        args.data, args.territory, args.fmt, args.mapping, args.encoding, args.type_value, basemap=basemap,
        store=getattr(args, "store", None), title=getattr(args, "title", None), source=getattr(args, "source", None),
    )
    print_reports(data.reports)
    for notice in data.notices:
        print(f"note: {notice}", file=sys.stderr)
    return data


def run_events(args) -> int:
    from .view import ViewState

    if args.date_from and args.date_to and args.date_from > args.date_to:
        print("error: --from is after --to.", file=sys.stderr)
        return EXIT_ERROR
    store = _open(args).store
    view = ViewState(
        date_from=args.date_from,
        date_to=args.date_to,
        types=tuple(args.types) if args.types else None,
        regions=tuple(args.regions or ()),
    )
    for name, values, known in (("type", args.types, store.bounds.types), ("admin1", args.regions, store.bounds.regions)):
        unknown = [v for v in values or () if v not in known]
        if unknown:
            print(f"note: no events with --{name} {', '.join(unknown)} in the data", file=sys.stderr)
    records = store.records(view).sort_values(["event_date", "event_id"], kind="stable")
    sys.stdout.write(events_to_geojson(records) if args.output_format == "geojson" else events_to_csv(records))
    return EXIT_OK


def run_serve(args) -> int:
    import socket

    from . import config
    from .web.app import create_app

    # Say a busy port before the slow part, and name the option that helps.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((args.host, args.port))
        except OSError as error:
            print(f"error: cannot listen on {args.host}:{args.port} ({error.strerror or error}); "
                  f"is another dashboard running? Choose another port with --port.", file=sys.stderr)
            return EXIT_ERROR
    app = create_app(_open(args, basemap=args.basemap or config.BASEMAP))
    print(f"Dashboard running on http://{args.host}:{args.port}/ (Ctrl+C to stop)", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug)
    return EXIT_OK
