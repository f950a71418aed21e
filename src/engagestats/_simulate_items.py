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


def items_from_latent(
    rng: np.random.Generator,
    item_mean: np.ndarray,
    weights: np.ndarray,
    *,
    low: int,
    high: int,
) -> np.ndarray:
    r"""Integer item responses whose sum has the latent total as its expectation.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random generator.
    item_mean : ndarray, shape (...,)
        Latent mean item score of each response vector (the latent scale
        mean, or the latent total divided by the number of items).
    weights : ndarray, shape (k,) or broadcastable to (..., k)
        Positive item weights: how readily an item takes up points.
    low, high : int
        The response range of every item.

    Returns
    -------
    ndarray, shape (..., k)
        Integer-valued floats in ``[low, high]``.

    Notes
    -----
    The latent sum above the floor, :math:`T = k(\mu - low)`, is clipped to
    :math:`[0, k(high - low)]` and rounded stochastically to the integer
    :math:`N = \lfloor T + U \rfloor`, :math:`U \sim U(0, 1)`, so
    :math:`E[N] = T` exactly inside the range. The :math:`N` points are then
    spread over the items: every item has :math:`high - low` slots, each slot
    gets the key :math:`E / w_j` with :math:`E \sim Exp(1)`, and the
    :math:`N` slots with the smallest keys are filled (weighted sampling
    without replacement). The scale sum is therefore :math:`k \cdot low + N`
    and tracks the latent total without bias; bias arises only where the
    latent total lies beyond the floor or ceiling of the scale.
    """
    mean = np.asarray(item_mean, dtype=float)
    w = np.asarray(weights, dtype=float)
    k = w.shape[-1]
    m = high - low
    total = np.clip(k * (mean - low), 0.0, k * m)
    n_points = np.floor(total + rng.random(size=mean.shape)).astype(np.int64)
    shape = (*np.broadcast_shapes((*mean.shape, 1), w.shape), m)
    keys = rng.exponential(size=shape) / w[..., None]
    keys = keys.reshape(*shape[:-2], k * m)
    ordered = np.concatenate([np.full((*shape[:-2], 1), -np.inf), np.sort(keys, axis=-1)], -1)
    threshold = np.take_along_axis(ordered, n_points[..., None], axis=-1)
    filled = (keys <= threshold).reshape(shape).sum(axis=-1)
    return (filled + low).astype(float)


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
