"""Regressions and Monte-Carlo effects of :func:`engagestats.analyses.mediation`.

Formulas are built from data-derived column names, each passed through
:func:`engagestats.models.formula.quote_name` (``"my var"`` becomes a backticked term); the
coefficient tables then carry the quoted names, which :func:`effects` looks up.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ModelSpecError, SingularFitWarning
from ..models import lmm
from ..models.formula import quote_name

__all__ = ["EFFECT_COLUMNS", "Path", "Terms", "effects", "fit_lmm", "fit_ols"]

#: Columns of :attr:`MediationResult.effects`.
EFFECT_COLUMNS = ["effect", "estimate", "se", "df", "p", "ci_low", "ci_high", "ci_method"]


@dataclass(frozen=True)
class Path:
    """Coefficients and covariance of one regression."""

    coef: pd.Series
    vcov: pd.DataFrame
    df: pd.Series
    table: pd.DataFrame
    fit: Any = None


@dataclass(frozen=True)
class Terms:
    """Coefficient names of the paths.

    ``a`` in the mediator model, ``b`` and ``cp`` in the outcome model, ``c`` in the total model.
    """

    a: str
    b: str
    cp: str
    c: str


def fit_ols(data: pd.DataFrame, y: str, xs: list[str]) -> Path:
    """Least squares of ``y`` on ``xs`` (coefficient names quoted as in a formula)."""
    X = np.column_stack([np.ones(len(data)), data[xs].to_numpy(float)])
    names = ["(Intercept)", *(quote_name(x) for x in xs)]
    yv = data[y].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, yv, rcond=None)
    n, k = X.shape
    if np.linalg.matrix_rank(X) < k or n <= k:
        raise ModelSpecError(f"the regression of {y} on {xs} is not estimable (n = {n}, k = {k})")
    resid = yv - X @ beta
    s2 = float(resid @ resid) / (n - k)
    cov = s2 * np.linalg.inv(X.T @ X)
    se = np.sqrt(np.diag(cov))
    t = beta / se
    q = stats.t.ppf(0.975, n - k)
    table = pd.DataFrame(
        {
            "estimate": beta,
            "se": se,
            "df": float(n - k),
            "t": t,
            "p": 2 * stats.t.sf(np.abs(t), n - k),
            "ci_low": beta - q * se,
            "ci_high": beta + q * se,
        },
        index=pd.Index(names, name="term"),
    )
    return Path(
        coef=table["estimate"],
        vcov=pd.DataFrame(cov, index=names, columns=names),
        df=table["df"],
        table=table,
    )


def fit_lmm(data: pd.DataFrame, formula: str, notes: list[str]) -> Path:
    """``lmm(formula, data)``; a singular fit is noted, not raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SingularFitWarning)
        fit = lmm(formula, data)
    for w in caught:
        if issubclass(w.category, SingularFitWarning):
            notes.append(
                f"{formula}: a variance is estimated as 0 (singular fit); the fixed effects "
                "equal those of the model without that random term"
            )
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    table = fit.fixed
    return Path(coef=table["estimate"], vcov=fit.vcov, df=table["df"], table=table, fit=fit)


def effects(
    pm: Path,
    po: Path,
    pt: Path,
    terms: Terms,
    n_draws: int,
    seed: int | None,
    level: float,
) -> pd.DataFrame:
    """The tidy effects table: total, direct, indirect (Monte Carlo), paths, proportion."""
    a, b, cp = float(pm.coef[terms.a]), float(po.coef[terms.b]), float(po.coef[terms.cp])
    va = float(pm.vcov.loc[terms.a, terms.a])
    pair = [terms.b, terms.cp]
    vbc = po.vcov.loc[pair, pair].to_numpy(float)
    rng = np.random.default_rng(seed)
    a_draws = rng.normal(a, np.sqrt(va), size=n_draws)
    bc = rng.multivariate_normal([b, cp], vbc, size=n_draws, method="cholesky")
    ab_draws = a_draws * bc[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        prop_draws = ab_draws / (bc[:, 1] + ab_draws)
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2

    def coef_row(name: str, path: Path, term: str) -> dict[str, Any]:
        est, se = float(path.coef[term]), float(np.sqrt(path.vcov.loc[term, term]))
        df = float(path.df[term])
        crit = stats.t.ppf(hi_q, df)
        return {
            "effect": name,
            "estimate": est,
            "se": se,
            "df": df,
            "p": float(2 * stats.t.sf(abs(est / se), df)),
            "ci_low": est - crit * se,
            "ci_high": est + crit * se,
            "ci_method": "t (Satterthwaite df)" if path.fit is not None else "t (OLS)",
        }

    def mc_row(name: str, est: float, se: float, draws: np.ndarray) -> dict[str, Any]:
        lo, hi = np.nanquantile(draws, [lo_q, hi_q])
        return {
            "effect": name,
            "estimate": est,
            "se": se,
            "df": np.nan,
            "p": np.nan,
            "ci_low": float(lo),
            "ci_high": float(hi),
            "ci_method": f"Monte Carlo ({n_draws} draws)",
        }

    sobel = float(np.sqrt(b**2 * va + a**2 * vbc[0, 0]))
    rows = [
        coef_row("total", pt, terms.c),
        coef_row("direct", po, terms.cp),
        mc_row("indirect", a * b, sobel, ab_draws),
        coef_row("a_path", pm, terms.a),
        coef_row("b_path", po, terms.b),
        mc_row("proportion_mediated", a * b / (cp + a * b), np.nan, prop_draws),
    ]
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)
