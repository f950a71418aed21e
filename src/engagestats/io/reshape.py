"""Reshape wide exports (one row per client) into long ones: :func:`wide_to_long`."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import DataValidationError

__all__ = ["wide_to_long"]


def _fail(column: str | None, problem: str, value: str | None = None) -> DataValidationError:
    return DataValidationError(
        [{"file": "data", "row": None, "column": column, "value": value, "problem": problem}],
        "Cannot reshape the data to long format",
    )


def wide_to_long(
    data: pd.DataFrame,
    *,
    id: str = "client_id",
    stubs: Sequence[str] | None = None,
    time_name: str = "session",
    sep: str = "_t",
    time_pattern: str = r"\d+",
) -> pd.DataFrame:
    """Reshape one row per client with columns per time point into one row
    per client and time point.

    Parameters
    ----------
    data : DataFrame
        Wide data, one row per ``id``. Measured columns are named
        ``<stub><sep><time>``, e.g. ``phq9_1_t1, phq9_1_t2`` or
        ``phq9_total_t3`` (stubs ``phq9_1`` and ``phq9_total``, times 1, 2
        and 3).
    id : str, default "client_id"
        The column identifying rows; must be unique and complete.
    stubs : sequence of str, optional
        The measured variables to gather. By default every column matching
        ``<stub><sep><time>`` is gathered. Columns matching the pattern but
        not in ``stubs`` stay time-invariant.
    time_name : str, default "session"
        Name of the time column in the output.
    sep : str, default "_t"
        Text between the stub and the time label (matched literally, the
        last occurrence counts). Use ``"_"`` for ``phq9_total_3``, but note
        that item columns such as ``phq9_1`` then look like ``phq9`` at
        time 1: pass ``stubs`` in that case.
    time_pattern : str, default r"\\d+"
        Regular expression for the time label. When every label is made of
        digits the time column is ``int64``, otherwise text.

    Returns
    -------
    DataFrame
        One row per ``id`` and time point, ordered by the input row order and
        then time: ``id``, ``time_name``, the time-invariant columns, then
        one column per stub (in order of first appearance). A time point
        missing for a stub gives missing values. Rows whose measured columns
        are all missing are dropped; their number is in
        ``result.attrs["dropped_empty"]``.

    Raises
    ------
    DataValidationError
        ``id`` or a requested stub is missing, ``id`` has missing or
        duplicated values, ``time_name`` clashes with a column, or no
        column matches the pattern.

    Examples
    --------
    >>> wide = pd.DataFrame({"client_id": ["C1", "C2"], "age": [30, 41],
    ...                      "phq9_total_t1": [14, 20], "phq9_total_t2": [9, None]})
    >>> long = wide_to_long(wide)
    >>> long
      client_id  session  age  phq9_total
    0        C1        1   30        14.0
    1        C1        2   30         9.0
    2        C2        1   41        20.0
    >>> long.attrs["dropped_empty"]
    1
    """
    if id not in data.columns:
        raise _fail(id, f"id column {id!r} not found")
    ids = data[id]
    if ids.isna().any():
        pos = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise _fail(id, f"missing {id} in row {data.index[pos]!r}; expected every row to have one")
    dup = ids.duplicated()
    if dup.any():
        raise _fail(
            id, f"{id} values must be unique; expected one row per {id}", str(ids[dup].iloc[0])
        )
    pattern = re.compile(rf"^(?P<stub>.+){re.escape(sep)}(?P<time>{time_pattern})$")
    matched: dict[str, dict[str, str]] = {}
    for col in data.columns:
        m = pattern.match(str(col))
        if m and col != id and (stubs is None or m["stub"] in stubs):
            matched.setdefault(m["stub"], {})[m["time"]] = col
    if stubs is not None:
        missing = [s for s in stubs if s not in matched]
        if missing:
            raise _fail(", ".join(missing), f"no column named <stub>{sep}<time> for these stubs")
    if not matched:
        raise _fail(None, f"no column matches <stub>{sep}<time> with time {time_pattern!r}")
    measured = {c for per in matched.values() for c in per.values()}
    invariant = [c for c in data.columns if c not in measured and c != id]
    if time_name in invariant or time_name in matched:
        raise _fail(time_name, f"time_name {time_name!r} is already a column; choose another")
    labels = sorted({t for per in matched.values() for t in per})
    numeric = all(t.isdigit() for t in labels)
    if numeric:
        labels = sorted(labels, key=int)
    order = np.arange(len(data))
    parts = []
    for t in labels:
        part = pd.DataFrame({id: ids.reset_index(drop=True), "_order": order})
        part[time_name] = int(t) if numeric else t
        for stub, per in matched.items():
            part[stub] = data[per[t]].reset_index(drop=True) if t in per else np.nan
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    stub_cols = list(matched)
    empty = long[stub_cols].isna().all(axis=1).to_numpy()
    long = long.loc[~empty].sort_values(["_order", time_name], kind="stable")
    long = long.merge(
        data[[id, *invariant]].assign(_order=order).drop(columns=id),
        on="_order",
        how="left",
        validate="many_to_one",
    )
    long = long.loc[:, [id, time_name, *invariant, *stub_cols]].reset_index(drop=True)
    if numeric:
        long[time_name] = long[time_name].astype(np.int64)
    else:
        long[time_name] = long[time_name].astype(object)
    long.attrs = {"dropped_empty": int(empty.sum())}
    return long
