"""Fitting a logistic random-intercept GLMM: start, optimisation, Hessian, vcov.

:func:`fit_glmm` maximises the Laplace or adaptive Gauss-Hermite approximation
of the marginal likelihood (:mod:`._agq`) over ``(theta, beta)`` with bounded
L-BFGS-B (``theta >= 0``) from a logistic GLM start, then reproduces what lme4
does after the optimisation: the finite-difference Hessian of the deviance in
``(theta, beta)`` (``lme4:::deriv12``, central differences with step 1e-4),
``vcov(beta)`` as the beta block of ``2 H^{-1}`` (``vcov.merMod(use.hessian = TRUE)``,
falling back to the ``R_X`` based matrix when that is not positive definite),
and the scaled-gradient convergence check (``check.conv.grad``, tolerance 0.002).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.optimize
from scipy.special import expit

from ..errors import ModelSpecError
from . import _agq
from ._numerics import GRAD_TOL, SINGULAR_TOL, central_gradient, deriv12
from ._types import Design

__all__ = ["GlmmFit", "fit_glmm", "glm_start"]

_FD_STEP = 1e-5  # central-difference gradient of the AGQ deviance (optimisation only)


@dataclass
class GlmmFit:
    """Output of :func:`fit_glmm` (internal)."""

    design: Design
    nagq: int
    theta: float
    beta: np.ndarray
    deviance: float
    vcov_beta: np.ndarray
    vcov_method: str  # "hessian" or "RX"
    u: np.ndarray
    cond_sd: np.ndarray
    converged: bool
    gradient: np.ndarray
    hessian: np.ndarray
    message: str
    problem: _agq.Problem
    info: dict[str, Any] = field(default_factory=dict)


def check_design(design: Design, nagq: int) -> None:
    """A single scalar random intercept is required (lme4 requires it for nAGQ > 1)."""
    terms = design.terms
    if len(terms) == 1 and terms[0].columns == ("(Intercept)",):
        return
    what = ", ".join(f"({' + '.join(t.columns)} | {t.group})" for t in terms)
    if nagq > 1:
        raise ModelSpecError(
            f"adaptive Gauss-Hermite quadrature (nagq={nagq}) needs a single scalar random "
            f"intercept such as (1 | group), got {what}"
        )
    raise ModelSpecError(
        f"glmm supports a single random intercept such as (1 | group), got {what}; "
        "random slopes and several grouping factors are not implemented"
    )


def glm_start(y: np.ndarray, X: np.ndarray, *, max_iter: int = 50) -> np.ndarray:
    """Logistic GLM coefficients by iteratively reweighted least squares."""
    beta = np.zeros(X.shape[1])
    mu = (y + 0.5) / 2.0
    eta = np.log(mu / (1.0 - mu))
    for _ in range(max_iter):
        w = np.clip(mu * (1.0 - mu), 1e-10, None)
        z = eta + (y - mu) / w
        sw = np.sqrt(w)
        new, *_ = np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)
        done = np.max(np.abs(new - beta)) < 1e-10
        beta = new
        eta = np.clip(X @ beta, -30.0, 30.0)
        mu = expit(eta)
        if done:
            break
    return beta


def _rx_vcov(prob: _agq.Problem, theta: float, m: _agq.Modes) -> np.ndarray:
    """``(R_X' R_X)^{-1}``: inverse Schur complement ``X'WX - sum_i c_i c_i' / A_i``."""
    w = m.mu * (1.0 - m.mu)
    X = prob.X
    c = theta * np.stack([prob.gsum(w * X[:, j]) for j in range(X.shape[1])], axis=1)
    schur = (X * w[:, None]).T @ X - (c / m.a[:, None]).T @ c
    return np.linalg.inv(schur)


def _scaled_gradient_ok(g: np.ndarray, H: np.ndarray, free: np.ndarray) -> tuple[bool, float]:
    g, H = g[free], H[np.ix_(free, free)]
    try:
        scaled = np.linalg.solve(np.linalg.cholesky(H), g)
    except np.linalg.LinAlgError:
        # a Hessian that is not positive definite is no minimum (e.g. complete separation):
        # never converged, whatever the gradient says
        return False, float("inf")
    eig = np.linalg.eigvalsh(H)
    if eig[0] <= 1e-6 * max(1.0, eig[-1]):
        # (nearly) flat in some direction: not identifiable, e.g. complete separation, where
        # estimates run off to infinity with a vanishing gradient
        return False, float("inf")
    worst = float(np.max(np.minimum(np.abs(scaled), np.abs(g))))
    return worst < GRAD_TOL, worst


def _minimise(prob: _agq.Problem, x0: np.ndarray, cache: dict[str, Any]) -> Any:
    """Bounded L-BFGS-B on the approximate deviance (exact gradient for Laplace)."""
    laplace = prob.nodes.size == 1

    def dev(x: np.ndarray) -> float:
        value, m = _agq.deviance(prob, x, cache["u"])
        cache["u"] = m.u
        cache["evals"] += 1
        return value

    def fun_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, m = _agq.deviance(prob, x, cache["u"])
        cache["u"] = m.u
        cache["evals"] += 1
        if laplace:
            return value, _agq.laplace_gradient(prob, x, m)
        return value, central_gradient(dev, x, _FD_STEP)

    bounds = [(0.0, None)] + [(None, None)] * (x0.size - 1)
    return scipy.optimize.minimize(
        fun_grad,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-7, "maxcor": 20},
    )


def fit_glmm(design: Design, *, nagq: int) -> GlmmFit:
    """Fit ``logit P(y = 1) = X beta + theta u_group``, ``u ~ N(0, 1)``, by Laplace or AGQ."""
    check_design(design, nagq)
    term = design.terms[0]
    nodes, weights = _agq.gh_rule(nagq)
    prob = _agq.Problem(
        y=design.y,
        X=design.X,
        codes=term.codes,
        n_groups=term.n_levels,
        nodes=nodes,
        weights=weights,
    )
    cache: dict[str, Any] = {"u": None, "evals": 0}

    def dev(x: np.ndarray) -> float:
        value, m = _agq.deviance(prob, x, cache["u"])
        cache["u"] = m.u
        cache["evals"] += 1
        return value

    x0 = np.concatenate([[1.0], glm_start(prob.y, prob.X)])
    laplace = _agq.Problem(prob.y, prob.X, prob.codes, prob.n_groups, *_agq.gh_rule(1))
    opt = _minimise(laplace, x0, cache)
    if nagq > 1:  # from the Laplace optimum: few iterations with the costlier AGQ deviance
        opt = _minimise(prob, np.asarray(opt.x, dtype=float), cache)
    x = np.asarray(opt.x, dtype=float)
    fx, m = _agq.deviance(prob, x)
    cache["u"] = m.u
    g, H = deriv12(dev, x, fx)
    m = _agq.deviance(prob, x)[1]  # modes at the optimum, as lme4 re-evaluates there

    p = design.p
    vcov_method = "hessian"
    try:
        full = np.linalg.inv(H)
        vb = full[1:, 1:]
        vb = vb + vb.T  # 2 H^{-1}, symmetrised as lme4 does
        if not np.all(np.isfinite(vb)) or np.min(np.linalg.eigvalsh(vb)) <= 0:
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        vb = _rx_vcov(prob, float(x[0]), m)
        vcov_method = "RX"
    free = np.ones(p + 1, dtype=bool)
    free[0] = x[0] > SINGULAR_TOL
    grad_ok, worst = _scaled_gradient_ok(g, H, free)
    converged = bool(grad_ok and (opt.success or worst < GRAD_TOL / 100))
    message = str(opt.message)
    if not grad_ok:
        message = (
            "Hessian not positive definite, or nearly singular, at the optimum: the model is "
            f"not identifiable (complete separation?) ({message})"
            if np.isinf(worst)
            else f"max|scaled gradient| = {worst:.3g} > {GRAD_TOL} ({message})"
        )
    if vcov_method == "RX":
        message += "; standard errors from R_X (the Hessian was not usable), as lme4 falls back"
    theta = float(x[0])
    return GlmmFit(
        design=design,
        nagq=nagq,
        theta=theta,
        beta=x[1:].copy(),
        deviance=float(fx),
        vcov_beta=vb,
        vcov_method=vcov_method,
        u=m.u,
        cond_sd=abs(theta) / np.sqrt(m.a),
        converged=converged,
        gradient=g,
        hessian=H,
        message=message,
        problem=prob,
        info={"n_evals": cache["evals"], "n_iter": int(opt.nit), "max_scaled_gradient": worst},
    )
