"""Private: population values of estimands without a closed form, by Monte Carlo.

A large study (``POPULATION_THERAPISTS`` x ``POPULATION_CLIENTS`` clients) is
generated with the same parameters and a fixed seed, and each estimand is
computed on its latent values (the therapist share also on the observed totals),
so it is the generating model's value up to a small, stated Monte-Carlo error.
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


#: Gauss-Hermite nodes of the therapist intercept and slope in :func:`_observed_share`.
QUADRATURE_NODES = 21


def _observed_share(
    p: SimulationParams, full: dict, u: np.ndarray, v: np.ndarray, f_end: np.ndarray
) -> float:
    """Therapist share of the *observed* PHQ-9 at the planned end adjusted for the observed intake.

    The estimand of a model fitted to observed totals (what a study reports).
    The items keep the latent total in expectation inside the scale's range, so
    :math:`E[x \\mid \\eta] = \\min(\\max(\\eta, 0), 27)` for latent total
    :math:`\\eta` (:func:`~engagestats.simulate._items.items_from_latent`); the
    floor compresses therapist differences among clients who end near 0. With
    :math:`b` the population regression of observed end on observed intake
    total and :math:`o_i` each client's latent scores without its therapist's
    intercept :math:`u` and slope :math:`v f(T_i)`, a therapist's expected
    adjusted end score is

    .. math::

        h(u, v) = \\overline{\\mathrm{clip}(u + v f(T_i) + o_{i,end})}
                 - b\\,\\overline{\\mathrm{clip}(u + o_{i,0})},

    averaged over every population client (so each therapist effect meets the
    whole client distribution). Its variance over the generating normal
    distributions of :math:`u` and :math:`v` (Gauss-Hermite quadrature, 21 x 21
    nodes) is the between-therapist part; the denominator is the variance of the
    observed adjusted end score. Without the floor and ceiling this equals the
    latent formula of :func:`_therapist_share` with the observed-score :math:`b`.
    Item skipping (a prorated total) is ignored in :math:`h`; it adds noise only.
    """
    obs, lat, planned = full["phq_observed"], full["phq_latent"], full["planned"]
    n = lat.shape[0]
    pre_o, post_o = obs[:, 0], obs[np.arange(n), planned - 1]
    ok = np.isfinite(pre_o) & np.isfinite(post_o)
    X = np.column_stack([np.ones(int(ok.sum())), pre_o[ok]])
    coef = np.linalg.lstsq(X, post_o[ok], rcond=None)[0]
    res = post_o[ok] - X @ coef
    o_pre = lat[:, 0] - u
    o_post = lat[np.arange(n), planned - 1] - u - v * f_end
    high = 27.0  # PHQ-9: 9 items scored 0-3

    def clip(z: np.ndarray) -> np.ndarray:
        return np.clip(z, 0.0, high)

    x, w = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
    w = w / w.sum()
    h = np.empty((x.size, x.size))
    for a, uu in enumerate(p.sd_therapist * x):
        pre = float(clip(uu + o_pre).mean())
        for k, vv in enumerate(p.sd_therapist_slope * x):
            h[a, k] = float(clip(uu + vv * f_end + o_post).mean()) - coef[1] * pre
    weight = np.outer(w, w)
    between = float((weight * (h - (weight * h).sum()) ** 2).sum())
    return between / float(res.var())


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
    u, v = (clients[k].to_numpy(dtype=float) for k in ("therapist_intercept", "therapist_slope"))
    share_observed = _observed_share(p, full, u, v, f_end)
    Xd = np.column_stack([np.ones(n), clients["autonomous"], clients["readiness"]])
    beta = _logit_fit(Xd, clients["dropout"].to_numpy(dtype=float))
    resid = latent["full"]["residual"]
    lag1 = float(np.corrcoef(resid[:, 1:].ravel(), resid[:, :-1].ravel())[0, 1])
    total = _total_effects(p, latent, np.asarray(full["planned"]))
    return pd.DataFrame(
        {
            "estimand": [
                "therapist_share_adjusted",
                "therapist_share_adjusted_observed",
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
                share_observed,
                beta[1],
                beta[2],
                float(clients["dropout"].mean()),
                lag1,
                *map(float, total[2:]),
            ],
        }
    )
