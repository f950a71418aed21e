"""Read one Excel workbook sheet into raw cells, with bounded memory.

The sheet read is the one named like the table (``sessions``, any case), or
the only sheet; in a workbook of several sheets none of which is named like
the table, the first sheet is read and its name recorded, so that a missing
column names the sheet (a README sheet in front of the data is a common
mistake). Before anything is decompressed, the workbook's declared
uncompressed size is checked against the limit (zip bombs). Formula cells
are read as the result Excel stored with them; a formula without a stored
result (a workbook written by a script and never opened in Excel) is a
problem in its row and column, never a silent missing value.
"""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from ._decode import XLSX_EXPANSION, Limits, check_cells

__all__ = ["read_excel"]


def _check_zip(path: Path, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataValidationError.for_file(
            path.name, f"unreadable Excel workbook: not an .xlsx (zip) file ({exc})"
        ) from exc
    cap = XLSX_EXPANSION * limits.max_file_bytes
    if total > cap:
        raise DataValidationError.for_file(
            path.name,
            f"the workbook unpacks to {total:,} bytes, more than the limit of {cap:,} "
            f"({XLSX_EXPANSION} x max_file_bytes); expected a workbook below the limit",
        )


def _pick_sheet(names: list[str], table: str) -> tuple[str, bool]:
    for n in names:
        if n.strip().lower() == table:
            return n, False
    return names[0], len(names) > 1


def read_excel(path: Path, table: str, limits: Limits, raw_cls: Any) -> Any:
    """The chosen sheet of ``path`` as a RawTable (sheet row numbers)."""
    try:
        import openpyxl
    except ImportError as exc:
        from ._readers import io_extra

        raise io_extra(path.name, "openpyxl", exc) from exc
    _check_zip(path, limits)
    # our own handles, closed whatever happens (openpyxl leaves its file open when it fails)
    files = contextlib.ExitStack()
    try:
        values_wb = openpyxl.load_workbook(
            files.enter_context(path.open("rb")), read_only=True, data_only=True
        )
        formula_wb = openpyxl.load_workbook(
            files.enter_context(path.open("rb")), read_only=True, data_only=False
        )
    except Exception as exc:
        files.close()
        raise DataValidationError.for_file(path.name, f"unreadable Excel workbook: {exc}") from exc
    rows_v: Any = None
    rows_f: Any = None
    try:
        names = list(values_wb.sheetnames)
        sheet, guessed = _pick_sheet(names, table)
        rows_v = values_wb[sheet].iter_rows(values_only=True)
        rows_f = formula_wb[sheet].iter_rows(values_only=True)
        header: list[str] | None = None
        header_row = 0
        records: list[list[Any]] = []
        numbers: list[int] = []
        problems: list[dict[str, Any]] = []
        blank = 0
        n_cells = 0
        for r, (vals, forms) in enumerate(zip(rows_v, rows_f, strict=False), start=1):
            n_cells += len(vals)
            if n_cells > limits.max_cells:
                check_cells(path.name, n_cells, limits, row=r)
            if len(vals) > limits.max_columns:
                raise DataValidationError.for_file(
                    path.name,
                    f"sheet {sheet!r} has {len(vals):,} columns, more than the limit of "
                    f"{limits.max_columns:,}",
                    row=r,
                )
            cells = [None if (isinstance(v, str) and not v.strip()) else v for v in vals]
            if all(v is None for v in cells):
                if header is not None:
                    blank += 1
                continue
            if header is None:
                header = ["" if v is None else str(v) for v in cells]
                while header and header[-1] == "":
                    header.pop()
                header_row = r
                continue
            rec = (cells + [None] * len(header))[: len(header)]
            for j, (v, f) in enumerate(zip(rec, forms, strict=False)):
                if v is None and isinstance(f, str) and f.startswith("="):
                    problems.append(
                        {
                            "file": path.name,
                            "row": r,
                            "column": header[j],
                            "value": f,
                            "problem": "formula cell without a stored result (the workbook "
                            "was never calculated); expected a value: open and save it in "
                            "Excel, or paste the values",
                        }
                    )
            extra = [v for v in cells[len(header) :] if v is not None]
            if extra:
                problems.append(
                    {
                        "file": path.name,
                        "row": r,
                        "column": None,
                        "value": str(extra[0]),
                        "problem": f"a value right of the last header column; expected "
                        f"{len(header)} columns as in the header",
                    }
                )
            records.append(rec)
            numbers.append(r)
    except DataValidationError:
        raise
    except Exception as exc:  # a damaged sheet fails inside openpyxl's parser, in any way
        raise DataValidationError.for_file(
            path.name, f"unreadable Excel workbook: sheet {sheet!r} is damaged ({exc!r})"
        ) from exc
    finally:
        for rows in (rows_v, rows_f):  # an abandoned row iterator keeps its sheet file open
            if rows is not None:
                rows.close()
        values_wb.close()
        formula_wb.close()
        files.close()
    if header is None:
        raise DataValidationError.for_file(
            path.name, f"sheet {sheet!r} is empty; expected a header row"
        )
    frame = pd.DataFrame(records, columns=range(len(header)), dtype=object)
    if not records:
        frame = pd.DataFrame({i: pd.Series(dtype=object) for i in range(len(header))})
    frame = frame.astype(object).where(frame.notna(), None) if records else frame
    frame.columns = [h.strip() for h in header]
    meta: dict[str, Any] = {
        "row_problems": problems,
        "sheet": sheet,
        "sheets": names,
        "sheet_guessed": guessed,
        "blank_lines": blank,
        "header_row": header_row,
        "encoding": None,
    }
    return raw_cls(frame, np.asarray(numbers, dtype=np.int64), path.name, meta)
