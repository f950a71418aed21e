"""Private helpers of :mod:`engagestats.simulate`: items from latent scores, scoring, keys.

Nothing here is public API. The functions are vectorised over clients (and
sessions); every random draw comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import numpy as np

#: Example self-regulation questionnaire key (15 items, 1-7). An EXAMPLE key
#: modelled on the SDT treatment self-regulation questionnaires, not a
#: published instrument: autonomous, controlled and amotivation items.
SRQ_KEY: dict[str, tuple[int, ...]] = {
    "autonomous": (1, 3, 6, 9, 11, 13),
    "controlled": (2, 4, 7, 10, 12, 14),
    "amotivation": (5, 8, 15),
}

#: URICA 32-item key (McConnaughy et al. 1983); items 4, 9, 20 and 31 are unscored.
URICA_KEY: dict[str, tuple[int, ...]] = {
    "precontemplation": (1, 5, 11, 13, 23, 26, 29),
    "contemplation": (2, 8, 12, 15, 19, 21, 24),
    "action": (3, 7, 10, 14, 17, 25, 30),
    "maintenance": (6, 16, 18, 22, 27, 28, 32),
}
URICA_UNSCORED: tuple[int, ...] = (4, 9, 20, 31)

#: WAI-SR client form (Hatcher & Gillaspy 2006), no reversed items.
WAI_SR_KEY: dict[str, tuple[int, ...]] = {
    "task": (1, 2, 10, 12),
    "bond": (3, 5, 7, 9),
    "goal": (4, 6, 8, 11),
}

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
    w = np.broadcast_to(w, (*np.broadcast_shapes(mean.shape, w.shape[:-1]), k))
    total = np.clip(k * (mean - low), 0.0, k * span)
    capped = np.zeros(w.shape, dtype=bool)
    share = np.zeros(w.shape)
    for _ in range(k):
        free_w = np.where(capped, 0.0, w).sum(axis=-1)
        rest = total - span * capped.sum(axis=-1)
        scale = np.divide(rest, free_w, out=np.zeros_like(rest), where=free_w > 0)
        share = np.where(capped, span, scale[..., None] * w)
        over = (share > span) & ~capped
        if not over.any():
            break
        capped |= over
    return low + np.minimum(share, span)


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


def prorated_sum(items: np.ndarray) -> np.ndarray:
    """Scale sum prorated over answered items: ``mean(answered) * k`` (NaN if none)."""
    k = items.shape[-1]
    answered = (~np.isnan(items)).sum(axis=-1)
    total = np.nansum(items, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(answered > 0, total / np.maximum(answered, 1) * k, np.nan)


def subscale_mean(items: np.ndarray, key: tuple[int, ...]) -> np.ndarray:
    """Mean of the answered items of a subscale (1-based item numbers in ``key``)."""
    cols = items[..., [i - 1 for i in key]]
    return prorated_sum(cols) / len(key)


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
