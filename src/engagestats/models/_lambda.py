"""Pieces shared by both PLS paths: the theta layout and the fixed-effects step.

Internal. ``theta`` holds, term after term, the lower triangle of each
term's relative covariance factor Lambda_k in column-major order (lme4's
``getME(fit, "theta")``).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ._types import RandomTerm


def tri_index(k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of the lower triangle of a k x k matrix in column-major order."""
    cols, rows = np.triu_indices(k)
    return rows, cols


def theta_layout(terms: tuple[RandomTerm, ...]) -> tuple[list[slice], np.ndarray, np.ndarray]:
    """Slices of theta per term, lower bounds and lme4's starting values."""
    slices, lower, start = [], [], []
    pos = 0
    for term in terms:
        rows, cols = tri_index(term.k)
        slices.append(slice(pos, pos + len(rows)))
        pos += len(rows)
        diag = rows == cols
        lower.append(np.where(diag, 0.0, -np.inf))
        start.append(diag.astype(float))
    return slices, np.concatenate(lower), np.concatenate(start)


def term_lambda(theta_k: np.ndarray, k: int) -> np.ndarray:
    """The k x k lower-triangular Lambda_k of one term."""
    lam = np.zeros((k, k))
    rows, cols = tri_index(k)
    lam[rows, cols] = theta_k
    return lam


def theta_names(terms: tuple[RandomTerm, ...]) -> list[str]:
    """lme4's names of theta (``"client.(Intercept)"``, ``"client.time.(Intercept)"``)."""
    names = []
    for term in terms:
        rows, cols = tri_index(term.k)
        for r, c in zip(rows, cols, strict=True):
            if r == c:
                names.append(f"{term.group}.{term.columns[r]}")
            else:
                names.append(f"{term.group}.{term.columns[r]}.{term.columns[c]}")
    return names


def finish(M: np.ndarray, p: int) -> tuple[float, float, np.ndarray, np.ndarray] | None:
    """Fixed-effects step from the Schur complement ``M`` of [X y] (size p + 1).

    Returns ``(ldRX2, pwrss, beta, RXinv_RXinvT)`` or ``None`` when ``M`` is
    not numerically positive definite.
    """
    try:
        L = np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        return None
    LX = L[:p, :p]
    dX = np.diag(LX)
    pw = float(L[p, p] ** 2)
    if (p and np.any(dX <= 0)) or not pw > 0:
        return None
    ldRX2 = float(2.0 * np.sum(np.log(dX))) if p else 0.0
    if p:
        beta = scipy.linalg.solve_triangular(LX.T, L[p, :p], lower=False)
        inv = scipy.linalg.cho_solve((LX, True), np.eye(p))
    else:
        beta, inv = np.zeros(0), np.zeros((0, 0))
    return ldRX2, pw, beta, inv
