"""Richardson-extrapolated finite differences, as R's numDeriv package computes them.

lmerTest computes the Satterthwaite degrees of freedom from ``numDeriv::hessian``
and ``numDeriv::jacobian`` with their default settings. Reproducing the same
step sizes and extrapolation makes our degrees of freedom agree with lmerTest's
to many digits rather than only to the accuracy of the derivatives.

References
----------
Gilbert, P. & Varadhan, R. (2019). numDeriv: Accurate Numerical Derivatives.
R package version 2016.8-1.1, functions ``grad``, ``jacobian`` and ``genD``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

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


def jacobian(func: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
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


def hessian(func: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
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
