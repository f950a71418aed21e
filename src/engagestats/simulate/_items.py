"""Private helpers of :mod:`engagestats.simulate`: items from latent scores, observed scores.

Nothing here is public API. The functions are vectorised over clients (and
sessions); every random draw comes from the ``numpy.random.Generator`` passed in.
Item keys and response ranges come from the built-in instruments and the
observed scores that drive the generating model are computed by
:func:`engagestats.scoring.score`, so the simulator cannot drift from scoring.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd

from ..errors import ModelSpecError
from ..instruments import Instrument, example_srq, gad7, phq9, urica, wai_sr
from ..scoring import score

#: Order in which the WAI-SR subscales are generated. It fixes the order of
#: the random draws (and of the subscale deviations), not the key.
WAI_SR_GENERATION_ORDER: tuple[str, ...] = ("task", "bond", "goal")

#: Item weights of PHQ-9 and GAD-7: how readily each item takes up symptom
#: points (PHQ-9 item 9, suicidal thoughts, is endorsed least).
PHQ9_WEIGHTS = np.array([1.1, 1.2, 1.4, 1.5, 1.0, 0.9, 0.9, 0.6, 0.25])
GAD7_WEIGHTS = np.array([1.3, 1.1, 1.3, 1.2, 0.6, 1.1, 0.5])

#: Precision of the item-specific noise of each questionnaire (see
#: ``items_from_latent``), calibrated so that Cronbach's alpha at the first
#: administration is near the published value (see ``simulate_study``).
ITEM_PRECISION: dict[str, float] = {
    "srq": 6.0,
    "urica": 30.0,
    "wai_sr": 40.0,
    "phq9": 10.0,
    "gad7": 10.0,
}

#: WAI-SR subscale deviations from the client's alliance level (latent item
#: mean scale): a stable client profile and an occasion-specific part, both
#: centred over the three subscales so that the total keeps its expectation.
WAI_PROFILE_SD = 0.2
WAI_OCCASION_SD = 0.28


def item_means(item_mean: np.ndarray, weights: np.ndarray, *, low: int, high: int) -> np.ndarray:
    r"""Expected item scores whose sum is the latent total, shared out by weight.

    Parameters
    ----------
    item_mean : ndarray, shape (...,)
        Latent mean item score of each response vector.
    weights : ndarray, shape (k,) or broadcastable to (..., k)
        Positive item weights: how readily an item takes up points.
    low, high : int
        The response range of every item.

    Returns
    -------
    ndarray, shape (..., k)
        Item means in ``[low, high]``.

    Notes
    -----
    The latent sum above the floor, :math:`T = k(\mu - low)`, is clipped to
    :math:`[0, k(high - low)]` and shared out in proportion to the weights,
    :math:`m_j = low + c\,w_j`, by water-filling: items whose share would
    pass the ceiling are fixed at :math:`high` and the rest of :math:`T` is
    shared among the others. Hence :math:`\sum_j m_j = k\mu` exactly
    whenever :math:`\mu` lies in :math:`[low, high]`.
    """
    mean = np.asarray(item_mean, dtype=float)
    w = np.asarray(weights, dtype=float)
    k = w.shape[-1]
    span = float(high - low)
    shape = (*np.broadcast_shapes(mean.shape, w.shape[:-1]), k)
    w = np.broadcast_to(w, shape).reshape(-1, k)
    total = np.clip(k * (mean - low), 0.0, k * span)
    total = np.broadcast_to(total, shape[:-1]).reshape(-1)
    # first round: nothing capped, every vector gets its proportional share
    free_w = w.sum(axis=-1)
    scale = np.divide(total, free_w, out=np.zeros_like(total), where=free_w > 0)
    share = scale[:, None] * w
    capped = share > span
    rows = np.flatnonzero(capped.any(axis=-1))
    # later rounds, only for the vectors with an item past the ceiling
    for _ in range(1, k):
        if not rows.size:
            break
        wr, cap = w[rows], capped[rows]
        free_w = np.where(cap, 0.0, wr).sum(axis=-1)
        rest = total[rows] - span * cap.sum(axis=-1)
        scale = np.divide(rest, free_w, out=np.zeros_like(rest), where=free_w > 0)
        part = np.where(cap, span, scale[:, None] * wr)
        share[rows] = part
        over = (part > span) & ~cap
        again = over.any(axis=-1)
        capped[rows] = cap | over
        rows = rows[again]
    return (low + np.minimum(share, span)).reshape(shape)


def items_from_latent(
    rng: np.random.Generator,
    item_mean: np.ndarray,
    weights: np.ndarray,
    *,
    low: int,
    high: int,
    precision: float = np.inf,
) -> np.ndarray:
    r"""Integer item responses with a common factor and an unbiased expected sum.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random generator.
    item_mean : ndarray, shape (...,)
        Latent mean item score of each response vector (the latent subscale
        mean, or the latent total divided by the number of items): the
        common factor of the items.
    weights : ndarray, shape (k,) or broadcastable to (..., k)
        Positive item weights: how readily an item takes up points.
    low, high : int
        The response range of every item.
    precision : float, default inf
        Precision :math:`\phi` of the item-specific noise (larger = less
        noise, higher internal consistency); ``inf`` leaves only the noise of
        the rounding.

    Returns
    -------
    ndarray, shape (..., k)
        Integer-valued floats in ``[low, high]``, conditionally independent
        given ``item_mean``.

    Notes
    -----
    Item *j* has the expected score :math:`m_j` of :func:`item_means`. Its
    propensity on the unit interval is drawn from a beta distribution with
    mean :math:`p_j = (m_j - low)/(high - low)` and precision :math:`\phi`,
    :math:`P_j \sim Beta(p_j\phi, (1 - p_j)\phi)` (:math:`P_j = p_j` when
    :math:`p_j` is 0 or 1), and the response is the randomised rounding
    :math:`x_j = \lfloor low + (high - low) P_j + U_j \rfloor`,
    :math:`U_j \sim U(0, 1)`. Both steps keep the mean, so
    :math:`E[x_j] = m_j` and :math:`E[\sum_j x_j] = k\mu` exactly wherever
    the latent mean :math:`\mu` lies inside the range; bias arises only when
    the latent lies beyond the floor or ceiling. The items share the common
    factor :math:`\mu` and carry independent noise (beta plus rounding), so
    the internal consistency of a scale is set by the spread of :math:`\mu`
    against :math:`\phi`.
    """
    if not precision > 0:
        raise ValueError(f"precision must be positive, got {precision}")
    means = item_means(item_mean, weights, low=low, high=high)
    span = float(high - low)
    p = (means - low) / span
    if np.isfinite(precision):
        inner = (p > 0.0) & (p < 1.0)
        a = np.where(inner, p * precision, 1.0)
        b = np.where(inner, (1.0 - p) * precision, 1.0)
        p = np.where(inner, rng.beta(a, b), p)
    x = np.floor(low + span * p + rng.random(size=p.shape))
    return np.clip(x, low, high)


def skip_items(rng: np.random.Generator, items: np.ndarray, rate: float) -> np.ndarray:
    """Blank single items at random (``NaN``), keeping at least one item per vector."""
    skip = rng.random(size=items.shape) < rate
    all_skipped = skip.all(axis=-1)
    skip[all_skipped, 0] = False
    out = items.astype(float)
    out[skip] = np.nan
    return out


def answered_mean_rule(inst: Instrument) -> Instrument:
    """``inst`` scored with the simulator's rule: the mean of the answered items.

    A subscale is scored whenever at least one of its items is answered
    (``min_answered=1``): a mean scale is the mean of the answered items, a sum
    scale that mean times the number of items (prorated sum).
    """
    return replace(inst, min_answered=1)


@cache
def _simulator_instruments() -> tuple[tuple[str, Instrument], ...]:
    built_in = {
        "srq": example_srq(),
        "urica": urica(),
        "wai_sr": wai_sr(),
        "phq9": phq9(),
        "gad7": gad7(),
    }
    return tuple((name, answered_mean_rule(inst)) for name, inst in built_in.items())


def simulator_instruments() -> dict[str, Instrument]:
    """The built-in instruments the simulator generates, with :func:`answered_mean_rule`.

    Built once per process (instruments are frozen); keys are the instrument names.
    """
    return dict(_simulator_instruments())


def generating_key(
    inst: Instrument, subscales: tuple[str, ...] | None = None
) -> dict[str, tuple[int, ...]]:
    """Subscale name -> 1-based item numbers of the instrument's own key.

    ``subscales`` (default: all, in the instrument's order) are the scales that
    get a latent score; items on none of them come last as ``"unscored"``.
    Every item must be generated once, so the subscales must not share items.
    """
    number = {item: j for j, item in enumerate(inst.items, start=1)}
    names = tuple(inst._subscales) if subscales is None else subscales
    key = {name: tuple(number[i] for i in inst._subscales[name]) for name in names}
    used = [j for items in key.values() for j in items]
    generated = set(used)
    if len(generated) != len(used):
        raise ModelSpecError(
            f"{inst.name}: the generated subscales {names} share items; each item needs one latent"
        )
    rest = tuple(j for j in range(1, inst.n_items + 1) if j not in generated)
    if rest:
        key["unscored"] = rest
    return key


def response_range(inst: Instrument) -> dict[str, int]:
    """``low`` and ``high`` of the instrument's whole-number answers, as keyword arguments."""
    low, high = inst.response_range
    return {"low": int(low), "high": int(high)}


def observed_scores(inst: Instrument, items: np.ndarray) -> pd.DataFrame:
    """Scores of simulated answers by :func:`engagestats.scoring.score`.

    ``items`` has shape ``(..., inst.n_items)`` with the items in key order;
    the leading axes are flattened into rows (C order).
    """
    frame = pd.DataFrame(items.reshape(-1, inst.n_items), columns=list(inst.items))
    return score(frame, inst)


def correlated_normals(rng: np.random.Generator, n: int, corr: np.ndarray) -> np.ndarray:
    """``n`` draws of standard normals with correlation matrix ``corr``."""
    chol = np.linalg.cholesky(corr)
    return rng.standard_normal(size=(n, corr.shape[0])) @ chol.T


def fill_forward(values: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Per row, the last observed value strictly before each column (NaN if none)."""
    n, s = values.shape
    out = np.full((n, s), np.nan)
    last = np.full(n, np.nan)
    for t in range(s):
        out[:, t] = last
        last = np.where(observed[:, t], values[:, t], last)
    return out
