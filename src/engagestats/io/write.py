"""Write a study as CSV files and a Frictionless Data Package: :func:`write_study`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..study import Study
from .schema import TABLES, study_schema

__all__ = ["write_study"]


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
            out.append(str(v))
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


def _csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([str(c) for c in df.columns])
    cols = [_format_column(df[c]) for c in df.columns]
    writer.writerows(zip(*cols, strict=True) if cols else [[] for _ in range(len(df))])
    return buf.getvalue().encode("utf-8")


def _resource(table: str, df: pd.DataFrame, builtin: dict[str, Any]) -> dict[str, Any]:
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
    return {
        "name": table,
        "path": f"{table}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "lineTerminator": "\n", "header": True},
        "schema": schema,
    }


def write_study(study: Study, folder: str | Path) -> None:
    """Write a study as three CSV files and a ``datapackage.json`` codebook.

    The files are ``therapists.csv``, ``clients.csv`` and ``sessions.csv``.

    Parameters
    ----------
    study : Study
        The study to write.
    folder : str or Path
        Target folder, created if needed; existing files of the same names
        are replaced.

    Returns
    -------
    None

    Notes
    -----
    The output is deterministic: identical studies give byte-identical
    files. CSV files are UTF-8 without byte-order mark, comma-delimited,
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
    and read back as text.

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
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    schemas = study_schema()
    resources = []
    for t in TABLES:
        df = getattr(study, t)
        (out / f"{t}.csv").write_bytes(_csv_bytes(df))
        resources.append(_resource(t, df, schemas[t]))
    package = {
        "profile": "tabular-data-package",
        "name": "engagestats-study",
        "resources": resources,
    }
    text = json.dumps(package, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    (out / "datapackage.json").write_bytes(text.encode("utf-8"))
