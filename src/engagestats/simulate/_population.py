"""Private: population values of estimands without a closed form, by Monte Carlo.

A large study (``POPULATION_THERAPISTS`` x ``POPULATION_CLIENTS`` clients) is
generated with the same parameters and a fixed seed, and each estimand is
computed on its latent values, so it is the generating model's value up to a
small, stated Monte-Carlo error.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._process import time_metric

if TYPE_CHECKING:
    from .params import SimulationParams

__all__ = ["POPULATION_CLIENTS", "POPULATION_SEED", "POPULATION_THERAPISTS", "population_truths"]

POPULATION_THERAPISTS = 500
POPULATION_CLIENTS = 40
#: Seed of the population study (fixed; no selection).
POPULATION_SEED = 11


def _therapist_share(p: SimulationParams, b: float, f_end: np.ndarray, res: np.ndarray) -> float:
    """Therapist share of the variance of ``res`` (end-of-treatment PHQ-9 adjusted for intake).

    With therapist intercept :math:`u_j` and slope :math:`v_j` (independent), the
    therapist part of the residual of ``post - a - b pre`` is
    :math:`(1 - b) u_j + v_j f(T_i)`; its therapist-level variance is
    :math:`(1 - b)^2 \\sigma_u^2 + \\sigma_v^2 \\bar f^2` (the part of
    :math:`v_j (f(T_i) - \\bar f)` is within therapists). The denominator is the
    Monte-Carlo variance of ``res``.
    """
    between = (1.0 - b) ** 2 * p.sd_therapist**2 + p.sd_therapist_slope**2 * f_end.mean() ** 2
    return float(between / res.var())


def _logit_fit(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Maximum-likelihood logistic regression coefficients by Newton-Raphson."""
    beta = np.zeros(X.shape[1])
    for _ in range(50):
        mu = 1.0 / (1.0 + np.exp(-(X @ beta)))
        step = np.linalg.solve(X.T @ (X * (mu * (1 - mu))[:, None]), X.T @ (y - mu))
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    return beta


def _total_effects(p: SimulationParams, latent: dict, planned: np.ndarray) -> np.ndarray:
    """Marginal (total) intake effects on the latent PHQ-9 level and linear slope.

    Pooled least squares of the latent PHQ-9 at every planned session ``t = 0, 1, ...``
    on ``1, t, a, r, a t, r t`` (``a``, ``r``: the client's centred intake autonomy and
    readiness): the population projection that a linear growth model with intake
    covariates only targets. Everything that happens after intake (the alliance and
    its feedback through the symptom -> alliance path) is averaged over, so these
    are total effects; with a log-linear trajectory they are linear projections.

    The generating parts that are independent of ``a`` and ``r`` by construction
    (therapist and client random effects, the latent alliance level's terms and the
    residual) are subtracted first: a control variate that leaves the projection's
    coefficients on ``a`` and ``r`` unchanged in expectation and removes most of
    their Monte-Carlo error.
    """
    c = latent["clients"]
    y = latent["full"]["phq_latent"].copy()
    n, s = y.shape
    tm = time_metric(p, np.arange(s, dtype=float))[None, :]
    names = (
        "therapist_intercept",
        "therapist_slope",
        "client_intercept",
        "client_slope",
        "alliance_between",
        "autonomous",
        "readiness",
    )
    col = {k: c[k].to_numpy(dtype=float)[:, None] for k in names}
    y -= (
        col["therapist_intercept"]
        + col["client_intercept"]
        + p.alliance_between * col["alliance_between"]
    )
    y -= (
        col["therapist_slope"]
        + col["client_slope"]
        + p.time_alliance_between * col["alliance_between"]
    ) * tm
    y -= latent["full"]["residual"]
    t = np.broadcast_to(np.arange(s, dtype=float), (n, s))
    keep = t < planned[:, None]
    a = np.broadcast_to(col["autonomous"], (n, s))[keep]
    r = np.broadcast_to(col["readiness"], (n, s))[keep]
    tk = t[keep]
    X = np.column_stack([np.ones(tk.size), tk, a, r, a * tk, r * tk])
    return np.linalg.lstsq(X, y[keep], rcond=None)[0]


@lru_cache(maxsize=32)
def population_truths(p: SimulationParams, max_sessions: int) -> pd.DataFrame:
    """Population values of the therapist share, dropout odds ratios and total effects."""
    from ._tables import generate

    rng = np.random.default_rng(POPULATION_SEED)
    _, latent = generate(rng, p, POPULATION_THERAPISTS, POPULATION_CLIENTS, max_sessions)
    full = latent["full"]
    y = full["phq_latent"]
    n = y.shape[0]
    pre = y[:, 0]
    post = y[np.arange(n), full["planned"] - 1]
    X = np.column_stack([np.ones(n), pre])
    coef = np.linalg.lstsq(X, post, rcond=None)[0]
    res = post - X @ coef
    f_end = time_metric(p, full["planned"] - 1.0)
    share = _therapist_share(p, float(coef[1]), f_end, res)
    clients = latent["clients"]
    Xd = np.column_stack([np.ones(n), clients["autonomous"], clients["readiness"]])
    beta = _logit_fit(Xd, clients["dropout"].to_numpy(dtype=float))
    resid = latent["full"]["residual"]
    lag1 = float(np.corrcoef(resid[:, 1:].ravel(), resid[:, :-1].ravel())[0, 1])
    total = _total_effects(p, latent, np.asarray(full["planned"]))
    return pd.DataFrame(
        {
            "estimand": [
                "therapist_share_adjusted",
                "dropout_log_odds_autonomous",
                "dropout_log_odds_readiness",
                "dropout_rate",
                "residual_lag1_autocorrelation",
                "autonomous_total_level",
                "readiness_total_level",
                "autonomous_total_slope",
                "readiness_total_slope",
            ],
            "value": [
                share,
                beta[1],
                beta[2],
                float(clients["dropout"].mean()),
                lag1,
                *map(float, total[2:]),
            ],
        }
    )
