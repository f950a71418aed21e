"""Kenward-Roger small-sample inference for REML fits of linear mixed models.

Internal; reached through ``LmmResult.fixed_effects(ddf="kenward-roger")`` and
``LmmResult.contrast(..., ddf="kenward-roger")``. This reproduces pbkrtest's
``vcovAdj``, ``Lb_ddf`` and ``KRmodcomp`` (Halekoh & Hojsgaard, 2014), which
lmerTest calls for ``ddf = "Kenward-Roger"``.

Parametrisation (pbkrtest's ``LMM_Sigma_G``): ``V = sum_r s_r G_r + s_e I`` with
one ``s_r`` per variance and per covariance of each random-effects term
(lower triangle, column-major, term after term) and the residual variance
``s_e`` last. For term ``t`` with random-effects matrix ``Z_t``, a variance
``(j, j)`` has ``G = Z_tj Z_tj'`` and a covariance ``(j, l)`` has
``G = Z_tj Z_tl' + Z_tl Z_tj'``, ``Z_tj`` holding column ``j`` of every level.

Nothing of size n x n is formed: with ``Z`` the full random-effects matrix
(``q`` columns), ``V^-1 = (I - Z Lam M^-1 Lam' Z') / sigma^2`` with
``M = Lam' Z' Z Lam + I`` (Woodbury), and every quantity below reduces to
``q x q`` and ``q x p`` products (``K = Z' V^-1 Z``, ``Z' V^-2 Z``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg
from scipy import stats

from ..errors import ModelSpecError
from . import stats as _stats
from ._types import Design, EngineFit
from .inference import _check_L

__all__ = ["MAX_RANDOM_EFFECTS", "KenwardRoger", "f_test_kr", "kenward_roger"]

#: Largest total number of random effects (levels x columns, summed over terms).
MAX_RANDOM_EFFECTS = 3000


@dataclass(frozen=True)
class KenwardRoger:
    """What Kenward-Roger inference needs, computed once per REML fit.

    Attributes
    ----------
    beta : ndarray, shape (p,)
    vcov_beta : ndarray, shape (p, p)
        The adjusted covariance ``Phi_A`` (``pbkrtest::vcovAdj``); it plays the
        role of ``vcov(beta)`` in the t tests of :func:`~.inference.contrast_table`.
    vcov_unadjusted : ndarray, shape (p, p)
        ``Phi = (X' V^-1 X)^-1``, lme4's ``vcov(fit)``.
    P : ndarray, shape (r, p, p)
        ``P_r = -X' V^-1 G_r V^-1 X``.
    W : ndarray, shape (r, r)
        ``2 I_E^-1``, the asymptotic covariance of the variance parameters
        (``attr(vcovAdj(fit), "W")``).
    sigma : float
        Residual SD.
    """

    beta: np.ndarray
    vcov_beta: np.ndarray
    vcov_unadjusted: np.ndarray
    P: np.ndarray
    W: np.ndarray
    sigma: float

    def adjust(self, L: np.ndarray) -> tuple[int, float, float]:
        """Numerator df ``q``, denominator df ``m`` and F scale ``lambda`` for ``L``.

        pbkrtest's ``.KR_adjust`` (``q`` = rank of ``L``, full row rank assumed).
        With ``Theta = L'(L Phi L')^-1 L``, ``u_r = Theta Phi P_r Phi``,
        ``A1 = sum_rs W_rs tr(u_r) tr(u_s)``, ``A2 = sum_rs W_rs tr(u_r u_s)``,
        ``B = (A1 + 6 A2) / (2q)``, ``g = ((q+1) A1 - (q+4) A2) / ((q+2) A2)``,
        ``c1 = g / (3q + 2(1-g))``, ``c2 = (q-g) / (3q + 2(1-g))``,
        ``c3 = (q+2-g) / (3q + 2(1-g))``, ``E* = 1 / (1 - A2/q)``,
        ``V* = (2/q) (1 + c1 B) / ((1 - c2 B)^2 (1 - c3 B))`` and
        ``rho = V* / (2 E*^2)``: ``m = 4 + (q+2) / (q rho - 1)``,
        ``lambda = m / (E* (m - 2))`` (1 when ``|m - 2| < 0.01``, as pbkrtest).
        """
        L = np.atleast_2d(np.asarray(L, dtype=float))
        phi = self.vcov_unadjusted
        try:
            theta = L.T @ np.linalg.solve(L @ phi @ L.T, L)
        except np.linalg.LinAlgError:
            raise ModelSpecError(
                "the contrast matrix L is rank deficient (L vcov(beta) L' is singular)"
            ) from None
        left = theta @ phi
        u = np.einsum("ij,rjk,kl->ril", left, self.P, phi)
        tr_u = np.einsum("rii->r", u)
        a1 = float(tr_u @ self.W @ tr_u)
        a2 = float(np.einsum("rs,rij,sji->", self.W, u, u))
        q = int(np.linalg.matrix_rank(L))
        b = (a1 + 6.0 * a2) / (2.0 * q)
        g = ((q + 1) * a1 - (q + 4) * a2) / ((q + 2) * a2)
        denom = 3.0 * q + 2.0 * (1.0 - g)
        c1, c2, c3 = g / denom, (q - g) / denom, (q + 2 - g) / denom
        v0 = 1.0 + c1 * b
        v0 = 0.0 if abs(v0) < 1e-10 else v0
        v1, v2 = 1.0 - c2 * b, 1.0 - c3 * b
        num = 1.0 - a2 / q
        ratio = 1.0 if abs(num) < 1e-14 and abs(v1) < 1e-14 else num / v1
        rho = ratio**2 * v0 / v2 / q
        m = 4.0 + (q + 2.0) / (q * rho - 1.0)
        scale = 1.0 if abs(m - 2.0) < 1e-2 else m * (1.0 - a2 / q) / (m - 2.0)
        return q, float(m), float(scale)

    def df(self, vec: np.ndarray) -> float:
        """Kenward-Roger df of the single contrast ``l' beta`` (pbkrtest's ``Lb_ddf``).

        NaN for a contrast with zero variance (an all-zero row).
        """
        vec = np.asarray(vec, dtype=float)
        if not float(vec @ self.vcov_unadjusted @ vec) > 0.0:
            return float("nan")
        return self.adjust(vec[None, :])[1]


def _param_indices(design: Design) -> tuple[list[tuple[np.ndarray, np.ndarray]], int]:
    """Per variance parameter, the (row, column) positions of ``D_r`` in ``Z' ... Z`` space.

    ``G_r = Z D_r Z'`` with ``D_r = sum_i e_{a_i} e_{b_i}'``; a covariance lists both
    ``(j, l)`` and ``(l, j)``. Random effects are ordered as in lme4: term after term,
    level-major within a term.
    """
    out: list[tuple[np.ndarray, np.ndarray]] = []
    offset = 0
    for term in design.terms:
        k, n_lev = term.k, term.n_levels
        base = offset + np.arange(n_lev) * k
        for c in range(k):
            for r in range(c, k):
                ia, ib = base + r, base + c
                if r == c:
                    out.append((ia, ia))
                else:
                    out.append((np.concatenate([ia, ib]), np.concatenate([ib, ia])))
        offset += n_lev * k
    return out, offset


def _sparse_z(design: Design, lambdas: list[np.ndarray] | None, q: int) -> sp.csc_matrix:
    """The full random-effects matrix ``Z`` (or ``Z Lam`` when ``lambdas`` is given)."""
    n = design.n
    rows, cols, vals = [], [], []
    offset = 0
    for i, term in enumerate(design.terms):
        k = term.k
        zt = term.Z if lambdas is None else term.Z @ lambdas[i]
        rows.append(np.repeat(np.arange(n), k))
        cols.append((offset + term.codes[:, None] * k + np.arange(k)).ravel())
        vals.append(np.asarray(zt, dtype=float).ravel())
        offset += term.n_levels * k
    return sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, q)
    )


def kenward_roger(fit: EngineFit) -> KenwardRoger:
    """Kenward-Roger adjusted covariance of the fixed effects for a REML fit.

    Parameters
    ----------
    fit : EngineFit
        A REML fit from :func:`engagestats.models.engine.fit`.

    Returns
    -------
    KenwardRoger

    Raises
    ------
    ModelSpecError
        If the fit is not REML, or the model has more than
        :data:`MAX_RANDOM_EFFECTS` (3000) random effects in total (the method
        works with dense ``q x q`` matrices; use Satterthwaite df instead).
        The number of observations is not limited: nothing of size n x n is formed.

    Notes
    -----
    With ``Phi = (X' V^-1 X)^-1``, ``P_r = -X' V^-1 G_r V^-1 X``,
    ``Q_rs = X' V^-1 G_r V^-1 G_s V^-1 X`` and ``Pm = V^-1 - V^-1 X Phi X' V^-1``,
    the expected REML information of the variance parameters is
    ``I_E[r, s] = tr(Pm G_r Pm G_s) / 2
    = (tr(V^-1 G_r V^-1 G_s) - 2 tr(Phi Q_rs) + tr(Phi P_r Phi P_s)) / 2``,
    ``W = I_E^-1`` (Moore-Penrose when an eigenvalue of ``2 I_E`` is below
    1e-10, as pbkrtest) and, as ``V`` is linear in its parameters
    (``R_rs = 0``), ``Phi_A = Phi + 2 Phi [sum_rs W_rs (Q_rs - P_r Phi P_s)] Phi``.

    References
    ----------
    Kenward, M. G. & Roger, J. H. (1997). Small sample inference for fixed effects
    from restricted maximum likelihood. Biometrics, 53(3), 983-997.

    Halekoh, U. & Hojsgaard, S. (2014). A Kenward-Roger approximation and parametric
    bootstrap methods for tests in linear mixed models - the R package pbkrtest.
    J Stat Softw, 59(9), 1-32. doi:10.18637/jss.v059.i09

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from engagestats.models import lmm
    >>> from engagestats.models._kenward_roger import kenward_roger
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"g": np.repeat(np.arange(10), 4), "x": rng.normal(size=40)})
    >>> d["y"] = d["x"] + rng.normal(size=10)[d["g"]] + rng.normal(size=40)
    >>> kr = kenward_roger(lmm("y ~ x + (1 | g)", d)._fit)
    >>> kr.W.shape  # one variance for g, then the residual variance
    (2, 2)
    >>> q, m, scale = kr.adjust(np.array([[0.0, 1.0]]))
    >>> q, bool(m > 0)
    (1, True)
    """
    if not fit.reml:
        raise ModelSpecError(
            "Kenward-Roger inference needs a REML fit: its bias correction of vcov(beta) "
            "and its df are derived for REML estimates of the variance components "
            "(pbkrtest refits by REML). Fit with lmm(..., reml=True) or use Satterthwaite df."
        )
    design = fit.design
    params, q_re = _param_indices(design)
    if q_re > MAX_RANDOM_EFFECTS:
        raise ModelSpecError(
            f"Kenward-Roger needs dense matrices of size q x q and this model has q = {q_re} "
            f"random effects (limit {MAX_RANDOM_EFFECTS}); use ddf='satterthwaite' instead."
        )
    sigma2 = float(fit.sigma) ** 2
    X = np.asarray(design.X, dtype=float)
    z = _sparse_z(design, None, q_re)
    zl = _sparse_z(design, _stats.lambda_blocks(fit), q_re)
    ztz = (z.T @ z).toarray()
    zltz = (zl.T @ z).tocsc()
    zltzl = (zl.T @ zl).tocsc()
    # M is sparse (block-arrow for nested designs): a sparse LU keeps this O(q * nnz(LU))
    # instead of O(q^3).
    lu = scipy.sparse.linalg.splu((zltzl + sp.identity(q_re, format="csc")).tocsc())
    m_inv = lu.solve(np.eye(q_re))

    def vinv(mat: np.ndarray) -> np.ndarray:
        return (mat - zl @ lu.solve(np.asarray(zl.T @ mat))) / sigma2

    T = vinv(X)  # V^-1 X
    ST = vinv(T)  # V^-2 X
    zT = z.T @ T  # Z' V^-1 X
    zST = z.T @ ST  # Z' V^-2 X
    B = np.asarray((zltz.T @ m_inv).T)  # M^-1 Lam' Z' Z (M^-1 symmetric)
    zb = np.asarray(zltz.T @ B)  # Z' Z Lam M^-1 Lam' Z' Z
    zlb = np.asarray(zltzl @ B)
    K = (ztz - zb) / sigma2  # Z' V^-1 Z

    def zs2z_sum(b: np.ndarray, a: np.ndarray) -> float:
        """sum_i (Z'V^-2 Z)[b_i, a_i]; Z'V^-2 Z = (Z'Z - zb - zb' + B' Lam'Z'Z Lam B) / s^4."""
        quad = np.einsum("ji,ji->i", B[:, b], zlb[:, a])
        return float(np.sum(ztz[b, a] - zb[b, a] - zb[a, b] + quad)) / sigma2**2

    tr_m = float(np.trace(m_inv))
    tr_s2 = (design.n - 2.0 * (q_re - tr_m) + (q_re - 2.0 * tr_m + np.sum(m_inv**2))) / sigma2**2

    n_par = len(params) + 1
    p = design.p
    P = np.empty((n_par, p, p))
    for r, (a, b) in enumerate(params):
        P[r] = -zT[a].T @ zT[b]
    P[-1] = -T.T @ T
    Q: dict[tuple[int, int], np.ndarray] = {}
    ktr = np.empty((n_par, n_par))
    for r, (a, b) in enumerate(params):
        for s in range(r, len(params)):
            c, d = params[s]
            Q[r, s] = zT[a].T @ K[np.ix_(b, c)] @ zT[d]
            ktr[r, s] = ktr[s, r] = float(np.sum(K[np.ix_(b, c)] * K[np.ix_(d, a)].T))
        Q[r, n_par - 1] = zT[a].T @ zST[b]
        ktr[r, -1] = ktr[-1, r] = zs2z_sum(b, a)
    Q[n_par - 1, n_par - 1] = T.T @ ST
    ktr[-1, -1] = tr_s2

    phi = np.asarray(fit.vcov_beta, dtype=float)
    ie2 = np.empty((n_par, n_par))
    for r in range(n_par):
        pr = phi @ P[r]
        for s in range(r, n_par):
            ie2[r, s] = ie2[s, r] = (
                ktr[r, s] - 2.0 * np.sum(phi * Q[r, s]) + np.sum(pr * (P[s] @ phi))
            )
    if np.min(np.abs(np.linalg.eigvalsh(ie2))) > 1e-10:
        W = 2.0 * np.linalg.inv(ie2)
    else:
        W = 2.0 * np.linalg.pinv(ie2, rcond=np.sqrt(np.finfo(float).eps), hermitian=True)
    W = (W + W.T) / 2.0
    U = np.zeros((p, p))
    for r in range(n_par):
        for s in range(r, n_par):
            term = W[r, s] * (Q[r, s] - P[r] @ phi @ P[s])
            U += term if r == s else term + term.T
    phi_a = phi + 2.0 * phi @ U @ phi
    return KenwardRoger(
        beta=np.asarray(fit.beta, dtype=float),
        vcov_beta=(phi_a + phi_a.T) / 2.0,
        vcov_unadjusted=phi,
        P=P,
        W=W,
        sigma=float(fit.sigma),
    )


def f_test_kr(
    kr: KenwardRoger, L: np.ndarray | list, *, rhs: np.ndarray | float = 0.0
) -> pd.DataFrame:
    """Joint Kenward-Roger F test of ``L beta = rhs`` (``contest(ddf = "Kenward-Roger")``).

    Returns
    -------
    DataFrame
        One row with ``sum_sq, mean_sq, num_df, den_df, f, p``; ``f`` is the
        scaled statistic ``lambda F``, ``mean_sq = F sigma^2`` uses the unscaled
        ``F`` (as lmerTest).

    Notes
    -----
    ``F = (L beta - rhs)' (L Phi_A L')^-1 (L beta - rhs) / q``; ``lambda F`` is
    referred to ``F(q, m)`` with ``m`` and ``lambda`` from Kenward & Roger (1997),
    see :meth:`KenwardRoger.adjust`.
    """
    arr, r = _check_L(L, kr.beta.size, rhs)
    if np.linalg.matrix_rank(arr) < arr.shape[0]:
        raise ModelSpecError(
            "the Kenward-Roger F test needs a contrast matrix L of full row rank; "
            "drop the redundant rows"
        )
    q, m, scale = kr.adjust(arr)
    diff = arr @ kr.beta - r
    f_u = float(diff @ np.linalg.solve(arr @ kr.vcov_beta @ arr.T, diff)) / q
    f = scale * f_u
    ms = f_u * kr.sigma**2
    return pd.DataFrame(
        {
            "sum_sq": [ms * q],
            "mean_sq": [ms],
            "num_df": [q],
            "den_df": [m],
            "f": [f],
            "p": [float(stats.f.sf(f, q, m))],
        }
    )
