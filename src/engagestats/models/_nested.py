"""Fast PLS path for nested grouping factors, on per-group sufficient statistics.

Internal. When the grouping factors form a chain (each level of an inner
factor lies in exactly one level of the next outer one), the matrix

    [[Lambda'Z'Z Lambda + I, Lambda'Z'X, Lambda'Z'y],
     [X'Z Lambda,            X'X,        X'y       ],
     [y'Z Lambda,            y'X,        y'y       ]]

is eliminated level by level: per innermost group a small block holds the
cross-products of [Z_1 .. Z_d X y] (computed once, in one pass over the rows);
each evaluation Cholesky-factors the groups' own blocks in a batch and sums
the Schur complements into the parent groups, then into the fixed effects.
An evaluation costs O(groups x m^3) with m = sum(k) + p + 1 and never touches
the rows. This is block Gaussian elimination of the PLS system of Bates et al.
(2015, eqs. 30-45) in the nested ordering, so no fill-in outside the blocks.

The gradient of the profiled deviance with respect to theta is the reverse
(adjoint) pass of that elimination. With ``f(M) = log det M_XX + c log pwrss``
on the final Schur complement ``M`` of [X y], ``dM = (M_XX^{-1} (REML only), 0)
+ (c / pwrss) v v'`` with ``v = (-beta, 1)``. Each Schur step
``S = C - B' A^{-1} B`` (plus ``log det A``) maps an adjoint ``dS`` back to
``[-K; I] dS [-K; I]' + diag(A^{-1}, 0)`` with ``K = A^{-1} B``; the innermost
closed form ``P = Lambda_1 A^{-1} Lambda_1'`` gives
``dLambda_1 = 2 sum_i [Z_i Lambda_1 A_i^{-1} + (I - Z_i Lambda_1 E_i) dP_i E_i']``
with ``E_i = A_i^{-1} Lambda_1'``, and the outer scaling ``Dr' S Dr`` gives
``dDr = 2 sum_t S_t Dr dcur_t``. One gradient costs about one evaluation.
"""

from __future__ import annotations

import itertools
from typing import Any, cast

import numpy as np
import scipy.sparse as sp

from ._lambda import finish, theta_layout, tri_index
from ._types import Design

_SMALL = 4  # block sizes up to this use unrolled, vectorised Cholesky/solves


def _chol(A: np.ndarray) -> np.ndarray:
    """Batched lower Cholesky factors of (G, k, k) SPD matrices.

    Raises :class:`numpy.linalg.LinAlgError` when a matrix is not numerically positive
    definite (a pivot that is not positive and finite), on both paths alike.
    """
    k = A.shape[1]
    if k > _SMALL:
        return np.linalg.cholesky(A)
    L = np.zeros_like(A)
    for j in range(k):
        s = A[:, j, j] - np.einsum("gi,gi->g", L[:, j, :j], L[:, j, :j])
        if not np.all(s > 0) or not np.all(np.isfinite(s)):
            raise np.linalg.LinAlgError("matrix is not positive definite")
        L[:, j, j] = np.sqrt(s)
        for i in range(j + 1, k):
            t = A[:, i, j] - np.einsum("gi,gi->g", L[:, i, :j], L[:, j, :j])
            L[:, i, j] = t / L[:, j, j]
    return L


def _fwd(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve L T = B for (G, k, k) lower L and (G, k, r) B."""
    k = L.shape[1]
    if k > _SMALL:
        return np.linalg.solve(L, B)
    T = np.empty_like(B)
    for i in range(k):
        acc = B[:, i, :] - np.einsum("gj,gjr->gr", L[:, i, :i], T[:, :i, :])
        T[:, i, :] = acc / L[:, i, i, None]
    return T


def _bwd(L: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Solve L' u = c for (G, k, k) lower L and (G, k) c."""
    k = L.shape[1]
    u = np.empty_like(c)
    for i in range(k - 1, -1, -1):
        acc = c[:, i] - np.einsum("gj,gj->g", L[:, i + 1 :, i], u[:, i + 1 :])
        u[:, i] = acc / L[:, i, i]
    return u


def nested_levels(design: Design) -> list[dict] | None:
    """Group the terms into a chain of nested grouping factors, or ``None``.

    Terms with the same grouping factor share a level. Levels are ordered
    by decreasing number of groups; each must be nested in the next.
    """
    groups: dict[str, list[int]] = {}
    for i, term in enumerate(design.terms):
        groups.setdefault(term.group, []).append(i)
    levels: list[dict[str, Any]] = []
    for idx in groups.values():
        t0 = design.terms[idx[0]]
        levels.append(
            {
                "terms": idx,
                "k": sum(design.terms[i].k for i in idx),
                "G": t0.n_levels,
                "codes": t0.codes,
            }
        )
    levels.sort(key=lambda lv: -lv["G"])
    for inner, outer in itertools.pairwise(levels):
        parent = np.zeros(inner["G"], dtype=np.intp)
        parent[inner["codes"]] = outer["codes"]
        if not np.array_equal(parent[inner["codes"]], outer["codes"]):
            return None
        inner["parent"] = parent
    return levels


def _unpack(flat: np.ndarray, r: int) -> np.ndarray:
    """(G, r(r+1)/2) upper-triangle rows -> (G, r, r) symmetric matrices."""
    iu = np.triu_indices(r)
    out = np.empty((flat.shape[0], r, r))
    out[:, iu[0], iu[1]] = flat
    out[:, iu[1], iu[0]] = flat
    return out


def _crossprods(M: np.ndarray, codes: np.ndarray, G: int) -> np.ndarray:
    """Per-group cross-products ``M_g' M_g``, shape (G, m, m).

    Repeated columns (the intercept of X and of each Z, a slope in both X and Z)
    are summed once; an all-ones column needs no product.
    """
    m = M.shape[1]
    uniq: list[int] = []
    idx = np.empty(m, dtype=np.intp)
    for j in range(m):
        for u_pos, u in enumerate(uniq):
            if np.array_equal(M[:, j], M[:, u]):
                idx[j] = u_pos
                break
        else:
            idx[j] = len(uniq)
            uniq.append(j)
    cols = [np.ascontiguousarray(M[:, j]) for j in uniq]
    ones = [bool(np.all(c == 1.0)) for c in cols]
    mu = len(cols)
    Wu = np.empty((G, mu, mu))
    for a in range(mu):
        for b in range(a, mu):
            if ones[a] and ones[b]:
                w = np.bincount(codes, minlength=G).astype(float)
            elif ones[a] or ones[b]:
                w = np.bincount(codes, weights=cols[b] if ones[a] else cols[a], minlength=G)
            else:
                w = np.bincount(codes, weights=cols[a] * cols[b], minlength=G)
            Wu[:, a, b] = w
            Wu[:, b, a] = w
    return Wu[:, idx][:, :, idx]


def _smul(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """``X[:, :, g] @ C`` for a (k, j, G) stack and a constant (j, l) matrix.

    No BLAS: multi-threaded BLAS on long thin products costs more than it saves here.
    """
    out = np.zeros((X.shape[0], C.shape[1], X.shape[2]))
    for c in range(C.shape[0]):
        for b in range(C.shape[1]):
            if C[c, b] != 0.0:
                out[:, b] += C[c, b] * X[:, c]
    return out


def _level1(lam: np.ndarray, Zt: np.ndarray) -> tuple:
    """Innermost groups, entry by entry over all groups at once ((k, k, G) arrays).

    ``A_i = lam' Z_i'Z_i lam + I = L_i L_i'``; returns ``sum log det A_i``, the packed
    upper triangle of ``P_i = lam A_i^{-1} lam'`` (G, k(k+1)/2), ``L_i^{-1}`` and
    ``B_i = L_i^{-1} lam'``.
    """
    k, G = lam.shape[0], Zt.shape[2]
    A = _smul(_smul(Zt, lam).transpose(1, 0, 2), lam)  # lam' Z'Z lam (Z'Z symmetric)
    L = np.zeros((k, k, G))
    for j in range(k):
        s = A[j, j] + 1.0
        for t in range(j):
            s = s - L[j, t] ** 2
        L[j, j] = np.sqrt(s)
        for i in range(j + 1, k):
            s = A[i, j].copy()
            for t in range(j):
                s -= L[i, t] * L[j, t]
            L[i, j] = s / L[j, j]
    Li = np.zeros((k, k, G))
    for j in range(k):
        Li[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, k):
            s = L[i, j] * Li[j, j]
            for t in range(j + 1, i):
                s = s + L[i, t] * Li[t, j]
            Li[i, j] = -s / L[i, i]
    B = _smul(Li, lam.T)
    ia, ib = np.triu_indices(k)
    Ptri = np.empty((G, ia.size))
    for col, (a, b) in enumerate(zip(ia, ib, strict=True)):
        Ptri[:, col] = np.einsum("tg,tg->g", B[:, a], B[:, b])
    ld = 2.0 * float(sum(np.sum(np.log(L[j, j])) for j in range(k)))
    return ld, Ptri, Li, B, L


def _mm(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per-group products of (k, k, G) stacks, ``out[:, :, g] = X[:, :, g] @ Y[:, :, g]``."""
    k = X.shape[0]
    out = np.empty((k, Y.shape[1], X.shape[2]))
    for a in range(k):
        for b in range(Y.shape[1]):
            acc = X[a, 0] * Y[0, b]
            for c in range(1, X.shape[1]):
                acc += X[a, c] * Y[c, b]
            out[a, b] = acc
    return out


class NestedPLS:
    """PLS on per-group cross-products; see the module docstring.

    The innermost level (most groups) is eliminated with a closed form that is
    linear in ``P_i = Lambda_1 A_i^{-1} Lambda_1'`` (k1 x k1 per group): the Schur
    complement summed into parent t is ``sum_i F_i' P_i F_i`` with
    ``F_i = Z_1i' [Z_rest X y]_i`` fixed, so its pieces ``F_ia' F_ib`` are
    precomputed and each evaluation is one sparse product. Outer levels (few
    groups) use batched block Cholesky. Innermost groups are stored sorted by
    parent so that the per-parent sums read memory in order.
    """

    path = "nested"
    #: Set by ``engine._solver``: the OLS coefficients y was residualised on, and the residual.
    beta0: np.ndarray
    yr: np.ndarray

    def __init__(self, design: Design, yr: np.ndarray, levels: list[dict]) -> None:
        self.p = design.p
        self.terms = design.terms
        self.levels = levels
        self.slices, _, _ = theta_layout(design.terms)
        codes = levels[0]["codes"]
        G1, k1 = levels[0]["G"], levels[0]["k"]
        blocks = [design.terms[i].Z for lv in levels for i in lv["terms"]]
        M = np.column_stack([*blocks, design.X, yr])
        m = M.shape[1]
        self.m = m
        # position in D (rows, columns) of each theta entry
        n_theta = self.slices[-1].stop
        self.theta_rc = (np.empty(n_theta, np.intp), np.empty(n_theta, np.intp))
        pos = 0
        for lv in levels:
            for i in lv["terms"]:
                rows, cols = tri_index(design.terms[i].k)
                self.theta_rc[0][self.slices[i]] = pos + rows
                self.theta_rc[1][self.slices[i]] = pos + cols
                pos += design.terms[i].k
        parent0 = levels[0]["parent"] if len(levels) > 1 else np.zeros(G1, dtype=np.intp)
        G_par = int(parent0.max()) + 1
        order0 = np.argsort(parent0, kind="stable")
        self.order0 = order0
        self.par_sorted = parent0[order0]
        W = _crossprods(M, codes, G1)[order0]
        r = m - k1
        self.r = r
        self.Z1tZ1_t = np.ascontiguousarray(W[:, :k1, :k1].transpose(1, 2, 0))
        self.F = np.ascontiguousarray(W[:, :k1, k1:])  # (G1, k1, r), sorted by parent
        ia, ib = np.triu_indices(k1)
        iu = np.triu_indices(r)
        self.iu = iu
        self.wdouble = np.where(iu[0] == iu[1], 1.0, 2.0)
        F = self.F
        # packed F_a' F_b + [a != b] F_b' F_a over the upper triangle (c <= d) of r x r
        Fa, Fb = F[:, ia], F[:, ib]  # (G1, kk, r)
        O3 = Fa[:, :, iu[0]] * Fb[:, :, iu[1]]
        off = np.flatnonzero(ia != ib)
        O3[:, off] += Fb[:, off][:, :, iu[0]] * Fa[:, off][:, :, iu[1]]
        kk = ia.size
        self.O3 = O3  # (G1, kk, nr)
        self.O = self.O3.reshape(G1 * kk, -1)
        self.tri1 = (ia, ib)
        counts = np.bincount(parent0, minlength=G_par)
        indptr = np.concatenate([[0], np.cumsum(counts * kk)])
        self.ind = sp.csr_matrix(
            (np.zeros(G1 * kk), np.arange(G1 * kk), indptr), shape=(G_par, G1 * kk)
        )
        starts = indptr[:-1] // kk
        self.Cpar = np.add.reduceat(W[:, k1:, k1:], starts, axis=0)
        for lv in levels[1:-1]:
            order = np.argsort(lv["parent"], kind="stable")
            lv["order"] = order
            G_parent = int(lv["parent"].max()) + 1
            lv["starts"] = np.searchsorted(lv["parent"][order], np.arange(G_parent))
        self._last: dict | None = None

    def _D(self, theta: np.ndarray) -> np.ndarray:
        D = np.eye(self.m)
        D[self.theta_rc] = theta
        return D

    def solve(self, theta: np.ndarray):
        D = self._D(theta)
        k1 = self.levels[0]["k"]
        lam1 = D[:k1, :k1]
        ldL2, Ptri, Li, B, L1 = _level1(lam1, self.Z1tZ1_t)
        self.ind.data = Ptri.ravel()
        S = self.Cpar - _unpack(self.ind @ self.O, self.r)
        Dr = D[k1:, k1:]
        cur = Dr.T @ S @ Dr
        saved = []
        for li, lv in enumerate(self.levels[1:], start=1):
            k = lv["k"]
            A = cur[:, :k, :k].copy()
            A[:, np.arange(k), np.arange(k)] += 1.0
            try:
                L = _chol(A)
            except np.linalg.LinAlgError:  # not numerically positive definite at theta
                self._last = None
                return None
            ldL2 += 2.0 * float(np.sum(np.log(L[:, np.arange(k), np.arange(k)])))
            T = _fwd(L, cur[:, :k, k:])
            Sl = cur[:, k:, k:] - np.einsum("gki,gkj->gij", T, T)
            saved.append((L, T))
            cur = (
                np.add.reduceat(Sl[lv["order"]], lv["starts"], axis=0)
                if li < len(self.levels) - 1
                else Sl.sum(axis=0, keepdims=True)
            )
        M = cur[0]
        out = finish(0.5 * (M + M.T), self.p)
        if out is None:
            self._last = None
            return None
        ldRX2, pwrss, beta_r, inv = out
        self._last = {
            "theta": theta.copy(),
            "D": D,
            "L1": L1,
            "Li": Li,
            "B": B,
            "S": S,
            "saved": saved,
            "beta": beta_r,
            "inv": inv,
            "pwrss": pwrss,
        }
        return ldL2, ldRX2, pwrss, beta_r, inv

    def _cached(self, theta: np.ndarray) -> dict | None:
        if self._last is None or not np.array_equal(self._last["theta"], theta):
            self.solve(theta)
        return self._last

    def gradient(self, theta: np.ndarray, *, reml: bool, n: int) -> np.ndarray | None:
        """Gradient of the profiled deviance (``profiled_deviance``) at theta.

        ``None`` when the PLS system is not positive definite at theta.
        """
        st = self._cached(theta)
        if st is None:
            return None
        p, d = self.p, len(self.levels)
        c = (n - p) if reml else n
        v = np.append(-st["beta"], 1.0)
        bar = (c / st["pwrss"]) * np.outer(v, v)
        if reml and p:
            bar[:p, :p] += st["inv"]
        bar = bar[None]
        for li in range(d - 1, 0, -1):
            L, T = st["saved"][li - 1]
            G, k = L.shape[:2]
            rest = T.shape[2]
            Sbar = (
                np.broadcast_to(bar, (G, rest, rest))
                if li == d - 1
                else bar[self.levels[li]["parent"]]
            )
            Linv = np.linalg.inv(L)
            LinvT = np.swapaxes(Linv, 1, 2)
            K = LinvT @ T
            KS = K @ Sbar
            cb = np.empty((G, k + rest, k + rest))
            cb[:, :k, :k] = LinvT @ Linv + KS @ np.swapaxes(K, 1, 2)
            cb[:, :k, k:] = -KS
            cb[:, k:, :k] = -np.swapaxes(KS, 1, 2)
            cb[:, k:, k:] = Sbar
            bar = cb
        D = st["D"]
        k1 = self.levels[0]["k"]
        Dr = D[k1:, k1:]
        Dbar = np.zeros((self.m, self.m))
        Dbar[k1:, k1:] = 2.0 * np.einsum("tij,tjk->ik", st["S"] @ Dr, bar)
        Rbar = Dr @ bar @ Dr.T
        Rw = Rbar[:, self.iu[0], self.iu[1]] * self.wdouble
        gP = -np.einsum("gkr,gr->gk", self.O3, Rw[self.par_sorted])  # d f / d Ptri
        G1 = gP.shape[0]
        Pbar = np.empty((k1, k1, G1))
        for col, (a, b) in enumerate(zip(*self.tri1, strict=True)):
            Pbar[a, b] = gP[:, col] if a == b else 0.5 * gP[:, col]
            Pbar[b, a] = Pbar[a, b]
        lam1 = D[:k1, :k1]
        Li, B = st["Li"], st["B"]
        LiT = Li.transpose(1, 0, 2)
        Ainv = _mm(LiT, Li)  # A^{-1} = Li' Li
        E = _mm(LiT, B)  # A^{-1} lam'
        Gm = _smul(self.Z1tZ1_t, lam1)  # Z'Z lam
        PE = _mm(Pbar, E.transpose(1, 0, 2))
        Dbar[:k1, :k1] = 2.0 * (_mm(Gm, Ainv - _mm(E, PE)).sum(axis=2) + PE.sum(axis=2))
        return Dbar[self.theta_rc]

    def modes(self, theta: np.ndarray) -> list[np.ndarray]:
        """Conditional modes b = Lambda u per term, shape (n_levels, k)."""
        st = cast(dict, self._cached(theta))  # asked for at a fitted, positive-definite theta
        D, beta_r = st["D"], st["beta"]
        k1 = self.levels[0]["k"]
        L1 = np.ascontiguousarray(st["L1"].transpose(2, 0, 1))
        T1 = _fwd(L1, (D[:k1, :k1].T @ self.F) @ D[k1:, k1:])
        saved = [(L1, T1), *st["saved"]]
        d = len(self.levels)
        us: list[np.ndarray] = [np.empty(0)] * d
        for li in range(d - 1, -1, -1):
            L, T = saved[li]
            ids = self.order0 if li == 0 else np.arange(L.shape[0])
            rest = []
            anc = ids
            for lj in range(li + 1, d):
                anc = self.levels[lj - 1]["parent"][anc]
                rest.append(us[lj][anc])
            rest.append(np.broadcast_to(beta_r, (ids.size, self.p)))
            x = np.concatenate(rest, axis=1)
            c = T[:, :, -1] - np.einsum("gkr,gr->gk", T[:, :, :-1], x)
            u = np.empty((ids.size, L.shape[1]))
            u[ids] = _bwd(L, c)
            us[li] = u
        out: list[np.ndarray] = [np.empty(0)] * len(self.terms)
        pos = 0
        for li, lv in enumerate(self.levels):
            col = 0
            for i in lv["terms"]:
                k = self.terms[i].k
                lam = D[pos : pos + k, pos : pos + k]
                out[i] = us[li][:, col : col + k] @ lam.T
                col += k
                pos += k
        return out
