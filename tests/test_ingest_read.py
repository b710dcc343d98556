"""Reading CSV: the fast path's line numbers agree with the careful reader's, across chunk boundaries."""
from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.ingest import read
from dashboard.ingest.load import AccountingError, load_events
from dashboard.schema import NATIVE_COLUMNS
from test_load import native_row, write_native

field_text = st.text(st.sampled_from(list('ab ,"\n\rК')), max_size=12)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(st.tuples(field_text, field_text), min_size=1, max_size=12),
    blanks=st.lists(st.booleans(), min_size=12, max_size=12),
    terminator=st.sampled_from(["\n", "\r\n"]),
    chunk=st.sampled_from([3, 7, 64, 1 << 24]),
    final_newline=st.booleans(),
)
def test_line_numbers_of_the_fast_path_are_the_careful_readers(monkeypatch, records, blanks, terminator, chunk, final_newline):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=terminator, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["a", "b"])
    for (a, b), blank in zip(records, blanks):
        writer.writerow([a or "x", b])
        if blank:
            buffer.write(terminator)
    text = buffer.getvalue()
    if not final_newline and text.endswith(terminator):
        text = text[: -len(terminator)]
    monkeypatch.setattr(read, "CHUNK", chunk)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_bytes(text.encode("utf-8"))
        fast = read.read_csv_strings(path)
        careful = read._read_csv_strings_slowly(path, "utf-8", ["a", "b"])
    assert fast.frame["_row"].tolist() == careful.frame["_row"].tolist()
    assert fast.frame[["a", "b"]].values.tolist() == careful.frame[["a", "b"]].values.tolist()


def test_the_accounting_is_a_real_check_not_an_assert(tmp_path):
    result = load_events(write_native(tmp_path, [native_row("E1"), native_row("E2")]))
    result.check()
    result.events = result.events.iloc[:1]  # an event lost on the way
    with pytest.raises(AccountingError, match="2 rows read but 1 loaded"):
        result.check()


def test_header_names_are_checked_in_one_pass():
    names = ["", "x"] * 100_000  # quadratic counting would take minutes
    with pytest.raises(read.LoadError, match="the header has 200,000 columns"):
        path = Path(tempfile.mkdtemp()) / "wide.csv"
        path.write_text(",".join(names) + "\n" + ",".join(["x"] * len(names)) + "\n")
        read.read_header(path)
    assert read.check_names(Path("x.csv"), ["a", "", "b", ""]) == ["a", "column 2", "b", "column 4"]
    with pytest.raises(read.LoadError, match="twice: 'a'"):
        read.check_names(Path("x.csv"), ["a", "b", "a"] + [f"c{i}" for i in range(5000)])
