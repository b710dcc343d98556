"""Where a streamed import's chunks go (pg_import.import_files): memory bounded by a chunk, not the files.

Into a table with events already, each chunk is written at once to the open
COPY into the staging table, then upserted as before.

Into an empty table, the events must still be stored in date order ("newest
first" then reads neighbouring pages) and COPYed FREEZE into the truncated
table (all-visible pages, so index-only scans need no vacuum, which cannot
run inside the import's transaction).  Copying the chunks into a temporary
table and `INSERT ... SELECT ... ORDER BY` would lose the freezing, so the
prepared chunks are spilled instead, each sorted, to an Arrow IPC file on
disk, and read back in order a window at a time (a k-way merge by key
ranges) into one COPY FREEZE.  The sort key of an event is its date, then
its file and row: prepare_events' frame order, which the in-memory store and
the whole-file import keep for ties.
"""
from __future__ import annotations

import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

WINDOW_ROWS = 50_000  # events taken from the spill at a time (~30 MB of Arrow, ~15 MB of CSV)
ORD_BITS = 46  # a row's place among all files' rows; the day since 1900 above it
DAYS_TO_1900 = 25_567  # validate rejects days before 1900 and after tomorrow: 17 bits hold them until 2258


def order_of(events, base: int) -> np.ndarray:
    """prepare_events' frame order (file, then row) as one int64 per event."""
    ord_ = base + events["source_row"].to_numpy(dtype=np.int64)
    if len(ord_) and int(ord_.max()) >= 1 << ORD_BITS:
        raise ValueError("more rows than the import can number")
    return ord_


def sort_keys(table: pa.Table, ord_: np.ndarray) -> np.ndarray:
    days = pc.cast(table["event_date"], pa.int32()).to_numpy().astype(np.int64) + DAYS_TO_1900
    return (days << ORD_BITS) | ord_


class SortedSpill:
    """Tables spilled to temporary Arrow IPC files; read back in key order a window at a time.

    Each table is written sorted (a run).  At the end the runs are read one
    at a time and each run's rows are dealt, by key range, into the windows
    they belong to (batches of a second file, each window's batches noted),
    so a window is then read alone, sorted and handed on: memory holds one
    run or one window, never the spill.  (Slicing every run through a memory
    map instead maps several times the window's bytes into the process.)"""

    def __init__(self):
        # Deleted when closed; TMPDIR chooses the disk (about 500 bytes an event, twice while dealt).
        self.runs = tempfile.NamedTemporaryFile(prefix="dashboard-import-", suffix=".arrow")
        self.dealt = None
        self.writer = None
        self.keys: list[np.ndarray] = []  # per run, sorted: 8 bytes an event in memory
        self.rows = 0

    def add(self, table: pa.Table, keys: np.ndarray) -> None:
        if not table.num_rows:
            return
        order = np.argsort(keys, kind="stable")
        batch = table.take(pa.array(order)).combine_chunks().to_batches()[0]
        if self.writer is None:
            self.writer = pa.ipc.new_file(self.runs.name, batch.schema)
        self.writer.write_batch(batch)
        self.keys.append(keys[order])
        self.rows += len(keys)

    def sorted_tables(self, window: int = WINDOW_ROWS):
        """The tables' rows in key order, about `window` rows at a time."""
        if self.writer is None:
            return
        self.writer.close()
        self.writer = None
        # Cut points from a sample of every run's keys (window i: keys in (cut i-1, cut i]).
        step = max(1, window // max(64, 4 * len(self.keys)))  # a window may overshoot by a step per run
        sample = np.sort(np.concatenate([k[step - 1::step] for k in self.keys]))
        cuts = np.array([*sample[window // step - 1::window // step].tolist(), np.iinfo(np.int64).max], dtype=np.int64)
        batches: list[list[int]] = [[] for _ in cuts]  # window -> its batches in the dealt file
        keys: list[list[np.ndarray]] = [[] for _ in cuts]
        self.dealt = tempfile.NamedTemporaryFile(prefix="dashboard-import-", suffix=".arrow")
        with pa.OSFile(self.runs.name) as source:
            reader = pa.ipc.open_file(source)
            writer = pa.ipc.new_file(self.dealt.name, reader.schema)
            written = 0
            for number in range(reader.num_record_batches):
                run, run_keys = reader.get_batch(number), self.keys[number]
                bounds = np.searchsorted(run_keys, cuts, side="right")
                for index, (start, stop) in enumerate(zip(np.concatenate([[0], bounds[:-1]]), bounds)):
                    if stop > start:
                        writer.write_batch(run.slice(start, stop - start))
                        batches[index].append(written)
                        keys[index].append(run_keys[start:stop])
                        written += 1
                self.keys[number] = None  # dealt: the window lists hold them now
                del run
            writer.close()
        self.runs.close()
        with pa.OSFile(self.dealt.name) as source:
            reader = pa.ipc.open_file(source)
            for numbers, parts in zip(batches, keys):
                if not numbers:
                    continue
                table = pa.Table.from_batches([reader.get_batch(n) for n in numbers])
                yield table.take(pa.array(np.argsort(np.concatenate(parts), kind="stable")))
                del table
                pa.default_memory_pool().release_unused()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.runs.close()
        if self.dealt is not None:
            self.dealt.close()
