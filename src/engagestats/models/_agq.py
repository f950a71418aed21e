"""Laplace and adaptive Gauss-Hermite deviance of a logistic random-intercept model.

The model is ``logit P(y_ij = 1) = x_ij' beta + theta u_i`` with ``u_i ~ N(0, 1)``
independently for the groups ``i`` (so ``theta`` is the SD of the random
intercept, lme4's ``theta`` for a scalar term). Everything is vectorised
across groups: per-group sums are ``np.bincount`` calls, the conditional modes
of all groups are found by one damped Newton iteration on the vector ``u``.

Per group, ``h_i(u) = sum_j d_ij(u) + u^2`` with the binomial deviance residuals
``d_ij = -2 log p(y_ij | u)``, and ``A_i = 1 + theta^2 sum_j w_ij`` with
``w = mu (1 - mu)`` at the mode ``u_i^``. lme4's approximate deviance is

- Laplace (``nAGQ = 1``): ``sum_i [h_i(u_i^) + log A_i]``;
- adaptive Gauss-Hermite with nodes ``z_k`` and weights ``w_k`` of the standard
  normal density (``lme4::GHrule``), ``s_i = A_i^(-1/2)``:
  ``sum_i [h_i(u_i^) + log A_i - 2 log sum_k w_k exp(-(h_i(u_i^ + s_i z_k) - h_i(u_i^)) / 2
  + z_k^2 / 2)]``.

References
----------
Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear
mixed-effects models using lme4. J Stat Softw, 67(1), 1-48 (section 5 and the
``glmerLaplace``/``glmerAGQ`` sources of lme4).

Pinheiro, J. C. & Bates, D. M. (1995). Approximations to the log-likelihood
function in the nonlinear mixed-effects model. J Comput Graph Stat, 4(1), 12-35.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._glmm_family import Family

__all__ = ["Modes", "Problem", "deviance", "gh_rule", "laplace_gradient", "modes"]

#: Newton stops when every group's step is below this (u is on the N(0, 1) scale).
_U_TOL = 1e-11
_MAX_NEWTON = 100


@dataclass(frozen=True)
class Problem:
    """Data of a logistic random-intercept model.

    ``y`` (n,) in {0, 1}; ``X`` (n, p); ``codes`` (n,) group codes ``0..G-1``;
    ``nodes``/``weights`` the quadrature rule (one node at 0 with weight 1 for
    the Laplace approximation).
    """

    y: np.ndarray
    X: np.ndarray
    codes: np.ndarray
    n_groups: int
    nodes: np.ndarray
    weights: np.ndarray
    family: Family = field(default_factory=lambda: Family("binomial", "logit"))
    pw: np.ndarray | None = None  # prior weights (binomial trials); None: 1
    offset: np.ndarray | None = None

    def devres(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """``-2 log p(y | eta)`` with all constants (0/1 logit data: the deviance residual)."""
        if self.family.name == "binomial" and self.family.link == "logit" and self.pw is None:
            return _devres(y, eta)
        pw = 1.0 if self.pw is None else (self.pw if y.ndim == 1 else self.pw[:, None])
        return self.family.neg2loglik(y, np.broadcast_to(pw, np.shape(eta)), eta)

    def gsum(self, values: np.ndarray) -> np.ndarray:
        """Per-group sums of a length-n vector."""
        return np.bincount(self.codes, weights=values, minlength=self.n_groups)


@dataclass(frozen=True)
class Modes:
    """Conditional modes and the quantities the deviance needs, at one (beta, theta)."""

    u: np.ndarray  # (G,) spherical modes; b = theta * u
    eta: np.ndarray  # (n,) linear predictor at the modes
    mu: np.ndarray  # (n,)
    h: np.ndarray  # (G,) sum of deviance residuals + u^2
    a: np.ndarray  # (G,) 1 + theta^2 sum w
    iterations: int


def gh_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and weights for the standard normal density (``lme4::GHrule``).

    Examples
    --------
    >>> z, w = gh_rule(3)
    >>> np.round(z, 6).tolist(), round(float(w.sum()), 12)
    ([-1.732051, 0.0, 1.732051], 1.0)
    """
    if n == 1:
        return np.zeros(1), np.ones(1)
    z, w = np.polynomial.hermite_e.hermegauss(n)
    z[np.abs(z) < 1e-14] = 0.0
    return z, w / w.sum()


def _devres(y: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Binomial deviance residuals of 0/1 data, ``-2 log p(y | eta)``, overflow-safe."""
    return 2.0 * (np.logaddexp(0.0, eta) - y * eta)


def modes(prob: Problem, beta: np.ndarray, theta: float, u0: np.ndarray | None = None) -> Modes:
    """Conditional modes of all groups by damped Newton iterations, vectorised.

    ``h_i(u)`` is strictly convex, so Newton steps halved until ``h_i`` does
    not increase converge from any start; iteration stops when every step is
    below ``1e-11``.
    """
    offset = prob.X @ beta if prob.offset is None else prob.offset + prob.X @ beta
    pw = np.ones(prob.y.size) if prob.pw is None else prob.pw
    u = np.zeros(prob.n_groups) if u0 is None else np.array(u0, dtype=float)

    def state(u_: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        eta_ = offset + theta * u_[prob.codes]
        return eta_, prob.family.mu(eta_), prob.gsum(prob.devres(prob.y, eta_)) + u_**2

    eta, mu, h = state(u)
    it = 0
    for it in range(1, _MAX_NEWTON + 1):  # noqa: B007
        _, w, score = prob.family.weights_score(prob.y, pw, eta)
        grad = -theta * prob.gsum(score) + u
        hess = theta**2 * prob.gsum(w) + 1.0
        step = grad / hess
        if np.max(np.abs(step)) < _U_TOL:
            break
        t = np.ones_like(u)
        for _ in range(30):
            u_new = u - t * step
            eta_new, mu_new, h_new = state(u_new)
            worse = h_new > h + 1e-12 * np.abs(h)
            if not worse.any():
                break
            t = np.where(worse, t / 2.0, t)
        u, eta, mu, h = u_new, eta_new, mu_new, h_new
    a = theta**2 * prob.gsum(prob.family.weights_score(prob.y, pw, eta)[1]) + 1.0
    return Modes(u=u, eta=eta, mu=mu, h=h, a=a, iterations=it)


def deviance(
    prob: Problem, params: np.ndarray, u0: np.ndarray | None = None
) -> tuple[float, Modes]:
    """Approximate deviance at ``params = (theta, beta...)`` and the modes found.

    With one node at 0 this is the Laplace approximation; otherwise adaptive
    Gauss-Hermite quadrature (formulas in the module docstring).
    """
    theta = float(params[0])
    beta = np.asarray(params[1:], dtype=float)
    m = modes(prob, beta, theta, u0)
    dev_groups = m.h + np.log(m.a)
    if prob.nodes.size > 1:
        s = 1.0 / np.sqrt(m.a)
        offset = m.eta - theta * m.u[prob.codes]  # X beta
        shift = m.u[:, None] + s[:, None] * prob.nodes[None, :]  # (G, K)
        eta_k = offset[:, None] + theta * shift[prob.codes]  # (n, K)
        dres = prob.devres(prob.y[:, None], eta_k)
        k = prob.nodes.size
        flat = (prob.codes[:, None] * k + np.arange(k)[None, :]).ravel()
        h_k = np.bincount(flat, weights=dres.ravel(), minlength=prob.n_groups * k)
        h_k = h_k.reshape(prob.n_groups, k) + shift**2
        expo = -(h_k - m.h[:, None]) / 2.0 + prob.nodes[None, :] ** 2 / 2.0
        top = expo.max(axis=1, keepdims=True)
        log_mult = top[:, 0] + np.log(np.sum(prob.weights[None, :] * np.exp(expo - top), axis=1))
        dev_groups = dev_groups - 2.0 * log_mult
    return float(dev_groups.sum()), m


def laplace_gradient(prob: Problem, params: np.ndarray, m: Modes) -> np.ndarray:
    """Exact gradient of the Laplace deviance with respect to ``(theta, beta)``.

    Differentiates ``sum_i h_i(u_i^) + log A_i``: ``h_i`` only through its explicit
    arguments (``dh/du = 0`` at the mode), ``log A_i`` also through ``u_i^``, whose
    derivatives follow from the implicit-function theorem applied to
    ``theta sum_j (mu_ij - y_ij) + u_i = 0``.
    """
    theta = float(params[0])
    X = prob.X
    r = m.mu - prob.y
    w = m.mu * (1.0 - m.mu)
    wp = w * (1.0 - 2.0 * m.mu)  # dw / deta
    sum_r = prob.gsum(r)
    sum_w = prob.gsum(w)
    sum_wp = prob.gsum(wp)
    # implicit derivatives of the modes
    wx = np.stack([prob.gsum(w * X[:, j]) for j in range(X.shape[1])], axis=1)  # (G, p)
    du_db = -theta * wx / m.a[:, None]
    du_dt = -(sum_r + theta * sum_w * m.u) / m.a
    # d log A / d beta and d theta
    wpx = np.stack([prob.gsum(wp * X[:, j]) for j in range(X.shape[1])], axis=1)
    da_db = theta**2 * (wpx + theta * sum_wp[:, None] * du_db)
    da_dt = 2.0 * theta * sum_w + theta**2 * sum_wp * (m.u + theta * du_dt)
    g_beta = 2.0 * (X.T @ r) + (da_db / m.a[:, None]).sum(axis=0)
    g_theta = 2.0 * np.sum(sum_r * m.u) + np.sum(da_dt / m.a)
    return np.concatenate([[g_theta], g_beta])
