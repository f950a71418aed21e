"""Private: extract and validate the item matrix of one instrument."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import PROBLEM_COLUMNS, DataValidationError, InstrumentError
from ..instruments.spec import Instrument

__all__ = ["ItemMatrix", "item_columns_for", "read_items"]


def item_columns_for(
    inst: Instrument,
    *,
    prefix: str | None = None,
    item_columns: Sequence[str] | Mapping[str, str] | None = None,
) -> list[str]:
    """Data column of every instrument item, in item order."""
    if item_columns is not None:
        if isinstance(item_columns, Mapping):
            unknown = sorted(set(item_columns) - set(inst.items))
            if unknown:
                raise InstrumentError(f"item_columns maps unknown {inst.name} items {unknown}")
            return [str(item_columns.get(i, i)) for i in inst.items]
        cols = [str(c) for c in item_columns]
        if len(cols) != inst.n_items:
            raise InstrumentError(
                f"{inst.name} has {inst.n_items} items but {len(cols)} item_columns were given"
            )
        return cols
    if prefix is None or prefix == inst.name:
        return list(inst.items)
    stem = f"{inst.name}_"
    return [prefix + "_" + i[len(stem) :] if i.startswith(stem) else i for i in inst.items]


@dataclass
class ItemMatrix:
    """Validated answers: ``values`` (n x k float, NaN missing), invalid answers found."""

    values: np.ndarray
    columns: list[str]
    invalid: pd.DataFrame


def _empty_problems() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})


def read_items(
    data: pd.DataFrame,
    inst: Instrument,
    columns: list[str],
    *,
    invalid: str = "raise",
    table: str = "data",
) -> ItemMatrix:
    """Item matrix of ``inst`` from ``data[columns]``, validated against the response range.

    Text, out-of-range and (for integer items) fractional answers are problems:
    raised as one :class:`DataValidationError`, or with ``invalid="nan"`` set
    missing and returned in ``invalid``.
    """
    if invalid not in ("raise", "nan"):
        raise ValueError(f"invalid must be 'raise' or 'nan', got {invalid!r}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise InstrumentError(
            f"{inst.name}: item column(s) missing from the {table} table: {missing}"
        )
    block = data.loc[:, columns]
    text = np.zeros((len(block), len(columns)), dtype=bool)
    numeric = all(
        pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in block.dtypes
    )
    numeric_int = [pd.api.types.is_integer_dtype(t) for t in block.dtypes]
    if numeric:
        x = block.to_numpy(dtype=float, na_value=np.nan)
    else:
        x = np.empty((len(block), len(columns)), dtype=float)
        for j, col in enumerate(columns):
            s = block[col]
            if pd.api.types.is_bool_dtype(s.dtype):
                # True/False are not answers on a rating scale: report them, never score 1/0
                x[:, j] = np.nan
                text[:, j] = s.notna().to_numpy()
                continue
            if pd.api.types.is_numeric_dtype(s.dtype):
                x[:, j] = s.to_numpy(dtype=float, na_value=np.nan)
                continue
            conv = pd.to_numeric(s.astype(object).where(s.notna(), np.nan), errors="coerce")
            x[:, j] = conv.to_numpy(dtype=float, na_value=np.nan)
            text[:, j] = (s.notna() & conv.isna()).to_numpy()
    x = np.asfortranarray(x)
    lo, hi = inst.response_range
    # Column by column: each column is contiguous, so this stays cache friendly.
    off = np.zeros(x.shape, dtype=bool, order="F")
    frac = np.zeros(x.shape, dtype=bool, order="F")
    for j in range(x.shape[1]):
        v = x[:, j]
        np.logical_or(v < lo, v > hi, out=off[:, j])
        if inst.integer and not numeric_int[j]:
            np.greater(np.abs(v - np.rint(v)), 0, out=frac[:, j])
    bad = off | frac | text
    if not bad.any():
        return ItemMatrix(x, columns, _empty_problems())
    rows, cols = np.nonzero(bad)
    raw = block.to_numpy(dtype=object)[rows, cols]
    kind = np.where(
        text[rows, cols],
        "not a number",
        np.where(off[rows, cols], f"outside the response range {lo:g} to {hi:g}", ""),
    )
    kind = np.where(kind == "", "not a whole number", kind)
    problems = pd.DataFrame(
        {
            "file": table,
            "row": list(data.index[rows]),
            "column": [columns[c] for c in cols],
            "value": [str(v) for v in raw],
            "problem": [f"{inst.name} answer {k}" for k in kind],
        }
    )
    if invalid == "raise":
        raise DataValidationError(
            problems, f"{len(problems)} invalid {inst.name} answer(s) in the {table} table"
        )
    x[bad] = np.nan
    return ItemMatrix(x, columns, problems)
