"""Numerical derivatives and the convergence tolerances of the model engines, in one place.

- Richardson-extrapolated differences as R's numDeriv computes them
  (:func:`richardson_jacobian`, :func:`richardson_hessian`): lmerTest computes the
  Satterthwaite degrees of freedom from ``numDeriv::hessian`` and ``numDeriv::jacobian``
  with their default settings, so reproducing the same step sizes and extrapolation
  makes our degrees of freedom agree with lmerTest's to many digits;
- plain finite differences for the optimisers' convergence checks
  (:func:`fd_gradient`, :func:`fd_hessian`, :func:`hessian_from_gradient`,
  :func:`central_gradient`) and ``lme4:::deriv12`` (:func:`deriv12`);
- lme4's tolerances: :data:`GRAD_TOL` (``check.conv.grad``) and :data:`SINGULAR_TOL`
  (``isSingular``'s default tolerance).

References
----------
Gilbert, P. & Varadhan, R. (2019). numDeriv: Accurate Numerical Derivatives.
R package version 2016.8-1.1, functions ``grad``, ``jacobian`` and ``genD``.

Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects
models using lme4. J Stat Softw, 67(1), 1-48 (``lmerControl(check.conv.grad =
.makeCC("warning", tol = 2e-3))``, ``isSingular(tol = 1e-4)``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "DERIV12_STEP",
    "GRAD_TOL",
    "SINGULAR_TOL",
    "central_gradient",
    "deriv12",
    "fd_gradient",
    "fd_hessian",
    "hessian_from_gradient",
    "richardson_hessian",
    "richardson_jacobian",
]

#: lme4's ``check.conv.grad`` tolerance on the scaled gradient.
GRAD_TOL = 2e-3
#: lme4's ``isSingular`` tolerance on diagonal relative covariance factors.
SINGULAR_TOL = 1e-4
#: Step of ``lme4:::deriv12``.
DERIV12_STEP = 1e-4


_EPS = 1e-4
_ZERO_TOL = float(np.sqrt(np.finfo(float).eps / 7e-7))
_R = 4
_V = 2.0


def _richardson(a: np.ndarray) -> np.ndarray:
    """Extrapolate along the first axis (successively halved steps)."""
    for m in range(1, _R):
        a = (a[1:] * 4.0**m - a[:-1]) / (4.0**m - 1.0)
    return a[0]


def _steps(x: np.ndarray, d: float) -> np.ndarray:
    return np.abs(d * x) + _EPS * (np.abs(x) < _ZERO_TOL)


def richardson_jacobian(func: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Jacobian of a vector function, ``numDeriv::jacobian(method = "Richardson")``.

    Returns an array of shape ``(len(func(x)), len(x))``.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    h = _steps(x, 1e-4)
    cols = []
    for i in range(n):
        hi = h[i]
        approx = []
        for _ in range(_R):
            e = np.zeros(n)
            e[i] = hi
            f1 = np.ravel(func(x + e))
            f2 = np.ravel(func(x - e))
            approx.append((f1 - f2) / (2.0 * hi))
            hi /= _V
        cols.append(_richardson(np.array(approx)))
    return np.column_stack(cols)


def richardson_hessian(func: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Hessian of a scalar function, ``numDeriv::hessian(method = "Richardson")`` (genD)."""
    x = np.asarray(x, dtype=float)
    n = x.size
    h0 = _steps(x, 0.1)
    f0 = float(func(x))
    diag = np.zeros(n)
    for i in range(n):
        h = h0.copy()
        approx = []
        for _ in range(_R):
            e = np.zeros(n)
            e[i] = h[i]
            f1 = float(func(x + e))
            f2 = float(func(x - e))
            approx.append((f1 - 2.0 * f0 + f2) / h[i] ** 2)
            h /= _V
        diag[i] = _richardson(np.array(approx))
    out = np.diag(diag)
    for i in range(n):
        for j in range(i):
            h = h0.copy()
            approx = []
            for _ in range(_R):
                e = np.zeros(n)
                e[i] += h[i]
                e[j] += h[j]
                f1 = float(func(x + e))
                f2 = float(func(x - e))
                approx.append(
                    (f1 - 2.0 * f0 + f2 - diag[i] * h[i] ** 2 - diag[j] * h[j] ** 2)
                    / (2.0 * h[i] * h[j])
                )
                h /= _V
            out[i, j] = out[j, i] = _richardson(np.array(approx))
    return out


def fd_gradient(
    f: Callable, x: np.ndarray, fx: float, lower: np.ndarray, h: float = 1e-6, central: bool = True
) -> np.ndarray:
    """Central differences (forward ones if ``central=False``); one-sided at a lower bound."""
    g = np.empty_like(x)
    for i in range(x.size):
        hi = h * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = hi
        if not central:
            g[i] = (f(x + e) - fx) / hi
        elif x[i] - hi < lower[i]:
            g[i] = (-3 * fx + 4 * f(x + e) - f(x + 2 * e)) / (2 * hi)
        else:
            g[i] = (f(x + e) - f(x - e)) / (2 * hi)
    return g


def fd_hessian(f: Callable, x: np.ndarray, fx: float, h: float = 1e-4) -> np.ndarray:
    """Central second differences (the caller passes interior coordinates only)."""
    k = x.size
    H = np.empty((k, k))
    hs = h * np.maximum(1.0, np.abs(x))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = hs[i]
        H[i, i] = (f(x + ei) - 2 * fx + f(x - ei)) / hs[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = hs[j]
            val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * hs[i] * hs[j]
            )
            H[i, j] = H[j, i] = val
    return H


def hessian_from_gradient(
    g: Callable, x: np.ndarray, gx: np.ndarray, h: float = 1e-4
) -> np.ndarray:
    """Forward differences of an analytic gradient (one gradient per coordinate), symmetrised."""
    k = x.size
    H = np.empty((k, k))
    for i in range(k):
        hi = h * max(1.0, abs(x[i]))
        e = np.zeros(k)
        e[i] = hi
        H[i] = (g(x + e) - gx) / hi
    return 0.5 * (H + H.T)


def central_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float) -> np.ndarray:
    """Central differences with a step ``h`` scaled by ``max(1, |x_j|)`` (no bounds)."""
    g = np.empty_like(x)
    for j in range(x.size):
        hj = h * max(1.0, abs(x[j]))
        e = np.zeros_like(x)
        e[j] = hj
        g[j] = (f(x + e) - f(x - e)) / (2.0 * hj)
    return g


def deriv12(fun: Callable[[np.ndarray], float], x: np.ndarray, fx: float) -> tuple:
    """Central-difference gradient and Hessian, as ``lme4:::deriv12`` (step 1e-4, no bounds)."""
    n = x.size
    d = DERIV12_STEP
    H = np.empty((n, n))
    g = np.empty(n)
    plus, minus = [], []
    for j in range(n):
        e = np.zeros(n)
        e[j] = d
        plus.append(x + e)
        minus.append(x - e)
    for j in range(n):
        fadd, fsub = fun(plus[j]), fun(minus[j])
        H[j, j] = (fadd - 2.0 * fx + fsub) / d**2
        g[j] = (fadd - fsub) / (2.0 * d)
        for i in range(j):
            e_i, e_j = np.zeros(n), np.zeros(n)
            e_i[i], e_j[j] = d, d
            H[i, j] = H[j, i] = (
                fun(x + e_i + e_j) - fun(x + e_i - e_j) - fun(x - e_i + e_j) + fun(x - e_i - e_j)
            ) / (2.0 * d) ** 2
    return g, H
