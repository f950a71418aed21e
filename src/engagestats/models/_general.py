"""General PLS path: sparse Z, any design (nested or crossed).

Internal. Solves the penalised least squares of Bates et al. (2015,
eqs. 30-45) with a sparse LU of ``A = Lambda' Z' Z Lambda + I`` (symmetric
ordering, no pivoting, so the diagonal of U gives ``log det A``).
"""

from __future__ import annotations

from typing import cast

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._lambda import finish, theta_layout, tri_index
from ._types import Design


class GeneralPLS:
    """PLS for any design; ``solve(theta)`` returns the pieces, ``modes`` the u."""

    path = "general"
    #: Set by ``engine._solver``: the OLS coefficients y was residualised on, and the residual.
    beta0: np.ndarray
    yr: np.ndarray

    def __init__(self, design: Design, yr: np.ndarray) -> None:
        n, p = design.n, design.p
        self.p = p
        self.terms = design.terms
        self.slices, _, _ = theta_layout(design.terms)
        rows, cols, vals = [], [], []
        lam_r, lam_c, lam_t = [], [], []
        offset = 0
        self.offsets = []
        for term, sl in zip(design.terms, self.slices, strict=True):
            k, G = term.k, term.n_levels
            self.offsets.append(offset)
            for j in range(k):
                rows.append(np.arange(n))
                cols.append(offset + term.codes * k + j)
                vals.append(term.Z[:, j])
            tr, tc = tri_index(k)
            base = offset + np.arange(G)[:, None] * k
            lam_r.append((base + tr[None, :]).ravel())
            lam_c.append((base + tc[None, :]).ravel())
            lam_t.append(np.tile(np.arange(sl.start, sl.stop), G))
            offset += G * k
        self.q = offset
        Z = sp.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, offset)
        )
        Xy = np.column_stack([design.X, yr])
        self.ZtZ = (Z.T @ Z).tocsc()
        self.ZtXy = np.asarray(Z.T @ Xy)
        self.XyXy = Xy.T @ Xy
        self.lam_r = np.concatenate(lam_r)
        self.lam_c = np.concatenate(lam_c)
        self.lam_t = np.concatenate(lam_t)
        self._last: tuple | None = None

    def _lambda(self, theta: np.ndarray) -> sp.csc_matrix:
        return sp.csc_matrix((theta[self.lam_t], (self.lam_r, self.lam_c)), shape=(self.q, self.q))

    def solve(self, theta: np.ndarray):
        lam = self._lambda(theta)
        A = (lam.T @ self.ZtZ @ lam + sp.identity(self.q, format="csc")).tocsc()
        lu = spla.splu(
            A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
        )
        ldL2 = float(np.sum(np.log(np.abs(lu.U.diagonal()))))
        B = np.asarray(lam.T @ self.ZtXy)
        AinvB = lu.solve(B) if B.size else B
        M = self.XyXy - B.T @ AinvB
        out = finish(0.5 * (M + M.T), self.p)
        if out is None:
            return None
        ldRX2, pwrss, beta_r, inv = out
        self._last = (theta.copy(), AinvB, beta_r, lam)
        return ldL2, ldRX2, pwrss, beta_r, inv

    def modes(self, theta: np.ndarray) -> list[np.ndarray]:
        """Conditional modes b = Lambda u per term, shape (n_levels, k)."""
        if self._last is None or not np.array_equal(self._last[0], theta):
            self.solve(theta)
        _, AinvB, beta_r, lam = cast(tuple, self._last)  # set by solve at a positive-definite theta
        u = AinvB[:, self.p] - AinvB[:, : self.p] @ beta_r
        b = lam @ u
        return [
            b[off : off + t.n_levels * t.k].reshape(t.n_levels, t.k)
            for off, t in zip(self.offsets, self.terms, strict=True)
        ]
