"""Proportions with Wilson score intervals (public entry point: :func:`rates`)."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import check_level, renamed_arguments, require_columns
from ..errors import DataValidationError

__all__ = ["rates", "wilson_interval"]


def wilson_interval(
    k: np.ndarray | float, n: np.ndarray | float, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval at confidence ``level`` for ``k`` of ``n`` (NaN where n = 0)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + check_level(level) / 2.0)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (k + z2 / 2.0) / (n + z2)
        half = z / (n + z2) * np.sqrt(k * (n - k) / n + z2 / 4.0)
    low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def _is_binary(values: pd.Series) -> bool:
    """True for boolean columns and numeric or object columns holding only 0/1."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return False
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    number = (bool, np.bool_, int, np.integer, float, np.floating)
    return all(isinstance(x, number) and x in (0, 1) for x in values.dropna().unique())


@renamed_arguments(ci="level")
def rates(
    data: pd.DataFrame,
    *,
    outcome: str,
    by: str | None = None,
    level: float = 0.95,
    overall: bool = True,
) -> pd.DataFrame:
    """Proportions with Wilson confidence intervals, overall and by group.

    Parameters
    ----------
    data : DataFrame
        One row per unit (e.g. the output of
        :func:`~engagestats.change.talking_therapies.talking_therapies_outcomes`).
    outcome : str
        Column to summarise. A boolean or 0/1 column gives one proportion per
        group; any other column, including every categorical (e.g. the
        Jacobson-Truax categories), gives one proportion per group and level.
    by : str, optional
        Grouping column. Rows with a missing group form their own group.
    level : float, default 0.95
        Confidence level of the Wilson interval (``ci=``, its former name, is
        deprecated).
    overall : bool, default True
        With ``by``, also add a row (or rows) for all units, labelled ``"all"``.

    Returns
    -------
    DataFrame
        Columns ``group``, (``level`` for non-binary outcomes), ``n`` (units
        with a non-missing outcome), ``k`` (units with the outcome or level),
        ``rate`` (k / n), ``ci_low``, ``ci_high`` and ``n_missing`` (units
        whose outcome is missing, left out of ``n``). Without ``by`` the
        single group is ``"all"``.

    Notes
    -----
    The Wilson (1927) score interval, with :math:`z` the
    :math:`(1 + level)/2` normal quantile and :math:`\\hat p = k/n`:

    .. math::

        \\frac{k + z^2/2}{n + z^2} \\pm \\frac{z}{n + z^2}
        \\sqrt{\\frac{k (n - k)}{n} + \\frac{z^2}{4}}

    It stays inside [0, 1] and keeps close to nominal coverage for small
    ``n`` and rates near 0 or 1 (Brown, Cai & DasGupta, 2001).

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and
    statistical inference. *JASA, 22*(158), 209-212.
    Brown, L. D., Cai, T. T., & DasGupta, A. (2001). Interval estimation for a
    binomial proportion. *Statistical Science, 16*(2), 101-133.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"recovered": [True, False, True, True, None],
    ...                    "site": ["x", "x", "y", "y", "y"]})
    >>> rates(df, outcome="recovered", by="site").round(3)
      group  n  k  rate  ci_low  ci_high  n_missing
    0     x  2  1  0.50   0.095    0.905          0
    1     y  2  2  1.00   0.342    1.000          1
    2   all  4  3  0.75   0.301    0.954          1
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a DataFrame, got {type(data).__name__}")
    require_columns(data, [outcome, by])
    level = check_level(level)
    values = data[outcome]
    binary = _is_binary(values)
    if binary:
        levels: list[Hashable] = [True]
    elif isinstance(values.dtype, pd.CategoricalDtype):
        levels = list(values.cat.categories)
    else:
        levels = sorted(values.dropna().unique().tolist(), key=str)

    def summarise(label: Hashable, v: pd.Series) -> list[dict]:
        present = v.notna().to_numpy()
        n = int(present.sum())
        rows = []
        for lv in levels:
            if binary:
                k = int((v[present].astype(float) == 1).sum())
            else:
                k = int((v[present] == lv).sum())
            row = {"group": label}
            if not binary:
                row["level"] = lv
            row.update(n=n, k=k, n_missing=int((~present).sum()))
            rows.append(row)
        return rows

    rows: list[dict] = []
    if by is not None and overall and (data[by].astype(str) == "all").any():
        raise DataValidationError(
            [
                {
                    "file": "data",
                    "row": None,
                    "column": by,
                    "value": "all",
                    "problem": "a group is named 'all', the label of the overall row; rename "
                    "it or pass overall=False",
                }
            ]
        )
    if by is not None:
        for label, v in values.groupby(data[by], dropna=False, sort=True, observed=True):
            rows += summarise(label, v)
    if by is None or overall:
        rows += summarise("all", values)
    out = pd.DataFrame(rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rate"] = np.where(out["n"] > 0, out["k"] / out["n"].where(out["n"] > 0, 1), np.nan)
    out["ci_low"], out["ci_high"] = wilson_interval(out["k"], out["n"], level=level)
    cols = ["group", *([] if binary else ["level"]), "n", "k", "rate", "ci_low", "ci_high"]
    return out[[*cols, "n_missing"]]
