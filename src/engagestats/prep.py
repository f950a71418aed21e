"""Preparing long panels for growth models: within/between split, lags, time codes.

All functions take a long DataFrame (one row per client and session) first,
return a copy with new columns added, and keep the input's row order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ._validate import check_choice, check_positive_int, renamed_arguments, require_columns
from .errors import DataValidationError
from .study import CLIENT, SESSION

__all__ = ["lag", "person_residuals", "time_code", "within_between"]


def _columns(data: pd.DataFrame, columns: str | Sequence[str], *, role: str) -> list[str]:
    cols = [columns] if isinstance(columns, str) else list(columns)
    require_columns(data, cols, role=role)
    return cols


@renamed_arguments(by="client")
def within_between(
    data: pd.DataFrame,
    columns: str | Sequence[str],
    *,
    client: str = CLIENT,
    grand_mean_center: bool = False,
    detrend: str | None = None,
) -> pd.DataFrame:
    """Split time-varying predictors into between- and within-person parts.

    Parameters
    ----------
    data : DataFrame
        Long data, one row per person and occasion.
    columns : str or sequence of str
        Numeric columns to split.
    client : str, default "client_id"
        The person (cluster) identifier (``by=``, its former name, is deprecated).
    grand_mean_center : bool, default False
        Centre the between part at the grand mean of the person means (each
        person counted once), so that it has mean zero across persons.
    detrend : str, optional
        A time column (say ``"session"``): the within part is then the residual
        from the person's own straight line in that column (person-specific
        linear detrending) instead of the deviation from the person mean. A
        person with fewer than 3 values of ``<col>`` has within parts of 0 (a
        line through 2 points leaves no residual); rows with a missing time
        have a missing within part.

    Returns
    -------
    DataFrame
        A copy of ``data`` with ``<col>_between`` (the person mean over the
        person's non-missing values, repeated on each row) and
        ``<col>_within`` (the deviation from the person mean; missing where
        ``<col>`` is missing).

    Notes
    -----
    For person :math:`i` at occasion :math:`t`,
    :math:`x_{ti} = \\bar x_i + (x_{ti} - \\bar x_i)`. Entering both parts in a
    mixed model separates the between-person association (do clients with a
    stronger alliance improve more?) from the within-person one (does a
    client improve more after sessions with a stronger alliance than usual?);
    a single uncentred predictor conflates them (Curran & Bauer 2011). This is
    what ``datawizard::demean`` computes in R.

    With ``detrend``, :math:`x_{ti} - (\\hat a_i + \\hat b_i s_{ti})`, the
    residual of the person's least-squares line in time :math:`s`: when
    persons' predictor trends co-vary with their outcome trends, the plain
    deviation carries that between-person association into the within part;
    the detrended one does not (Wang & Maxwell 2015; Falkenström et al. 2017).

    References
    ----------
    Curran, P. J., & Bauer, D. J. (2011). The disaggregation of within-person
    and between-person effects in longitudinal models of change. *Annual
    Review of Psychology*, 62, 583-619.

    Falkenström, F., Finkel, S., Sandell, R., Rubel, J. A., & Holmqvist, R.
    (2017). Dynamic models of individual change in psychotherapy process
    research. *Journal of Consulting and Clinical Psychology, 85*(6), 537-549.

    Wang, L. P., & Maxwell, S. E. (2015). On disaggregating between-person and
    within-person effects with longitudinal data using multilevel models.
    *Psychological Methods, 20*(1), 63-83.

    Examples
    --------
    >>> df = pd.DataFrame({"client_id": [1, 1, 2, 2], "wai": [3.0, 4.0, 2.0, None]})
    >>> within_between(df, "wai")
       client_id  wai  wai_between  wai_within
    0          1  3.0          3.5        -0.5
    1          1  4.0          3.5         0.5
    2          2  2.0          2.0         0.0
    3          2  NaN          2.0         NaN
    >>> df = pd.DataFrame({"client_id": [1] * 4, "session": [1, 2, 3, 4],
    ...                    "wai": [3.0, 4.0, 4.0, 6.0]})
    >>> within_between(df, "wai", detrend="session")["wai_within"].round(2).tolist()
    [0.1, 0.2, -0.7, 0.4]
    """
    cols = _columns(data, columns, role="predictor")
    _columns(data, client, role="key")
    if detrend is not None:
        _columns(data, detrend, role="time")
    out = data.copy()
    person_means = data.groupby(client, sort=False)[cols].transform("mean")
    between = person_means
    if grand_mean_center:
        between = person_means - data.groupby(client, sort=False)[cols].mean().mean()
    for col in cols:
        out[f"{col}_between"] = between[col]
        if detrend is None:
            out[f"{col}_within"] = data[col] - person_means[col]
        else:
            out[f"{col}_within"] = person_residuals(data[col], data[detrend], data[client])
    return out


def person_residuals(values: pd.Series, time: pd.Series, client: pd.Series) -> pd.Series:
    """Residuals of ``values`` from each client's least-squares line in ``time``.

    Rows with ``values`` or ``time`` missing are missing; a client with fewer than 3
    complete rows gets residuals of 0 (a line through 1 or 2 points fits them exactly).
    """
    v = pd.to_numeric(values, errors="coerce").astype(float)
    t = pd.to_numeric(time, errors="coerce").astype(float)
    ok = v.notna() & t.notna()
    frame = pd.DataFrame({"v": v.where(ok), "t": t.where(ok), "g": client.to_numpy()})
    g = frame.groupby("g", sort=False)
    tc = frame["t"] - g["t"].transform("mean")
    vc = frame["v"] - g["v"].transform("mean")
    sxx = (tc * tc).groupby(frame["g"], sort=False).transform("sum")
    sxy = (tc * vc).groupby(frame["g"], sort=False).transform("sum")
    n = ok.groupby(frame["g"], sort=False).transform("sum")
    slope = (sxy / sxx).where((n >= 3) & (sxx > 0), 0.0)
    resid = vc - slope * tc
    return resid.where(n >= 3, 0.0).where(ok)


@renamed_arguments(by="client", order="session")
def lag(
    data: pd.DataFrame,
    columns: str | Sequence[str],
    *,
    client: str = CLIENT,
    session: str = SESSION,
    k: int = 1,
    method: Literal["row", "value"] = "row",
    suffix: str | None = None,
) -> pd.DataFrame:
    """Lag columns within person, never across persons.

    Parameters
    ----------
    data : DataFrame
        Long data.
    columns : str or sequence of str
        Columns to lag.
    client : str, default "client_id"
        The person identifier; lags never cross persons (``by=`` is deprecated).
    session : str, default "session"
        The occasion column that orders rows within person. Values must be
        unique within person (``order=`` is deprecated).
    k : int, default 1
        The lag (a positive integer).
    method : {"row", "value"}, default "row"
        ``"row"`` takes the value ``k`` rows earlier in ``session`` order within
        the person (so in a panel of attended sessions, the previous attended
        session). ``"value"`` takes the value at the occasion whose ``session``
        equals the current one minus ``k``, and is missing when that
        occasion is absent.
    suffix : str, optional
        Suffix of the new columns; ``"_lag<k>"`` by default.

    Returns
    -------
    DataFrame
        A copy of ``data`` with ``<col><suffix>`` for each column, in the
        input's row order. The first ``k`` occasions of each person are
        missing.

    Raises
    ------
    DataValidationError
        When a column is missing, ``session`` repeats within a person, or ``k``
        or ``method`` is not one of the allowed values (the problem names the
        argument).

    Examples
    --------
    >>> df = pd.DataFrame({"client_id": [1, 1, 1, 2, 2], "session": [1, 2, 4, 1, 2],
    ...                    "wai": [3.0, 4.0, 5.0, 2.0, 3.0]})
    >>> lag(df, "wai")["wai_lag1"].tolist()
    [nan, 3.0, 4.0, nan, 2.0]
    >>> lag(df, "wai", method="value")["wai_lag1"].tolist()
    [nan, 3.0, nan, nan, 2.0]
    """
    cols = _columns(data, columns, role="lagged")
    _columns(data, [client, session], role="key")
    check_positive_int(k, name="k", what="the lag in occasions")
    check_choice(method, ("row", "value"), name="method")
    dup = data.duplicated([client, session], keep=False)
    if dup.any():
        raise DataValidationError(
            [
                {
                    "file": "data",
                    "row": idx,
                    "column": session,
                    "value": str(data.at[idx, session]),
                    "problem": f"{session!r} is not unique within {client!r}",
                }
                for idx in data.index[dup]
            ]
        )
    suffix = f"_lag{k}" if suffix is None else suffix
    out = data.copy()
    if method == "row":
        ordered = data.sort_values([client, session], kind="stable")
        shifted = ordered.groupby(client, sort=False)[cols].shift(k)
        for col in cols:
            out[f"{col}{suffix}"] = shifted[col].reindex(data.index)
    else:
        source = data[[client, session, *cols]].copy()
        source[session] = source[session] + k
        merged = data[[client, session]].merge(source, on=[client, session], how="left")
        for col in cols:
            out[f"{col}{suffix}"] = merged[col].to_numpy()
    return out


def time_code(
    data: pd.DataFrame,
    *,
    session: str = SESSION,
    method: Literal["session", "weeks", "log", "piecewise"] = "session",
    center: Literal["intake", "final"] | float = "intake",
    client: str = CLIENT,
    date: str = "date",
    knots: Sequence[float] = (),
    name: str = "time",
) -> pd.DataFrame:
    """Code time for growth models.

    Parameters
    ----------
    data : DataFrame
        Long data.
    session : str, default "session"
        The session-number column (``method`` "session", "log", "piecewise").
    method : {"session", "weeks", "log", "piecewise"}, default "session"
        ``"session"``: sessions since the person's first occasion.
        ``"weeks"``: weeks since the person's first dated occasion, from the
        ``date`` column. ``"log"``: ``log(1 + t)`` with ``t`` the sessions
        since the first occasion. ``"piecewise"``: one column per segment
        (``<name>_p1`` … ``<name>_p<m+1>`` for ``m`` knots), each counting
        sessions within its segment, so each gets its own slope.
    center : {"intake", "final"} or float, default "intake"
        Where time is zero. ``"intake"``: at each person's first occasion,
        so the intercept is the expected score at intake. ``"final"``: at the
        largest coded time in the data (a study-wide constant), so the
        intercept is the expected score at the end. A number subtracts that
        constant from the intake-centred code. Piecewise codes are always
        intake-centred.
    client : str, default "client_id"
        The person identifier.
    date : str, default "date"
        The date column for ``method="weeks"``.
    knots : sequence of float
        Change points (sessions since intake) for ``method="piecewise"``.
    name : str, default "time"
        Name of the new column (the prefix for piecewise columns).

    Returns
    -------
    DataFrame
        A copy of ``data`` with the new time column(s).

    Raises
    ------
    DataValidationError
        When a column is missing, or ``method``, ``center`` or ``knots`` is
        not one of the allowed values (the problem names the argument).

    Notes
    -----
    With :math:`t_{ti} = s_{ti} - \\min_t s_{ti}` the sessions since intake,
    a piecewise code with one knot :math:`\\kappa` is
    :math:`p_1 = \\min(t, \\kappa)` and :math:`p_2 = \\max(t - \\kappa, 0)`
    (Singer & Willett 2003, ch. 6).

    References
    ----------
    Singer, J. D., & Willett, J. B. (2003). *Applied Longitudinal Data
    Analysis*. Oxford University Press.

    Examples
    --------
    >>> df = pd.DataFrame({"client_id": [1, 1, 1, 2, 2], "session": [1, 2, 5, 2, 3]})
    >>> time_code(df)["time"].tolist()
    [0, 1, 4, 0, 1]
    >>> time_code(df, center="final")["time"].tolist()
    [-4, -3, 0, -4, -3]
    >>> time_code(df, method="piecewise", knots=[2])[["time_p1", "time_p2"]].values.tolist()
    [[0, 0], [1, 0], [2, 2], [0, 0], [1, 0]]
    """
    if center not in ("intake", "final") and (
        isinstance(center, bool | str) or not isinstance(center, int | float | np.number)
    ):
        raise DataValidationError.for_argument(
            "center", center, "center must be 'intake', 'final' or a number"
        )
    check_choice(method, ("session", "weeks", "log", "piecewise"), name="method")
    out = data.copy()
    if method == "weeks":
        _columns(data, [client, date], role="key")
        when = pd.to_datetime(data[date])
        t = (when - when.groupby(data[client]).transform("min")).dt.days / 7.0
    else:
        _columns(data, [client, session], role="key")
        t = data[session] - data.groupby(client)[session].transform("min")
    if method == "piecewise":
        if not knots:
            raise DataValidationError.for_argument(
                "knots", knots, "knots must hold at least one knot when method='piecewise'"
            )
        edges = [0.0, *sorted(float(x) for x in knots)]
        keep_int = pd.api.types.is_integer_dtype(t) and all(float(e).is_integer() for e in edges)
        for j, lo in enumerate(edges, start=1):
            hi = edges[j] if j < len(edges) else np.inf
            seg = (t - lo).clip(lower=0, upper=hi - lo)
            out[f"{name}_p{j}"] = seg.astype(t.dtype) if keep_int else seg
        return out
    if method == "log":
        t = np.log1p(t)
    if center == "final":
        t = t - t.max()
    elif center != "intake":
        t = t - float(center)
    out[name] = t
    return out
