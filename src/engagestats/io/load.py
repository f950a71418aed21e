"""Load a study from files: :func:`load_study`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .._validate import check_choice
from ..errors import DataValidationError
from ..study import EXCLUDED_COLUMNS, LABEL_COLUMNS, Study
from ._readers import SUPPORTED_EXTENSIONS, RawTable, read_raw
from .schema import TABLES, merge_schema
from .validate import validate_tables

__all__ = ["load_study"]

PathLike = str | Path


def _find_file(folder: Path, table: str) -> Path:
    found = [folder / f"{table}{ext}" for ext in SUPPORTED_EXTENSIONS]
    found = [p for p in found if p.is_file()]
    if len(found) == 1:
        return found[0]
    if not found:
        problem = (
            f"no file for the {table} table in {folder}; expected {table}"
            + f" with one of the extensions {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    else:
        problem = (
            f"several files for the {table} table: {', '.join(p.name for p in found)}; "
            "expected exactly one"
        )
    raise DataValidationError.for_file(
        f"{table}.*", problem, message=f"Cannot find the {table} table"
    )


def _column_maps(columns: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    if not columns:
        return {t: {} for t in TABLES}
    if all(isinstance(v, Mapping) for v in columns.values()):
        unknown = set(columns) - set(TABLES)
        if unknown:
            raise DataValidationError.for_argument(
                "columns",
                ", ".join(sorted(map(str, unknown))),
                f"columns must be a per-table map with the keys {', '.join(TABLES)} "
                "(unknown keys given)",
            )
        return {t: {str(k): str(v) for k, v in columns.get(t, {}).items()} for t in TABLES}
    if any(isinstance(v, Mapping) for v in columns.values()):
        raise DataValidationError.for_argument(
            "columns",
            dict(columns),
            "columns must be a map of names to names, or of table names to such maps (not a mix)",
        )
    shared = {str(k): str(v) for k, v in columns.items()}
    return {t: dict(shared) for t in TABLES}


def _structure(
    raw: RawTable, table: str, mapping: dict[str, str], tschema: dict[str, Any]
) -> list[dict[str, Any]]:
    """Rename columns; return structural problems (duplicate or missing columns)."""
    problems: list[dict[str, Any]] = []
    original = [str(c) for c in raw.frame.columns]
    raw.meta["original_names"] = set(original)
    for i, name in enumerate(original):
        if name == "":
            problems.append(
                {
                    "file": raw.file,
                    "row": 1,
                    "column": f"(column {i + 1})",
                    "value": None,
                    "problem": "empty column name; expected a name in every header cell",
                }
            )
    renamed = [mapping.get(c, c) for c in original]
    seen: dict[str, str] = {}
    for orig, new in zip(original, renamed, strict=True):
        if new in seen and new != "":
            how = "" if orig == new else f" (mapped from {orig!r} by columns=)"
            problems.append(
                {
                    "file": raw.file,
                    "row": 1,
                    "column": orig,
                    "value": None,
                    "problem": f"duplicated column name {new!r}{how}; expected each name once",
                }
            )
        seen.setdefault(new, orig)
    for f in tschema["fields"]:
        if f.get("constraints", {}).get("required") and f["name"] not in seen:
            hint = ""
            if len(original) == 1:
                hint = " (the header has a single column: is the delimiter right?)"
            problems.append(
                {
                    "file": raw.file,
                    "row": 1,
                    "column": f["name"],
                    "value": None,
                    "problem": f"required column {f['name']!r} is missing{hint}",
                }
            )
    if not problems:
        raw.frame.columns = renamed
        raw.meta["source_names"] = {
            new: orig for orig, new in zip(original, renamed, strict=True) if orig != new
        }
    return problems


def load_study(
    path: PathLike | None = None,
    *,
    columns: Mapping[str, Any] | None = None,
    therapists: PathLike | None = None,
    clients: PathLike | None = None,
    sessions: PathLike | None = None,
    on_invalid: Literal["raise", "drop"] = "raise",
    schema: PathLike | Mapping[str, Any] | None = None,
) -> Study:
    """Load, type and validate a study from its three table files.

    Parameters
    ----------
    path : str or Path, optional
        A folder holding ``therapists``, ``clients`` and ``sessions`` files,
        each in one of the formats ``.csv`` (comma), ``.tsv`` (tab),
        ``.txt`` (delimiter sniffed from the header: comma, semicolon, tab
        or pipe), ``.xlsx`` (first sheet), ``.sav`` (SPSS) or ``.parquet``.
        None when all three files are given below.
    columns : dict, optional
        Maps your column names onto ours, e.g. ``{"ClientID": "client_id"}``:
        one map for all tables, or one per table
        (``{"clients": {...}, "sessions": {...}}``).
    therapists, clients, sessions : str or Path, optional
        Explicit file of a table; relative paths are taken from ``path``
        when it is given. Overrides the file found in the folder.
    on_invalid : {"raise", "drop"}, default "raise"
        What to do with invalid rows. ``"raise"`` raises one
        :class:`~engagestats.errors.DataValidationError` listing every
        problem. ``"drop"`` drops the offending rows and the rows that
        depend on them (clients of a dropped therapist, sessions of a
        dropped client, later duplicates of a key) and lists every problem
        of every dropped row in :attr:`Study.excluded`. Structural problems
        (a missing or unreadable file, a missing required column,
        duplicated column names) always raise.
    schema : path or dict, optional
        A Frictionless Data Package (or its ``datapackage.json``) whose
        fields replace or extend the built-in codebook
        (:func:`engagestats.io.codebook`). By default the built-in codebook,
        extended by ``path/datapackage.json`` when that file exists.

    Returns
    -------
    Study
        Typed tables: key and category columns hold Python strings (object
        dtype); dates are ``datetime64[ns]``; integer columns without
        missing values are ``int64``; questionnaire items, ``homework`` and
        integer columns with missing values are ``float64``; unknown
        columns are numbers when every value is a number, otherwise text.
        ``excluded`` lists dropped rows (empty unless ``on_invalid="drop"``).

    Raises
    ------
    DataValidationError
        Its ``.problems`` DataFrame (``file, row, column, value, problem``)
        lists every problem found. ``row`` is the line in the file, the
        header being row 1 (for Excel the sheet row; for SPSS and Parquet
        the record number plus 1). An unusable argument (``columns``,
        ``on_invalid``, a missing table file when no folder is given) raises
        it too, with ``file`` ``"argument"`` and the argument in ``column``.

    Notes
    -----
    The checks: readable, non-empty file with a header; a single-column
    header in a file that contains another delimiter (wrong delimiter);
    duplicated or empty column names; required columns; the same number
    of fields in every line; numbers in numeric columns, whole numbers in
    integer columns, values within range or among the categories, valid
    ISO dates; unique keys (``therapist_id``; ``client_id``;
    ``client_id, session``); every client's therapist and every session's
    client listed in their table; session numbers strictly increasing
    within client in file order. A UTF-8 byte-order mark is removed; a
    file with a header but no rows is a valid empty table. Cells ``""``,
    ``NA``, ``N/A``, ``NaN``, ``nan``, ``NULL`` and ``null`` are missing.
    SPSS files are read as codes, not label texts; the variable and value
    labels are kept in :attr:`Study.labels` (``table, column, value, label``;
    ``value`` is missing for a variable label).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> _ = (folder / "therapists.csv").write_text("therapist_id\\nT1\\n")
    >>> _ = (folder / "clients.csv").write_text("ClientID,therapist_id\\nC1,T1\\n")
    >>> _ = (folder / "sessions.csv").write_text("ClientID,session,phq9_1\\nC1,1,2\\nC1,2,5\\n")
    >>> load_study(folder, columns={"ClientID": "client_id"})
    Traceback (most recent call last):
    ...
    engagestats.errors.DataValidationError: 1 problem found in sessions.csv:
      - sessions.csv, row 3, column 'phq9_1': outside the allowed range; expected an integer from 0 to 3 (value '5')
    >>> study = load_study(folder, columns={"ClientID": "client_id"}, on_invalid="drop")
    >>> study.sessions
      client_id  session  phq9_1
    0        C1        1     2.0
    >>> study.excluded[["table", "row", "column"]]
          table row  column
    0  sessions   3  phq9_1
    >>> tmp.cleanup()
    """  # noqa: E501
    check_choice(on_invalid, ("raise", "drop"), name="on_invalid")
    folder = Path(path) if path is not None else None
    if folder is not None and not folder.is_dir():
        raise DataValidationError.for_file(
            str(folder), "not a folder; expected a folder holding the three table files"
        )
    explicit = {"therapists": therapists, "clients": clients, "sessions": sessions}
    files: dict[str, Path] = {}
    for t in TABLES:
        given = explicit[t]
        if given is not None:
            p = Path(given)
            files[t] = folder / p if folder is not None and not p.is_absolute() else p
        elif folder is None:
            raise DataValidationError.for_argument(
                t,
                None,
                f"{t} must be a file path when no folder is given (give a folder as path, or {t}=)",
            )
        else:
            files[t] = _find_file(folder, t)
    if schema is None and folder is not None and (folder / "datapackage.json").is_file():
        schema = folder / "datapackage.json"
    schemas = merge_schema(schema)
    maps = _column_maps(columns)
    raws = {t: read_raw(files[t]) for t in TABLES}
    structural = [p for t in TABLES for p in _structure(raws[t], t, maps[t], schemas[t])]
    used = {k for t in TABLES for k in maps[t] if k in raws[t].meta["original_names"]}
    unused = sorted({k for t in TABLES for k in maps[t]} - used)
    if unused and not structural:
        structural.append(
            {
                "file": "columns=",
                "row": None,
                "column": ", ".join(unused),
                "value": None,
                "problem": "names in columns= not found in any table",
            }
        )
    if structural:
        files_named = ", ".join(dict.fromkeys(p["file"] for p in structural))
        raise DataValidationError(structural, f"Cannot use {files_named}")
    tables, report = validate_tables(raws, schemas, on_invalid=on_invalid)
    # column-by-column typing leaves many internal blocks; consolidate once
    tables = {t: frame.copy() for t, frame in tables.items()}
    excluded = report.loc[:, list(EXCLUDED_COLUMNS)].reset_index(drop=True)
    source = str(folder) if folder is not None else ", ".join(str(files[t]) for t in TABLES)
    return Study(
        tables["therapists"],
        tables["clients"],
        tables["sessions"],
        excluded=excluded,
        source=source,
        labels=_labels(raws),
    )


def _labels(raws: Mapping[str, RawTable]) -> pd.DataFrame:
    """The SPSS variable and value labels of the tables, as :attr:`Study.labels` rows."""
    rows = []
    for t in TABLES:
        meta = raws[t].meta
        names = {v: k for k, v in meta.get("source_names", {}).items()}
        for col, text in meta.get("column_labels", {}).items():
            rows.append((t, names.get(col, col), None, text))
        for col, values in meta.get("value_labels", {}).items():
            rows += [(t, names.get(col, col), value, text) for value, text in values.items()]
    frame = pd.DataFrame(rows, columns=list(LABEL_COLUMNS), dtype=object)
    return frame
