"""Excel .xlsx workbooks (openpyxl, streaming): the first sheet, its first row the header.

Cells become text as a CSV saved from Excel would hold them, except dates:
a date cell is written ISO (2025-01-20), so no day/month order is guessed,
and a date that lost its format (a bare serial number such as 45677) is read
as a serial by the date parser.  Rows are the sheet's own row numbers.
"""
from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .rawtable import LoadError, RawTable, check_names, empty_problems


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return str(value)


def read_xlsx(path: Path) -> RawTable:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, IndexError, EOFError) as error:
        raise LoadError(f"{path.name}: not a readable .xlsx workbook ({_first_line(error)}).") from None
    except Exception as error:  # openpyxl and the XML parser raise many kinds on a damaged file
        raise LoadError(f"{path.name}: not a readable .xlsx workbook ({type(error).__name__}).") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise LoadError(f"{path.name}: the workbook has no sheet.")
        rows = sheet.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if not header_cells or not any(c not in (None, "") for c in header_cells):
            raise LoadError(f"{path.name}: the first sheet is empty (no header row).")
        width = max(i for i, c in enumerate(header_cells, start=1) if c not in (None, ""))
        header = check_names(path, [cell_text(c).strip() for c in header_cells[:width]])
        records, numbers = [], []
        for number, cells in enumerate(rows, start=2):
            texts = [cell_text(c) for c in cells[:width]]
            if not any(t.strip() for t in texts):
                continue  # an empty row is not a record (as a blank CSV line)
            records.append(texts + [""] * (width - len(texts)))
            numbers.append(number)
    except LoadError:
        raise
    except Exception as error:
        raise LoadError(f"{path.name}: not a readable .xlsx workbook ({type(error).__name__}: {_first_line(error)}).") from None
    finally:
        book.close()
    frame = pd.DataFrame(records, columns=header, dtype=object) if records else pd.DataFrame({h: pd.Series([], dtype=object) for h in header})
    frame["_row"] = np.asarray(numbers, dtype=np.int64)
    return RawTable(frame, empty_problems(), "xlsx", header)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:200]
