"""Satterthwaite degrees of freedom, contrasts and F tests for linear mixed models.

This reproduces lmerTest (Kuznetsova, Brockhoff & Christensen, 2017). The
variance parameters are ``varpar = (theta, sigma)``. Their asymptotic
covariance is ``A = 2 H^{-1}``, ``H`` the Hessian of the unprofiled deviance
at the optimum; ``vcov(beta)`` as a function of ``varpar`` is
``sigma^2 (R_X' R_X)^{-1}``, and its Jacobian gives the gradient of a
contrast's variance. Both derivatives use Richardson extrapolation with
numDeriv's default steps, as lmerTest does.

References
----------
Kuznetsova, A., Brockhoff, P. B. & Christensen, R. H. B. (2017). lmerTest
package: tests in linear mixed effects models. J Stat Softw, 82(13), 1-26.
doi:10.18637/jss.v082.i13

Satterthwaite, F. E. (1946). An approximate distribution of estimates of
variance components. Biometrics Bulletin, 2(6), 110-114.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ConvergenceWarning, ModelSpecError
from . import _numerics
from ._types import EngineFit

__all__ = [
    "DDF",
    "Satterthwaite",
    "WaldInference",
    "check_ddf",
    "contrast_table",
    "f_test",
    "satterthwaite",
]

_LOG2PI = float(np.log(2.0 * np.pi))


def deviance_varpar(fit: EngineFit, varpar: np.ndarray) -> float:
    """Unprofiled deviance as a function of ``varpar = (theta, sigma)``.

    lmerTest's ``devfun_vp``: ``ldL2 + pwrss / sigma^2 + n log(2 pi sigma^2)``,
    plus ``ldRX2 - p log(2 pi sigma^2)`` for REML.
    """
    theta, sigma = varpar[:-1], varpar[-1]
    sigma2 = sigma * sigma
    st = fit.pls(np.asarray(theta, dtype=float))
    n, p = fit.design.n, fit.design.p
    dev = st.ldL2 + st.pwrss / sigma2 + n * (_LOG2PI + np.log(sigma2))
    if fit.reml:
        dev += st.ldRX2 - p * (_LOG2PI + np.log(sigma2))
    return float(dev)


def vcov_beta_varpar(fit: EngineFit, varpar: np.ndarray) -> np.ndarray:
    """``vcov(beta) = sigma^2 (R_X' R_X)^{-1}`` as a function of ``varpar``."""
    st = fit.pls(np.asarray(varpar[:-1], dtype=float))
    return varpar[-1] ** 2 * st.RXinv_RXinvT


class WaldInference(Protocol):
    """What :func:`contrast_table` needs: estimates, their covariance and a df rule.

    Satisfied by :class:`Satterthwaite` and by the Kenward-Roger adjustment
    (``_kenward_roger.KenwardRoger``, whose ``vcov_beta`` is the adjusted ``Phi_A``).
    """

    @property
    def beta(self) -> np.ndarray:
        """Fixed-effect estimates."""
        ...

    @property
    def vcov_beta(self) -> np.ndarray:
        """Their covariance matrix."""
        ...

    def df(self, vec: np.ndarray) -> float:
        """Denominator degrees of freedom of the contrast ``vec``."""
        ...


@dataclass(frozen=True)
class Satterthwaite:
    """What Satterthwaite's approximation needs, computed once per fit.

    Attributes
    ----------
    beta : ndarray, shape (p,)
    vcov_beta : ndarray, shape (p, p)
    varpar : ndarray, shape (m,)
        ``(theta, sigma)`` at the optimum.
    vcov_varpar : ndarray, shape (m, m)
        ``A = 2 H^+``, the Moore-Penrose inverse over positive eigenvalues.
    jac : ndarray, shape (m, p, p)
        ``d vcov(beta) / d varpar_k``.
    sigma : float
    """

    beta: np.ndarray
    vcov_beta: np.ndarray
    varpar: np.ndarray
    vcov_varpar: np.ndarray
    jac: np.ndarray
    sigma: float

    def df(self, vec: np.ndarray) -> float:
        """Satterthwaite df of the contrast ``l' beta``: ``2 (l'Vl)^2 / (g'Ag)``."""
        var = float(vec @ self.vcov_beta @ vec)
        g = np.einsum("i,kij,j->k", vec, self.jac, vec)
        denom = float(g @ self.vcov_varpar @ g)
        if denom <= 0.0:
            return float("inf")
        return 2.0 * var * var / denom


def satterthwaite(fit: EngineFit, *, tol: float = 1e-8) -> Satterthwaite:
    """Compute the Hessian and Jacobian that Satterthwaite's df need.

    Parameters
    ----------
    fit : EngineFit
        A fit from :func:`engagestats.models.engine.fit`.
    tol : float, default 1e-8
        Eigenvalues of the Hessian below ``tol`` are treated as zero (lmerTest's
        default); a warning is issued when any are negative or near zero.

    Returns
    -------
    Satterthwaite
    """
    varpar = np.append(np.asarray(fit.theta, dtype=float), float(fit.sigma))
    h = _numerics.richardson_hessian(lambda vp: deviance_varpar(fit, vp), varpar)
    h = (h + h.T) / 2.0
    evals, evecs = np.linalg.eigh(h)
    if np.any(evals < -tol):
        warnings.warn(
            f"Satterthwaite df: the Hessian of the deviance has {int(np.sum(evals < -tol))} "
            "negative eigenvalue(s); the model may not have converged.",
            ConvergenceWarning,
            stacklevel=3,
        )
    elif np.any(np.abs(evals) <= tol):
        warnings.warn(
            f"Satterthwaite df: the Hessian of the deviance has {int(np.sum(np.abs(evals) <= tol))}"
            " eigenvalue(s) close to zero; the model may not have converged.",
            ConvergenceWarning,
            stacklevel=3,
        )
    pos = evals > tol
    h_inv = (evecs[:, pos] / evals[pos]) @ evecs[:, pos].T
    p = fit.design.p
    jac = _numerics.richardson_jacobian(lambda vp: vcov_beta_varpar(fit, vp).ravel(), varpar)
    jac = np.moveaxis(jac.reshape(p, p, -1), -1, 0)
    return Satterthwaite(
        beta=np.asarray(fit.beta, dtype=float),
        vcov_beta=np.asarray(fit.vcov_beta, dtype=float),
        varpar=varpar,
        vcov_varpar=2.0 * h_inv,
        jac=jac,
        sigma=float(fit.sigma),
    )


def _check_L(
    L: np.ndarray | list, p: int, rhs: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(L, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != p or arr.shape[0] == 0:
        raise ModelSpecError(
            f"contrast matrix L must have {p} columns (one per fixed effect), "
            f"got shape {np.asarray(L).shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ModelSpecError("contrast matrix L contains missing or infinite values")
    r = (
        np.broadcast_to(np.asarray(rhs, dtype=float), (arr.shape[0],)).copy()
        if np.ndim(rhs) == 0
        else np.asarray(rhs, dtype=float)
    )
    if r.shape != (arr.shape[0],):
        raise ModelSpecError(f"rhs must be a scalar or have {arr.shape[0]} values, got {r.shape}")
    return arr, r


#: Denominator degrees of freedom methods.
DDF = ("satterthwaite", "kenward-roger")


def check_ddf(ddf: str) -> str:
    """The canonical name of a df method (``"Kenward-Roger"``, ``"kenward_roger"`` accepted).

    Examples
    --------
    >>> check_ddf("Kenward-Roger")
    'kenward-roger'
    """
    key = str(ddf).lower().replace("_", "-")
    if key not in DDF:
        raise ModelSpecError(f"ddf must be one of {DDF}, got {ddf!r}")
    return key


def check_level(level: float, *, name: str = "level") -> float:
    """Return ``level`` as a float after checking it is a probability in (0, 1).

    A confidence level given as a percentage (``95``) would otherwise give NaN
    intervals without any error.
    """
    value = float(level)
    if not 0.0 < value < 1.0:
        raise ModelSpecError(f"{name} must be between 0 and 1 (e.g. 0.95), got {level!r}")
    return value


def contrast_table(
    sat: WaldInference,
    L: np.ndarray | list,
    *,
    rhs: np.ndarray | float = 0.0,
    names: list[str] | None = None,
    level: float = 0.95,
    df_inf: bool = False,
) -> pd.DataFrame:
    """One t test per row of ``L`` (lmerTest's ``contest1D``).

    Parameters
    ----------
    sat : Satterthwaite or KenwardRoger
        Supplies ``beta``, ``vcov_beta`` (the adjusted ``Phi_A`` for
        Kenward-Roger) and the df of each contrast.
    L : array_like, shape (k, p) or (p,)
    rhs : float or array_like, default 0
        Null values of ``L beta``.
    names : list of str, optional
        Row labels; ``"c1", "c2", ...`` by default.
    level : float, default 0.95
    df_inf : bool, default False
        Use df = inf (z tests) instead of the df of ``sat``.

    Raises
    ------
    ModelSpecError
        If ``L`` has the wrong number of columns or a row of zeros.

    Returns
    -------
    DataFrame
        One row per contrast with ``estimate, se, df, t, p, ci_low, ci_high``;
        ``estimate`` is ``l' beta`` (not minus ``rhs``), ``t = (l'beta - rhs) / se``.
    """
    arr, r = _check_L(L, sat.beta.size, rhs)
    zero = np.flatnonzero(~np.any(arr != 0.0, axis=1))
    if zero.size:
        raise ModelSpecError(
            f"row(s) {(zero + 1).tolist()} of the contrast matrix L are all zero: nothing to test"
        )
    est = arr @ sat.beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", arr, sat.vcov_beta, arr))
    df = np.full(arr.shape[0], np.inf) if df_inf else np.array([sat.df(row) for row in arr])
    t = (est - r) / se
    p = 2.0 * stats.t.sf(np.abs(t), df)
    q = stats.t.ppf(0.5 + check_level(level) / 2.0, df)
    idx = names if names is not None else [f"c{i + 1}" for i in range(arr.shape[0])]
    return pd.DataFrame(
        {
            "estimate": est,
            "se": se,
            "df": df,
            "t": t,
            "p": p,
            "ci_low": est - q * se,
            "ci_high": est + q * se,
        },
        index=pd.Index(idx, name="contrast"),
    )


def _fstat_ddf(nu: np.ndarray, tol: float = 1e-8) -> float:
    """lmerTest's ``get_Fstat_ddf``: combine per-eigenvector df into one."""
    if nu.size == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < tol):
        return float(np.mean(nu))
    if np.any(nu <= 2.0):
        return 2.0
    e = float(np.sum(nu / (nu - 2.0)))
    return 2.0 * e / (e - nu.size)


def f_test(
    sat: Satterthwaite,
    L: np.ndarray | list,
    *,
    rhs: np.ndarray | float = 0.0,
    df_inf: bool = False,
) -> pd.DataFrame:
    """Joint F test of ``L beta = rhs`` (lmerTest's ``contestMD``).

    Returns
    -------
    DataFrame
        One row with ``sum_sq, mean_sq, num_df, den_df, f, p``.

    Notes
    -----
    With ``V_L = L vcov(beta) L' = P D P'`` (eigen-decomposition, keeping the
    ``q`` eigenvalues above ``sqrt(machine eps)`` times the largest), ``F = sum_m (P_m'(L beta -
    rhs))^2 / d_m / q``. Each direction ``P_m' L`` gets Satterthwaite df
    ``nu_m``; the denominator df solve ``E[F] = ddf / (ddf - 2)`` with
    ``E = sum nu_m / (nu_m - 2)``. ``mean_sq = F sigma^2``, ``sum_sq = q mean_sq``.
    """
    arr, r = _check_L(L, sat.beta.size, rhs)
    vl = arr @ sat.vcov_beta @ arr.T
    d, P = np.linalg.eigh((vl + vl.T) / 2.0)
    order = np.argsort(d)[::-1]
    d, P = d[order], P[:, order]
    # lmerTest's contestMD: tol = sqrt(eps) * largest eigenvalue (relative, so scale-free)
    pos = d > max(np.sqrt(np.finfo(float).eps) * d[0], 0.0)
    q = int(pos.sum())
    if q == 0:
        raise ModelSpecError("the contrast matrix L has rank 0 (no estimable direction)")
    tvec = P.T @ (arr @ sat.beta - r)
    f = float(np.sum(tvec[:q] ** 2 / d[:q]) / q)
    ptl = (P.T @ arr)[:q]
    if df_inf:
        ddf = float("inf")
    else:
        nu = np.array([2.0 * d[m] ** 2 / _quad_grad(sat, ptl[m]) for m in range(q)])
        ddf = _fstat_ddf(nu)
    p = float(stats.chi2.sf(f * q, q)) if np.isinf(ddf) else float(stats.f.sf(f, q, ddf))
    ms = f * sat.sigma**2
    return pd.DataFrame(
        {"sum_sq": [ms * q], "mean_sq": [ms], "num_df": [q], "den_df": [ddf], "f": [f], "p": [p]}
    )


def _quad_grad(sat: Satterthwaite, vec: np.ndarray) -> float:
    g = np.einsum("i,kij,j->k", vec, sat.jac, vec)
    return float(g @ sat.vcov_varpar @ g)
