"""Maximum (REML) likelihood over ``theta`` and ``phi`` for residual AR(1) / CAR(1).

Internal. The deviance of the model with ``e_i ~ N(0, sigma^2 R_i(phi))`` is the
engine's profiled deviance of the Prais-Winsten transformed design (``_ar1.whiten``)
plus ``log |R(phi)|``; ``beta`` and ``sigma`` stay profiled out. ``phi`` is
optimised on nlme's unconstrained scale ``z`` (``log((1+phi)/(1-phi))`` for AR(1),
``logit(phi)`` for CAR(1)).

1. A coarse grid of lag-1 correlations, each with theta optimised (L-BFGS-B,
   analytic theta gradient): a guard against a second mode in phi.
2. L-BFGS-B over ``(theta, z)`` jointly from the best grid point: analytic
   gradient in theta, central difference (step 1e-4) in ``z``.
3. A check of the deviance profiled over theta at ``z -/+ 1e-3``; if either is
   lower, Brent's method on that profile within 0.05 of ``z`` (``xatol`` 1e-7):
   theta and phi trade off, and the joint optimiser can stall in the valley.
4. A final engine fit at the optimal phi, started at the optimal theta: its
   convergence check, boundary verification and warnings are those of any fit.
"""

from __future__ import annotations

import dataclasses
import time as _time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.optimize

from ..errors import ConvergenceWarning, ModelSpecError
from ._ar1 import CorrSpec, whiten
from ._lambda import theta_layout
from ._numerics import fd_gradient
from ._types import Design, EngineFit, PLSState

__all__ = ["CorrFit", "fit_correlated"]

_LIMIT = {"ar1": 12.0, "car1": 14.0}  # |z| limit: |phi| within 1e-5 (ar1) / 1e-6 (car1) of 1
_H = 1e-4  # central-difference step in z


@dataclass
class CorrFit:
    """The fit of the transformed model, reported on the original design.

    ``fit.design`` is the original design and ``fit.deviance`` includes
    ``log |R|``; ``white`` is the transformed design (for conditional SDs).
    """

    fit: EngineFit
    white: Design
    phi: float
    spec: CorrSpec
    n_evals: int
    seconds: float
    at_bound: bool


class _Deviance:
    """Deviance as a function of ``(theta, z)``, caching the PLS of recent ``z``."""

    def __init__(self, design: Design, spec: CorrSpec, reml: bool) -> None:
        self.design, self.spec, self.reml = design, spec, reml
        self.cache: OrderedDict[float, tuple[Callable[[np.ndarray], PLSState], float]] = (
            OrderedDict()
        )
        self.n_evals = 0
        _, self.lower, self.default = theta_layout(design.terms)

    def pls(self, z: float) -> tuple[Callable[[np.ndarray], PLSState], float]:
        from .engine import make_pls

        if z not in self.cache:
            wd, logdet = whiten(self.design, self.spec, self.spec.phi(z))
            self.cache[z] = (make_pls(wd), logdet)
            if len(self.cache) > 8:
                self.cache.popitem(last=False)
        return self.cache[z]

    def __call__(self, theta: np.ndarray, z: float) -> float:
        from .engine import profiled_deviance

        self.n_evals += 1
        pls, logdet = self.pls(z)
        dev = profiled_deviance(pls(theta), self.design.n, self.design.p, reml=self.reml)
        return float(dev + logdet) if np.isfinite(dev) else float("inf")

    def grad_theta(self, theta: np.ndarray, z: float, fx: float) -> np.ndarray:
        from .engine import _bound_slope

        pls, _ = self.pls(z)
        solver = pls.solver  # type: ignore[attr-defined]
        g = None
        if hasattr(solver, "gradient"):
            pls(theta)
            g = solver.gradient(theta, reml=self.reml, n=self.design.n)
        if g is None:
            return fd_gradient(lambda t: self(t, z), theta, fx, self.lower)
        # at a variance of 0 the analytic slope vanishes (the deviance is even there):
        # the engine's one-sided secant sees the descent
        return _bound_slope(lambda t: self(t, z), theta, fx, self.lower, np.asarray(g, dtype=float))

    def profile(self, z: float, start: np.ndarray) -> tuple[float, np.ndarray]:
        """Deviance minimised over theta at fixed ``z`` (no convergence checks)."""

        def fg(theta: np.ndarray) -> tuple[float, np.ndarray]:
            fx = self(theta, z)
            if not np.isfinite(fx):
                return fx, np.zeros(theta.size)
            return fx, self.grad_theta(theta, z, fx)

        bounds = [(lo if np.isfinite(lo) else None, None) for lo in self.lower]
        res = scipy.optimize.minimize(
            fg,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 500, "ftol": 1e-14, "gtol": 1e-6},
        )
        return float(res.fun), np.maximum(res.x, self.lower)

    def joint(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        theta, z = x[:-1], float(x[-1])
        fx = self(theta, z)
        if not np.isfinite(fx):
            return fx, np.zeros(x.size)
        lim = _LIMIT[self.spec.kind]
        hi, lo = min(z + _H, lim), max(z - _H, -lim)
        gz = (self(theta, hi) - self(theta, lo)) / (hi - lo)
        return fx, np.append(self.grad_theta(theta, z, fx), gz)


def _grid(spec: CorrSpec) -> list[float]:
    if spec.kind == "ar1":
        return [spec.z(r) for r in (-0.5, 0.0, 0.4, 0.7, 0.9, 0.98)]
    step = float(np.median(spec.steps)) if spec.steps.size else 1.0
    lim = _LIMIT["car1"] - 1.0
    return [
        float(np.clip(spec.z(r ** (1.0 / step)), -lim, lim)) for r in (0.1, 0.4, 0.7, 0.9, 0.98)
    ]


def _polish(dev: _Deviance, z0: float, theta0: np.ndarray) -> tuple[float, np.ndarray]:
    """Brent's method on the deviance profiled over theta, within 0.05 of ``z0`` in z."""
    lim = _LIMIT[dev.spec.kind]
    thetas: dict[float, np.ndarray] = {z0: theta0}

    def prof(z: float) -> float:
        near = min(thetas, key=lambda k: abs(k - z))
        fz, th = dev.profile(z, thetas[near])
        thetas[z] = th
        return fz

    f0 = prof(z0)
    # at an optimum the profile rises both ways: then three profile fits suffice
    if all(prof(float(np.clip(z0 + h, -lim, lim))) >= f0 - 1e-9 for h in (-1e-3, 1e-3)):
        return z0, thetas[z0]
    lo, hi = max(z0 - 0.05, -lim), min(z0 + 0.05, lim)
    res = scipy.optimize.minimize_scalar(
        prof, bounds=(lo, hi), method="bounded", options={"xatol": 1e-7, "maxiter": 100}
    )
    if np.isfinite(res.fun) and res.fun < f0:
        return float(res.x), thetas[float(res.x)] if float(res.x) in thetas else thetas[z0]
    return z0, thetas[z0]


def fit_correlated(design: Design, spec: CorrSpec, *, reml: bool) -> CorrFit:
    """Maximise the (REML) likelihood over the random-effects parameters and phi.

    Parameters
    ----------
    design : Design
        The untransformed design.
    spec : CorrSpec
        From :func:`engagestats.models._ar1.residual_structure`.
    reml : bool, keyword-only

    Returns
    -------
    CorrFit

    Warns
    -----
    ConvergenceWarning
        phi at the edge of its range, or the joint optimiser did not converge
        (then ``fit.converged`` is False); plus the final engine fit's warnings.
    """
    from .engine import fit

    t0 = _time.perf_counter()
    dev = _Deviance(design, spec, reml)
    lim = _LIMIT[spec.kind]
    with np.errstate(all="ignore"):
        theta = dev.default.copy()
        best: tuple[float, float, np.ndarray] | None = None
        for z in _grid(spec):
            fz, theta = dev.profile(z, theta)
            if np.isfinite(fz) and (best is None or fz < best[0]):
                best = (fz, z, theta.copy())
        if best is None:
            raise ModelSpecError("the model could not be fitted at any value of phi")
        x0 = np.append(best[2], best[1])
        bounds = [(lo if np.isfinite(lo) else None, None) for lo in dev.lower] + [(-lim, lim)]
        res = scipy.optimize.minimize(
            dev.joint,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-7},
        )
        # theta and phi trade off (a random intercept against a slowly decaying AR(1)): the
        # joint optimiser can stall in the narrow valley; polish phi on the profile
        z_hat, theta_hat = _polish(dev, float(res.x[-1]), np.maximum(res.x[:-1], dev.lower))
    phi = spec.phi(z_hat)
    wd, logdet = whiten(design, spec, phi)
    final = fit(wd, reml=reml, start=theta_hat)  # its warnings reach the user
    at_bound = abs(z_hat) > lim - 1e-3
    joint_ok = bool((res.success or res.status == 2) and res.status != 1)
    if at_bound:
        warnings.warn(
            f"phi = {phi:.6g} is at the edge of its range: the residual correlation is not "
            "identified with these random effects (or the model needs another structure)",
            ConvergenceWarning,
            stacklevel=3,
        )
    elif not joint_ok:
        warnings.warn(
            f"the optimiser over (theta, phi) did not converge ({res.message}); "
            "estimates may be unreliable",
            ConvergenceWarning,
            stacklevel=3,
        )
    n_evals = dev.n_evals + final.n_evals
    out = dataclasses.replace(
        final,
        design=design,
        deviance=float(final.deviance + logdet),
        n_evals=n_evals,
        converged=bool(final.converged and joint_ok and not at_bound),
    )
    out.optimizer_info = dict(
        final.optimizer_info, phi_z=z_hat, joint_nit=int(res.nit), joint_message=str(res.message)
    )
    return CorrFit(out, wd, phi, spec, n_evals, _time.perf_counter() - t0, at_bound)
