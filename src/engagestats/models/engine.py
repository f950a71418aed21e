"""Profiled-REML/ML engine for linear mixed models.

:func:`fit` minimises the profiled deviance of Bates et al. (2015) over the
relative covariance parameters ``theta``. Two interchangeable penalised
least-squares (PLS) solvers evaluate it: a fast one for nested grouping
factors working on per-group sufficient statistics (``_nested.py``) and a
general sparse one for any design (``_general.py``). :func:`fit` picks the
fast one when the grouping factors are nested.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np
import scipy.optimize

from ..errors import ConvergenceWarning, ModelSpecError, SingularFitWarning
from ._boundary import check_residual, check_terms, verify_boundary
from ._crossed import SchurPLS
from ._general import GeneralPLS
from ._lambda import theta_layout, theta_names
from ._nested import NestedPLS, nested_levels
from ._numerics import GRAD_TOL, SINGULAR_TOL, fd_gradient, fd_hessian, hessian_from_gradient
from ._types import Design, EngineFit, PLSState

__all__ = ["fit", "make_pls", "profiled_deviance", "theta_names"]


def profiled_deviance(state: PLSState, n: int, p: int, *, reml: bool = True) -> float:
    """Profiled REML criterion or ML deviance from a PLS solution.

    Parameters
    ----------
    state : PLSState
        From ``make_pls(design)(theta)``.
    n, p : int
        Number of observations and of fixed effects.
    reml : bool, keyword-only
        REML criterion (default) or ML deviance (-2 log-likelihood).

    Returns
    -------
    float

    Notes
    -----
    REML: ``ldL2 + ldRX2 + (n - p) (1 + log(2 pi pwrss / (n - p)))``;
    ML: ``ldL2 + n (1 + log(2 pi pwrss / n))`` (Bates et al., 2015, eqs. 34 and 41).

    References
    ----------
    Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear
    mixed-effects models using lme4. *Journal of Statistical Software*, 67(1), 1-48.

    Examples
    --------
    >>> s = PLSState(np.ones(1), 2.0, 1.0, 10.0, np.zeros(1), np.eye(1))
    >>> round(profiled_deviance(s, 11, 1), 4)
    31.3788
    """
    if not np.isfinite(state.pwrss) or state.pwrss <= 0:
        return float("inf")
    if reml:
        df = n - p
        return float(state.ldL2 + state.ldRX2 + df * (1 + np.log(2 * np.pi * state.pwrss / df)))
    return float(state.ldL2 + n * (1 + np.log(2 * np.pi * state.pwrss / n)))


def _ols(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares coefficients by normal equations plus one refinement step.

    Only used to centre y (any beta0 gives the same fit), so it need not be
    exact; ``einsum`` avoids multi-threaded BLAS, whose spinning threads slow
    the rest of the fit on a 2-core machine.
    """
    if X.shape[1] == 0:
        return np.zeros(0)
    XtX = np.einsum("ij,ik->jk", X, X)
    beta = np.linalg.lstsq(XtX, np.einsum("ij,i->j", X, y), rcond=None)[0]
    r = y - np.einsum("ij,j->i", X, beta)
    return beta + np.linalg.lstsq(XtX, np.einsum("ij,i->j", X, r), rcond=None)[0]


def _solver(design: Design, method: str) -> NestedPLS | GeneralPLS:
    if not design.terms:
        raise ModelSpecError("the model has no random-effects term")
    if design.n <= design.p:
        raise ModelSpecError(f"{design.n} observations for {design.p} fixed effects")
    check_terms(design)
    # Residualise y on X: pwrss and u are unchanged, beta shifts by beta0; this
    # avoids cancellation in y'y - ... when y has a large mean.
    beta0 = _ols(design.X, design.y)
    yr = design.y - np.einsum("ij,j->i", design.X, beta0)
    levels = nested_levels(design) if method in ("auto", "nested") else None
    if method == "nested" and levels is None:
        raise ModelSpecError("the grouping factors are not nested; use method='general'")
    if method not in ("auto", "nested", "general", "crossed"):
        raise ValueError(f"method must be 'auto', 'nested', 'general' or 'crossed', got {method!r}")
    solver: NestedPLS | GeneralPLS
    if levels is not None:
        solver = NestedPLS(design, yr, levels)
    elif method == "crossed" or (method == "auto" and SchurPLS.preferred(design)):
        solver = SchurPLS(design, yr)  # block elimination of the largest term (_crossed.py)
    else:
        solver = GeneralPLS(design, yr)
    solver.beta0 = beta0
    solver.yr = yr
    return solver


def make_pls(design: Design, *, method: str = "auto") -> Callable[[np.ndarray], PLSState]:
    """Penalised least squares as a function of theta.

    Parameters
    ----------
    design : Design
        From :func:`~engagestats.models.design.build_design`.
    method : {"auto", "nested", "general", "crossed"}, keyword-only
        The solver; ``"auto"`` takes the nested one when the grouping factors nest, the
        crossed one (``_crossed.SchurPLS``) for large crossed designs, else the general one.

    Returns
    -------
    callable
        ``pls(theta) -> PLSState``; its attribute ``solver`` gives access to
        the conditional modes (``pls.solver.modes(theta)``).

    Examples
    --------
    >>> import pandas as pd
    >>> from engagestats.models.design import build_design
    >>> d = pd.DataFrame({"y": [1.0, 2.0, 2.5, 4.0, 3.0, 5.5], "g": list("aabbcc")})
    >>> pls = make_pls(build_design("y ~ 1 + (1 | g)", d))
    >>> round(pls(np.array([0.0])).pwrss, 6)  # theta = 0: the OLS residual sum of squares
    12.5
    """
    solver = _solver(design, method)

    def pls(theta: np.ndarray) -> PLSState:
        theta = np.asarray(theta, dtype=float)
        out = solver.solve(theta)
        if out is None:
            nan = np.full(design.p, np.nan)
            return PLSState(theta, np.nan, np.nan, np.inf, nan, np.full((design.p,) * 2, np.nan))
        ldL2, ldRX2, pwrss, beta_r, inv = out
        return PLSState(theta, ldL2, ldRX2, pwrss, beta_r + solver.beta0, inv)

    pls.solver = solver  # type: ignore[attr-defined]
    return pls


def _bound_slope(
    f: Callable, x: np.ndarray, fx: float, lower: np.ndarray, g: np.ndarray, h: float = 1e-4
) -> np.ndarray:
    """The analytic gradient, with one-sided secant slopes at lower bounds.

    The deviance is even in a diagonal element of Lambda whose column has no
    other non-zero entry, so its derivative at 0 vanishes even when 0 is a
    maximum along it; a one-sided secant over ``h`` sees the descent (it is
    about ``f'' h / 2``). The smaller of the two slopes is kept.
    """
    at = np.flatnonzero(x - lower < 1e-6)  # the check's notion of 'at the bound'
    if at.size:
        g = g.copy()
        for i in at:
            e = np.zeros_like(x)
            e[i] = h
            g[i] = min(g[i], (f(x + e) - fx) / h)
    return g


def _check(
    f: Callable,
    x: np.ndarray,
    fx: float,
    lower: np.ndarray,
    grad: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict:
    """lme4-style convergence check: scaled gradient and Hessian on free parameters.

    With ``grad`` (the analytic gradient) the Hessian is the central-difference
    Jacobian of the gradient; otherwise both come from differences of ``f``.
    """
    if grad is None:
        g = fd_gradient(f, x, fx, lower)
    else:
        g_an = grad(x)
        g = _bound_slope(f, x, fx, lower, g_an)
    at_bound = (x - lower) < 1e-6
    ok_bound = bool(np.all(g[at_bound] > -GRAD_TOL))
    free = ~at_bound
    info: dict = {"gradient": g, "at_bound": at_bound}
    if not free.any():
        info.update(scaled_gradient=0.0, hessian=np.zeros((0, 0)), ok=ok_bound)
        return info
    if grad is None:
        H = fd_hessian(lambda z: f(_embed(x, free, z)), x[free], fx)
    else:
        H = hessian_from_gradient(lambda z: grad(_embed(x, free, z))[free], x[free], g_an[free])
    info["hessian"] = H
    try:
        R = np.linalg.cholesky(H).T
        sc = np.linalg.solve(R, g[free])
        measure = float(np.max(np.minimum(np.abs(sc), np.abs(g[free]))))
        pd_ok = True
    except np.linalg.LinAlgError:
        measure, pd_ok = float("inf"), False
    info.update(scaled_gradient=measure, hessian_pd=pd_ok)
    info["ok"] = ok_bound and pd_ok and measure < GRAD_TOL
    return info


def _accept(res: scipy.optimize.OptimizeResult, check: dict) -> bool:
    """Converged: the optimiser did not hit its iteration limit and the check passed.

    L-BFGS-B may also stop because its line search finds no decrease below the
    rounding noise of f (status 2, "ABNORMAL"); such a point is accepted only
    if the scaled-gradient and Hessian check passes, as for any other stop.
    """
    limit = res.status == 1  # iteration or evaluation limit (L-BFGS-B and Nelder-Mead)
    return bool((res.success or res.status == 2) and not limit and check["ok"])


def _embed(x: np.ndarray, free: np.ndarray, z: np.ndarray) -> np.ndarray:
    out = x.copy()
    out[free] = z
    return out


def _minimise(f, x0, lower, optimizer, maxiter, fg=None):
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]
    if optimizer == "lbfgsb":
        if fg is None:

            def fg(x):
                fx = f(x)
                return fx, fd_gradient(f, x, fx, lower, h=1e-7, central=False)

        res = scipy.optimize.minimize(
            fg,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": maxiter, "ftol": 1e-15, "gtol": 1e-7},
        )
    elif optimizer == "nelder-mead":
        res = scipy.optimize.minimize(
            f,
            x0,
            method="Nelder-Mead",
            bounds=bounds,
            options={"maxiter": maxiter * 20, "xatol": 1e-8, "fatol": 1e-10, "adaptive": True},
        )
    else:
        raise ValueError(f"optimizer must be 'lbfgsb' or 'nelder-mead', got {optimizer!r}")
    return np.maximum(res.x, lower), res


def fit(
    design: Design,
    *,
    reml: bool = True,
    start: np.ndarray | None = None,
    optimizer: str = "lbfgsb",
    method: str = "auto",
    maxiter: int = 1000,
) -> EngineFit:
    """Fit a linear mixed model by minimising the profiled REML or ML deviance.

    Parameters
    ----------
    design : Design
        From :func:`~engagestats.models.design.build_design`.
    reml : bool, keyword-only
        REML (default) or maximum likelihood.
    start : array_like, optional, keyword-only
        Starting theta (lme4's order); default lme4's: 1 on the diagonals, 0 elsewhere.
    optimizer : {"lbfgsb", "nelder-mead"}, keyword-only
        Bounded L-BFGS-B (default; analytic gradient on the nested path, forward
        differences on the general one) or bounded Nelder-Mead.
    method : {"auto", "nested", "general", "crossed"}, keyword-only
        PLS solver; ``"auto"`` uses the fast nested one when the grouping factors nest
        and the Schur-complement one for crossed designs with 1000+ random effects.
    maxiter : int, keyword-only
        Iteration limit of the optimiser.

    Returns
    -------
    EngineFit
        theta (lme4's parametrisation), beta, sigma, the deviance at the
        optimum, ``vcov_beta``, conditional modes ``b`` per term, ``converged``,
        the number of deviance evaluations and ``pls`` for re-evaluation.
        ``optimizer_info`` holds the path, gradient, Hessian, scaled gradient,
        ``singular`` and ``theta_names``.

    Raises
    ------
    ModelSpecError
        Two random terms of one grouping factor share a column (``(1 | g) + (1 | g)``);
        the outcome is constant or fitted exactly by the fixed effects; or it has no
        residual variation once the random effects are free (constant within the
        groups): the residual variance is then 0 and the deviance has no minimum.

    Warns
    -----
    ConvergenceWarning
        The optimiser stopped early, the gradient/Hessian check at the optimum
        failed (lme4's ``check.conv.grad``, tolerance 0.002), or a point just inside
        a boundary optimum has a lower deviance; ``converged`` is False.
    SingularFitWarning
        A diagonal element of theta is below 1e-4 (lme4's ``isSingular``); the
        message names the term.

    Notes
    -----
    For given theta the PLS problem ``min ||y - X beta - Z Lambda u||^2 + ||u||^2``
    is solved via ``L L' = Lambda' Z' Z Lambda + I`` and the Schur complement
    ``R_X' R_X``; the profiled deviance is
    ``ldL2 + ldRX2 + (n - p)(1 + log(2 pi pwrss / (n - p)))`` (REML) or
    ``ldL2 + n(1 + log(2 pi pwrss / n))`` (ML), and
    ``sigma^2 = pwrss / (n - p)`` (REML) or ``pwrss / n`` (ML).

    On the nested path the gradient with respect to theta is analytic (the
    adjoint of the block elimination, see ``_nested.py``), so a fit takes a few
    dozen evaluations. At a diagonal element on its bound 0 the derivative can
    vanish while 0 is a maximum along it (the deviance is even in it), so there a
    one-sided secant slope over 1e-4 replaces it when smaller. A diagonal element
    at (below 1e-4 of) its bound is verified before ``converged=True``: the deviance
    is evaluated just inside the boundary, for each zero element and all together,
    at steps 1e-3 .. 1 times ``max(1, max |theta|)``, with the entries below it in
    its column as they are and sign-flipped (the same boundary model); if a probe
    is lower the optimiser restarts from the best probe (at most 3 times; the
    analogue of lme4's ``restart_edge``) and the better optimum is kept. A boundary
    point with a lower probe left is reported ``converged=False``. The convergence
    check (scaled gradient and positive-definite Hessian on the free parameters)
    uses the analytic gradient and the forward-difference Jacobian of it.

    References
    ----------
    Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear
    mixed-effects models using lme4. *Journal of Statistical Software*, 67(1), 1-48.

    Examples
    --------
    >>> import pandas as pd
    >>> from engagestats.models.design import build_design
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(20), 5)
    >>> d = pd.DataFrame({"g": g, "y": rng.normal(size=20)[g] + rng.normal(size=100)})
    >>> res = fit(build_design("y ~ 1 + (1 | g)", d))
    >>> res.converged, res.optimizer_info["path"]
    (True, 'nested')
    >>> bool(abs(res.sigma - 1) < 0.2)
    True
    """
    t0 = time.perf_counter()
    pls = make_pls(design, method=method)
    solver = pls.solver  # type: ignore[attr-defined]
    check_residual(design, solver.yr, pls)
    n, p = design.n, design.p
    _, lower, default = theta_layout(design.terms)
    x0 = default if start is None else np.asarray(start, dtype=float).copy()
    if x0.shape != lower.shape:
        raise ModelSpecError(f"start must have {lower.size} elements, got {x0.size}")
    x0 = np.maximum(x0, lower)
    n_evals = 0

    def f(theta: np.ndarray) -> float:
        nonlocal n_evals
        n_evals += 1
        return profiled_deviance(pls(theta), n, p, reml=reml)

    grad = None
    if hasattr(solver, "gradient"):

        def grad(theta: np.ndarray) -> np.ndarray:
            nonlocal n_evals
            n_evals += 1
            g = solver.gradient(theta, reml=reml, n=n)
            return np.full(theta.size, np.nan) if g is None else g

        def fg(theta: np.ndarray) -> tuple[float, np.ndarray]:
            fx = f(theta)
            g = solver.gradient(theta, reml=reml, n=n) if np.isfinite(fx) else None
            if g is None:
                return fx, np.zeros(theta.size)
            return fx, _bound_slope(f, theta, fx, lower, g)

    fg_ = fg if grad is not None else None
    theta, res = _minimise(f, x0, lower, optimizer, maxiter, fg_)
    fx = f(theta)
    theta, fx, res, boundary = verify_boundary(
        f,
        lambda z: _minimise(f, z, lower, optimizer, maxiter, fg_),
        theta,
        fx,
        res,
        lower,
        design.terms,
    )
    check = _check(f, theta, fx, lower, grad)
    converged = _accept(res, check) and boundary["verified"]
    message = str(res.message)
    if not boundary["verified"]:
        message += "; a point just inside the boundary has a lower deviance"
    if not converged and optimizer == "lbfgsb":
        # one polishing restart with Nelder-Mead from the L-BFGS-B point
        theta2, res2 = _minimise(f, theta, lower, "nelder-mead", maxiter)
        f2 = f(theta2)
        if f2 <= fx + 1e-10:
            theta, fx, res = theta2, f2, res2
            theta, fx, res, boundary = verify_boundary(
                f,
                lambda z: _minimise(f, z, lower, "nelder-mead", maxiter),
                theta,
                fx,
                res,
                lower,
                design.terms,
            )
            check = _check(f, theta, fx, lower, grad)
            converged = _accept(res, check) and boundary["verified"]
            message = "L-BFGS-B then Nelder-Mead: " + str(res.message)
            if not boundary["verified"]:
                message += "; a point just inside the boundary has a lower deviance"
    state = pls(theta)
    b = solver.modes(theta)
    sigma = float(np.sqrt(state.pwrss / (n - p if reml else n)))
    names = theta_names(design.terms)
    diag = np.isfinite(lower)
    singular_idx = np.flatnonzero(diag & (theta < SINGULAR_TOL))
    singular_terms = sorted({names[i].split(".")[0] for i in singular_idx})
    if not converged:
        warnings.warn(
            f"the optimiser did not converge ({message}; scaled gradient "
            f"{check.get('scaled_gradient', float('nan')):.3g}, tolerance {GRAD_TOL}); "
            "estimates may be unreliable",
            ConvergenceWarning,
            stacklevel=2,
        )
    if singular_terms:
        warnings.warn(
            "boundary (singular) fit: a variance of "
            + ", ".join(repr(t) for t in singular_terms)
            + " is estimated as 0 (see lme4's ?isSingular); consider simplifying the model",
            SingularFitWarning,
            stacklevel=2,
        )
    info = {
        "path": solver.path,
        "optimizer": optimizer,
        "gradient": check["gradient"],
        "hessian": check.get("hessian"),
        "scaled_gradient": check.get("scaled_gradient"),
        "singular": bool(singular_terms),
        "singular_terms": singular_terms,
        "theta_names": names,
        "nit": int(getattr(res, "nit", 0)),
        "boundary_restarts": boundary["restarts"],
        "boundary_improved": boundary["improved"],
        "seconds": time.perf_counter() - t0,
    }
    return EngineFit(
        design=design,
        reml=reml,
        theta=theta,
        lower=lower,
        beta=state.beta,
        sigma=sigma,
        deviance=fx,
        vcov_beta=sigma**2 * state.RXinv_RXinvT,
        b=b,
        converged=converged,
        n_evals=n_evals,
        message=message,
        pls=pls,
        optimizer_info=info,
    )
