"""k-means clustering in numpy: k-means++ seeding, Lloyd iterations, restarts.

Deterministic given the seed. It reproduces scikit-learn's ``KMeans`` solution
(the partition of the lowest within-cluster sum of squares over the restarts)
on the committed fixture ``tests/reference/profiles``; the random draws differ
from scikit-learn's, so on data with several local optima of similar inertia
the two can stop in different ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["KMeansFit", "kmeans"]


@dataclass(frozen=True)
class KMeansFit:
    """The best of the restarts: labels (0..k-1), centres (k x p), inertia, iterations."""

    labels: np.ndarray
    centers: np.ndarray
    inertia: float
    n_iter: int


def _sq_dist(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    return np.asarray(((x[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))


def _plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007) with 2 + log(k) local trials."""
    n = x.shape[0]
    trials = 2 + int(np.log(k))
    centers = np.empty((k, x.shape[1]))
    centers[0] = x[rng.integers(n)]
    closest = _sq_dist(x, centers[:1])[:, 0]
    for j in range(1, k):
        total = closest.sum()
        if total <= 0:  # fewer distinct points than clusters
            centers[j] = x[rng.integers(n)]
            continue
        cand = np.searchsorted(np.cumsum(closest), rng.random(trials) * total)
        cand = np.minimum(cand, n - 1)
        d = np.minimum(closest[None, :], _sq_dist(x, x[cand]).T)
        best = int(np.argmin(d.sum(axis=1)))
        centers[j] = x[cand[best]]
        closest = d[best]
    return centers


def _lloyd(
    x: np.ndarray, centers: np.ndarray, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray, float, int]:
    k = centers.shape[0]
    labels = np.full(x.shape[0], -1)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (the count is returned)
        d = _sq_dist(x, centers)
        new = np.argmin(d, axis=1)
        new_centers = centers.copy()
        for j in range(k):
            members = new == j
            if members.any():
                new_centers[j] = x[members].mean(axis=0)
            else:  # empty cluster: move it to the point farthest from its centre
                far = int(np.argmax(d[np.arange(len(x)), new]))
                new_centers[j] = x[far]
                new[far] = j
        shift = float(((new_centers - centers) ** 2).sum())
        centers = new_centers
        if np.array_equal(new, labels) or shift <= tol:
            labels = new
            break
        labels = new
    labels = np.argmin(_sq_dist(x, centers), axis=1)
    for j in range(k):
        if (labels == j).any():
            centers[j] = x[labels == j].mean(axis=0)
    inertia = float(_sq_dist(x, centers)[np.arange(len(x)), labels].sum())
    return labels, centers, inertia, n_iter


def kmeans(
    x: np.ndarray,
    k: int,
    *,
    seed: int | None = 0,
    n_init: int = 10,
    max_iter: int = 300,
    tol: float = 1e-4,
) -> KMeansFit:
    """Lloyd's k-means with k-means++ starts; the restart of lowest inertia wins.

    ``tol`` is relative to the mean per-column variance of ``x`` (as in
    scikit-learn). Labels are renumbered in order of first appearance so that
    the result does not depend on which restart found it.
    """
    x = np.asarray(x, dtype=float)
    rng = np.random.default_rng(seed)
    abs_tol = tol * float(np.mean(np.var(x, axis=0)))
    best: tuple[np.ndarray, np.ndarray, float, int] | None = None
    for _ in range(n_init):
        fit = _lloyd(x, _plus_plus(x, k, rng), max_iter, abs_tol)
        if best is None or fit[2] < best[2] - 1e-12 * max(1.0, abs(best[2])):
            best = fit
    if best is None:
        raise ValueError("n_init must be at least 1")
    labels, centers, inertia, n_iter = best
    order = list(dict.fromkeys(labels.tolist()))
    order += [j for j in range(k) if j not in order]
    remap = np.empty(k, dtype=int)
    remap[order] = np.arange(k)
    return KMeansFit(remap[labels], centers[order], inertia, n_iter)
