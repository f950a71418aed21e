"""The Laplace deviance of a GLMM with any random-effects structure, by PIRLS (as lme4).

Internal. The model is ``g(E[y | u]) = offset + X beta + Z Lambda(theta) u``,
``u ~ N(0, I_q)``, with ``Lambda`` block diagonal (one lower-triangular
``k x k`` factor per term and level, lme4's ``theta`` layout: :mod:`._lambda`).
For given ``(theta, beta)`` the conditional mode ``u^`` minimises
``sum_i d_i(u) + |u|^2`` (``d_i = -2 log f(y_i | u)``) and is found by penalised
iteratively reweighted least squares with step halving; with
``A = Z Lambda``, ``W`` the Fisher weights at ``u^`` and ``L L' = A' W A + I``
the Laplace approximation to ``-2 log`` of the marginal likelihood is

    ``sum_i d_i(u^) + |u^|^2 + log |L|^2``

(lme4's ``glmerLaplace`` objective; ``-2 * logLik(fit)``). With
``joint=True`` beta is updated together with ``u`` (lme4's ``nAGQ = 0``
criterion, used for the first optimisation stage).

``A`` keeps a fixed sparsity pattern (row ``i`` of term ``t`` is
``Z_t[i, :] Lambda_t`` placed at its level's columns), so it is rebuilt at every
``theta`` without sparse products. ``A' W A + I`` is factored by a dense
Cholesky when ``q`` is small and by SuperLU (symmetric minimum-degree
ordering, no pivoting) otherwise.

References
----------
Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear
mixed-effects models using lme4. J Stat Softw, 67(1), 1-48 (sections 3 and 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

from ._glmm_family import Family
from ._lambda import term_lambda, theta_layout
from ._types import Design

__all__ = ["Laplace", "Mode"]

_SCHUR_MAX = 1500
_U_TOL = 1e-10
_MAX_PIRLS = 200


class _Factor:
    """Factor of the SPD ``M = A' W A + I``: ``solve`` and ``logdet``.

    The first term's block ``M11`` is block diagonal (each row of the data
    belongs to one level), so ``M`` is factored by blocks: batched ``k x k``
    inverses of ``M11`` and a dense Cholesky of the Schur complement
    ``S = M22 - M21 M11^{-1} M12`` of the remaining terms. With a large
    remainder (``q2 > _SCHUR_MAX``) SuperLU factors ``M`` directly.
    """

    def __init__(self, M: scipy.sparse.csr_matrix, q1: int, k1: int) -> None:
        q = M.shape[0]
        q2 = q - q1
        self.q1 = q1
        self._lu = None
        if q2 > _SCHUR_MAX:
            self._lu = scipy.sparse.linalg.splu(
                M.tocsc(),
                permc_spec="MMD_AT_PLUS_A",
                diag_pivot_thresh=0.0,
                options={"SymmetricMode": True},
            )
            self.logdet = float(np.sum(np.log(np.abs(self._lu.U.diagonal()))))
            return
        nl = q1 // k1
        base = np.arange(nl)[:, None, None] * k1
        rows = (base + np.arange(k1)[None, :, None]).repeat(k1, axis=2).ravel()
        cols = (base + np.arange(k1)[None, None, :]).repeat(k1, axis=1).ravel()
        blocks = np.asarray(M[rows, cols]).reshape(nl, k1, k1)
        if k1 == 1:
            inv = 1.0 / blocks
            ld1 = float(np.sum(np.log(blocks)))
        else:
            inv = np.linalg.inv(blocks)
            ld1 = float(np.sum(np.linalg.slogdet(blocks)[1]))
        self._inv = scipy.sparse.csr_matrix((inv.ravel(), (rows, cols)), shape=(q1, q1))
        if q2:
            M12 = M[:q1, q1:]
            self._B = (self._inv @ M12).tocsr()
            S = M[q1:, q1:].toarray() - (M12.T @ self._B).toarray()
            self._S = np.linalg.cholesky(S)
            ld2 = float(2.0 * np.sum(np.log(np.diag(self._S))))
        else:
            ld2 = 0.0
        self.logdet = ld1 + ld2

    def solve(self, b: np.ndarray) -> np.ndarray:
        b = np.asarray(b, dtype=float)
        if self._lu is not None:
            return self._lu.solve(b)
        q1 = self.q1
        y1 = self._inv @ b[:q1]
        if b.shape[0] == q1:
            return y1
        r2 = b[q1:] - self._B.T @ b[:q1]
        x2 = scipy.linalg.cho_solve((self._S, True), r2, check_finite=False)
        return np.concatenate([y1 - self._B @ x2, x2], axis=0)


@dataclass
class Mode:
    """PIRLS solution at one ``(theta, beta)``."""

    u: np.ndarray
    beta: np.ndarray
    eta: np.ndarray
    mu: np.ndarray
    w: np.ndarray
    dev: float  # Laplace deviance (-2 log L, with constants)
    factor: _Factor
    A: scipy.sparse.csr_matrix
    iterations: int
    extra: dict = field(default_factory=dict)


class Laplace:
    """Laplace deviance of one GLMM problem (data fixed, parameters vary)."""

    def __init__(
        self,
        design: Design,
        family: Family,
        y: np.ndarray,
        pw: np.ndarray,
        offset: np.ndarray,
        X: np.ndarray | None = None,
    ) -> None:
        self.design, self.family = design, family
        self.y, self.pw, self.offset = y, pw, offset
        self.X = design.X if X is None else X
        self.slices, self.lower, self.theta_start = theta_layout(design.terms)
        n = design.n
        cols, offs = [], 0
        self.term_offsets = []
        for t in design.terms:
            self.term_offsets.append(offs)
            cols.append(offs + t.codes[:, None] * t.k + np.arange(t.k)[None, :])
            offs += t.n_levels * t.k
        self.q = offs
        first = design.terms[0]
        self.q1, self.k1 = first.n_levels * first.k, first.k
        self._const = float(np.sum(family.constant(y, pw)))
        self._indices = np.concatenate(cols, axis=1).ravel()
        width = self._width = sum(t.k for t in design.terms)
        self._indptr = np.arange(0, n * width + 1, width)
        self.n_evals = 0

    def lambdas(self, theta: np.ndarray) -> list[np.ndarray]:
        return [
            term_lambda(theta[s], t.k) for t, s in zip(self.design.terms, self.slices, strict=True)
        ]

    def a_matrix(self, theta: np.ndarray) -> scipy.sparse.csr_matrix:
        blocks = [t.Z @ lam for t, lam in zip(self.design.terms, self.lambdas(theta), strict=True)]
        data = np.concatenate(blocks, axis=1).ravel()
        return scipy.sparse.csr_matrix(
            (data, self._indices, self._indptr), shape=(self.design.n, self.q)
        )

    def _scaled(self, A: scipy.sparse.csr_matrix, w: np.ndarray) -> scipy.sparse.csr_matrix:
        """``diag(w) A`` on A's fixed pattern."""
        data = A.data * np.repeat(w, self._width)
        return scipy.sparse.csr_matrix((data, A.indices, A.indptr), shape=A.shape)

    def b(self, theta: np.ndarray, u: np.ndarray) -> list[np.ndarray]:
        """Random effects ``Lambda u`` per term, shape (levels, k)."""
        out = []
        for t, off, lam in zip(
            self.design.terms, self.term_offsets, self.lambdas(theta), strict=True
        ):
            uu = u[off : off + t.n_levels * t.k].reshape(t.n_levels, t.k)
            out.append(uu @ lam.T)
        return out

    def _objective(self, eta: np.ndarray, u: np.ndarray) -> float:
        return float(np.sum(self.family.kernel(self.y, self.pw, eta)) + self._const + u @ u)

    def mode(
        self,
        theta: np.ndarray,
        beta: np.ndarray,
        u0: np.ndarray | None = None,
        *,
        joint: bool = False,
    ) -> Mode:
        """Conditional mode (and, with ``joint``, beta) by PIRLS; the Laplace deviance there."""
        self.n_evals += 1
        fam, y, pw = self.family, self.y, self.pw
        A = self.a_matrix(np.asarray(theta, dtype=float))
        At = A.T.tocsr()
        X = self.X
        u = np.zeros(self.q) if u0 is None else np.array(u0, dtype=float)
        beta = np.array(beta, dtype=float)
        fixed = self.offset + X @ beta
        eta = fixed + A @ u
        obj = self._objective(eta, u)
        eye = scipy.sparse.identity(self.q, format="csr")
        it = 0
        for it in range(1, _MAX_PIRLS + 1):  # noqa: B007
            mu, w, s = fam.weights_score(y, pw, eta)
            M = (At @ self._scaled(A, w)).tocsr() + eye
            factor = _Factor(M, self.q1, self.k1)
            r_u = At @ s - u
            if joint:
                WX = X * w[:, None]
                AtWX = np.asarray(At @ WX)
                MinvAtWX = factor.solve(AtWX)
                schur = X.T @ WX - AtWX.T @ MinvAtWX
                r_b = X.T @ s
                d_b = np.linalg.solve(schur, r_b - MinvAtWX.T @ r_u)
                d_u = factor.solve(r_u - AtWX @ d_b)
            else:
                d_b = np.zeros_like(beta)
                d_u = factor.solve(r_u)
            step = 1.0
            for _ in range(40):
                u_new = u + step * d_u
                b_new = beta + step * d_b
                eta_new = self.offset + X @ b_new + A @ u_new
                obj_new = self._objective(eta_new, u_new)
                if obj_new <= obj + 1e-10 * (1.0 + abs(obj)):
                    break
                step /= 2.0
            else:
                break
            small = max(
                np.max(np.abs(step * d_u), initial=0.0), np.max(np.abs(step * d_b), initial=0.0)
            )
            u, beta, eta, obj = u_new, b_new, eta_new, obj_new
            if small < _U_TOL:
                break
        mu, w, _ = fam.weights_score(y, pw, eta)
        M = (At @ self._scaled(A, w)).tocsr() + eye
        factor = _Factor(M, self.q1, self.k1)
        dev = obj + factor.logdet
        return Mode(u, beta, eta, mu, w, float(dev), factor, A, it)

    def rx_vcov(self, m: Mode) -> np.ndarray:
        """``(R_X' R_X)^{-1}`` with theta fixed (``vcov(fit, use.hessian = FALSE)``)."""
        X, w = self.X, m.w
        WX = X * w[:, None]
        AtWX = np.asarray(m.A.T @ WX)
        schur = X.T @ WX - AtWX.T @ m.factor.solve(AtWX)
        return np.linalg.inv(schur)

    def cond_var(self, theta: np.ndarray, m: Mode) -> list[np.ndarray]:
        """Conditional covariance blocks of ``b`` per term and level, (levels, k, k)."""
        out = []
        for t, off, lam in zip(
            self.design.terms, self.term_offsets, self.lambdas(theta), strict=True
        ):
            size = t.n_levels * t.k
            E = np.zeros((self.q, size))
            E[off : off + size] = np.eye(size)
            sol = m.factor.solve(E)[off : off + size]
            per = np.stack(
                [sol[j * t.k : (j + 1) * t.k, j * t.k : (j + 1) * t.k] for j in range(t.n_levels)]
            )
            out.append(np.einsum("ij,ljk,mk->lim", lam, per, lam))
        return out
