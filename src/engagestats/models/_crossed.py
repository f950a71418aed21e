"""Crossed PLS path: block elimination of the largest term, dense Schur complement for the rest.

Internal. For crossed grouping factors ``A = Lambda' Z' Z Lambda + I`` has, for the
term with most random effects (``1``; e.g. 2972 students in InstEval), a block
diagonal part ``A11`` (one ``k x k`` block per level: every row belongs to one level).
With the other terms (``2``; lecturers, departments) in ``A22``,

    S = A22 - A21 A11^{-1} A12,     log |A| = log |A11| + log |S|,

so one evaluation costs batched ``k x k`` factorisations, one sparse product for
``A21 A11^{-1} A12`` and a dense Cholesky of ``S`` (``q2 x q2``), instead of a sparse LU of
all of ``A``. InstEval (q1 = 2972, q2 = 1156): 0.05 s an evaluation against 0.36 s for
the sparse LU. Used when ``q2`` is small enough for a dense ``S`` (at most ``MAX_DENSE``).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ._general import GeneralPLS
from ._lambda import finish, term_lambda
from ._types import Design

__all__ = ["MAX_DENSE", "MIN_Q", "SchurPLS"]

MAX_DENSE = 3000  # largest q2 for which the Schur complement is kept dense
MIN_Q = 1000  # below this many random effects the sparse LU of GeneralPLS is as fast


class SchurPLS(GeneralPLS):
    """PLS for crossed designs by elimination of the largest term; ``GeneralPLS`` interface."""

    path = "crossed-schur"

    def __init__(self, design: Design, yr: np.ndarray) -> None:
        super().__init__(design, yr)
        sizes = [t.n_levels * t.k for t in design.terms]
        self.big = int(np.argmax(sizes))
        t1 = design.terms[self.big]
        o1 = self.offsets[self.big]
        self.k1, self.g1 = t1.k, t1.n_levels
        q1 = sizes[self.big]
        self.idx1 = np.arange(o1, o1 + q1)
        self.idx2 = np.setdiff1d(np.arange(self.q), self.idx1)
        Z11 = np.zeros((t1.n_levels, t1.k, t1.k))
        np.add.at(Z11, t1.codes, t1.Z[:, :, None] * t1.Z[:, None, :])
        self.Z11 = Z11
        ZtZ = self.ZtZ.tocsr()
        self.Z12 = ZtZ[self.idx1][:, self.idx2].tocsc()
        self.Z22 = ZtZ[self.idx2][:, self.idx2].tocsc()
        self.theta1 = self.slices[self.big]

    @staticmethod
    def usable(design: Design) -> bool:
        """Whether the Schur complement of the largest term fits in a dense matrix."""
        sizes = [t.n_levels * t.k for t in design.terms]
        return len(sizes) > 1 and sum(sizes) - max(sizes) <= MAX_DENSE

    @staticmethod
    def preferred(design: Design) -> bool:
        """``method="auto"``: large crossed designs (``q >= MIN_Q``) whose ``S`` fits densely."""
        return SchurPLS.usable(design) and sum(t.n_levels * t.k for t in design.terms) >= MIN_Q

    def solve(self, theta: np.ndarray):
        lam = self._lambda(theta).tocsr()
        lam1 = term_lambda(theta[self.theta1], self.k1)
        L2 = lam[self.idx2][:, self.idx2].tocsc()
        A11 = np.einsum("ji,gjk,kl->gil", lam1, self.Z11, lam1) + np.eye(self.k1)
        try:
            C11 = np.linalg.cholesky(A11)  # (g1, k1, k1) lower
        except np.linalg.LinAlgError:
            return None
        A11inv = np.linalg.inv(A11)
        lam1_full = sp.kron(sp.identity(self.g1, format="csr"), sp.csr_matrix(lam1)).tocsr()
        A12 = (lam1_full.T @ self.Z12 @ L2).tocsr()
        A11inv_sp = sp.block_diag(list(A11inv), format="csr") if self.k1 > 1 else None
        if A11inv_sp is None:
            W = A12.multiply(A11inv[:, 0, 0][:, None]).tocsr()  # A11^{-1} A12
        else:
            W = (A11inv_sp @ A12).tocsr()
        S = (L2.T @ self.Z22 @ L2).toarray() + np.eye(self.idx2.size) - (A12.T @ W).toarray()
        try:
            cS = scipy.linalg.cho_factor(S, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            return None
        ldL2 = float(
            2.0 * np.sum(np.log(np.einsum("gii->gi", C11))) + 2.0 * np.sum(np.log(np.diag(cS[0])))
        )
        B = np.asarray(lam.T @ self.ZtXy)
        B1 = B[self.idx1].reshape(self.g1, self.k1, -1)
        B2 = B[self.idx2]
        Y1 = np.einsum("gij,gjm->gim", A11inv, B1).reshape(self.idx1.size, -1)
        X2 = scipy.linalg.cho_solve(cS, B2 - A12.T @ Y1, check_finite=False)
        X1 = Y1 - np.asarray(W @ X2)
        AinvB = np.empty_like(B)
        AinvB[self.idx1] = X1
        AinvB[self.idx2] = X2
        M = self.XyXy - B.T @ AinvB
        out = finish(0.5 * (M + M.T), self.p)
        if out is None:
            return None
        ldRX2, pwrss, beta_r, inv = out
        self._last = (theta.copy(), AinvB, beta_r, lam.tocsc())
        return ldL2, ldRX2, pwrss, beta_r, inv
