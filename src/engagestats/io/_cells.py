"""Reading raw cells: which are text or numbers, which are missing, numbers and dates.

Raw cells come from any reader (CSV text, Excel, SPSS and Parquet values). The helpers
return typed arrays and masks of the cells that could not be read; :mod:`.validate`
turns those masks into problems with file, row and column.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
_NUMBER = (int, float, np.integer, np.floating)


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else v.isoformat()
    return str(v)


def _kinds(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of text cells and of numeric (non-boolean) cells; fast for uniform columns."""
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    notna = ~pd.isna(values)
    if inferred == "string":
        return notna, np.zeros(len(values), bool)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return np.zeros(len(values), bool), notna
    is_str = np.fromiter((isinstance(v, str) for v in values), bool, len(values))
    is_num = np.fromiter(
        (isinstance(v, _NUMBER) and not isinstance(v, bool | np.bool_) for v in values),
        bool,
        len(values),
    )
    return is_str, is_num & notna


def _missing(values: np.ndarray) -> np.ndarray:
    """Missing cells: NA values and text made only of white space."""
    miss = pd.isna(values)
    is_str, _ = _kinds(values)
    if is_str.any():
        blank = np.array([not v.strip() for v in values[is_str]], dtype=bool)
        miss[np.flatnonzero(is_str)[blank]] = True
    return miss


def _to_float(values: np.ndarray, miss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Floats, and a mask of non-missing cells that are not finite numbers."""
    out = np.full(len(values), np.nan)
    is_str, is_num = _kinds(values)
    is_str &= ~miss
    is_num &= ~miss
    if is_str.any():
        # to_numeric ignores surrounding white space
        parsed = pd.to_numeric(pd.Series(values[is_str], dtype=object), errors="coerce")
        parsed = parsed.to_numpy(dtype=float, na_value=np.nan)
        out[is_str] = parsed
    if is_num.any():
        out[is_num] = values[is_num].astype(float)
    bad = ~miss & ~np.isfinite(out)
    return out, bad


def _to_dates(
    values: np.ndarray, miss: np.ndarray, fmt: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Dates as datetime64[ns], and a mask of non-missing cells that are not valid dates.

    ``fmt`` is a Frictionless date pattern (``"%d/%m/%Y"``); None reads ISO 8601.
    """
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    bad = np.zeros(len(values), bool)
    is_str, is_num = _kinds(values)
    kinds = np.where(is_str, 1, np.where(is_num, 2, 3)).astype(np.int8)
    kinds[miss] = 0
    bad[kinds == 2] = True  # bare numbers are not dates
    pos = np.flatnonzero(kinds == 1)
    if len(pos):
        text = pd.Series(values[pos], dtype=object).str.strip()
        if fmt is None:
            iso = text.str.match(_ISO_DATE).to_numpy(dtype=bool)
            parsed = pd.to_datetime(text[iso], format="ISO8601", errors="coerce")
        else:
            iso = np.ones(len(text), bool)
            parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        ok = parsed.notna().to_numpy()
        out[pos[iso][ok]] = parsed[ok].to_numpy().astype("datetime64[ns]")
        bad[pos[~iso]] = True
        bad[pos[iso][~ok]] = True
    for i in np.flatnonzero(kinds == 3):  # datetime-like objects from Excel, SPSS, Parquet
        ts = pd.to_datetime(values[i], errors="coerce")
        if pd.isna(ts):
            bad[i] = True
        else:
            out[i] = np.datetime64(ts.tz_localize(None) if ts.tzinfo else ts, "ns")
    return out, bad
