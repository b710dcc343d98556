"""What the serve, validate, import and events commands do (cli.py parses their options).

`validate` and `events` are the contract other tools build on: their output
formats and exit codes are tested.
"""
from __future__ import annotations

import sys

from .ingest.load import load_events, parse_mapping, parse_type_values  # noqa: F401
from .ingest.write import events_to_csv, events_to_geojson, write_problems

SHOWN_PER_REASON = 5
SHOWN_IN_REPORTS = 10
EXIT_OK, EXIT_REJECTED, EXIT_ERROR = 0, 1, 2


def import_options(args) -> tuple:
    """(format, column mapping, type values, encoding) from the import flags, as load and prepare take them."""
    return args.fmt, parse_mapping(args.mapping) if args.mapping else None, parse_type_values(args.type_value), args.encoding


def _output_problem(path) -> str | None:
    """Why a --rejects/--warnings FILE cannot be written, before any work is done."""
    from pathlib import Path

    target = Path(path)
    if target.is_dir():
        return f"{path} is a folder; give a file name for the CSV, e.g. {target / 'rejects.csv'}."
    if not target.parent.is_dir():
        return f"cannot write {path}: the folder {target.parent} does not exist."
    return None


# The parts of a reason that are the row's own (values, row numbers, derived ids).
ROW_OWN = [
    (r"'[^']*'", "'…'"), (r"(first on row )\d+", r"\1N"), (r"(loaded as )\S+", r"\1…"),
    (r"(read as https://)\S*", r"\1…"), (r"(kept as a note): .*", r"\1"), (r"(placed by the gazetteer at ).*", r"\1…"),
    (r"(left empty): .*", r"\1"), (r"\d+\.\d km", "N km"),
]


def reason_kind(column: str, reason: str) -> str:
    """A reason without the row's own values, so rows group by what is wrong:
    "unknown event type 'Shelling' (...)" and "... 'Drone' (...)" are one kind."""
    import re

    kind = reason
    for pattern, replacement in ROW_OWN:
        kind = re.sub(pattern, replacement, kind)
    return f"{column}: {kind}" if column else kind


def print_problems(title: str, table, file=None) -> None:
    """Totals per reason first, then the first rows of each reason."""
    if not len(table):
        return
    kinds = [reason_kind(c, r) for c, r in zip(table["column"], table["reason"])]
    table = table.assign(_kind=kinds)
    counts = table["_kind"].value_counts(sort=True)
    print(f"{title} by reason:", file=file)
    for kind, count in counts.items():
        print(f"  {count:>7,}  {kind}", file=file)
    for kind in counts.index:
        rows = table[table["_kind"] == kind]
        print(f"{kind}:", file=file)
        for line in rows.head(SHOWN_PER_REASON).itertuples():
            where = f"row {line.row}" + (f", {line.column}" if line.column else "")
            value = f" (value: {line.value!r})" if str(line.value) else ""
            print(f"  {where}: {line.reason}{value}", file=file)
        if len(rows) > SHOWN_PER_REASON:
            print(f"  ... and {len(rows) - SHOWN_PER_REASON:,} more", file=file)


def run_validate(args) -> int:
    from pathlib import Path

    from .ingest.prepare import prepare_file

    outputs = [(flag, getattr(args, name, None)) for flag, name in (("--rejects", "rejects"), ("--warnings", "warnings"))]
    for flag, target in outputs:
        if target and (problem := _output_problem(target)):
            print(f"error: {flag}: {problem}", file=sys.stderr)
            return EXIT_ERROR
    fmt, mapping, type_values, encoding = import_options(args)
    options = dict(fmt=fmt, mapping=mapping, type_values=type_values, encoding=encoding,
                   date_order=getattr(args, "date_order", None), on_duplicate=getattr(args, "on_duplicate", None) or "keep")
    _, result, notes = prepare_file(Path(args.path), options)
    print(f"{result.source}: {result.summary()}")
    print(f"detected: {result.detected}")
    if result.custom_types:
        print(f"custom event types kept: {', '.join(result.custom_types)}")
    print_problems("rejected rows", result.rejects)
    print_problems("warnings", result.warnings)
    for note in notes[:SHOWN_IN_REPORTS]:
        print(f"  {note}")
    if len(notes) > SHOWN_IN_REPORTS:
        print(f"  ... and {len(notes) - SHOWN_IN_REPORTS:,} more join notes")
    for (flag, target), table, what in zip(outputs, (result.rejects, result.warnings), ("rejected rows", "warnings")):
        if not target:
            continue
        try:
            write_problems(table, target)
        except OSError as error:
            print(f"error: {flag}: could not write {target} ({error.strerror or error}).", file=sys.stderr)
            return EXIT_ERROR
        print(f"{what} written to {target}")
    return EXIT_REJECTED if result.rows_rejected else EXIT_OK


def print_reports(reports) -> None:
    """Rejected rows, warnings and join notes of each file, on stderr (the first few of each)."""
    for report in reports:
        warnings = getattr(report, "warnings", None)
        folded = getattr(report, "folded", None)
        if report.rows_rejected or report.join_notes or (warnings is not None and len(warnings)) or (folded is not None and len(folded)):
            print(f"{report.source}: {report.summary()}", file=sys.stderr)
            for line in report.rejects.head(SHOWN_IN_REPORTS).itertuples():
                print(f"  row {line.row}, {line.column}: {line.reason}", file=sys.stderr)
            if warnings is not None:
                for line in warnings.head(SHOWN_IN_REPORTS).itertuples():
                    print(f"  warning: row {line.row}, {line.column}: {line.reason}", file=sys.stderr)
            for note in report.join_notes[:SHOWN_IN_REPORTS]:
                print(f"  {note}", file=sys.stderr)


def run_import(args) -> int:
    """Read, validate and join the files as the app does, report each, and load them into the team database."""
    from . import config
    from .store.pg import connect, is_database_url, safe_url
    from .store.pg_import import ImportFailed, import_files

    url = args.into or config.STORE_URL
    if not is_database_url(url):
        print("error: say which database to import into: --into postgresql://user@host/database (or set DASHBOARD_STORE).",
              file=sys.stderr)
        return EXIT_ERROR
    connect(url).close()  # a database that is not there is said before the files are read
    try:  # read and loaded a chunk at a time, in one transaction: the reports come at the end
        reports, summary = import_files(url, args.paths, *import_options(args), replace=args.replace)
    except ImportFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    for report in reports:
        print(f"{report.source} ({report.format}): {report.summary()}")
        for line in report.rejects.head(10).itertuples():
            print(f"  row {line.row}" + (f", {line.column}" if line.column else "") + f": {line.reason}")
        if report.rows_rejected > 10:
            print(f"  ... `python -m dashboard validate {report.source}` lists all {report.rows_rejected:,}")
    print(f"{safe_url(url)}: {summary.sentence()}")
    return EXIT_REJECTED if any(r.rows_rejected for r in reports) else EXIT_OK


def _open(args, basemap=None):
    from .store.open import open_dataset

    data = open_dataset(
        args.data, args.territory, args.fmt, args.mapping, args.encoding, args.type_value, basemap=basemap,
        store=getattr(args, "store", None), date_order=getattr(args, "date_order", None),
        on_duplicate=getattr(args, "on_duplicate", None) or "keep",
        title=getattr(args, "title", None), source=getattr(args, "source", None),
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
