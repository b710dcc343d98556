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

WINDOW_ROWS = 200_000  # events taken from the spill per COPY slice
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
    """Tables written to a temporary Arrow IPC file, each sorted by its keys; read back in key order."""

    def __init__(self):
        # Deleted when closed; TMPDIR chooses the disk (about 350 bytes an event).
        self.file = tempfile.NamedTemporaryFile(prefix="dashboard-import-", suffix=".arrow")
        self.writer = None
        self.keys: list[np.ndarray] = []  # per batch, sorted: 8 bytes an event in memory

    def add(self, table: pa.Table, keys: np.ndarray) -> None:
        if not table.num_rows:
            return
        order = np.argsort(keys, kind="stable")
        batch = table.take(pa.array(order)).combine_chunks().to_batches()[0]
        if self.writer is None:
            self.writer = pa.ipc.new_file(self.file.name, batch.schema)
        self.writer.write_batch(batch)
        self.keys.append(keys[order])

    @property
    def rows(self) -> int:
        return sum(len(k) for k in self.keys)

    def sorted_tables(self, window: int = WINDOW_ROWS):
        """The tables' rows in key order, about `window` rows at a time."""
        if self.writer is None:
            return
        self.writer.close()
        self.writer = None
        # Cut points from a sample of every batch's keys: each window takes the
        # keys in (previous cut, cut] from every batch, a contiguous slice of each.
        step = max(1, window // 64)
        sample = np.sort(np.concatenate([k[step - 1::step] for k in self.keys]))
        cuts = [*sample[window // step - 1::window // step].tolist(), np.iinfo(np.int64).max]
        low = -1
        for cut in cuts:
            # Mapped afresh for each window: the pages read count in the process's
            # memory while mapped, and are let go when the map closes.
            with pa.memory_map(self.file.name) as source:
                reader = pa.ipc.open_file(source)
                pieces, keys = [], []
                for number, batch_keys in enumerate(self.keys):
                    start, stop = np.searchsorted(batch_keys, [low, cut], side="right")
                    if stop > start:
                        pieces.append(reader.get_batch(number).slice(start, stop - start))
                        keys.append(batch_keys[start:stop])
                table = None
                if pieces:  # taken in key order: a copy in memory, off the map
                    table = pa.Table.from_batches(pieces).take(pa.array(np.argsort(np.concatenate(keys), kind="stable")))
                del pieces, reader
            low = cut
            if table is not None:
                yield table

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.file.close()
