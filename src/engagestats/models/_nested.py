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
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

from ._lambda import finish, term_lambda, theta_layout
from ._types import Design

_SMALL = 4  # block sizes up to this use unrolled, vectorised Cholesky/solves


def _chol(A: np.ndarray) -> np.ndarray:
    """Batched lower Cholesky factors of (G, k, k) SPD matrices."""
    k = A.shape[1]
    if k > _SMALL:
        return np.linalg.cholesky(A)
    L = np.zeros_like(A)
    for j in range(k):
        s = A[:, j, j] - np.einsum("gi,gi->g", L[:, j, :j], L[:, j, :j])
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
    levels = []
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


class NestedPLS:
    """PLS on per-group cross-products; see the module docstring.

    The innermost level (most groups) is eliminated with a closed form that is
    linear in ``P_i = Lambda_1 A_i^{-1} Lambda_1'`` (k1 x k1 per group): the Schur
    complement summed into parent t is ``sum_i F_i' P_i F_i`` with
    ``F_i = Z_1i' [Z_rest X y]_i`` fixed, so its pieces ``F_ia' F_ib`` are
    precomputed and each evaluation is one sparse product. Outer levels (few
    groups) use batched block Cholesky.
    """

    path = "nested"

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
        W = np.empty((G1, m, m))
        for a in range(m):
            for b in range(a, m):
                W[:, a, b] = np.bincount(codes, weights=M[:, a] * M[:, b], minlength=G1)
                W[:, b, a] = W[:, a, b]
        # parent of each innermost group (a single pseudo-parent for a 2-level model)
        if len(levels) > 1:
            parent0 = levels[0]["parent"]
        else:
            parent0 = np.zeros(G1, dtype=np.intp)
        G_par = int(parent0.max()) + 1
        r = m - k1
        self.r = r
        self.Z1tZ1_t = np.ascontiguousarray(W[:, :k1, :k1].transpose(1, 2, 0))
        self.F = np.ascontiguousarray(W[:, :k1, k1:])  # (G1, k1, r)
        ia, ib = np.triu_indices(k1)
        iu = np.triu_indices(r)
        F = self.F
        outer = F[:, ia, :, None] * F[:, ib, None, :]  # (G1, kk, r, r): F_a' F_b
        outer = outer + np.where((ia != ib)[None, :, None, None], outer.transpose(0, 1, 3, 2), 0.0)
        kk = ia.size
        self.O = np.ascontiguousarray(outer[:, :, iu[0], iu[1]].reshape(G1 * kk, -1))
        self.tri1 = (ia, ib)
        rows = np.repeat(parent0, kk)
        cols = np.arange(G1 * kk)
        ind = sp.csr_matrix((np.arange(G1 * kk, dtype=float), (rows, cols)), shape=(G_par, G1 * kk))
        self.perm = ind.data.astype(np.intp)
        self.ind = ind
        C = W[:, k1:, k1:].reshape(G1, -1)
        Cpar = np.zeros((G_par, r * r))
        np.add.at(Cpar, parent0, C)
        self.Cpar = Cpar.reshape(G_par, r, r)
        for lv in levels[1:-1]:
            order = np.argsort(lv["parent"], kind="stable")
            lv["order"] = order
            G_parent = int(lv["parent"].max()) + 1
            lv["starts"] = np.searchsorted(lv["parent"][order], np.arange(G_parent))
        self._last: tuple | None = None

    def _D(self, theta: np.ndarray) -> np.ndarray:
        D = np.eye(self.m)
        pos = 0
        for lv in self.levels:
            for i in lv["terms"]:
                k = self.terms[i].k
                D[pos : pos + k, pos : pos + k] = term_lambda(theta[self.slices[i]], k)
                pos += k
        return D

    def _level1(self, lam1: np.ndarray) -> tuple[list, np.ndarray]:
        """Cholesky factors of A_i = Lambda_1' Z_1i'Z_1i Lambda_1 + I and
        P_i = Lambda_1 A_i^{-1} Lambda_1', entry by entry over all groups at once."""
        k = lam1.shape[0]
        Zt = self.Z1tZ1_t  # (k, k, G1)
        # A[a][b] = sum_cd lam[c,a] lam[d,b] ZtZ[c,d] (lam lower-triangular: c >= a, d >= b)
        A = [[None] * k for _ in range(k)]
        for a in range(k):
            for b in range(a + 1):
                acc = np.zeros(Zt.shape[2])
                for c in range(a, k):
                    for d in range(b, k):
                        w = lam1[c, a] * lam1[d, b]
                        if w != 0.0:
                            acc += w * Zt[c, d]
                A[a][b] = acc
        L = [[None] * k for _ in range(k)]
        for j in range(k):
            s = A[j][j] + 1.0
            for t in range(j):
                s = s - L[j][t] ** 2
            L[j][j] = np.sqrt(s)
            for i in range(j + 1, k):
                s = A[i][j].copy()
                for t in range(j):
                    s -= L[i][t] * L[j][t]
                L[i][j] = s / L[j][j]
        # B = L^{-1} Lambda_1' by forward substitution, column by column
        B = [[None] * k for _ in range(k)]
        for c in range(k):
            for i in range(k):
                s = np.full(Zt.shape[2], lam1[c, i])
                for t in range(i):
                    s = s - L[i][t] * B[t][c]
                B[i][c] = s / L[i][i]
        ia, ib = self.tri1
        Ptri = np.empty((Zt.shape[2], ia.size))
        for col, (i, j) in enumerate(zip(ia, ib, strict=True)):
            acc = B[0][i] * B[0][j]
            for t in range(1, k):
                acc = acc + B[t][i] * B[t][j]
            Ptri[:, col] = acc
        return L, Ptri

    @staticmethod
    def _stack(L: list) -> np.ndarray:
        k = len(L)
        Lm = np.zeros((L[0][0].shape[0], k, k))
        for i in range(k):
            for j in range(i + 1):
                Lm[:, i, j] = L[i][j]
        return Lm

    def solve(self, theta: np.ndarray):
        D = self._D(theta)
        k1 = self.levels[0]["k"]
        L1, Ptri = self._level1(D[:k1, :k1])
        ldL2 = 2.0 * float(sum(np.sum(np.log(L1[j][j])) for j in range(k1)))
        self.ind.data = Ptri.ravel()[self.perm]
        Q = _unpack(np.asarray(self.ind @ self.O), self.r)
        Dr = D[k1:, k1:]
        S = self.Cpar - Q
        cur = (Dr.T @ S) @ Dr
        saved = []
        for li, lv in enumerate(self.levels[1:], start=1):
            k = lv["k"]
            A = cur[:, :k, :k].copy()
            A[:, np.arange(k), np.arange(k)] += 1.0
            L = _chol(A)
            ldL2 += 2.0 * float(np.sum(np.log(L[:, np.arange(k), np.arange(k)])))
            T = _fwd(L, cur[:, :k, k:])
            S = cur[:, k:, k:] - np.einsum("gki,gkj->gij", T, T)
            saved.append((L, T))
            cur = (
                np.add.reduceat(S[lv["order"]], lv["starts"], axis=0)
                if li < len(self.levels) - 1
                else S.sum(axis=0, keepdims=True)
            )
        M = cur[0]
        out = finish(0.5 * (M + M.T), self.p)
        if out is None:
            return None
        ldRX2, pwrss, beta_r, inv = out
        self._last = (theta.copy(), saved, beta_r, D)
        return ldL2, ldRX2, pwrss, beta_r, inv

    def modes(self, theta: np.ndarray) -> list[np.ndarray]:
        """Conditional modes b = Lambda u per term, shape (n_levels, k)."""
        if self._last is None or not np.array_equal(self._last[0], theta):
            self.solve(theta)
        _, saved, beta_r, D = self._last
        k1 = self.levels[0]["k"]
        L1 = self._stack(self._level1(D[:k1, :k1])[0])
        T1 = _fwd(L1, (D[:k1, :k1].T @ self.F) @ D[k1:, k1:])
        saved = [(L1, T1), *saved]
        d = len(self.levels)
        us: list[np.ndarray] = [np.empty(0)] * d
        for li in range(d - 1, -1, -1):
            L, T = saved[li]
            G = L.shape[0]
            rest = []
            anc = np.arange(G)
            for lj in range(li + 1, d):
                anc = self.levels[lj - 1]["parent"][anc]
                rest.append(us[lj][anc])
            rest.append(np.broadcast_to(beta_r, (G, self.p)))
            x = np.concatenate(rest, axis=1)
            c = T[:, :, -1] - np.einsum("gkr,gr->gk", T[:, :, :-1], x)
            us[li] = _bwd(L, c)
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
