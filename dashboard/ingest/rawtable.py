"""What every reader returns (`RawTable`), the one error a reader raises
(`LoadError`), and the header check they share."""
from __future__ import annotations

import collections
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

MAX_COLUMNS = 10_000  # a file of events has a few dozen; more is not an event table


class LoadError(Exception):
    """A file that cannot be read at all; the message is for the user: one line,
    whatever the file's names or values hold."""

    def __init__(self, message: str):
        one_line = str(message).replace("\r", "\\r").replace("\n", "\\n")
        super().__init__(one_line if len(one_line) <= 2000 else one_line[:1997] + "...")


def shown_names(names, count: int = 12) -> str:
    """The first column names for a message, each cut short."""
    cut = [n if len(n) <= 60 else n[:57] + "..." for n in names[:count]]
    return ", ".join(cut) + (", ..." if len(names) > count else "")


@dataclass
class RawTable:
    frame: pd.DataFrame  # every column as text, plus `_row`
    malformed: pd.DataFrame  # row, column, reason, value
    container: str
    header: list[str]


def empty_problems() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series([], dtype="int64"), "column": [], "reason": [], "value": []})


def check_names(path: Path, names: list[str]) -> list[str]:
    """Names unique (counted in one pass, not compared pairwise); empty names are numbered."""
    names = [n if n else f"column {i}" for i, n in enumerate(names, start=1)]
    twice = sorted(n for n, count in collections.Counter(names).items() if count > 1)
    if twice:
        shown = ", ".join(repr(n) if len(n) < 60 else repr(n[:57] + "...") for n in twice[:5])
        raise LoadError(f"{path.name}: the header names a column twice: {shown}.")
    return names
