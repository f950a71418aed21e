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
from ._decode import Limits, check_cells, check_size, decode_file

__all__ = [
    "MISSING_TOKENS",
    "SUPPORTED_EXTENSIONS",
    "Limits",
    "RawTable",
    "io_extra",
    "raw_from_frame",
    "read_raw",
]

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


def io_extra(file: str, package: str, exc: ImportError) -> DataValidationError:
    """The error for a format whose optional package is not installed."""
    err = DataValidationError.for_file(
        file,
        f"reading this format needs the optional package {package!r}; "
        'install it with: pip install "engagestats[io]"',
    )
    err.__cause__ = exc
    return err


def _count_outside_quotes(line: str, ch: str) -> int:
    n, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == ch and not quoted:
            n += 1
    return n


def _csv_problem(name: str, exc: csv.Error, row: int, limits: Limits) -> DataValidationError:
    text = str(exc)
    if "field larger than field limit" in text:
        why = (
            f"a cell longer than {limits.max_cell_chars:,} characters (the limit); "
            "expected shorter cells (is a quote left open above?)"
        )
    elif "unexpected end of data" in text:
        why = (
            "a quoted cell starting in this record is never closed: the quote runs "
            "to the end of the file; expected a closing '\"'"
        )
    else:
        why = f"malformed delimited text: {text}; expected a closing quote followed by a delimiter"
    return DataValidationError.for_file(name, why, row=row)


def _read_delimited(path: Path, limits: Limits, missing: frozenset[str]) -> RawTable:
    name = path.name
    check_size(path, limits)
    text, encoding = decode_file(path.read_bytes(), name)
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
    old_limit = csv.field_size_limit(limits.max_cell_chars)
    try:
        return _parse(text, name, ext, delim, header_line, encoding, limits, missing)
    finally:
        csv.field_size_limit(old_limit)


def _parse(
    text: str,
    name: str,
    ext: str,
    delim: str,
    header_line: str,
    encoding: str,
    limits: Limits,
    missing: frozenset[str],
) -> RawTable:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    header: list[str] | None = None
    records: list[list[str]] = []
    rows: list[int] = []
    problems: list[dict[str, Any]] = []
    header_row = 1
    last = 0
    blank = 0
    cells = 0
    try:
        for rec in reader:
            start, last = last + 1, reader.line_num
            cells += len(rec)
            if cells > limits.max_cells:
                check_cells(name, cells, limits, row=start)
            if len(rec) > limits.max_columns:
                raise DataValidationError.for_file(
                    name,
                    f"{len(rec):,} fields in one line, more than the limit of "
                    f"{limits.max_columns:,} columns",
                    row=start,
                )
            if not rec or all(not c.strip() for c in rec):
                if header is not None:
                    blank += 1
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
                        "value": delim.join(rec)[:200],
                        "problem": f"expected {len(header)} fields as in the header, "
                        f"found {len(rec)}",
                    }
                )
                rec = (rec + [""] * len(header))[: len(header)]
            records.append(rec)
    except csv.Error as exc:
        raise _csv_problem(name, exc, last + 1, limits) from exc
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
    frame = frame.where(~frame.isin(missing), None) if len(frame) else frame
    frame.columns = header
    meta = {
        "delimiter": delim,
        "row_problems": problems,
        "encoding": encoding,
        "blank_lines": blank,
        "header_row": header_row,
        "text_source": True,
    }
    return RawTable(frame, np.asarray(rows, dtype=np.int64), name, meta)


def _finish(frame: pd.DataFrame, name: str, meta: dict[str, Any]) -> RawTable:
    frame = frame.astype(object)
    frame = frame.where(frame.notna(), None)
    frame.columns = [str(c).strip() for c in frame.columns]
    rows = np.arange(2, len(frame) + 2, dtype=np.int64)
    meta.setdefault("blank_lines", 0)
    meta.setdefault("encoding", None)
    return RawTable(frame.reset_index(drop=True), rows, name, meta)


def _read_sav(path: Path, limits: Limits) -> RawTable:
    try:
        import pyreadstat
    except ImportError as exc:
        raise io_extra(path.name, "pyreadstat", exc) from exc
    check_size(path, limits)
    try:
        _, head = pyreadstat.read_sav(str(path), metadataonly=True)
        # compressed SPSS files can unpack to many more cells than their size suggests
        check_cells(path.name, (head.number_rows or 0) * (head.number_columns or 0), limits)
        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except DataValidationError:
        raise
    except Exception as exc:
        raise DataValidationError.for_file(path.name, f"unreadable SPSS file: {exc}") from exc
    labels = {
        "value_labels": {k: dict(v) for k, v in meta.variable_value_labels.items()},
        "column_labels": {k: v for k, v in meta.column_names_to_labels.items() if v is not None},
        "encoding": meta.file_encoding,
    }
    return _finish(frame, path.name, labels)


def _read_parquet(path: Path, limits: Limits) -> RawTable:
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise io_extra(path.name, "pyarrow", exc) from exc
    check_size(path, limits)
    try:
        import pyarrow.parquet as pq

        md = pq.ParquetFile(path).metadata  # a few bytes of run-length code can be 1e9 rows
        check_cells(path.name, int(md.num_rows) * int(md.num_columns), limits)
        frame = pd.read_parquet(path)
    except DataValidationError:
        raise
    except Exception as exc:
        raise DataValidationError.for_file(path.name, f"unreadable Parquet file: {exc}") from exc
    return _finish(frame, path.name, {})


def raw_from_frame(frame: pd.DataFrame, table: str) -> RawTable:
    """A user's DataFrame as a RawTable: ``row`` is the index label (or position + 1).

    Problems name the table as ``"<table> (DataFrame)"``, or as
    ``frame.attrs["source_file"]`` when set (the export readers set it, with
    the export's line numbers as the index).

    Values are kept as given (numbers stay numbers, text stays text); the
    frame itself is never modified.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError.for_argument(
            table, type(frame).__name__, f"{table} must be a pandas DataFrame or a file path"
        )
    idx = frame.index
    if pd.api.types.is_integer_dtype(idx) and idx.is_unique:
        rows = idx.to_numpy(dtype=np.int64)
    else:
        rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    body = frame.astype(object)
    body = body.where(body.notna(), None)
    body.columns = [str(c).strip() for c in frame.columns]
    body = body.reset_index(drop=True)
    meta = {
        "blank_lines": 0,
        "encoding": None,
        "dtypes": {str(c).strip(): frame[c].dtype for c in frame.columns},
        "in_memory": True,
    }
    label = frame.attrs.get("source_file") or f"{table} (DataFrame)"
    return RawTable(body, rows, str(label), meta)


def read_raw(
    path: str | Path,
    *,
    table: str = "",
    limits: Limits | None = None,
    missing: frozenset[str] | None = None,
) -> RawTable:
    """Read one table file into a :class:`RawTable`.

    ``missing`` replaces :data:`MISSING_TOKENS` for delimited files (the
    ``missingValues`` of a Table Schema).

    Raises
    ------
    DataValidationError
        The file is missing, empty, unreadable, too large, has an unsupported
        extension, or needs an optional package that is not installed.
    """
    limits = limits or Limits()
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
        return _read_delimited(path, limits, MISSING_TOKENS if missing is None else missing)
    if ext == ".xlsx":
        from ._excel import read_excel

        check_size(path, limits)
        return read_excel(path, table, limits, RawTable)
    if ext == ".sav":
        return _read_sav(path, limits)
    return _read_parquet(path, limits)
