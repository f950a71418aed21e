"""Fitting a GLMM: start, two optimisation stages, boundary check, Hessian, vcov.

:func:`fit_glmm` follows lme4's ``glmer``:

1. a GLM start for beta and ``theta`` at lme4's start (1 on the diagonals);
2. stage 1 (lme4's ``nAGQ = 0``): ``theta`` alone is optimised with beta
   updated inside PIRLS;
3. stage 2: the Laplace deviance (or, for one scalar random intercept and
   ``nagq > 1``, the adaptive Gauss-Hermite deviance of :mod:`._agq`) is
   minimised over ``(theta, beta)`` by bounded L-BFGS-B with central-difference
   gradients (``theta`` diagonals >= 0);
4. boundary optima are verified (issue 19): components of ``theta`` at 0 are
   moved inside and the fit restarted, the one-sided directional derivative
   into the interior is checked with a step scaled to the parameters, and the
   better optimum is kept; a fit whose directional derivative stays negative
   is not reported as converged;
5. what lme4 does after optimising: the finite-difference Hessian of the
   deviance in ``(theta, beta)`` (``lme4:::deriv12``, step 1e-4), ``vcov(beta)``
   as the beta block of ``2 H^{-1}`` (falling back to the ``R_X`` matrix),
   and the scaled-gradient convergence check (tolerance 0.002).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize

from ..errors import ModelSpecError
from . import _agq
from ._glmm_family import Family
from ._glmm_laplace import Laplace, Mode
from ._numerics import GRAD_TOL, SINGULAR_TOL, deriv12
from ._types import Design

__all__ = ["GlmmFit", "check_design", "fit_glmm", "glm_start", "laplace_optimum"]

_FD_STEP = 1e-6
_BOUNDARY_TOL = 1e-6  # theta diagonal treated as "at the boundary"
_SLOPE_TOL = -1e-4  # one-sided derivative (deviance per unit) that proves a boundary non-optimal


@dataclass
class GlmmFit:
    """Output of :func:`fit_glmm` (internal)."""

    design: Design
    family: Family
    nagq: int
    theta: np.ndarray
    lower: np.ndarray
    beta: np.ndarray
    deviance: float  # -2 log L including constants (comparable across nagq)
    saturated: float  # sum -2 log f(y | mu = y): lme4 drops it for nagq > 1
    vcov_beta: np.ndarray
    vcov_method: str  # "hessian" or "RX"
    b: list[np.ndarray]
    cond_var: list[np.ndarray] | None
    converged: bool
    gradient: np.ndarray
    hessian: np.ndarray
    message: str
    laplace: Laplace
    mode: Mode | None
    y: np.ndarray
    pw: np.ndarray
    offset: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def check_design(design: Design, nagq: int) -> None:
    """``nagq > 1`` needs a single scalar random intercept (as lme4)."""
    terms = design.terms
    if not terms:
        raise ModelSpecError(
            f"{design.formula!r} has no random-effects term such as (1 | group); "
            "glmm fits mixed models only"
        )
    seen: set[tuple[str, str]] = set()
    for t in terms:
        for col in t.columns:
            if (t.group, col) in seen:
                raise ModelSpecError(
                    f"the random effect {col!r} of {t.group!r} appears twice in "
                    f"{design.formula!r}; its variance would not be identifiable"
                )
            seen.add((t.group, col))
    if nagq == 1 or (len(terms) == 1 and terms[0].k == 1):
        return
    what = " + ".join(f"({' + '.join(t.columns)} | {t.group})" for t in terms)
    raise ModelSpecError(
        f"adaptive Gauss-Hermite quadrature (nagq={nagq}) needs a single scalar random "
        f"effect such as (1 | group), got {what}; use nagq=1 (Laplace), as lme4 requires"
    )


def glm_start(
    y: np.ndarray,
    X: np.ndarray,
    *,
    family: Family | None = None,
    pw: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    max_iter: int = 50,
) -> np.ndarray:
    """GLM coefficients by iteratively reweighted least squares (no random effects)."""
    family = family or Family("binomial", "logit")
    pw = np.ones(y.size) if pw is None else pw
    off = np.zeros(y.size) if offset is None else offset
    if family.name == "binomial":
        mu = (pw * y + 0.5) / (pw + 1.0)
        eta = family_link(family, mu)
    else:
        eta = np.log(y + 0.1)
    beta = np.zeros(X.shape[1])
    for _ in range(max_iter):
        mu, w, s = family.weights_score(y, pw, eta)
        w = np.clip(w, 1e-10, None)
        z = eta - off + s / w
        sw = np.sqrt(w)
        new, *_ = np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)
        done = np.max(np.abs(new - beta)) < 1e-10
        beta = new
        eta = np.clip(off + X @ beta, -30.0, 30.0)
        if done:
            break
    return beta


def family_link(family: Family, mu: np.ndarray) -> np.ndarray:
    from scipy.special import logit, ndtri

    if family.link == "logit":
        return logit(mu)
    if family.link == "probit":
        return ndtri(mu)
    return np.log(mu)


def _scaled_gradient_ok(g: np.ndarray, H: np.ndarray, free: np.ndarray) -> tuple[bool, float]:
    g, H = g[free], H[np.ix_(free, free)]
    try:
        scaled = np.linalg.solve(np.linalg.cholesky(H), g)
    except np.linalg.LinAlgError:
        # a Hessian that is not positive definite is no minimum (e.g. complete separation)
        return False, float("inf")
    eig = np.linalg.eigvalsh(H)
    if eig[0] <= 1e-6 * max(1.0, eig[-1]):
        # (nearly) flat in some direction: not identifiable (estimates running off to infinity)
        return False, float("inf")
    worst = float(np.max(np.minimum(np.abs(scaled), np.abs(g))))
    return worst < GRAD_TOL, worst


class _Objective:
    """Deviance in ``x = (theta, beta)`` with warm-started conditional modes."""

    def __init__(self, lap: Laplace, agq: _agq.Problem | None) -> None:
        self.lap, self.agq = lap, agq
        self.nt = lap.lower.size
        self.u: np.ndarray | None = None
        self.evals = 0

    def __call__(self, x: np.ndarray) -> float:
        self.evals += 1
        theta, beta = x[: self.nt], x[self.nt :]
        if self.agq is not None:
            value, modes = _agq.deviance(self.agq, x, self.u)
            self.u = modes.u
            return float(value)
        m = self.lap.mode(theta, beta, self.u)
        if np.all(np.isfinite(m.u)):
            self.u = m.u
        return m.dev

    def fun_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Deviance and its central-difference gradient."""
        fx = self(x)
        g = np.empty_like(x)
        for j in range(x.size):
            h = _FD_STEP * max(1.0, abs(x[j]))
            e = np.zeros_like(x)
            e[j] = h
            g[j] = (self(x + e) - self(x - e)) / (2.0 * h)
        return fx, g

    def fun_grad_forward(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Deviance and a forward-difference gradient (half the cost; for the approach)."""
        fx = self(x)
        g = np.empty_like(x)
        for j in range(x.size):
            h = 1e-7 * max(1.0, abs(x[j]))
            e = np.zeros_like(x)
            e[j] = h
            g[j] = (self(x + e) - fx) / h
        return fx, g


def _stage1(lap: Laplace, beta0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optimise theta with beta inside PIRLS (lme4's nAGQ = 0 criterion)."""
    state: dict[str, Any] = {"u": None, "beta": beta0}

    def f(theta: np.ndarray) -> float:
        m = lap.mode(theta, state["beta"], state["u"], joint=True)
        state["u"], state["beta"] = m.u, m.beta
        return m.dev

    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lap.lower]
    opt = scipy.optimize.minimize(
        f,
        lap.theta_start,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 200, "ftol": 1e-10, "eps": 1e-6},
    )
    theta = np.asarray(opt.x, dtype=float)
    m = lap.mode(theta, state["beta"], state["u"], joint=True)
    return theta, m.beta


@dataclass
class _Polished:
    """A Newton-polished optimum, with the Hessian it was made from (deriv12 at the start)."""

    x: np.ndarray
    hessian: np.ndarray
    success: bool = True
    nit: int = 1
    message: str = "L-BFGS-B approach, then a Newton step on the finite-difference Hessian"


def _newton_polish(obj: _Objective, x: np.ndarray, lower: np.ndarray) -> _Polished | None:
    """One Newton step from an interior near-optimum, on lme4's ``deriv12`` Hessian.

    ``None`` (fall back to central-difference L-BFGS-B) at a boundary, when the
    Hessian is not positive definite, the step is not small, or the deviance rises.
    """
    nt = lower.size
    if np.any((lower == 0.0) & (x[:nt] <= 1e-3)):
        return None
    fx = obj(x)
    g, H = deriv12(obj, x, fx)
    try:
        step = scipy.linalg.cho_solve(scipy.linalg.cho_factor(H), g)
    except (np.linalg.LinAlgError, ValueError):
        return None
    if not np.all(np.isfinite(step)) or np.any(np.abs(step) > 1e-3 * np.maximum(1.0, np.abs(x))):
        return None
    x1 = x - step
    if np.any(x1[:nt] < lower) or obj(x1) > fx + 1e-9:
        return None
    return _Polished(x1, H)


def _minimise(obj: _Objective, x0: np.ndarray, lower: np.ndarray, *, polish: bool = False) -> Any:
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]
    bounds += [(None, None)] * (x0.size - lower.size)
    approach = scipy.optimize.minimize(
        obj.fun_grad_forward,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 1000, "ftol": 1e-11, "gtol": 1e-5, "maxcor": 20},
    )
    if polish:
        polished = _newton_polish(obj, np.asarray(approach.x, dtype=float), lower)
        if polished is not None:
            polished.nit += int(approach.nit)
            return polished
    return scipy.optimize.minimize(
        obj.fun_grad,
        np.asarray(approach.x, dtype=float),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-8, "maxcor": 20},
    )


def _boundary_check(
    obj: _Objective, x: np.ndarray, fx: float, lower: np.ndarray
) -> tuple[np.ndarray, float, dict[str, Any]]:
    """Restart from boundary optima and check the directional derivative into the interior."""
    nt = lower.size
    at_bound = np.flatnonzero((lower == 0.0) & (x[:nt] <= _BOUNDARY_TOL))
    info: dict[str, Any] = {"boundary": [int(i) for i in at_bound], "restarted": False}
    if at_bound.size == 0:
        return x, fx, info
    scale = max(1.0, float(np.max(np.abs(x[:nt]))))
    slopes = []
    for i in at_bound:
        h = 1e-4 * scale
        e = np.zeros_like(x)
        e[i] = h
        slopes.append((obj(x + e) - fx) / h)
    info["slopes"] = slopes
    start = x.copy()
    start[at_bound] = 0.1 * scale  # moved inside (lme4's restart_edge starts afresh)
    opt = _minimise(obj, start, lower)
    info["restarted"] = True
    x2 = np.asarray(opt.x, dtype=float)
    f2 = obj(x2)
    info["restart_deviance"] = f2
    if f2 < fx - 1e-8:
        info["kept"] = "restart"
        again = _boundary_check(obj, x2, f2, lower)
        info["boundary_ok"] = again[2].get("boundary_ok", True)
        info["after_restart"] = again[2]
        return again[0], again[1], info
    info["kept"] = "original"
    info["boundary_ok"] = bool(min(slopes) > _SLOPE_TOL)
    return x, fx, info


def _prepare(design: Design, family: Family, y, pw, offset) -> tuple[np.ndarray, Laplace]:
    """``T`` with orthonormal columns ``X T`` (sqrt(n) scale) and the Laplace problem on them.

    Optimising over ``beta_s = T^{-1} beta`` is the same model, but well conditioned
    whatever the units of the predictors.
    """
    n, p = design.X.shape
    R = np.linalg.qr(design.X, mode="r")
    T = np.linalg.inv(R) * np.sqrt(n) if p else np.zeros((0, 0))
    return T, Laplace(design, family, y, pw, offset, X=design.X @ T)


def laplace_optimum(
    design: Design, *, family: Family, y, pw, offset, start: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Minimised Laplace deviance and its ``x`` (scaled coordinates), without the Hessian."""
    _, lap = _prepare(design, family, y, pw, offset)
    obj = _Objective(lap, None)
    if start is None:
        beta0 = glm_start(y, lap.X, family=family, pw=pw, offset=offset)
        start = np.concatenate(_stage1(lap, beta0))
    opt = _minimise(obj, start, lap.lower)
    x = np.asarray(opt.x, dtype=float)
    x, fx, _ = _boundary_check(obj, x, obj(x), lap.lower)
    return fx, x


def _separated_terms(design: Design, family: Family, y, pw) -> list[str]:
    """Grouping factors within each of whose levels a binomial response is all 0 or all 1."""
    if family.name != "binomial":
        return []
    out = []
    used = pw > 0
    for t in design.terms:
        lo = np.full(t.n_levels, np.inf)
        hi = np.full(t.n_levels, -np.inf)
        np.minimum.at(lo, t.codes[used], y[used])
        np.maximum.at(hi, t.codes[used], y[used])
        seen = np.isfinite(lo)
        if np.all((lo[seen] == hi[seen]) & ((lo[seen] == 0) | (lo[seen] == 1))):
            out.append(t.group)
    return out


def fit_glmm(
    design: Design,
    *,
    family: Family,
    y: np.ndarray,
    pw: np.ndarray,
    offset: np.ndarray,
    nagq: int,
    start: np.ndarray | None = None,
) -> GlmmFit:
    """Fit the GLMM of ``design`` by Laplace (any terms) or AGQ (one scalar term)."""
    check_design(design, nagq)
    T, lap = _prepare(design, family, y, pw, offset)
    Xs = lap.X
    if start is None:
        beta0 = glm_start(y, Xs, family=family, pw=pw, offset=offset)
        start = np.concatenate(_stage1(lap, beta0))
    obj = _Objective(lap, None)
    opt = _minimise(obj, start, lap.lower, polish=nagq == 1)
    x = np.asarray(opt.x, dtype=float)
    agq = None
    if nagq > 1:
        term = design.terms[0]
        nodes, weights = _agq.gh_rule(nagq)
        agq = _agq.Problem(y, Xs, term.codes, term.n_levels, nodes, weights, family, pw, offset)
        x[0] = abs(x[0])
        obj = _Objective(lap, agq)
        opt = _minimise(obj, x, lap.lower, polish=True)
        x = np.asarray(opt.x, dtype=float)
    fx = obj(x)
    x_opt = x.copy()
    x, fx, binfo = _boundary_check(obj, x, fx, lap.lower)
    obj.u = None
    fx = obj(x)
    if isinstance(opt, _Polished) and np.array_equal(x, x_opt):
        # the Hessian of the polish step (at most 1e-3 relative away); the gradient here
        _, g = obj.fun_grad(x)
        H = opt.hessian
    else:
        g, H = deriv12(obj, x, fx)
    nt = lap.lower.size
    theta, beta_s = x[:nt], x[nt:]
    mode = lap.mode(theta, beta_s)
    beta = T @ beta_s
    vcov_method = "hessian"
    try:
        vb = np.linalg.inv(H)[nt:, nt:]
        vb = vb + vb.T  # 2 H^{-1}, symmetrised as lme4 does
        if not np.all(np.isfinite(vb)) or np.min(np.linalg.eigvalsh(vb)) <= 0:
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        vb = lap.rx_vcov(mode)
        vcov_method = "RX"
    vb = T @ vb @ T.T
    free = np.ones(x.size, dtype=bool)
    free[:nt] = ~((lap.lower == 0.0) & (theta < SINGULAR_TOL))
    grad_ok, worst = _scaled_gradient_ok(g, H, free)
    boundary_ok = binfo.get("boundary_ok", True)
    converged = bool(grad_ok and boundary_ok and (opt.success or worst < GRAD_TOL / 100))
    message = str(opt.message)
    if not grad_ok:
        message = (
            "Hessian not positive definite, or nearly singular, at the optimum: the model is "
            f"not identifiable (complete separation?) ({message})"
            if np.isinf(worst)
            else f"max|scaled gradient| = {worst:.3g} > {GRAD_TOL} ({message})"
        )
    degenerate = _separated_terms(design, family, y, pw)
    if degenerate:
        converged = False
        message += "".join(
            f"; the response does not vary within any level of {g!r} (every level all 0 or "
            "all 1): its random-effect variance is not estimable (no within-group variation)"
            for g in degenerate
        )
    if not boundary_ok:
        message += (
            "; a variance parameter is at 0 but the deviance decreases into the interior "
            f"(one-sided slopes {np.round(binfo['slopes'], 6).tolist()})"
        )
    if vcov_method == "RX":
        message += "; standard errors from R_X (the Hessian was not usable), as lme4 falls back"
    if agq is not None:
        am = _agq.deviance(agq, x)[1]
        b = [np.asarray(theta[0] * am.u)[:, None]]
        cond_var = [(theta[0] ** 2 / am.a)[:, None, None]]
    else:
        b = lap.b(theta, mode.u)
        cond_var = None
    return GlmmFit(
        design=design,
        family=family,
        nagq=nagq,
        theta=theta.copy(),
        lower=lap.lower,
        beta=beta.copy(),
        deviance=float(fx),
        saturated=family.saturated(y, pw),
        vcov_beta=vb,
        vcov_method=vcov_method,
        b=b,
        cond_var=cond_var,
        converged=converged,
        gradient=g,
        hessian=H,
        message=message,
        laplace=lap,
        mode=mode,
        y=y,
        pw=pw,
        offset=offset,
        info={
            "n_evals": lap.n_evals + (obj.evals if agq is not None else 0),
            "n_iter": int(opt.nit),
            "max_scaled_gradient": worst,
            "boundary": binfo,
            "x_scaled": x.copy(),
        },
    )
