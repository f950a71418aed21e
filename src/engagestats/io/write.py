"""Write a study as CSV files and a Frictionless Data Package: :func:`write_study`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._validate import check_choice
from ..errors import DataValidationError
from ..study import Study
from ._decode import warn_user
from ._readers import SUPPORTED_EXTENSIONS
from .schema import TABLES, study_schema

__all__ = [
    "ESCAPE_KEY",
    "FORMULA_START",
    "FORMULA_TRIGGERS",
    "POLICY_KEY",
    "builtin_policies",
    "register_builtin_policy",
    "unescape_cells",
    "write_study",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: What write_study escapes: those, plus the apostrophe itself so that escaping is reversible.
FORMULA_TRIGGERS = (*FORMULA_START, "'")
#: The resource property of ``datapackage.json`` that says text cells were escaped.
ESCAPE_KEY = "engagestats:formulaEscape"
#: The package property of ``datapackage.json`` naming the study's (built-in) scoring policy.
POLICY_KEY = "engagestats:scoringPolicy"


_BUILTIN_POLICIES: dict[str, Any] = {}


def register_builtin_policy(policy: Any) -> None:
    """Register a built-in scoring policy by its name (called by :mod:`engagestats.scoring`).

    :mod:`engagestats.scoring` builds on :mod:`engagestats.io`, so io does not import it.
    """
    _BUILTIN_POLICIES[policy.name] = policy


def builtin_policies() -> dict[str, Any]:
    """The built-in scoring policies by name (``"builtin"``, ``"prorate_80"``)."""
    return dict(_BUILTIN_POLICIES)


def _policy_name(policy: Any) -> str | None:
    """The name of a built-in policy; None for any other (not recorded)."""
    name = getattr(policy, "name", None)
    return name if isinstance(name, str) and builtin_policies().get(name) == policy else None


def _escape(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def unescape_cells(values: list[object]) -> list[object]:
    """Undo :func:`write_study`'s escaping: drop one leading apostrophe of text cells."""
    return [v[1:] if isinstance(v, str) and v.startswith("'") else v for v in values]


def _format_float(x: float) -> str:
    if np.isnan(x):
        return ""
    if x.is_integer() and abs(x) < 2**53:
        return str(int(x))
    return repr(float(x))  # shortest text that round-trips exactly


def _format_floats(values: np.ndarray) -> list[str]:
    out = np.full(len(values), "", dtype=object)
    whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**53)
    out[whole] = values[whole].astype(np.int64).astype(str)
    for i in np.flatnonzero(~whole & ~np.isnan(values)):
        out[i] = repr(float(values[i]))
    return out.tolist()


def _format_column(s: pd.Series) -> list[str]:
    if pd.api.types.is_bool_dtype(s):  # numpy bool, or the nullable "boolean" with <NA>
        return ["" if v is pd.NA else ("true" if v else "false") for v in s]
    if pd.api.types.is_integer_dtype(s) and not isinstance(
        s.dtype, pd.api.extensions.ExtensionDtype
    ):
        return s.to_numpy().astype(str).tolist()
    if pd.api.types.is_numeric_dtype(s):
        return _format_floats(s.to_numpy(dtype=float, na_value=np.nan))
    if pd.api.types.is_datetime64_any_dtype(s):
        dates = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        midnight = bool((dates.dropna() == dates.dropna().dt.normalize()).all())
        fmt = "%Y-%m-%d" if midnight else "%Y-%m-%dT%H:%M:%S.%f"
        return ["" if pd.isna(v) else v.strftime(fmt) for v in dates]
    out = []
    for v in s.to_numpy(dtype=object):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            out.append("")
        elif isinstance(v, float):
            out.append(_format_float(v))
        else:
            out.append(_escape(str(v)))
    return out


def _infer_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_integer_dtype(s):
        return "integer"
    if pd.api.types.is_numeric_dtype(s):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    return "string"


def _quote(cell: str) -> str:
    # csv.writer leaves a lone "\r" unquoted with a "\n" line terminator; quote it too
    if any(ch in cell for ch in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _csv_bytes(df: pd.DataFrame) -> bytes:
    lines = [",".join(_quote(_escape(str(c))) for c in df.columns)]
    cols = [_format_column(df[c]) for c in df.columns]
    for row in zip(*cols, strict=True) if cols else [[] for _ in range(len(df))]:
        line = ",".join(_quote(v) for v in row)
        lines.append(line if line or len(df.columns) != 1 else '""')
    return ("\n".join(lines) + "\n").encode("utf-8")


def _write_xlsx(df: pd.DataFrame, table: str, path: Path) -> None:
    try:
        from openpyxl import Workbook
        from openpyxl.utils.exceptions import IllegalCharacterError
    except ImportError as exc:
        raise _needs(table, "openpyxl", exc) from exc
    wb = Workbook()
    ws = wb.active
    ws.title = table
    for j, c in enumerate(df.columns, start=1):
        ws.cell(row=1, column=j, value=str(c)).data_type = "s"  # a header is never a formula
    columns = []
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            columns.append([None if pd.isna(v) else v.to_pydatetime() for v in s])
        elif pd.api.types.is_integer_dtype(s) and not isinstance(
            s.dtype, pd.api.extensions.ExtensionDtype
        ):
            columns.append([int(v) for v in s])
        elif pd.api.types.is_bool_dtype(s):
            columns.append([None if v is pd.NA else bool(v) for v in s])
        elif pd.api.types.is_numeric_dtype(s):
            values = s.to_numpy(float, na_value=np.nan)
            finite = values[np.isfinite(values)]
            lossy = sum(float(f"{v:.16g}") != v for v in finite)
            if lossy:
                warn_user(
                    f"{table}.xlsx: {lossy} value(s) of column {c!r} have more than 16 "
                    "significant digits, which is what an xlsx cell holds; they are rounded "
                    "(write CSV or Parquet for exact values)"
                )
            columns.append([None if np.isnan(v) else float(v) for v in values])
        else:
            texts = [None if not isinstance(v, str) and pd.isna(v) else v for v in s]
            n_cr = sum(isinstance(v, str) and "\r" in v for v in texts)
            if n_cr:
                warn_user(
                    f"{table}.xlsx: {n_cr} text cell(s) of column {c!r} hold a carriage "
                    "return, which some xlsx writers and readers turn into a line feed "
                    "(write CSV or Parquet to be sure to keep it)"
                )
            columns.append(texts)
    for i, row in enumerate(zip(*columns, strict=True) if columns else [], start=2):
        for j, v in enumerate(row, start=1):
            if v is None:
                continue
            try:
                cell = ws.cell(row=i, column=j, value=v)
            except IllegalCharacterError as exc:
                raise DataValidationError(
                    [{"file": table, "row": i - 2, "column": str(df.columns[j - 1]),
                      "value": repr(v)[:80],
                      "problem": "a control character that Excel cannot store; expected "
                      "printable text (write CSV instead)"}],
                    f"Cannot write {table} as xlsx",
                ) from exc  # fmt: skip
            if isinstance(v, str):
                cell.data_type = "s"  # text, never a formula
    wb.save(path)


def _write_parquet(df: pd.DataFrame, table: str, path: Path) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise _needs(table, "pyarrow", exc) from exc
    df.to_parquet(path, index=False)


def _needs(table: str, package: str, exc: ImportError) -> DataValidationError:
    err = DataValidationError.for_argument(
        "format",
        package,
        f"writing this format needs the optional package {package!r}; "
        'install it with: pip install "engagestats[io]"',
    )
    err.__cause__ = exc
    return err


_MEDIA = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def _resource(
    table: str, df: pd.DataFrame, builtin: dict[str, Any], fmt: str = "csv"
) -> dict[str, Any]:
    known = {f["name"]: f for f in builtin["fields"]}
    fields = []
    for c in df.columns:
        name = str(c)
        if name in known:
            fields.append(known[name])
        else:
            fields.append({"name": name, "type": _infer_type(df[c]), "description": ""})
    present = set(map(str, df.columns))
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if all(k in present for k in builtin["primaryKey"]):
        schema["primaryKey"] = builtin["primaryKey"]
    fks = [fk for fk in builtin["foreignKeys"] if all(k in present for k in fk["fields"])]
    if fks:
        schema["foreignKeys"] = fks
    resource: dict[str, Any] = {
        "name": table,
        "path": f"{table}.{fmt}",
        "profile": "tabular-data-resource",
        "format": fmt,
        "mediatype": _MEDIA[fmt],
    }
    if fmt == "csv":
        resource["encoding"] = "utf-8"
        resource["dialect"] = {"delimiter": ",", "lineTerminator": "\n", "header": True}
        resource[ESCAPE_KEY] = "'"
    resource["schema"] = schema
    return resource


def write_study(
    study: Study, folder: str | Path, *, format: Literal["csv", "xlsx", "parquet"] = "csv"
) -> None:
    """Write a study as three table files and a ``datapackage.json`` codebook.

    The files are ``therapists.csv``, ``clients.csv`` and ``sessions.csv``
    (or ``.xlsx``, ``.parquet``).

    Parameters
    ----------
    study : Study
        The study to write.
    folder : str or Path
        Target folder, created if needed; existing files of the same names
        are replaced.
    format : {"csv", "xlsx", "parquet"}, default "csv"
        The table files' format. ``"xlsx"`` writes one workbook per table
        (one sheet named like the table; text cells stored as text, never as
        formulas) and needs openpyxl; ``"parquet"`` needs pyarrow. Both
        are in the ``io`` extra (``pip install "engagestats[io]"``).

    Returns
    -------
    None

    Notes
    -----
    CSV output is deterministic: identical studies give byte-identical
    files (xlsx workbooks carry a save time). A table file of another
    format already in the folder (``sessions.xlsx`` when writing CSV) is an
    error, because the folder could not be loaded again; it is never deleted.
    CSV files are UTF-8 without byte-order mark, comma-delimited,
    ``\\n`` line endings, quoted only where needed. Whole numbers are written
    without a decimal point (``3``, not ``3.0``), other floats with the
    shortest text that reads back to the same double (``repr``), missing
    values as empty cells, dates as ``YYYY-MM-DD``. ``datapackage.json`` is
    a Frictionless Tabular Data Package listing every column present, with
    the built-in schema for known columns and a type found by inspection
    (``integer``, ``number``, ``date``, ``boolean`` or ``string``) for the
    others; it holds no timestamps. :func:`load_study` reads the folder
    back into an equal study (unknown float columns holding only whole
    numbers come back as ``float64`` because the package records them as
    ``number``), with one exception: boolean columns, such as the
    ``phq9_item9_flag`` of a scored study, are written as ``true``/``false``
    and read back as text. The study's scoring policy
    (:attr:`Study.scoring_policy <engagestats.Study.scoring_policy>`) is
    recorded by name (``"engagestats:scoringPolicy": "builtin"``) when it is
    a built-in one (:data:`~engagestats.scoring.BUILTIN_RULES`,
    :data:`~engagestats.scoring.PRORATE_80`), and :func:`load_study` gives the
    study that policy again; a user-defined policy is not recorded (pass it
    to ``load_study(..., scoring_policy=)``).

    Text cells and column names that start with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return would be run as formulas by a spreadsheet
    (CSV injection); they are written with a leading apostrophe (``'=1+1``),
    as are texts starting with an apostrophe, and ``datapackage.json``
    records this (``"engagestats:formulaEscape": "'"``) so that
    :func:`load_study` removes exactly that apostrophe again. Numbers and
    dates are never escaped.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from pathlib import Path
    >>> from engagestats import Study
    >>> from engagestats.io import load_study
    >>> s = Study(
    ...     therapists=pd.DataFrame({"therapist_id": ["T1"]}, dtype=object),
    ...     clients=pd.DataFrame({"client_id": ["C1"], "therapist_id": ["T1"]}, dtype=object),
    ...     sessions=pd.DataFrame({"client_id": pd.Series(["C1", "C1"], dtype=object),
    ...                            "session": [1, 2], "phq9_1": [2.0, float("nan")]}),
    ... )
    >>> tmp = tempfile.TemporaryDirectory()
    >>> write_study(s, tmp.name)
    >>> print(Path(tmp.name, "sessions.csv").read_text())
    client_id,session,phq9_1
    C1,1,2
    C1,2,
    <BLANKLINE>
    >>> load_study(tmp.name).equals(s)
    True
    >>> tmp.cleanup()
    """
    check_choice(format, ("csv", "xlsx", "parquet"), name="format")
    out = Path(folder)
    clash = [
        p.name
        for t in TABLES
        for p in out.glob(f"{t}.*")
        if p.suffix.lower() in SUPPORTED_EXTENSIONS and p.suffix.lower() != f".{format}"
    ]
    if clash:
        raise DataValidationError.for_file(
            str(out),
            f"the folder already holds {', '.join(sorted(clash))}; expected no table file in "
            f"another format than {format} (remove them, or write to another folder)",
        )
    out.mkdir(parents=True, exist_ok=True)
    schemas = study_schema()
    resources = []
    for t in TABLES:
        df = getattr(study, t)
        if format == "csv":
            (out / f"{t}.csv").write_bytes(_csv_bytes(df))
        elif format == "xlsx":
            _write_xlsx(df, t, out / f"{t}.xlsx")
        else:
            _write_parquet(df, t, out / f"{t}.parquet")
        resources.append(_resource(t, df, schemas[t], format))
    package: dict[str, Any] = {"profile": "tabular-data-package", "name": "engagestats-study"}
    policy = _policy_name(study.scoring_policy)
    if policy is not None:
        package[POLICY_KEY] = policy
    package["resources"] = resources
    text = json.dumps(package, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    (out / "datapackage.json").write_bytes(text.encode("utf-8"))
