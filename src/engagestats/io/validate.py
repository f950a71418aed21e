"""Type and validate the three study tables, collecting every problem.

Validation turns the raw cells of each table (see
:mod:`engagestats.io._readers`) into typed columns following the schema
(:mod:`engagestats.io.schema`) and lists every problem it meets, with the
file, the row number (the header being row 1), the column, the offending
value and what was expected. Problems are never raised one at a time:
:func:`validate_tables` returns them all, and the loader raises a single
:class:`~engagestats.errors.DataValidationError` or, with
``on_invalid="drop"``, drops the offending rows and records them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from ..study import CLIENT, THERAPIST
from ._cells import _kinds, _missing, _text, _to_dates, _to_float
from ._diagnose import column_summary, headline
from ._readers import RawTable
from .schema import TABLES, float_columns

__all__ = ["expectation", "validate_tables"]

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
#: A number as a program writes it: no sign other than a leading minus, no leading
#: zeros, no surrounding spaces. Unknown text columns become numbers only when every
#: cell is written this way, so IDs such as ``00017`` stay text exactly as written.
_CANONICAL = re.compile(r"^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$")
_EXACT = 2.0**53


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def expectation(f: dict[str, Any]) -> str:
    """Describe in words what a field accepts, e.g. ``"an integer from 0 to 3"``.

    Examples
    --------
    >>> expectation({"name": "x", "type": "integer", "constraints": {"minimum": 0}})
    'an integer >= 0'
    >>> expectation({"name": "g", "type": "string", "constraints": {"enum": ["a", "b"]}})
    "one of 'a', 'b'"
    """
    c = f.get("constraints", {})
    t = f.get("type", "string")
    if "enum" in c:
        return "one of " + ", ".join(repr(str(v)) for v in c["enum"])
    if t == "date":
        return "a date as YYYY-MM-DD"
    if t == "boolean":
        return "true or false"
    if t == "string":
        return "a text value"
    noun = "an integer" if t == "integer" else "a number"
    lo, hi = c.get("minimum"), c.get("maximum")
    if lo is not None and hi is not None:
        return f"{noun} from {_fmt_num(lo)} to {_fmt_num(hi)}"
    if lo is not None:
        return f"{noun} >= {_fmt_num(lo)}"
    if hi is not None:
        return f"{noun} <= {_fmt_num(hi)}"
    return noun


@dataclass
class _Typed:
    """One validated table: typed columns, problems and their positions."""

    frame: pd.DataFrame
    problems: list[dict[str, Any]]
    int_columns: list[str]


#: Table Schema field types read as another type.
_TYPE_ALIASES: dict[Any, str] = {"year": "integer", "datetime": "date", "any": "string"}


def _problem(
    raw: RawTable, table: str, pos: int | np.integer, column: str | None, value: Any, text: str
):
    return {
        "table": table,
        "file": raw.file,
        "row": int(raw.rows[pos]),
        "column": column,
        "value": _text(value),
        "problem": text,
        "_pos": pos,
    }


def _type_column(raw: RawTable, table: str, name: str, f: dict[str, Any] | None, out: _Typed):
    values = raw.frame[name].to_numpy(dtype=object)
    miss = _missing(values)
    label = raw.meta.get("source_names", {}).get(name, name)
    problems = out.problems
    if f is None:
        _unknown_column(raw, name, values, miss, out)
        return
    c = f.get("constraints", {})
    t = _TYPE_ALIASES.get(f.get("type"), f.get("type"))
    t = t or "string"
    expect = expectation({**f, "type": t})
    if c.get("required"):
        for pos in np.flatnonzero(miss):
            problems.append(
                _problem(raw, table, pos, label, None, f"missing value; expected {expect}")
            )
    if t in ("integer", "number"):
        nums, bad = _to_float(values, miss)
        for pos in np.flatnonzero(bad):
            problems.append(
                _problem(raw, table, pos, label, values[pos], f"not a number; expected {expect}")
            )
        ok = ~np.isnan(nums)
        if t == "integer":
            frac = ok & (nums != np.round(nums))
            for pos in np.flatnonzero(frac):
                problems.append(
                    _problem(
                        raw,
                        table,
                        pos,
                        label,
                        values[pos],
                        f"not a whole number; expected {expect}",
                    )
                )
            ok &= ~frac
        lo, hi = c.get("minimum"), c.get("maximum")
        outside = np.zeros(len(nums), bool)
        if lo is not None:
            outside |= ok & (nums < lo)
        if hi is not None:
            outside |= ok & (nums > hi)
        for pos in np.flatnonzero(outside):
            problems.append(
                _problem(
                    raw,
                    table,
                    pos,
                    label,
                    values[pos],
                    f"outside the allowed range; expected {expect}",
                )
            )
        out.frame[name] = nums
        if t == "integer" and name not in float_columns(table):
            out.int_columns.append(name)
    elif t == "date":
        fmt = f.get("format")
        fmt = None if fmt in (None, "default", "any") else str(fmt)
        dates, bad = _to_dates(values, miss, fmt)
        if fmt is not None:
            expect = f"a date as {fmt}"
        for pos in np.flatnonzero(bad):
            problems.append(
                _problem(
                    raw, table, pos, label, values[pos], f"not a valid date; expected {expect}"
                )
            )
        out.frame[name] = dates
    elif t == "boolean":
        col = np.full(len(values), None, dtype=object)
        for pos in np.flatnonzero(~miss):
            key = cast(str, _text(values[pos])).strip().lower()  # not missing, so not None
            if key in _TRUE or key in _FALSE:
                col[pos] = key in _TRUE
            else:
                problems.append(_problem(raw, table, pos, label, values[pos], f"expected {expect}"))
        out.frame[name] = pd.Series(col, dtype=object)
    else:
        col = np.array(
            [np.nan if m else _text(v) for v, m in zip(values, miss, strict=True)], dtype=object
        )
        if "enum" in c:
            allowed = {str(v) for v in c["enum"]}
            for pos in np.flatnonzero(~miss):
                if col[pos] not in allowed:
                    problems.append(
                        _problem(
                            raw,
                            table,
                            pos,
                            label,
                            col[pos],
                            f"not an allowed category; expected {expect}",
                        )
                    )
        out.frame[name] = pd.Series(col, dtype=object)


def _unknown_column(
    raw: RawTable, name: str, values: np.ndarray, miss: np.ndarray, out: _Typed
) -> None:
    """A column the codebook does not know: kept exactly as written.

    From a DataFrame: the column as given. From a text file: numbers only when
    every cell is a canonical number below 2**53 in size (so no value changes),
    otherwise text. From Excel, SPSS or Parquet: numbers when every cell is a
    number cell, dates when every cell is a date, otherwise text.
    """
    original = raw.meta.get("original")
    if original is not None:
        source = raw.meta.get("source_names", {}).get(name, name)
        col = original[source].reset_index(drop=True)
        if isinstance(col.dtype, pd.StringDtype) or col.dtype == object:
            # text is object dtype, as from files; blank text is missing (counted in
            # Study.column_map by the loader)
            col = col.astype(object).where(~miss, np.nan)
        out.frame[name] = col
        return
    present = ~miss
    if not present.any():
        out.frame[name] = pd.Series(np.full(len(values), np.nan), dtype=object)
        return
    if raw.meta.get("text_source"):
        numeric = all(
            isinstance(v, str) and _CANONICAL.match(v) is not None for v in values[present]
        )
    else:
        _, is_num = _kinds(values)
        numeric = bool(is_num[present].all())
    if numeric:
        nums, bad = _to_float(values, miss)
        whole = bool(np.all(np.isnan(nums) | (nums == np.round(nums))))
        if not bad.any() and not (whole and np.nanmax(np.abs(nums)) >= _EXACT):
            out.frame[name] = nums
            if whole:
                out.int_columns.append(name)
            return
    if all(isinstance(v, pd.Timestamp) for v in values[present]):
        out.frame[name] = pd.to_datetime(pd.Series(values)).astype("datetime64[ns]")
        return
    out.frame[name] = pd.Series(
        [np.nan if m else _text(v) for v, m in zip(values, miss, strict=True)], dtype=object
    )


def _type_table(raw: RawTable, table: str, tschema: dict[str, Any]) -> _Typed:
    fields = {f["name"]: f for f in tschema["fields"]}
    out = _Typed(pd.DataFrame(index=pd.RangeIndex(len(raw.frame))), [], [])
    for p in raw.meta.get("row_problems", []):
        pos = int(np.flatnonzero(raw.rows == p["row"])[0])
        out.problems.append({"table": table, **p, "_pos": pos})
    for name in raw.frame.columns:
        _type_column(raw, table, name, fields.get(name), out)
    return out


def _key_problems(raw: RawTable, table: str, typed: _Typed, key: list[str]) -> None:
    df = typed.frame
    names = raw.meta.get("source_names", {})
    bad_pos = {p["_pos"] for p in typed.problems if p["column"] in {names.get(k, k) for k in key}}
    ok = df[key].notna().all(axis=1).to_numpy().copy()
    ok[list(bad_pos)] = False
    sub = df.loc[ok, key]
    first_row: dict[tuple, int] = {}
    for pos, vals in zip(np.flatnonzero(ok), sub.itertuples(index=False, name=None), strict=True):
        if vals in first_row:
            shown = ", ".join(f"{k}={_text(v)}" for k, v in zip(key, vals, strict=True))
            typed.problems.append(
                _problem(
                    raw,
                    table,
                    pos,
                    names.get(key[-1], key[-1]),
                    vals[-1],
                    f"duplicate key ({shown}) already at row {first_row[vals]}; "
                    "expected each key once",
                )
            )
        else:
            first_row[vals] = int(raw.rows[pos])
    if table == "sessions":
        last: dict[Any, float] = {}
        for pos, (cid, s) in zip(
            np.flatnonzero(ok), sub.itertuples(index=False, name=None), strict=True
        ):
            if cid in last and s < last[cid]:
                typed.problems.append(
                    _problem(
                        raw,
                        table,
                        pos,
                        names.get("session", "session"),
                        s,
                        f"session numbers must increase strictly within client {cid}; "
                        f"expected a number above {_fmt_num(last[cid])}",
                    )
                )
            last[cid] = max(s, last.get(cid, s))


def _foreign(
    raw: RawTable,
    table: str,
    typed: _Typed,
    col: str,
    parent: str,
    all_keys: set,
    kept_keys: set,
    dropping: bool,
) -> None:
    names = raw.meta.get("source_names", {})
    label = names.get(col, col)
    bad_pos = {p["_pos"] for p in typed.problems if p["column"] == label}
    vals = typed.frame[col].to_numpy(dtype=object)
    for pos, v in enumerate(vals):
        if pos in bad_pos or pd.isna(v):
            continue
        if v not in all_keys:
            typed.problems.append(
                _problem(
                    raw,
                    table,
                    pos,
                    label,
                    v,
                    f"unknown {col} {v!r}; expected an id listed in the {parent} table",
                )
            )
        elif dropping and v not in kept_keys:
            typed.problems.append(
                _problem(
                    raw,
                    table,
                    pos,
                    label,
                    v,
                    f"dropped because {col} {v!r} was excluded from the {parent} table",
                )
            )


def validate_tables(
    raws: dict[str, RawTable],
    schemas: dict[str, dict[str, Any]],
    *,
    on_invalid: str = "raise",
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Type and validate the three tables.

    Parameters
    ----------
    raws : dict
        Table name to :class:`~engagestats.io._readers.RawTable`.
    schemas : dict
        Table name to Frictionless Table Schema.
    on_invalid : {"raise", "drop"}
        ``"raise"`` raises one :class:`DataValidationError` listing every
        problem; ``"drop"`` drops the offending rows, then the rows that
        depend on them (clients of a dropped therapist, sessions of a
        dropped client), and reports them all.

    Returns
    -------
    tables : dict
        Table name to typed DataFrame (fresh RangeIndex).
    excluded : DataFrame
        One row per problem of a dropped row: ``table, file, row, column,
        value, problem``; a row with several problems appears several times.
    """
    dropping = on_invalid == "drop"
    typed = {t: _type_table(raws[t], t, schemas[t]) for t in TABLES}
    for t in TABLES:
        _key_problems(raws[t], t, typed[t], schemas[t]["primaryKey"])

    def kept(t: str) -> np.ndarray:
        mask = np.ones(len(typed[t].frame), bool)
        mask[[p["_pos"] for p in typed[t].problems]] = False
        return mask

    for child, col, parent in (
        ("clients", THERAPIST, "therapists"),
        ("sessions", CLIENT, "clients"),
    ):
        pframe = typed[parent].frame
        all_keys = set(pframe[col].dropna())
        kept_keys = set(pframe.loc[kept(parent), col].dropna())
        _foreign(raws[child], child, typed[child], col, parent, all_keys, kept_keys, dropping)

    problems = [p for t in TABLES for p in typed[t].problems]
    cols = ["table", "file", "row", "column", "value", "problem"]
    report = pd.DataFrame(problems, columns=[*cols, "_pos"], dtype=object)
    report = report.sort_values(["_pos"], kind="stable")
    report["_t"] = report["table"].map({t: i for i, t in enumerate(TABLES)})
    report = report.sort_values(["_t", "row"], kind="stable").loc[:, cols]
    report = report.reset_index(drop=True).astype(object)
    if problems and not dropping:
        frames = {t: typed[t].frame for t in TABLES}
        names = {t: raws[t].meta.get("source_names", {}) for t in TABLES}
        summary = column_summary(report, frames, schemas, names)
        err = DataValidationError(
            report.drop(columns="table"),
            headline(len(report), list(dict.fromkeys(report["file"])), summary),
        )
        err.column_summary = summary
        raise err
    tables = {}
    for t in TABLES:
        df = typed[t].frame.loc[kept(t)].reset_index(drop=True)
        for name in typed[t].int_columns:
            if not df[name].isna().any():
                df[name] = df[name].astype(np.int64)
        tables[t] = df
    return tables, report
