"""Private: variance components of a growth model, therapist shares and the parametric bootstrap.

Used by :mod:`engagestats.analyses.therapist_effects` and
:mod:`engagestats.analyses.effect_sizes`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats as sps

from ..models import engine, stats
from ..models._types import EngineFit
from ..models.stats import lambda_blocks

__all__ = [
    "Components",
    "bootstrap",
    "components",
    "conditional_covs",
    "shares",
    "slope_lrt",
    "term_index",
]


@dataclass(frozen=True)
class Components:
    """Intercept/slope covariance of the therapist and client terms, residual variance, time slope.

    ``therapist`` and ``client`` are 2 x 2 (intercept, time); a missing slope has zeros.
    """

    therapist: np.ndarray
    client: np.ndarray
    sigma2: float
    beta_time: float


def term_index(fit: EngineFit, group: str) -> int | None:
    """Position of the (single) random term of ``group``; None when absent."""
    hits = [i for i, t in enumerate(fit.design.terms) if t.group == group]
    return hits[0] if hits else None


def _two_by_two(fit: EngineFit, index: int | None, time: str) -> np.ndarray:
    out = np.zeros((2, 2))
    if index is None:
        return out
    term = fit.design.terms[index]
    lam = lambda_blocks(fit)[index]
    cov = fit.sigma**2 * lam @ lam.T
    pos = {"(Intercept)": 0, time: 1}
    idx = [pos.get(c) for c in term.columns]
    for a, ia in enumerate(idx):
        for b, ib in enumerate(idx):
            if ia is not None and ib is not None:
                out[ia, ib] = cov[a, b]
    return out


def components(fit: EngineFit, *, therapist: str, client: str, time: str = "time") -> Components:
    """The variance components :func:`shares` needs, from an engine fit."""
    names = list(fit.design.fixed_names)
    beta_time = float(fit.beta[names.index(time)]) if time in names else 0.0
    return Components(
        therapist=_two_by_two(fit, term_index(fit, therapist), time),
        client=_two_by_two(fit, term_index(fit, client), time),
        sigma2=float(fit.sigma**2),
        beta_time=beta_time,
    )


def shares(c: Components, end_times: np.ndarray) -> dict[str, float]:
    """Therapist shares implied by the components, with clients' end times ``end_times``.

    See the Notes of :func:`engagestats.analyses.therapist_effects` for the formulas.
    """
    t = np.asarray(end_times, dtype=float)
    t_mean, t2_mean, t_var = float(t.mean()), float((t**2).mean()), float(t.var())
    u, w, s2 = c.therapist, c.client, c.sigma2
    var_pre = u[0, 0] + w[0, 0] + s2
    cov = u[0, 0] + w[0, 0] + (u[0, 1] + w[0, 1]) * t_mean
    var_post = (
        u[0, 0] + w[0, 0] + 2 * (u[0, 1] + w[0, 1]) * t_mean + (u[1, 1] + w[1, 1]) * t2_mean + s2
    ) + c.beta_time**2 * t_var
    b = cov / var_pre
    var_res = var_post - cov**2 / var_pre
    a = np.array([1.0 - b, t_mean])
    therapist_end = float(a @ u @ a)
    slope_total = u[1, 1] + w[1, 1]
    return {
        "end_adjusted": therapist_end / var_res,
        "change": u[1, 1] / slope_total if slope_total > 0 else float("nan"),
        "intake": u[0, 0] / var_pre,
        "b_pre": b,
        "t_mean": t_mean,
        "var_therapist_end": therapist_end,
        "var_residual_end": var_res,
    }


def conditional_covs(fit: EngineFit, index: int) -> np.ndarray:
    """Conditional covariance blocks of one term's random effects, shape (n_levels, k, k).

    The full ``postVar`` arrays of ``lme4::ranef(fit, condVar = TRUE)`` (whose
    diagonals ``LmmResult.ranef(cond_sd=True)`` reports); see
    :func:`engagestats.models.stats.conditional_covs`.
    """
    return stats.conditional_covs(fit)[index]


def simulate_response(fit: EngineFit, rng: np.random.Generator) -> np.ndarray:
    """One response vector from the fitted model (``simulate(fit)``, ``use.u = FALSE``)."""
    design = fit.design
    y = design.X @ fit.beta + rng.normal(0.0, fit.sigma, size=design.n)
    for term, lam in zip(design.terms, lambda_blocks(fit), strict=True):
        b = rng.standard_normal((term.n_levels, term.k)) @ (fit.sigma * lam).T
        y = y + np.einsum("ij,ij->i", term.Z, b[term.codes])
    return y


def bootstrap(
    fit: EngineFit,
    statistic: Callable[[EngineFit], np.ndarray],
    *,
    n_boot: int,
    seed: int | None,
) -> tuple[np.ndarray, int, int]:
    """Parametric bootstrap (lme4 ``bootMer(type = "parametric")``) of ``statistic``.

    Returns the (n_boot, m) array of replicates, the number of refits that did
    not converge and the number of singular refits (both kept: a singular fit
    is a legitimate estimate at the boundary; non-converged rows are NaN).
    """
    rng = np.random.default_rng(seed)
    rows = []
    failed = singular = 0
    for _ in range(n_boot):
        design = replace(fit.design, y=simulate_response(fit, rng))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            refit = engine.fit(design, reml=fit.reml, start=np.asarray(fit.theta))
        kinds = {type(w.message).__name__ for w in caught}
        singular += "SingularFitWarning" in kinds
        if not refit.converged or "ConvergenceWarning" in kinds:
            failed += 1
            rows.append(np.full(len(statistic(fit)), np.nan))
            continue
        rows.append(np.asarray(statistic(refit), dtype=float))
    return np.vstack(rows), failed, singular


def slope_lrt(loglik_slope: float, loglik_intercept: float) -> tuple[float, float]:
    """Boundary likelihood-ratio test of a random slope (its variance and covariance).

    ``chisq = 2 max(0, l_1 - l_0)`` from two REML fits with the same fixed
    effects, referred to the 50:50 mixture of chi-square(1) and chi-square(2)
    (Stram & Lee 1994; Self & Liang 1987): the null puts the slope variance on
    the boundary of its space. Returns ``(chisq, p)``.
    """
    chisq = 2.0 * max(0.0, float(loglik_slope) - float(loglik_intercept))
    p = 0.5 * float(sps.chi2.sf(chisq, 1)) + 0.5 * float(sps.chi2.sf(chisq, 2))
    return chisq, p
