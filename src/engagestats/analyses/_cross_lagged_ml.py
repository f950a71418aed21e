"""Private: full-information ML of the random-intercept cross-lagged panel model (RI-CLPM).

The model of :func:`engagestats.analyses.cross_lagged` for two variables ``x`` and ``y``
observed at occasions ``t = 1..T`` (wide data, ``NaN`` where a value is missing)::

    x_t = mu_xt + RI_x + wx_t,        y_t = mu_yt + RI_y + wy_t
    wx_t = a wx_{t-1} + b wy_{t-1} + ux_t
    wy_t = d wx_{t-1} + c wy_{t-1} + uy_t             (t >= 2)

with free occasion means, ``Var(RI_x, RI_y)`` and ``Var(wx_1, wy_1)`` free 2x2 matrices
(uncorrelated with each other), time-invariant lagged paths ``a, b, c, d`` and innovation
(co)variances ``Var(ux_t, uy_t) = Psi``. With trends, random slopes ``RS_x, RS_y``
loading ``t - 1`` join the random intercepts (a free 4x4 covariance matrix; the latent
curve model with structured residuals). This is lavaan's parameterisation (the
``riclpm.R`` reference), so estimates and observed-information SEs are comparable one to
one.

Estimation maximises the casewise (FIML) normal log-likelihood, grouped by missing-data
pattern, with its analytic gradient (the derivative of the implied covariance by complex
step: it is a polynomial in the parameters); the optimum is polished by Newton steps on the
Hessian (central differences of the analytic gradient), whose inverse gives the SEs
(observed information, as lavaan's ``information = "observed"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike
from scipy import optimize

__all__ = ["STRUCTURAL", "TRENDS", "RiclpmFit", "fit_riclpm", "implied_cov"]

#: Names of the structural (covariance) parameters, in the order of ``theta[2T:]``.
STRUCTURAL = (
    "ri_var_x",
    "ri_var_y",
    "ri_cov",
    "w1_var_x",
    "w1_var_y",
    "w1_cov",
    "innov_var_x",
    "innov_var_y",
    "innov_cov",
    "ar_x",  # a: wx_{t-1} -> wx_t
    "cl_y_to_x",  # b: wy_{t-1} -> wx_t
    "cl_x_to_y",  # d: wx_{t-1} -> wy_t
    "ar_y",  # c: wy_{t-1} -> wy_t
)
#: Extra structural parameters of the model with person-specific linear trends (random
#: slopes RS_x, RS_y loading t - 1 on occasion t), after :data:`STRUCTURAL`.
TRENDS = (
    "rs_var_x",
    "rs_var_y",
    "rs_cov",
    "ri_x_rs_x",
    "ri_x_rs_y",
    "ri_y_rs_x",
    "ri_y_rs_y",
)
_LOG2PI = np.log(2.0 * np.pi)


def _sym(v: float, w: float, c: float, dtype: DTypeLike) -> np.ndarray:
    return np.array([[v, c], [c, w]], dtype=dtype)


def implied_cov(struct: np.ndarray, n_waves: int) -> np.ndarray:
    """Implied covariance of ``(x_1, y_1, ..., x_T, y_T)`` (works for complex ``struct``).

    ``len(struct)`` is 13 (:data:`STRUCTURAL`) or 20 (with the :data:`TRENDS` ones).
    """
    dt = struct.dtype
    trends = len(struct) > len(STRUCTURAL)
    ri = np.zeros((2, 2), dtype=dt)  # the between part is added below
    v1 = _sym(struct[3], struct[4], struct[5], dt)
    psi = _sym(struct[6], struct[7], struct[8], dt)
    b = np.array([[struct[9], struct[10]], [struct[11], struct[12]]], dtype=dt)
    var = [v1]
    for _ in range(1, n_waves):
        var.append(b @ var[-1] @ b.T + psi)
    sigma = np.empty((2 * n_waves, 2 * n_waves), dtype=dt)
    for t in range(n_waves):
        block = var[t]
        for s in range(t, n_waves):
            # Cov(w_s, w_t) = B^(s-t) Var(w_t) for s >= t
            sigma[2 * s : 2 * s + 2, 2 * t : 2 * t + 2] = ri + block
            sigma[2 * t : 2 * t + 2, 2 * s : 2 * s + 2] = (ri + block).T
            block = b @ block
    if trends:
        (rvx, rvy, rc), (svx, svy, sc, xsx, xsy, ysx, ysy) = struct[:3], struct[13:20]
        phi = np.array(
            [[rvx, rc, xsx, xsy], [rc, rvy, ysx, ysy], [xsx, ysx, svx, sc], [xsy, ysy, sc, svy]],
            dtype=dt,
        )
    else:
        phi = _sym(struct[0], struct[1], struct[2], dt)
    lam = np.zeros((2 * n_waves, len(phi)))
    lam[0::2, 0] = lam[1::2, 1] = 1.0
    if trends:
        lam[0::2, 2] = lam[1::2, 3] = np.arange(n_waves)
    return sigma + lam @ phi @ lam.T


@dataclass
class _Pattern:
    obs: np.ndarray  # observed column indices
    n: int
    total: np.ndarray  # sum of z_o over the clients
    cross: np.ndarray  # sum of z_o z_o'


def patterns(z: np.ndarray) -> list[_Pattern]:
    """Group the rows of ``z`` (clients x variables, NaN = missing) by missing pattern."""
    seen = ~np.isnan(z)
    keys, inverse = np.unique(seen, axis=0, return_inverse=True)
    out = []
    for k, key in enumerate(keys):
        if not key.any():
            continue
        rows = z[np.ravel(inverse) == k][:, key]
        out.append(_Pattern(np.flatnonzero(key), len(rows), rows.sum(0), rows.T @ rows))
    return out


class _Objective:
    """Negative FIML log-likelihood and its gradient in ``theta = (mu, struct)``."""

    def __init__(self, z: np.ndarray) -> None:
        self.p = z.shape[1]
        self.n_waves = self.p // 2
        self.pats = patterns(z)

    def _pieces(self, theta: np.ndarray):
        mu, struct = theta[: self.p], theta[self.p :]
        return mu, struct, implied_cov(struct, self.n_waves)

    def nll(self, theta: np.ndarray) -> float:
        mu, _, sigma = self._pieces(theta)
        total = 0.0
        for pat in self.pats:
            o = pat.obs
            s = sigma[np.ix_(o, o)]
            try:
                chol = np.linalg.cholesky(s)
            except np.linalg.LinAlgError:
                return np.inf
            m = mu[o]
            scatter = pat.cross - np.outer(pat.total, m) - np.outer(m, pat.total)
            scatter += pat.n * np.outer(m, m)
            inv = np.linalg.inv(s)
            logdet = 2.0 * np.log(np.diag(chol)).sum()
            total += 0.5 * (pat.n * (len(o) * _LOG2PI + logdet) + np.sum(inv * scatter))
        return float(total)

    def grad(self, theta: np.ndarray) -> np.ndarray:
        mu, struct, sigma = self._pieces(theta)
        g_sigma = np.zeros_like(sigma)
        g_mu = np.zeros(self.p)
        for pat in self.pats:
            o = pat.obs
            s = sigma[np.ix_(o, o)]
            inv = np.linalg.inv(s)
            m = mu[o]
            scatter = pat.cross - np.outer(pat.total, m) - np.outer(m, pat.total)
            scatter += pat.n * np.outer(m, m)
            g_sigma[np.ix_(o, o)] += 0.5 * (pat.n * inv - inv @ scatter @ inv)
            g_mu[o] -= inv @ (pat.total - pat.n * m)
        h = 1e-30
        g_struct = np.empty(len(struct))
        for k in range(len(struct)):
            step = struct.astype(complex)
            step[k] += 1j * h
            d_sigma = implied_cov(step, self.n_waves).imag / h
            g_struct[k] = np.sum(g_sigma * d_sigma)
        return np.concatenate([g_mu, g_struct])

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        k = len(theta)
        hess = np.empty((k, k))
        for j in range(k):
            h = 1e-5 * max(1.0, abs(theta[j]))
            up, down = theta.copy(), theta.copy()
            up[j] += h
            down[j] -= h
            hess[:, j] = (self.grad(up) - self.grad(down)) / (2 * h)
        return 0.5 * (hess + hess.T)


@dataclass
class RiclpmFit:
    theta: np.ndarray  # (mu_x1, mu_y1, ..., mu_xT, mu_yT, *STRUCTURAL)
    cov: np.ndarray  # inverse observed information
    loglik: float
    converged: bool
    n_iter: int
    message: str
    n_patterns: int


def _start(z: np.ndarray, trends: bool) -> np.ndarray:
    mu = np.nanmean(z, axis=0)
    vx = float(np.nanmean(np.nanvar(z[:, 0::2], axis=0)))
    vy = float(np.nanmean(np.nanvar(z[:, 1::2], axis=0)))
    struct = [0.5 * vx, 0.5 * vy, 0.0, 0.5 * vx, 0.5 * vy, 0.0, 0.4 * vx, 0.4 * vy, 0.0]
    extra = [0.01 * vx, 0.01 * vy, 0.0, 0.0, 0.0, 0.0, 0.0] if trends else []
    return np.concatenate([mu, struct, [0.2, 0.0, 0.0, 0.2], extra])


def fit_riclpm(
    z: np.ndarray, *, trends: bool = False, tol: float = 1e-9, max_newton: int = 20
) -> RiclpmFit:
    """ML fit of the RI-CLPM to wide data ``z`` (clients x (x_1, y_1, ..., x_T, y_T)).

    ``trends=True`` adds random linear slopes (:data:`TRENDS`).
    """
    obj = _Objective(z)
    theta0 = _start(z, trends)
    res = optimize.minimize(
        obj.nll, theta0, jac=obj.grad, method="BFGS", options={"gtol": 1e-6, "maxiter": 2000}
    )
    theta = res.x
    n_iter = int(res.nit)
    converged = False
    hess = obj.hessian(theta)
    for _ in range(max_newton):  # Newton polish: quadratic convergence near the optimum
        g = obj.grad(theta)
        if np.max(np.abs(g)) < tol * max(1.0, len(z)):
            converged = True
            break
        try:
            step = np.linalg.solve(hess, g)
        except np.linalg.LinAlgError:
            break
        f0, t = obj.nll(theta), 1.0
        while t > 1e-4 and not obj.nll(theta - t * step) <= f0 + 1e-12 * abs(f0):
            t /= 2
        if t <= 1e-4:
            break
        theta = theta - t * step
        hess = obj.hessian(theta)
        n_iter += 1
    else:
        converged = np.max(np.abs(obj.grad(theta))) < 1e-6 * max(1.0, len(z))
    try:
        eig = np.linalg.eigvalsh(hess)
        cov = np.linalg.inv(hess) if eig.min() > 0 else np.full_like(hess, np.nan)
    except np.linalg.LinAlgError:
        cov = np.full_like(hess, np.nan)
    message = "converged" if converged else f"not converged ({res.message})"
    return RiclpmFit(theta, cov, -obj.nll(theta), bool(converged), n_iter, message, len(obj.pats))
