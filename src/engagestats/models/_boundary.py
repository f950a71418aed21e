"""Verification of boundary optima and checks of degenerate models for the LMM engine.

Internal. A diagonal element of a term's relative covariance factor ``Lambda_k``
at its bound 0 may be a genuine minimum or a point where the optimiser got stuck:

- for a single-column term the deviance is even in that element, so its derivative
  at 0 vanishes whatever the curvature and a short secant sees almost nothing;
- for a multi-column term with ``Lambda_k[j, j] = 0`` the entries below it in
  column ``j`` enter the covariance only through products with each other, so the
  boundary point is the same model with their signs flipped; the optimiser may
  have arrived from the side where moving inside increases the deviance while on
  the flipped side it decreases it (a correlation of the wrong sign).

:func:`boundary_probes` lists points just inside such a boundary, along the
zero components with steps scaled to theta and with both signs of the column;
:func:`verify_boundary` evaluates them and restarts the optimiser from the best
one, keeping the better optimum (the analogue of lme4's ``restart_edge``, which
restarts when a one-sided derivative at a boundary is negative).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from ..errors import ModelSpecError
from ._lambda import theta_layout, tri_index
from ._numerics import SINGULAR_TOL
from ._types import Design, RandomTerm

#: Steps into the interior, relative to ``max(1, max |theta|)``.
PROBE_STEPS = (1e-3, 1e-2, 1e-1, 1.0)
#: A probe lower than the optimum by more than this (deviance units) refutes it.
PROBE_TOL = 1e-7
#: At most this many restarts from boundary probes.
MAX_RESTARTS = 3


def zero_diagonals(theta: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Indices of diagonal theta elements at (within ``SINGULAR_TOL`` of) their bound 0."""
    return np.flatnonzero(np.isfinite(lower) & (theta < SINGULAR_TOL))


def _columns(terms: tuple[RandomTerm, ...]) -> dict[int, np.ndarray]:
    """For each diagonal theta index, the theta indices below it in its column."""
    out: dict[int, np.ndarray] = {}
    slices, _, _ = theta_layout(terms)
    for term, sl in zip(terms, slices, strict=True):
        rows, cols = tri_index(term.k)
        idx = np.arange(sl.start, sl.stop)
        for j in range(term.k):
            out[int(idx[(rows == j) & (cols == j)][0])] = idx[(cols == j) & (rows > j)]
    return out


def boundary_probes(
    theta: np.ndarray, lower: np.ndarray, terms: tuple[RandomTerm, ...]
) -> list[np.ndarray]:
    """Points just inside the boundary at theta (empty if no diagonal element is at 0).

    For every zero diagonal element, and for all of them together, each step of
    :data:`PROBE_STEPS` times ``max(1, max |theta|)``, with the entries below it
    in its column kept and with their signs flipped (the same boundary model).
    """
    zeros = zero_diagonals(theta, lower)
    if zeros.size == 0:
        return []
    col = _columns(terms)
    scale = max(1.0, float(np.max(np.abs(theta))))
    sets = [[int(i)] for i in zeros] + ([[int(i) for i in zeros]] if zeros.size > 1 else [])
    probes = []
    for group in sets:
        below = np.concatenate([col[i] for i in group])
        signs = (1.0, -1.0) if below.size and np.any(theta[below] != 0) else (1.0,)
        for sign in signs:
            for h in PROBE_STEPS:
                x = theta.copy()
                x[group] = np.maximum(x[group], h * scale)
                x[below] = sign * theta[below]
                probes.append(x)
    return probes


#: The optimiser's result type (scipy's OptimizeResult), passed through unchanged.
R = TypeVar("R")


def verify_boundary(
    f: Callable[[np.ndarray], float],
    minimise: Callable[[np.ndarray], tuple[np.ndarray, R]],
    theta: np.ndarray,
    fx: float,
    res: R,
    lower: np.ndarray,
    terms: tuple[RandomTerm, ...],
) -> tuple[np.ndarray, float, R, dict]:
    """Restart from just inside a boundary optimum; keep the better optimum.

    Returns ``(theta, f(theta), optimiser result, info)`` where ``info`` has
    ``restarts`` (optimisations run), ``improved`` (deviance gained) and
    ``verified`` (False when a probe around the final point is still lower by
    more than :data:`PROBE_TOL`: the point is not a minimum).
    """
    restarts, gained = 0, 0.0
    while True:
        probes = boundary_probes(theta, lower, terms)
        vals = np.array([f(x) for x in probes])
        if not probes or not vals.min() < fx - PROBE_TOL or restarts == MAX_RESTARTS:
            break  # interior, a verified boundary minimum, or out of restarts
        best = int(np.argmin(vals))
        restarts += 1
        theta2, res2 = minimise(probes[best])
        f2 = f(theta2)
        if not f2 <= vals[best]:  # the optimiser should not end above its start
            theta2, f2 = probes[best], vals[best]
        gained += fx - f2
        theta, fx, res = theta2, f2, res2
    lowest = vals.min() if probes else np.inf
    info = {"restarts": restarts, "improved": gained, "verified": bool(lowest >= fx - PROBE_TOL)}
    return theta, fx, res, info


def check_terms(design: Design) -> None:
    """Duplicate random terms: a grouping factor with the same column in two terms."""
    seen: dict[tuple[str, str], int] = {}
    for i, term in enumerate(design.terms):
        for c in term.columns:
            key = (term.group, c)
            if key in seen:
                raise ModelSpecError(
                    f"random terms {seen[key] + 1} and {i + 1} both give {term.group!r} a "
                    f"random {c!r}: the variance is not identifiable; write it once"
                )
            seen[key] = i


#: ``rss(y ~ X + Z) / rss(y ~ X)`` below this: no residual variation is left.
DEGENERATE_RATIO = 1e-8


def check_residual(design: Design, yr: np.ndarray, pls: Callable) -> None:
    """A constant outcome, or one without variation within the groups, is an error.

    ``yr`` is y residualised on X. The fixed-effects-only residual sum of squares
    is ``|yr|^2``; with every random effect free (theta = 1e6 on the diagonals)
    the PLS residual approaches that of y on [X Z]. When the second is
    :data:`DEGENERATE_RATIO` or less of the first, the residual variance
    sigma^2 is (numerically) 0 and the profiled deviance has no minimum.
    """
    name = design.response
    ss_y = float(np.dot(design.y, design.y))
    rss_x = float(np.dot(yr, yr))
    if not rss_x > 1e-24 * ss_y:
        raise ModelSpecError(
            f"the outcome {name!r} is constant (or fitted exactly by the fixed effects); "
            "there is no variance to model"
        )
    slices, _, start = theta_layout(design.terms)
    # theta -> infinity along a set of terms whose Z fits y exactly sends sigma^2 to 0;
    # the deviance then falls without bound when those terms have fewer random
    # effects than the residual degrees of freedom (otherwise ldL2 wins).
    df = design.n - design.p
    q_all = sum(t.n_levels * t.k for t in design.terms)
    # all terms together when they have fewer random effects than df (if they leave
    # residual variation, so does every subset); otherwise each term alone
    n_terms = len(design.terms)
    subsets = [list(range(n_terms))] if q_all < df else [[i] for i in range(n_terms)]
    for sub in subsets:
        q = sum(design.terms[i].n_levels * design.terms[i].k for i in sub)
        if q >= df:
            continue
        theta = np.zeros_like(start)
        for i in sub:
            theta[slices[i]] = 1e6 * start[slices[i]]
        rss_xz = pls(theta).pwrss
        if not rss_xz > DEGENERATE_RATIO * rss_x:  # also NaN/inf: M not positive definite
            groups = ", ".join(dict.fromkeys(repr(design.terms[i].group) for i in sub))
            ratio = f"{rss_xz / rss_x:.1e}" if np.isfinite(rss_xz) else "0"
            raise ModelSpecError(
                f"no residual variation: {name!r} is (almost) constant within the groups of "
                f"{groups} after the random effects (residual sum of squares {ratio} "
                "of the fixed-effects-only one), so the residual variance is 0 and the model "
                "has no optimum; was a group-level score analysed per observation?"
            )
