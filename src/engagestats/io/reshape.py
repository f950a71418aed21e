"""Reshape wide exports (one row per client) into long ones: :func:`wide_to_long`."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validate import renamed_arguments, require_columns
from ..errors import DataValidationError
from ..study import CLIENT, SESSION

__all__ = ["wide_to_long"]


@renamed_arguments(time_name="session")
def wide_to_long(
    data: pd.DataFrame,
    *,
    client: str = CLIENT,
    stubs: Sequence[str] | None = None,
    session: str = SESSION,
    sep: str = "_t",
    time_pattern: str = r"\d+",
) -> pd.DataFrame:
    """Reshape wide data (a column per time point) to long (a row per time point).

    One row per client with columns per time point becomes one row per client and
    time point.

    Parameters
    ----------
    data : DataFrame
        Wide data, one row per ``client``. Measured columns are named
        ``<stub><sep><time>``, e.g. ``phq9_1_t1, phq9_1_t2`` or
        ``phq9_total_t3`` (stubs ``phq9_1`` and ``phq9_total``, times 1, 2
        and 3).
    client : str, default "client_id"
        The column identifying rows; must be unique and complete.
    stubs : sequence of str, optional
        The measured variables to gather. By default every column matching
        ``<stub><sep><time>`` is gathered. Columns matching the pattern but
        not in ``stubs`` stay time-invariant.
    session : str, default "session"
        Name of the time column in the output (``time_name=``, its former
        name, is deprecated).
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
        One row per ``client`` and time point, ordered by the input row order
        and then time: ``client``, ``session``, the time-invariant columns,
        then one column per stub (in order of first appearance). A time point
        missing for a stub gives missing values. Rows whose measured columns
        are all missing are dropped: their number is ``len(data)`` times the
        number of time points, minus ``len(result)``.

    Raises
    ------
    DataValidationError
        ``client`` or a requested stub is missing, ``client`` has missing or
        duplicated values, ``session`` clashes with a column, or no column
        matches the pattern.

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
    >>> 2 * 2 - len(long)  # clients x time points - rows: C2 has no score at t2
    1
    """
    require_columns(data, [client], role="key")
    ids = data[client]
    if ids.isna().any() or ids.duplicated().any():
        bad = ids.isna() | ids.duplicated()
        raise DataValidationError(
            [
                {
                    "file": "data",
                    "row": idx,
                    "column": client,
                    "value": None if pd.isna(v) else str(v),
                    "problem": f"missing {client}; expected every row to have one"
                    if pd.isna(v)
                    else f"{client} values must be unique; expected one row per {client}",
                }
                for idx, v in ids[bad].items()
            ],
            "Cannot reshape the data to long format",
        )
    pattern = re.compile(rf"^(?P<stub>.+){re.escape(sep)}(?P<time>{time_pattern})$")
    matched: dict[str, dict[str, str]] = {}
    for col in data.columns:
        m = pattern.match(str(col))
        if m and col != client and (stubs is None or m["stub"] in stubs):
            matched.setdefault(m["stub"], {})[m["time"]] = col
    if stubs is not None:
        missing = [s for s in stubs if s not in matched]
        if missing:
            raise DataValidationError.for_argument(
                "stubs", ", ".join(missing), f"no column named <stub>{sep}<time> for these stubs"
            )
    if not matched:
        raise DataValidationError.for_argument(
            "sep", sep, f"no column matches <stub>{sep}<time> with time {time_pattern!r}"
        )
    measured = {c for per in matched.values() for c in per.values()}
    invariant = [c for c in data.columns if c not in measured and c != client]
    if session in invariant or session in matched:
        raise DataValidationError.for_argument(
            "session", session, f"session {session!r} is already a column; choose another"
        )
    labels = sorted({t for per in matched.values() for t in per})
    numeric = all(t.isdigit() for t in labels)
    if numeric:
        labels = sorted(labels, key=int)
    order = np.arange(len(data))
    parts = []
    for t in labels:
        part = pd.DataFrame({client: ids.reset_index(drop=True), "_order": order})
        part[session] = int(t) if numeric else t
        for stub, per in matched.items():
            part[stub] = data[per[t]].reset_index(drop=True) if t in per else np.nan
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    stub_cols = list(matched)
    empty = long[stub_cols].isna().all(axis=1).to_numpy()
    long = long.loc[~empty].sort_values(["_order", session], kind="stable")
    long = long.merge(
        data[[client, *invariant]].assign(_order=order).drop(columns=client),
        on="_order",
        how="left",
        validate="many_to_one",
    )
    long = long.loc[:, [client, session, *invariant, *stub_cols]].reset_index(drop=True)
    if numeric:
        long[session] = long[session].astype(np.int64)
    else:
        long[session] = long[session].astype(object)
    return long
