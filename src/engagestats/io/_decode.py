"""Bytes to text for delimited files: one detected encoding per file, and size limits.

A file is decoded with exactly one encoding, found in this order:

1. a byte-order mark: UTF-8 (``EF BB BF``), UTF-16 LE (``FF FE``) or BE (``FE FF``),
   as written by Excel's "CSV UTF-8" and "Unicode Text" and by Qualtrics;
2. UTF-8, when every byte sequence is valid UTF-8;
3. Windows-1252 (a superset of the printable Latin-1), when no line is UTF-8
   with non-ASCII characters. A :class:`~engagestats.errors.DataWarning`
   names the fallback.

A file in which some lines are valid non-ASCII UTF-8 and others are not is a
mix of encodings (often UTF-8 rows pasted into a Latin-1 file): it is refused
with the line numbers of the non-UTF-8 lines, never decoded half wrong
(``'Zoë'`` as ``'ZoÃ«'``). NUL bytes without a UTF-16 byte-order mark are
refused with their line.
"""

from __future__ import annotations

import codecs
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from ..errors import DataValidationError, DataWarning

__all__ = [
    "MAX_CELLS",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "Limits",
    "check_cells",
    "decode_file",
    "warn_user",
]

#: Largest table file read, in bytes (default of ``load_study(max_file_bytes=)``). Reading
#: holds the file's bytes, its text and the parsed cells: several times its size in memory.
MAX_FILE_BYTES = 256 * 2**20
#: Longest single cell of a delimited file, in characters (free text up to 16 MiB).
MAX_CELL_CHARS = 16 * 2**20
#: Most columns in a table.
MAX_COLUMNS = 20_000
#: Most cells (rows x columns) in one table (default of ``load_study(max_cells=)``). Parsed
#: cells cost about 40 bytes each however short they are, so a file of tiny cells holds
#: far more in memory than its size: 256 MiB of ``1,1,1,...`` is 134 M cells, some 5 GB.
#: 20 M cells (100,000 session rows of 200 columns) keep a load under about 1 GB.
MAX_CELLS = 20_000_000
#: Largest uncompressed content of an Excel workbook, as a multiple of the file limit.
XLSX_EXPANSION = 4

_SHOWN = 10
_PACKAGE = str(Path(__file__).resolve().parents[1])


def warn_user(message: str) -> None:
    """A DataWarning pointing at the first caller outside engagestats."""
    import sys

    level = 1
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, DataWarning, stacklevel=level)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one load; every limit is checked before the data are held."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_cell_chars: int = MAX_CELL_CHARS
    max_columns: int = MAX_COLUMNS
    max_cells: int = MAX_CELLS


def check_cells(name: str, n_cells: int, limits: Limits, *, row: int | None = None) -> None:
    """Refuse a table of more than ``limits.max_cells`` cells (``row``: where it got there)."""
    if n_cells > limits.max_cells:
        raise DataValidationError.for_file(
            name,
            f"the table has more than {limits.max_cells:,} cells (rows x columns), the limit; "
            "expected a smaller table (raise it with load_study(max_cells=...) if the file is "
            "genuine)",
            row=row,
        )


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def check_size(path: Path, limits: Limits) -> None:
    """Refuse a file larger than the limit before reading it."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise DataValidationError.for_file(
            path.name,
            f"the file has {size:,} bytes, more than the limit of {limits.max_file_bytes:,}; "
            "expected a table file below the limit (raise it with "
            "load_study(max_file_bytes=...) if the file is genuine)",
        )


def _utf16(data: bytes, name: str, enc: str) -> str:
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        raise DataValidationError.for_file(
            name,
            f"the file starts with a UTF-16 byte-order mark but is not valid UTF-16 "
            f"({exc.reason} at byte {exc.start}); expected UTF-8 or UTF-16 text",
            row=_line_of(data, exc.start) if enc.endswith("le") else None,
        ) from exc


def _mixed_or_bad(data: bytes, name: str) -> list[int]:
    """Line numbers that are not UTF-8, when other lines are non-ASCII UTF-8; else []."""
    bad, good_utf8 = [], False
    for i, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good_utf8 = True
        except UnicodeDecodeError:
            bad.append(i)
    return bad if good_utf8 else []


def decode_file(data: bytes, name: str) -> tuple[str, str]:
    """Decode a delimited file's bytes; return the text and the encoding used.

    Raises
    ------
    DataValidationError
        Mixed encodings (with the rows), NUL bytes, or bytes that are neither
        UTF-8 nor Windows-1252 (with the row).
    """
    if data.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    elif data.startswith(codecs.BOM_UTF16_LE):
        return _utf16(data[2:], name, "utf-16-le"), "utf-16"
    elif data.startswith(codecs.BOM_UTF16_BE):
        return _utf16(data[2:], name, "utf-16-be"), "utf-16"
    else:
        enc = "utf-8"
    nul = data.find(b"\x00")
    if nul >= 0:
        looks16 = data[1:200:2].count(0) > 50 or data[0:200:2].count(0) > 50
        hint = (
            "it looks like UTF-16 without a byte-order mark; save it as UTF-8"
            if looks16
            else "a text file has none; is this a binary file?"
        )
        raise DataValidationError.for_file(
            name,
            f"NUL byte at byte {nul}: {hint}; expected UTF-8 text",
            row=_line_of(data, nul),
        )
    try:
        return data.decode(enc), "utf-8"
    except UnicodeDecodeError as exc:
        first = exc
    body = data[3:] if enc == "utf-8-sig" else data
    bad = _mixed_or_bad(body, name)
    if bad or enc == "utf-8-sig":
        rows = bad or [_line_of(body, first.start - (3 if enc == "utf-8-sig" else 0))]
        shown = ", ".join(map(str, rows[:_SHOWN])) + (" ..." if len(rows) > _SHOWN else "")
        problems = [
            {
                "file": name,
                "row": r,
                "column": None,
                "value": None,
                "problem": "this line is not UTF-8 while other lines are: the file mixes "
                "encodings (e.g. UTF-8 and Latin-1); expected one encoding (re-save "
                "the file as UTF-8)",
            }
            for r in rows
        ]
        raise DataValidationError(
            problems, f"Cannot read {name}: mixed text encodings in rows {shown}"
        ) from first
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise DataValidationError.for_file(
            name,
            f"byte 0x{data[exc.start]:02X} at byte {exc.start} is valid in neither UTF-8 nor "
            "Windows-1252; expected UTF-8 text",
            row=_line_of(data, exc.start),
        ) from exc
    warn_user(
        f"{name} is not UTF-8 (row {_line_of(data, first.start)} has the byte "
        f"0x{data[first.start]:02X}); it was read as Windows-1252 (Latin-1). "
        "Save it as UTF-8 to silence this warning."
    )
    return text, "cp1252"
