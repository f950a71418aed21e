"""Private: the session-by-session process of alliance and symptoms in ``simulate_study``.

The alliance at session *t* responds to the symptoms at *t* and the symptoms at
*t* respond to the alliance observed at the previous attended session, so the
two are generated together, one session at a time (vectorised over clients).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import _items as _it

if TYPE_CHECKING:
    from ..instruments import Instrument
    from .params import SimulationParams

__all__ = ["ar1", "session_process", "time_metric"]


def time_metric(p: SimulationParams, t: np.ndarray) -> np.ndarray:
    """The time metric of the growth curve: ``t`` (linear) or ``log(1 + t)`` (log-linear)."""
    return np.log1p(t) if p.trajectory == "log_linear" else np.asarray(t, dtype=float)


def ar1(rng: np.random.Generator, n: int, s: int, *, sd: float, rho: float) -> np.ndarray:
    """``n`` stationary AR(1) series of length ``s`` with marginal SD ``sd``, lag-1 corr ``rho``."""
    innov = rng.normal(0.0, sd, size=(n, s))
    out = np.empty((n, s))
    out[:, 0] = innov[:, 0]
    shrink = np.sqrt(1.0 - rho**2)
    for t in range(1, s):
        out[:, t] = rho * out[:, t - 1] + shrink * innov[:, t]
    return out


def session_process(
    rng: np.random.Generator,
    p: SimulationParams,
    *,
    level: np.ndarray,
    slope: np.ndarray,
    alliance_level: np.ndarray,
    attended: np.ndarray,
    wai: Instrument,
) -> dict[str, np.ndarray]:
    """Latent PHQ-9 totals, alliance latents and WAI-SR items for every client and session.

    ``level`` and ``slope`` are the client's PHQ-9 level and slope (on the time
    metric, therapist and covariate parts included); ``alliance_level`` the
    client's alliance item mean at session 1 before the symptom response.
    Returns ``phq_latent``, ``residual``, ``alliance_item_mean`` (latent,
    WAI-SR item-mean scale), ``wai_items`` and ``wai_total`` (observed, total
    scale) and ``within`` (the lagged within-client alliance predictor), all
    ``(n, S)`` except ``wai_items`` ``(n, S, 12)``.
    """
    n, s = attended.shape
    n_wai = wai.n_items
    trend = p.alliance_trend + p.alliance_sd_trend * rng.normal(size=n)
    u = ar1(rng, n, s, sd=p.alliance_sd_session, rho=p.alliance_ar)
    rupture = rng.random((n, s)) < p.rupture_rate
    # a rupture lowers the alliance by rupture_size at its session and fades with alliance_ar
    dip = np.zeros((n, s))
    for t in range(s):
        dip[:, t] = (p.alliance_ar * dip[:, t - 1] if t else 0.0) - p.rupture_size * rupture[:, t]
    dev = rng.normal(0.0, _it.WAI_PROFILE_SD, size=(n, 1, 3))
    dev = dev + rng.normal(0.0, _it.WAI_OCCASION_SD, size=(n, s, 3))
    dev -= dev.mean(axis=-1, keepdims=True)
    resid = ar1(rng, n, s, sd=p.sd_residual, rho=p.residual_ar)
    key = _it.generating_key(wai, _it.WAI_SR_GENERATION_ORDER)
    precision = _it.ITEM_PRECISION["wai_sr"]
    span = _it.response_range(wai)
    tm = time_metric(p, np.arange(s))

    phq = np.empty((n, s))
    alliance = np.empty((n, s))
    within = np.zeros((n, s))
    items = np.empty((n, s, n_wai))
    total = np.full((n, s), np.nan)
    last = np.full(n, np.nan)
    reference = n_wai * alliance_level
    for t in range(s):
        within[:, t] = np.where(np.isnan(last), 0.0, last - reference)
        phq[:, t] = level + slope * tm[t] + p.alliance_within_lag * within[:, t] + resid[:, t]
        # symptom -> alliance: the alliance total moves alliance_symptom points per PHQ-9
        # point of the client's current symptoms relative to the client's expected intake level
        response = p.alliance_symptom * (phq[:, t] - level) / n_wai
        alliance[:, t] = alliance_level + trend * t + u[:, t] + dip[:, t] + response
        for k, its in enumerate(key.values()):
            items[:, t, [i - 1 for i in its]] = _it.items_from_latent(
                rng,
                alliance[:, t] + dev[:, t, k],
                np.linspace(0.9, 1.1, len(its)),
                **span,
                precision=precision,
            )
        items[:, t] = _it.skip_items(rng, items[:, t], p.skip_rate)
        total[:, t] = n_wai * _it.observed_scores(wai, items[:, t])["wai_sr_total"].to_numpy()
        seen = attended[:, t] & ~np.isnan(total[:, t])
        last = np.where(seen, total[:, t], last)
    return {
        "phq_latent": phq,
        "residual": resid,
        "alliance_item_mean": alliance,
        "wai_items": items,
        "wai_total": total,
        "within": within,
        "rupture": rupture,
    }
