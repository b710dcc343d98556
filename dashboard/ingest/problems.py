"""The table of problems (rejects or warnings) every check adds to: row, column, reason, value."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


class Problems:
    """Collects (row mask, column, reason) checks into one table: row, column, reason, value."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.bad = np.zeros(len(frame), dtype=bool)
        self.by_column: dict[str, np.ndarray] = {}
        self.parts: list[pd.DataFrame] = []
        self.masks: list[np.ndarray] = []

    def add(self, mask, column: str, reason, value_column: str | None = None) -> np.ndarray:
        # One reason per row and column: an empty date is not also "unparseable".
        already = self.by_column.get(column, np.zeros(len(self.frame), dtype=bool))
        mask = np.asarray(mask, dtype=bool) & ~already
        if not mask.any():
            return mask
        rows = self.frame.loc[mask]
        source = value_column or column
        values = rows[source] if source in rows else ""
        reasons = reason(rows) if callable(reason) else reason
        self.parts.append(pd.DataFrame({"row": rows["_row"].to_numpy(), "column": column, "reason": reasons, "value": values}))
        self.masks.append(mask)
        self.bad |= mask
        self.by_column[column] = already | mask
        return mask

    def absorb(self, other: "Problems", skip: np.ndarray) -> None:
        """Take the other's problems, except on the rows in `skip`."""
        for mask, part in zip(other.masks, other.parts):
            keep = mask & ~skip
            if keep.any():
                column = str(part["column"].iloc[0])
                self.parts.append(part[keep[mask]].reset_index(drop=True))
                self.masks.append(keep)
                self.bad |= keep
                self.by_column[column] = self.by_column.get(column, np.zeros(len(self.frame), dtype=bool)) | keep

    def table(self) -> pd.DataFrame:
        if not self.parts:
            return empty_table()
        table = pd.concat(self.parts, ignore_index=True)
        table["value"] = table["value"].astype(str).str.slice(0, 200)
        table["row"] = table["row"].astype("int64")
        return table.sort_values(["row", "column"], kind="stable", ignore_index=True)


def empty_table() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series([], dtype="int64"), "column": [], "reason": [], "value": []})


def to_number(text: pd.Series) -> pd.Series:
    """Text -> float64, NaN where empty or not a number (pyarrow's cast, ~5x
    pandas'; it fails the whole column at the first bad value, and then the
    slower element-wise path finds which)."""
    values = pa.array(text.astype(str), type=pa.string())
    try:
        numbers = pc.cast(pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values), pa.float64())
        return pd.Series(numbers.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(text, errors="coerce").astype("float64")
