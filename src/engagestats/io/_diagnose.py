"""A per-column summary of validation problems, with recode hints, for the error headline.

Thousands of cell problems usually have one cause per column (an export
coded 1-4 for a 0-3 scale, choice texts instead of codes). The summary
counts problems by file, column and kind, and, when the values of a
range-checked column span a range as wide as the allowed one but shifted,
names the ``recode=`` argument that maps them, as an argument of the function the user
called: ``load_study``, or the export reader (``read_qualtrics``, ``read_redcap``) that
forwards its ``recode=`` to ``load_study`` (:func:`hints_name`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SUMMARY_COLUMNS", "column_summary", "headline", "hints_name"]

#: Columns of ``DataValidationError.column_summary``.
SUMMARY_COLUMNS = ("file", "column", "problem", "n", "hint")

_ITEM = re.compile(r"^(?P<prefix>[a-z][a-z0-9_]*?)_\d+$")


#: The function a recode hint tells the user to call again with ``recode=``.
_CALLER: ContextVar[str] = ContextVar("engagestats_recode_caller", default="load_study")


@contextmanager
def hints_name(caller: str) -> Iterator[None]:
    """Name ``caller`` (not ``load_study``) in the recode hints raised inside the block.

    The export readers call ``load_study`` themselves and take ``recode=`` in their own
    signature, so a hint raised from them names the reader the user called.
    """
    token = _CALLER.set(caller)
    try:
        yield
    finally:
        _CALLER.reset(token)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _hint(values: np.ndarray, field: dict[str, Any] | None, column: str) -> str:
    if field is None:
        return ""
    c = field.get("constraints", {})
    lo, hi = c.get("minimum"), c.get("maximum")
    vals = values[np.isfinite(values)]
    if lo is None or hi is None or len(vals) < 10:
        return ""
    if len(np.unique(vals)) < min(3, (hi - lo + 1) / 2):
        return ""  # too few distinct values to tell a shifted scale
    vmin, vmax = float(vals.min()), float(vals.max())
    if np.isclose(vmax - vmin, hi - lo) and not np.isclose(vmin, lo):
        shift = lo - vmin
        key = m["prefix"] if (m := _ITEM.match(column)) else column
        pairs = (
            ", ".join(f"{_fmt(v)}: {_fmt(v + shift)}" for v in np.arange(vmin, vmax + 1))
            if float(vmin).is_integer() and (vmax - vmin) <= 20
            else ""
        )
        how = f"recode={{{key!r}: {{{pairs}}}}}" if pairs else "a recode"
        return (
            f"the values run from {_fmt(vmin)} to {_fmt(vmax)}, a scale of the same width "
            f"as {_fmt(lo)}-{_fmt(hi)}: recode with {_CALLER.get()}(..., {how})"
        )
    return ""


def column_summary(
    report: pd.DataFrame,
    frames: dict[str, pd.DataFrame],
    schemas: dict[str, dict[str, Any]],
    sources: dict[str, dict[str, str]],
) -> pd.DataFrame:
    """Problems counted by file, column and kind (the text before ``;``), largest first."""
    if report.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    kinds = report["problem"].astype(str).str.split(";").str[0]
    kinds = kinds.str.replace(r" \(.*", "", regex=True)
    kinds = kinds.str.replace(r"^duplicate key .*", "duplicate key", regex=True)
    kinds = kinds.str.replace(r"^unknown (\w+) .*", r"unknown \1", regex=True)
    kinds = kinds.str.replace(r"^session numbers must increase .*", "session order", regex=True)
    work = report.assign(kind=kinds, column=report["column"].fillna("(row)"))
    grouped = work.groupby(["table", "file", "column", "kind"], sort=False).size()
    rows = []
    for (table, file, column, kind), n in grouped.items():
        hint = ""
        if kind.startswith("outside the allowed range"):
            back = {v: k for k, v in sources.get(table, {}).items()}
            name = back.get(column, column)
            fields = {f["name"]: f for f in schemas[table]["fields"]}
            frame = frames[table]
            if name in frame.columns and pd.api.types.is_numeric_dtype(frame[name]):
                hint = _hint(frame[name].to_numpy(dtype=float), fields.get(name), name)
        rows.append({"file": file, "column": column, "problem": kind, "n": int(n), "hint": hint})
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    return out.sort_values("n", ascending=False, kind="stable").reset_index(drop=True)


def headline(n: int, files: list[str], summary: pd.DataFrame, shown: int = 10) -> str:
    """``N problems found in F`` then one line per column, then a lead-in to the cells."""
    head = f"{n} problem{'s' if n != 1 else ''} found in {', '.join(files)}"
    if len(summary) <= 1 and not (len(summary) and summary["hint"].iloc[0]):
        return head
    lines = [head + ". By column:"]
    for rec in summary.head(shown).itertuples(index=False):
        hint = f"; {rec.hint}" if rec.hint else ""
        lines.append(f"  * {rec.file}, column {rec.column!r}: {rec.n} {rec.problem}{hint}")
    if len(summary) > shown:
        lines.append(f"  * ... and {len(summary) - shown} more columns (see .column_summary)")
    lines.append("The cells")
    return "\n".join(lines)
