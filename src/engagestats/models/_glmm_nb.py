"""Negative binomial GLMM, as ``lme4::glmer.nb``: the size ``theta`` by a profile search.

Internal. For a fixed NB2 size ``theta`` (``Var = mu + mu^2 / theta``) the model
is an ordinary GLMM with the log link, fitted by the Laplace approximation with
Fisher weights, as glmer does for a non-canonical family. ``log(theta)`` is
then chosen to minimise the Laplace deviance (Brent's method on a bounded
interval, warm-starting every inner fit from the previous optimum), and the
model refitted at that ``theta``: glmer.nb's ``optTheta`` steps. As in
glmer.nb, ``vcov`` treats ``theta`` as known and the log-likelihood's degrees
of freedom count it.

References
----------
Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). lme4: ``glmer.nb``
(``lme4:::optTheta``), R package version 1.1-31.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

from ..errors import ModelSpecError
from ._glmm_engine import GlmmFit, fit_glmm, laplace_optimum
from ._glmm_family import Family
from ._types import Design

__all__ = ["fit_nb"]

_LOG_THETA_BOUNDS = (np.log(1e-3), np.log(1e4))


def fit_nb(design: Design, *, y, pw, offset, nagq: int) -> GlmmFit:
    """Fit the NB2 GLMM; the size is ``fit.family.nb_theta``."""
    if nagq != 1:
        raise ModelSpecError("the negative binomial GLMM is fitted by Laplace only (nagq=1)")
    _, x = laplace_optimum(design, family=Family("poisson", "log"), y=y, pw=pw, offset=offset)
    state = {"x": x}

    def profile(log_theta: float) -> float:
        fam = Family("negative_binomial", "log", float(np.exp(log_theta)))
        dev, x_new = laplace_optimum(
            design, family=fam, y=y, pw=pw, offset=offset, start=state["x"]
        )
        state["x"] = x_new
        return dev

    opt = scipy.optimize.minimize_scalar(
        profile, bounds=_LOG_THETA_BOUNDS, method="bounded", options={"xatol": 1e-6}
    )
    theta = float(np.exp(opt.x))
    fam = Family("negative_binomial", "log", theta)
    fit = fit_glmm(design, family=fam, y=y, pw=pw, offset=offset, nagq=1, start=state["x"])
    fit.info["nb_theta_evals"] = int(opt.nfev)
    at_bound = min(abs(opt.x - b) for b in _LOG_THETA_BOUNDS) < 1e-3
    if at_bound:
        fit.converged = False
        fit.message += f"; the NB size theta ran to the edge of its search interval ({theta:.3g})"
    return fit
