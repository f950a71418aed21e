"""Rubin's rules for multiply imputed fits: :func:`pool` and :func:`rubin`.

:func:`pool` combines the fixed effects of ``m`` fits of the same model (one per
imputed data set: :class:`LmmResult`, :class:`GlmmResult` or :class:`GeeResult`)
as ``mice::pool`` does, with the Barnard-Rubin (1999) small-sample degrees of
freedom. :func:`rubin` does the arithmetic on plain arrays of estimates and
variances (for fits made elsewhere).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataValidationError, ModelSpecError

__all__ = ["POOL_COLUMNS", "pool", "rubin"]

#: Columns of the tables returned by :func:`pool` and :func:`rubin`.
POOL_COLUMNS = [
    "estimate",
    "se",
    "df",
    "t",
    "p",
    "ci_low",
    "ci_high",
    "ubar",
    "b",
    "total_var",
    "riv",
    "lambda",
    "fmi",
    "dfcom",
    "m",
]

_LAMBDA_FLOOR = 1e-4  # as mice:::barnard.rubin


def _dfcom_vector(dfcom: Any, names: list[str]) -> np.ndarray:
    if isinstance(dfcom, Mapping | pd.Series):
        missing = [n for n in names if n not in dfcom]
        if missing:
            raise DataValidationError.for_argument(
                "dfcom", dict(dfcom), f"a value for every term; missing {missing}"
            )
        values = np.array([float(dfcom[n]) for n in names])
    else:
        try:
            values = np.broadcast_to(np.asarray(dfcom, dtype=float), (len(names),)).copy()
        except (TypeError, ValueError):
            raise DataValidationError.for_argument(
                "dfcom", dfcom, "a positive number, one per term, or np.inf"
            ) from None
    if np.any(np.isnan(values)) or np.any(values <= 0):
        raise DataValidationError.for_argument(
            "dfcom", dfcom, "positive complete-data degrees of freedom (np.inf for z tests)"
        )
    return values


def rubin(
    estimates: Any,
    variances: Any,
    *,
    dfcom: Any = np.inf,
    names: Sequence[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Pool ``m`` sets of estimates and squared standard errors by Rubin's rules.

    Parameters
    ----------
    estimates : array-like, shape (m, p)
        One row per imputation: the complete-data estimates ``Q_l``.
    variances : array-like, shape (m, p)
        Their complete-data variances ``U_l`` (squared standard errors).
    dfcom : float, array-like of length p, or mapping term -> float, default inf
        Complete-data degrees of freedom ``nu_com`` for the Barnard-Rubin
        adjustment; ``np.inf`` gives Rubin's (1987) df.
    names : sequence of str, optional
        Term names (default ``"term_0", "term_1", ...``).
    level : float, default 0.95
        Confidence level of ``ci_low``/``ci_high``.

    Returns
    -------
    DataFrame
        Indexed by ``term``; columns :data:`POOL_COLUMNS` (``t`` is the t
        statistic, ``total_var`` Rubin's total variance ``T``).

    Raises
    ------
    DataValidationError
        Fewer than two imputations, shapes that disagree, non-finite values or
        a non-positive ``dfcom``.

    Notes
    -----
    With ``m`` imputations (Rubin, 1987; van Buuren, 2018, sec. 2.3 and 5.2)::

        Qbar   = mean_l Q_l                        pooled estimate
        Ubar   = mean_l U_l                        within-imputation variance
        B      = sum_l (Q_l - Qbar)^2 / (m - 1)    between-imputation variance
        T      = Ubar + (1 + 1/m) B                total variance; se = sqrt(T)
        riv    = (1 + 1/m) B / Ubar                relative increase in variance
        lambda = (1 + 1/m) B / T                   proportion of variance due to missingness
        nu_old = (m - 1) / lambda^2                Rubin (1987)
        nu_obs = (nu_com + 1) / (nu_com + 3) nu_com (1 - lambda)
        nu     = nu_old nu_obs / (nu_old + nu_obs) Barnard & Rubin (1999)
        fmi    = (riv + 2 / (nu + 3)) / (riv + 1)  fraction of missing information

    and ``t = Qbar / se`` is referred to a t distribution with ``nu`` df. As in
    ``mice``, ``lambda`` is floored at 1e-4 inside the df formula only (so that
    no missing information gives a finite, very large ``nu``); the reported
    ``lambda`` is not floored. ``nu`` never exceeds ``nu_com``.

    References
    ----------
    Rubin, D. B. (1987). *Multiple imputation for nonresponse in surveys*. Wiley.

    Barnard, J., & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple
    imputation. *Biometrika*, 86(4), 948-955.

    van Buuren, S. (2018). *Flexible imputation of missing data* (2nd ed.). CRC Press.

    Examples
    --------
    >>> from engagestats.models import rubin
    >>> table = rubin([[1.0], [1.2], [0.8]], [[0.04], [0.05], [0.03]], dfcom=50, names=["x"])
    >>> round(float(table.loc["x", "total_var"]), 4)
    0.0933
    >>> round(float(table.loc["x", "df"]), 2)
    4.72
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    if q.ndim == 1:  # one term, m imputations
        q, u = q[:, None], u.reshape(-1, 1)
    if q.ndim != 2 or q.shape != u.shape:
        raise DataValidationError.for_argument(
            "variances", f"shape {u.shape}", f"the shape of estimates, {q.shape} (m, p)"
        )
    m, p = q.shape
    if m < 2:
        raise DataValidationError.for_argument("estimates", f"{m} imputation(s)", "m >= 2")
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(u)) and np.all(u >= 0)):
        raise DataValidationError.for_argument(
            "estimates", "non-finite values", "finite estimates and non-negative variances"
        )
    if not 0 < level < 1:
        raise DataValidationError.for_argument("level", level, "a number between 0 and 1")
    labels = list(names) if names is not None else [f"term_{j}" for j in range(p)]
    if len(labels) != p:
        raise DataValidationError.for_argument("names", labels, f"{p} names")
    nu_com = _dfcom_vector(dfcom, labels)

    qbar = q.mean(axis=0)
    ubar = u.mean(axis=0)
    b = q.var(axis=0, ddof=1)
    total = ubar + (1.0 + 1.0 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = np.where(ubar > 0, (1.0 + 1.0 / m) * b / ubar, np.inf)
        lam = np.where(total > 0, (1.0 + 1.0 / m) * b / total, 0.0)
    lam_df = np.maximum(lam, _LAMBDA_FLOOR)
    df_old = (m - 1) / lam_df**2
    finite = np.isfinite(nu_com)
    nu_c = np.where(finite, nu_com, 1.0)
    df_obs = (nu_c + 1.0) / (nu_c + 3.0) * nu_c * (1.0 - lam_df)
    df = np.where(finite, df_old * df_obs / (df_old + df_obs), df_old)
    fmi = (riv + 2.0 / (df + 3.0)) / (riv + 1.0)
    se = np.sqrt(total)
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = qbar / se
    crit = stats.t.ppf(0.5 + level / 2.0, df)
    table = pd.DataFrame(
        {
            "estimate": qbar,
            "se": se,
            "df": df,
            "t": tstat,
            "p": 2.0 * stats.t.sf(np.abs(tstat), df),
            "ci_low": qbar - crit * se,
            "ci_high": qbar + crit * se,
            "ubar": ubar,
            "b": b,
            "total_var": total,
            "riv": riv,
            "lambda": lam,
            "fmi": fmi,
            "dfcom": nu_com,
            "m": m,
        },
        index=pd.Index(labels, name="term"),
    )
    return table.loc[:, POOL_COLUMNS]


def _kind(fit: Any) -> str:
    from ._gee import GeeResult
    from ._glmm_result import GlmmResult
    from .result import LmmResult

    for cls, name in ((LmmResult, "lmm"), (GlmmResult, "glmm"), (GeeResult, "gee")):
        if isinstance(fit, cls):
            return name
    raise ModelSpecError(
        f"pool() takes LmmResult, GlmmResult or GeeResult fits, got {type(fit).__name__}"
    )


def _auto_dfcom(fits: Sequence[Any], kind: str, how: Any, names: list[str]) -> Any:
    if not isinstance(how, str):
        return how
    if how == "auto":
        if kind == "lmm" and all(f.engine == "engagestats" for f in fits):
            return np.mean([f.fixed["df"].loc[names].to_numpy(float) for f in fits], axis=0)
        return np.inf
    if how == "residual":
        if kind == "gee":
            return float(fits[0].nobs - len(names))
        return float(max(fits[0].nobs - fits[0].n_params, 1))
    raise DataValidationError.for_argument(
        "dfcom", how, '"auto", "residual", a positive number, one per term, or np.inf'
    )


def pool(fits: Sequence[Any], *, dfcom: Any = "auto", level: float = 0.95) -> pd.DataFrame:
    """Pool the fixed effects of fits to multiply imputed data (Rubin's rules).

    Parameters
    ----------
    fits : sequence of LmmResult, GlmmResult or GeeResult
        One fit of the same model per imputed data set (``m >= 2``), all of one
        class and with the same fixed-effect terms.
    dfcom : "auto", "residual", float, array-like or mapping, default "auto"
        Complete-data degrees of freedom for the Barnard-Rubin df:

        - ``"auto"``: the df of the complete-data test. For :func:`lmm` fits
          (engine ``"engagestats"``) each term's Satterthwaite df, averaged over
          the imputations; for :func:`glmm`/:func:`gee` fits, whose tests are z
          tests, ``inf`` (Rubin's 1987 df).
        - ``"residual"``: ``nobs - n_params`` (:func:`lmm`, :func:`glmm`) or
          ``nobs - p`` (:func:`gee`), the ``df.residual`` that ``mice::pool``
          takes from broom/broom.mixed; with clustered data it is far larger
          than the information in the clusters, so prefer ``"auto"``.
        - a number (``np.inf`` allowed), one per term, or a mapping term -> df:
          your own choice (``mice::pool(dfcom = ...)``).
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    DataFrame
        Indexed by ``term``: ``estimate, se, df, t, p, ci_low, ci_high`` (t
        test on the pooled estimate with Barnard-Rubin df) and ``ubar, b,
        total_var, riv, lambda, fmi, dfcom, m`` (see :func:`rubin`). For
        logistic models the estimates are log-odds.

    Raises
    ------
    ModelSpecError
        Fits of different classes or terms, or an unsupported fit.
    DataValidationError
        Fewer than two fits or a bad ``dfcom``.

    Notes
    -----
    The formulas are those of :func:`rubin`; the per-imputation estimates are
    ``fit.fixed["estimate"]`` and the variances the diagonal of ``fit.vcov``
    (model-based for mixed models, robust sandwich for GEE). Pooling assumes
    the imputations are proper (drawn from a posterior predictive
    distribution) and the imputation model at least as rich as the analysis
    model, including its clustering (van Buuren, 2018, ch. 7).

    References
    ----------
    Rubin, D. B. (1987). *Multiple imputation for nonresponse in surveys*. Wiley.

    Barnard, J., & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple
    imputation. *Biometrika*, 86(4), 948-955.

    van Buuren, S. (2018). *Flexible imputation of missing data* (2nd ed.). CRC Press.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from engagestats.models import lmm, pool
    >>> rng = np.random.default_rng(3)
    >>> d = pd.DataFrame({"g": np.repeat(np.arange(20), 5), "x": rng.normal(size=100)})
    >>> d["y"] = 1 + 0.5 * d["x"] + rng.normal(size=20)[d["g"]] + rng.normal(size=100)
    >>> fits = []
    >>> for _ in range(5):  # stand-in for 5 imputed data sets
    ...     di = d.assign(y=d["y"] + rng.normal(scale=0.2, size=100))
    ...     fits.append(lmm("y ~ x + (1 | g)", di))
    >>> table = pool(fits)
    >>> table.columns.tolist()[:7]
    ['estimate', 'se', 'df', 't', 'p', 'ci_low', 'ci_high']
    >>> bool((table["df"] <= table["dfcom"]).all())
    True
    """
    fits = list(fits)
    if len(fits) < 2:
        raise DataValidationError.for_argument("fits", f"{len(fits)} fit(s)", "m >= 2 fits")
    kinds = {_kind(f) for f in fits}
    if len(kinds) > 1:
        raise ModelSpecError(f"pool() needs fits of one model class, got {sorted(kinds)}")
    kind = kinds.pop()
    names = list(fits[0].fixed.index)
    for i, f in enumerate(fits):
        if list(f.fixed.index) != names:
            raise ModelSpecError(
                f"fit {i} has terms {list(f.fixed.index)}, fit 0 has {names}: "
                "pool fits of the same model"
            )
    q = np.array([f.fixed["estimate"].loc[names].to_numpy(float) for f in fits])
    u = np.array([np.diag(f.vcov.loc[names, names].to_numpy(float)) for f in fits])
    return rubin(q, u, dfcom=_auto_dfcom(fits, kind, dfcom, names), names=names, level=level)
