"""Load a study from files: :func:`load_study`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeAlias

import pandas as pd

from .._validate import check_choice
from ..errors import DataValidationError
from ..study import COLUMN_MAP_COLUMNS, EXCLUDED_COLUMNS, LABEL_COLUMNS, Study
from ._decode import MAX_CELLS, MAX_FILE_BYTES, Limits
from ._prepare import accounting, apply_recode, apply_value_labels, blank_text, match_case
from ._readers import SUPPORTED_EXTENSIONS, RawTable, raw_from_frame, read_raw
from .schema import TABLES, merge_schema
from .validate import validate_tables
from .write import ESCAPE_KEY, POLICY_KEY, builtin_policies, unescape_cells

__all__ = ["load_study"]

PathLike: TypeAlias = str | Path
TableSource: TypeAlias = str | Path | pd.DataFrame


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
    mapping, notes = match_case(original, mapping, tschema, raw.file)
    raw.meta["case_matched"] = notes
    for i, name in enumerate(original):
        if name == "":
            problems.append(
                {
                    "file": raw.file,
                    "row": raw.meta.get("header_row", 1),
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
                    "row": raw.meta.get("header_row", 1),
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
            if raw.meta.get("sheet_guessed"):
                hint = (
                    f" from sheet {raw.meta['sheet']!r}, the first of the sheets "
                    + ", ".join(map(repr, raw.meta["sheets"]))
                    + f"; name the data sheet {table!r} or move it first"
                )
            problems.append(
                {
                    "file": raw.file,
                    "row": raw.meta.get("header_row", 1),
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
    path: PathLike | Study | Mapping[str, TableSource] | None = None,
    *,
    columns: Mapping[str, Any] | None = None,
    therapists: TableSource | None = None,
    clients: TableSource | None = None,
    sessions: TableSource | None = None,
    on_invalid: Literal["raise", "drop"] = "raise",
    schema: PathLike | Mapping[str, Any] | None = None,
    recode: Mapping[str, Mapping[Any, Any]] | None = None,
    value_labels: bool | list[str] = False,
    max_file_bytes: int = MAX_FILE_BYTES,
    scoring_policy: Any = None,
    max_cells: int = MAX_CELLS,
) -> Study:
    """Load, type and validate a study from its three table files.

    Parameters
    ----------
    path : str, Path, Study or dict, optional
        A folder holding ``therapists``, ``clients`` and ``sessions`` files,
        each in one of the formats ``.csv`` (comma), ``.tsv`` (tab),
        ``.txt`` (delimiter sniffed from the header: comma, semicolon, tab
        or pipe), ``.xlsx`` (the sheet named like the table, else the first
        sheet), ``.sav`` (SPSS) or ``.parquet``. Or a :class:`Study`, or a
        dict of the three tables (DataFrames or file paths), which are
        validated like files. None when all three tables are given below.
    columns : dict, optional
        Maps your column names onto ours, e.g. ``{"ClientID": "client_id"}``:
        one map for all tables, or one per table
        (``{"clients": {...}, "sessions": {...}}``).
    therapists, clients, sessions : str, Path or DataFrame, optional
        Explicit file of a table, or the table as a DataFrame; relative
        paths are taken from ``path`` when it is a folder. Overrides the
        file found in the folder.
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
        extended by ``path/datapackage.json`` when that file exists. Field
        types ``datetime``, ``year`` and ``any`` are honoured, a date
        ``format`` such as ``"%d/%m/%Y"`` is used; other types raise.
    recode : dict, optional
        Recodes applied before validation: a column name or an instrument
        prefix (``"phq9"`` for every ``phq9_<k>`` column) mapped to
        ``{old: new}`` pairs, e.g. ``{"phq9": {1: 0, 2: 1, 3: 2, 4: 3}}`` for
        an export coded 1-4, or ``{"phq9": {"Not at all": 0, ...}}`` for
        choice texts. Cells are matched by their text. Every recode is
        counted in :attr:`Study.column_map`.
    value_labels : bool or list of str, default False
        SPSS files: replace codes by their value labels. True applies the
        labels of every labelled column that the codebook types as text
        (``gender``, ``modality``, unknown columns); a list names the columns.
    max_file_bytes : int, default 256 MiB
        Files larger than this are refused before they are read; an Excel
        workbook may unpack to at most 4 times this. Cells of delimited
        files hold at most 16 Mi characters, tables at most 20,000 columns.
    scoring_policy : ScoringPolicy, optional
        The study's one scoring policy (:attr:`Study.scoring_policy`), under
        which :func:`engagestats.score` and every analysis score it and which
        every result table states; by default that of a Study given as
        ``path``, else the built-in policy a ``datapackage.json`` names
        (``"engagestats:scoringPolicy"``, as :func:`write_study` records it),
        else :data:`engagestats.scoring.PRORATE_80`.
    max_cells : int, default 20,000,000
        Tables of more cells (rows x columns) are refused while they are read
        (Parquet and SPSS files from their metadata, before): tiny cells take
        far more memory than their bytes, about 1 GB for 20 M cells.

    Returns
    -------
    Study
        Typed tables: key and category columns hold Python strings (object
        dtype); dates are ``datetime64[ns]``; integer columns without
        missing values are ``int64``; questionnaire items, ``homework`` and
        integer columns with missing values are ``float64``; unknown
        columns are kept as written: from text files numbers only when every
        cell is a plainly written number (``00017`` or ``+3`` keep the column
        text), from DataFrames as given. ``excluded`` lists dropped rows
        (empty unless ``on_invalid="drop"``); ``column_map`` lists renamed,
        case-matched and recoded columns; ``accounting`` counts rows read,
        kept and excluded per table.

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
    file with a header but no rows is a valid empty table. Each delimited
    file is decoded with one encoding (UTF-8, UTF-16 with its byte-order
    mark, or Windows-1252 with a :class:`~engagestats.errors.DataWarning`);
    a file mixing UTF-8 and other lines is refused with their rows. Column
    names that match a codebook name except for case, spaces or hyphens
    (``PHQ9_1``, ``Client ID``) are renamed to it with a warning and a
    :attr:`Study.column_map` row. Blank lines are counted, not read as
    rows. Cells ``""``,
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
    limits = Limits(max_file_bytes=int(max_file_bytes), max_cells=int(max_cells))
    explicit: dict[str, Any] = {"therapists": therapists, "clients": clients, "sessions": sessions}
    folder: Path | None = None
    if isinstance(path, Study):
        given = {t: getattr(path, t) for t in TABLES}
        explicit = {t: explicit[t] if explicit[t] is not None else given[t] for t in TABLES}
    elif isinstance(path, Mapping):
        unknown = sorted(map(str, set(path) - set(TABLES)))
        if unknown:
            raise DataValidationError.for_argument(
                "path", ", ".join(unknown), f"a dict of tables takes the keys {', '.join(TABLES)}"
            )
        explicit = {t: explicit[t] if explicit[t] is not None else path.get(t) for t in TABLES}
    elif path is not None:
        if not isinstance(path, str | Path):
            raise DataValidationError.for_argument(
                "path",
                type(path).__name__,
                "path must be a folder, a Study, or a dict of the three tables",
            )
        folder = Path(path)
        if not folder.is_dir():
            raise DataValidationError.for_file(
                str(folder), "not a folder; expected a folder holding the three table files"
            )
    sources: dict[str, Path | pd.DataFrame] = {}
    for t in TABLES:
        given = explicit[t]
        if isinstance(given, pd.DataFrame):
            sources[t] = given
        elif given is not None:
            if not isinstance(given, str | Path):
                raise DataValidationError.for_argument(
                    t, type(given).__name__, f"{t} must be a file path or a pandas DataFrame"
                )
            p = Path(given)
            sources[t] = folder / p if folder is not None and not p.is_absolute() else p
        elif folder is None:
            raise DataValidationError.for_argument(
                t,
                None,
                f"{t} must be a file path or a DataFrame when no folder is given "
                f"(give a folder as path, or {t}=)",
            )
        else:
            sources[t] = _find_file(folder, t)
    if schema is None and folder is not None and (folder / "datapackage.json").is_file():
        schema = folder / "datapackage.json"
    schemas = merge_schema(schema)
    maps = _column_maps(columns)
    options = _package_options(schema)
    raws = {t: _raw(sources[t], t, limits, options.get(t, {}).get("missing")) for t in TABLES}
    for t in [t for t, o in options.items() if o.get("escaped")]:
        raw = raws[t]
        if raw.meta.get("text_source") and Path(raw.file).suffix.lower() == ".csv":
            raw.frame.columns = unescape_cells(list(raw.frame.columns))
            for c in raw.frame.columns:
                raw.frame[c] = unescape_cells(raw.frame[c].tolist())
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
    types = {t: {f["name"]: f.get("type", "string") for f in schemas[t]["fields"]} for t in TABLES}
    changes = _renames(raws)
    changes += apply_value_labels(raws, value_labels, types)
    changes += apply_recode(raws, recode)
    changes += blank_text(raws)
    tables, report = validate_tables(raws, schemas, on_invalid=on_invalid)
    # column-by-column typing leaves many internal blocks; consolidate once
    tables = {t: frame.copy() for t, frame in tables.items()}
    excluded = report.loc[:, list(EXCLUDED_COLUMNS)].reset_index(drop=True)
    if folder is not None:
        source = str(folder)
    elif isinstance(path, Study) and path.source:
        source = path.source
    else:
        source = ", ".join(
            f"{t} (DataFrame)" if isinstance(sources[t], pd.DataFrame) else str(sources[t])
            for t in TABLES
        )
    return Study(
        tables["therapists"],
        tables["clients"],
        tables["sessions"],
        excluded=excluded,
        source=source,
        labels=_labels(raws),
        column_map=pd.DataFrame(changes, columns=list(COLUMN_MAP_COLUMNS), dtype=object),
        accounting=accounting(raws, tables, excluded),
        scoring_policy=_policy_of(path, scoring_policy, schema),
    )


def _policy_of(path: Any, policy: Any, schema: Any = None) -> Any:
    """The scoring policy of the loaded study.

    ``policy``, else that of a Study given as path, else the built-in policy the
    Data Package names, else None (the Study's default).
    """
    if policy is not None:
        if not callable(getattr(policy, "rescore", None)):
            raise DataValidationError.for_argument(
                "scoring_policy",
                type(policy).__name__,
                "scoring_policy must be an engagestats.scoring.ScoringPolicy (e.g. PRORATE_80)",
            )
        return policy
    if isinstance(path, Study):
        return path.scoring_policy
    package = _package(schema)
    name = package.get(POLICY_KEY) if package is not None else None
    if name is None:
        return None
    known = builtin_policies()
    if name not in known:
        raise DataValidationError.for_file(
            str(schema) if isinstance(schema, str | Path) else "schema",
            f"{POLICY_KEY} is {name!r}; expected the name of a built-in scoring policy "
            f"({', '.join(map(repr, known))}), or give the policy as load_study(..., "
            "scoring_policy=)",
        )
    return known[name]


def _package(schema: Any) -> Mapping[str, Any] | None:
    """The Data Package ``schema`` as a mapping (read from its file), or None."""
    if isinstance(schema, str | Path):
        try:
            schema = json.loads(Path(schema).read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            return None  # merge_schema has already reported an unreadable file
    return schema if isinstance(schema, Mapping) else None


def _raw(
    source: Path | pd.DataFrame, table: str, limits: Limits, missing: frozenset[str] | None
) -> RawTable:
    if isinstance(source, pd.DataFrame):
        raw = raw_from_frame(source, table)
        original = source.reset_index(drop=True)
        original.columns = list(raw.frame.columns)
        raw.meta["original"] = original
        return raw
    return read_raw(source, table=table, limits=limits, missing=missing)


def _package_options(schema: Any) -> dict[str, dict[str, Any]]:
    """Per-table reading options from a Data Package.

    ``missing``: the Table Schema's ``missingValues``; ``escaped``: the CSV was
    written by :func:`write_study` with escaped formula cells.
    """
    schema = _package(schema)
    if schema is None or not isinstance(schema.get("resources"), list):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for r in schema["resources"]:
        if not isinstance(r, Mapping) or r.get("name") not in TABLES:
            continue
        opts: dict[str, Any] = {"escaped": r.get(ESCAPE_KEY) == "'"}
        tokens = (
            r.get("schema", {}).get("missingValues")
            if isinstance(r.get("schema"), Mapping)
            else None
        )
        if isinstance(tokens, list) and all(isinstance(v, str) for v in tokens):
            opts["missing"] = frozenset(tokens)
        out[r["name"]] = opts
    return out


def _renames(raws: Mapping[str, RawTable]) -> list[dict[str, Any]]:
    rows = []
    for t, raw in raws.items():
        matched = {s for s, _, how in raw.meta.get("case_matched", []) if how.startswith("match")}
        for new, orig in raw.meta.get("source_names", {}).items():
            how = "matched ignoring case" if orig in matched else "renamed by columns="
            rows.append({"table": t, "source": orig, "column": new, "how": how, "cells": None})
    return rows


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
