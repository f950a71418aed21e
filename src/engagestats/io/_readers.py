"""Read one table file into raw, untyped cells with their row numbers.

Every reader returns a :class:`RawTable`: an object-dtype frame holding the
cells as read (text from delimited files; numbers, text and dates from
Excel, SPSS and Parquet; ``None`` for missing), the row number of every
record (the header is row 1, so the first record is row 2), and metadata
such as SPSS value labels. Typing and validation happen in
:mod:`engagestats.io.validate`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataValidationError

__all__ = ["MISSING_TOKENS", "SUPPORTED_EXTENSIONS", "RawTable", "read_raw"]

#: File extensions the loader understands, in the order they are looked for.
SUPPORTED_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx", ".sav", ".parquet")

#: Cell texts read as missing in delimited files.
MISSING_TOKENS = frozenset({"", "NA", "N/A", "NaN", "nan", "NULL", "null"})

_DELIMITERS = {".csv": ",", ".tsv": "\t"}
_SNIFF_CANDIDATES = ",;\t|"
_DELIM_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class RawTable:
    """Cells of one table as read from its file."""

    frame: pd.DataFrame
    rows: np.ndarray
    file: str
    meta: dict[str, Any] = field(default_factory=dict)


def _io_extra(file: str, package: str, exc: ImportError) -> DataValidationError:
    err = DataValidationError.for_file(
        file,
        f"reading this format needs the optional package {package!r}; "
        "install it with: pip install engagestats[io]",
    )
    err.__cause__ = exc
    return err


def _decode(path: Path) -> str:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataValidationError.for_file(path.name, "the file is neither UTF-8 nor Windows-1252 text")


def _count_outside_quotes(line: str, ch: str) -> int:
    n, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == ch and not quoted:
            n += 1
    return n


def _read_delimited(path: Path) -> RawTable:
    name = path.name
    text = _decode(path)
    if not text.strip():
        raise DataValidationError.for_file(
            name, "the file is empty; expected a header line with column names"
        )
    header_line = text.lstrip("\r\n").splitlines()[0]
    ext = path.suffix.lower()
    if ext in _DELIMITERS:
        delim = _DELIMITERS[ext]
    else:
        counts = {d: _count_outside_quotes(header_line, d) for d in _SNIFF_CANDIDATES}
        delim = max(counts, key=lambda d: counts[d])
        if counts[delim] == 0:
            delim = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header: list[str] | None = None
    records: list[list[str]] = []
    rows: list[int] = []
    problems: list[dict[str, Any]] = []
    header_row = 1
    last = 0
    try:
        for rec in reader:
            start, last = last + 1, reader.line_num
            if not rec or all(not c.strip() for c in rec):
                continue
            if header is None:
                header, header_row = rec, start
                continue
            rows.append(start)
            if len(rec) != len(header):
                problems.append(
                    {
                        "file": name,
                        "row": start,
                        "column": None,
                        "value": delim.join(rec),
                        "problem": f"expected {len(header)} fields as in the header, "
                        f"found {len(rec)}",
                    }
                )
                rec = (rec + [""] * len(header))[: len(header)]
            records.append(rec)
    except csv.Error as exc:
        raise DataValidationError.for_file(
            name, f"malformed delimited text: {exc}", row=last + 1
        ) from exc
    if header is None:
        raise DataValidationError.for_file(
            name, "the file is empty; expected a header line with column names"
        )
    header = [h.strip() for h in header]
    if len(header) == 1 and ext != ".txt":
        for other in _SNIFF_CANDIDATES:
            if other != delim and _count_outside_quotes(header_line, other) > 0:
                raise DataValidationError.for_file(
                    name,
                    f"the header has a single column; the file looks "
                    f"{_DELIM_NAMES[other]}-delimited but a {ext} file must be "
                    f"{_DELIM_NAMES[delim]}-delimited (save it as "
                    f"{'.tsv' if other == chr(9) else '.txt'} or change the delimiter)",
                    row=header_row,
                    column=header[0],
                )
    frame = pd.DataFrame(records, columns=range(len(header)), dtype=object)
    if len(records) == 0:
        frame = pd.DataFrame({i: pd.Series(dtype=object) for i in range(len(header))})
    frame = frame.where(~frame.isin(MISSING_TOKENS), None) if len(frame) else frame
    frame.columns = header
    meta = {"delimiter": delim, "row_problems": problems}
    return RawTable(frame, np.asarray(rows, dtype=np.int64), name, meta)


def _finish(frame: pd.DataFrame, name: str, meta: dict[str, Any]) -> RawTable:
    frame = frame.astype(object)
    frame = frame.where(frame.notna(), None)
    frame.columns = [str(c).strip() for c in frame.columns]
    rows = np.arange(2, len(frame) + 2, dtype=np.int64)
    return RawTable(frame.reset_index(drop=True), rows, name, meta)


def _read_excel(path: Path) -> RawTable:
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:
        raise _io_extra(path.name, "openpyxl", exc) from exc
    try:
        frame = pd.read_excel(path, sheet_name=0, header=None, dtype=object)
    except Exception as exc:
        raise DataValidationError.for_file(path.name, f"unreadable Excel workbook: {exc}") from exc
    frame = frame.dropna(how="all")
    if frame.empty:
        raise DataValidationError.for_file(
            path.name, "the first sheet is empty; expected a header row"
        )
    header_pos = frame.index[0]
    header = ["" if pd.isna(v) else str(v) for v in frame.loc[header_pos]]
    body = frame.loc[frame.index > header_pos]
    out = pd.DataFrame(body.to_numpy(dtype=object), columns=header)
    raw = _finish(out, path.name, {})
    raw.rows = (body.index.to_numpy(dtype=np.int64) + 1) if len(body) else raw.rows
    return raw


def _read_sav(path: Path) -> RawTable:
    try:
        import pyreadstat
    except ImportError as exc:
        raise _io_extra(path.name, "pyreadstat", exc) from exc
    try:
        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except Exception as exc:
        raise DataValidationError.for_file(path.name, f"unreadable SPSS file: {exc}") from exc
    labels = {
        "value_labels": {k: dict(v) for k, v in meta.variable_value_labels.items()},
        "column_labels": {k: v for k, v in meta.column_names_to_labels.items() if v is not None},
    }
    return _finish(frame, path.name, labels)


def _read_parquet(path: Path) -> RawTable:
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise _io_extra(path.name, "pyarrow", exc) from exc
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:
        raise DataValidationError.for_file(path.name, f"unreadable Parquet file: {exc}") from exc
    return _finish(frame, path.name, {})


def read_raw(path: str | Path) -> RawTable:
    """Read one table file into a :class:`RawTable`.

    Raises
    ------
    DataValidationError
        The file is missing, empty, unreadable, has an unsupported
        extension, or needs an optional package that is not installed.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise DataValidationError.for_file(
            path.name,
            f"unsupported file type {ext or '(none)'!r}; expected one of "
            f"{', '.join(SUPPORTED_EXTENSIONS)}",
        )
    if not path.is_file():
        raise DataValidationError.for_file(path.name, f"file not found: {path}")
    if ext in (".csv", ".tsv", ".txt"):
        return _read_delimited(path)
    if ext == ".xlsx":
        return _read_excel(path)
    if ext == ".sav":
        return _read_sav(path)
    return _read_parquet(path)
