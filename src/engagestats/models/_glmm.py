"""Generalised linear mixed models, as ``lme4::glmer``: :func:`glmm` and :class:`GlmmResult`.

``glmm("dropout ~ autonomy + stage + (1 | therapist_id)", data)`` fits a
logistic mixed model; ``family="poisson"`` a log-linear one for counts
(``offset=`` for exposure), ``family="negative_binomial"`` an NB2 model as
``glmer.nb``, ``link="probit"`` a probit model, and
``cbind(successes, failures)`` a binomial with trials. Any number of random
terms (correlated slopes, nested, crossed) are fitted by the Laplace
approximation; one scalar random intercept also by adaptive Gauss-Hermite
quadrature (``nagq > 1``). Effects are *conditional* (subject-specific); the
population-averaged alternative is :func:`engagestats.models.gee`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import ConvergenceWarning, ModelSpecError, SingularFitWarning
from . import _glmm_engine
from ._glmm_family import get_family
from ._glmm_nb import fit_nb
from ._glmm_result import GlmmResult
from ._numerics import SINGULAR_TOL
from ._response import glmm_inputs

__all__ = ["GlmmResult", "glmm"]


def glmm(
    formula: str,
    data: pd.DataFrame,
    *,
    family: str = "binomial",
    link: str | None = None,
    nagq: int = 1,
    weights: str | np.ndarray | None = None,
    offset: str | np.ndarray | None = None,
) -> GlmmResult:
    """Fit a generalised linear mixed model, as ``lme4::glmer``.

    Parameters
    ----------
    formula : str
        lme4-style formula, e.g. ``"dropout ~ autonomy + stage + (1 | therapist_id)"``,
        ``"attended ~ session + (1 + session | client) + (1 | therapist)"`` or
        ``"cbind(attended, missed) ~ stage + (1 | client)"``. The response may be
        0/1, boolean, a two-level Categorical (first category = 0), strings with
        two values (sorted: ``"N"`` = 0, ``"Y"`` = 1), a proportion with
        ``weights=`` trials, or ``cbind(successes, failures)``; counts for Poisson.
    data : DataFrame
        One row per observation. Rows with a missing value in a column the model
        uses (response, predictors, groups, weights, offset) are dropped and
        counted (:attr:`GlmmResult.n_dropped`).
    family : {"binomial", "poisson", "negative_binomial"}, default "binomial"
        ``"negative_binomial"`` is NB2 (``Var = mu + mu^2 / theta``) with the size
        ``theta`` estimated as ``glmer.nb`` does (:attr:`GlmmResult.nb_theta`).
    link : {"logit", "probit"} or {"log"}, optional
        The canonical link (logit, log) by default.
    nagq : int, default 1
        Adaptive Gauss-Hermite nodes per group (``glmer(nAGQ = )``); 1 is the
        Laplace approximation. ``nagq > 1`` needs a single scalar random effect.
    weights : str or array, optional
        Binomial trials (a column name or one value per row) for a proportion
        response (``incidence/size ~ ..., weights = size`` in R).
    offset : str or array, optional
        A term with coefficient 1 in the linear predictor, e.g.
        ``np.log(data["weeks"])`` for a rate per week (``offset = log(t)`` in R).

    Returns
    -------
    GlmmResult
        ``.fixed`` (``estimate, se, z, p, ci_low, ci_high`` and, for the logit
        link, ``odds_ratio, or_ci_low, or_ci_high``; for the log link
        ``rate_ratio, rr_ci_low, rr_ci_high``), ``.varcorr``, ``.theta``,
        ``.loglik``, ``.aic``, ``.bic``, ``.ranef()``, ``.predict()``, ``.summary()``.

    Raises
    ------
    FormulaError
        If the formula cannot be parsed.
    ModelSpecError
        Unknown columns or family/link, ``nagq`` not a positive integer or
        ``nagq > 1`` with random slopes or several terms, no random term, a
        response with one value (all 0, all 1, a constant count), a factor
        response with more than two levels.
    DataValidationError
        Response values that the family cannot have (``.problems`` lists them).

    Warns
    -----
    SingularFitWarning
        A random-effect SD is estimated at (or within 1e-4 of) zero.
    ConvergenceWarning
        The scaled gradient at the optimum exceeds lme4's tolerance 0.002, the
        Hessian is not positive definite, or a boundary optimum fails the
        directional-derivative check.

    Notes
    -----
    The model is ``g(E[y | b]) = offset + X beta + Z b`` with ``b = Lambda u``,
    ``u ~ N(0, I)`` and ``Lambda`` built from ``theta`` (per term, the lower
    triangle of the Cholesky factor of the random-effect covariance; for these
    families it is the absolute covariance, lme4's ``theta``). The marginal
    likelihood is approximated at the conditional mode of ``u`` (PIRLS) by
    Laplace's method: ``-2 log L = sum_i -2 log f(y_i | u^) + |u^|^2 + log|L|^2``
    with ``L L' = Lambda' Z' W Z Lambda + I`` and ``W`` the Fisher weights (as
    lme4, also for the probit link), or by adaptive Gauss-Hermite quadrature.
    It is maximised over ``(theta, beta)`` after a first stage over ``theta``
    with beta in PIRLS (lme4's ``nAGQ = 0``). A variance at its bound 0 is
    verified by a restart from inside and a one-sided derivative. Standard
    errors are lme4's ``vcov(fit)``: the beta block of ``2 H^{-1}``, ``H`` the
    central finite-difference Hessian (step 1e-4) of the deviance in
    ``(theta, beta)``. Odds and rate ratios ``exp(beta)`` are conditional on
    the random effects.

    ``loglik`` includes every constant of the density (``log choose(n, k)``,
    ``log y!``), for Laplace and quadrature alike, so values are comparable
    across ``nagq``. lme4 reports this for Laplace; for ``nAGQ > 1`` its
    ``logLik`` omits the saturated-model constant (``loglik_lme4`` gives that
    value). ``aic = -2 loglik + 2 k``, ``bic = -2 loglik + log(n) k`` with ``k``
    the number of fixed effects plus ``theta`` elements.

    References
    ----------
    Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear
    mixed-effects models using lme4. J Stat Softw, 67(1), 1-48.

    Pinheiro, J. C. & Bates, D. M. (1995). Approximations to the log-likelihood
    function in the nonlinear mixed-effects model. J Comput Graph Stat, 4(1), 12-35.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from engagestats.models import glmm
    >>> rng = np.random.default_rng(7)
    >>> d = pd.DataFrame({"therapist": np.repeat([f"T{i}" for i in range(30)], 12),
    ...                   "autonomy": rng.normal(size=360)})
    >>> eta = -0.5 - 0.8 * d["autonomy"] + rng.normal(0, 0.8, 30)[np.repeat(range(30), 12)]
    >>> d["dropout"] = rng.random(360) < 1 / (1 + np.exp(-eta))
    >>> fit = glmm("dropout ~ autonomy + (1 | therapist)", d)
    >>> fit.fixed.columns.tolist()[:4]
    ['estimate', 'se', 'z', 'p']
    >>> bool(fit.fixed.loc["autonomy", "odds_ratio"] < 1), fit.ngroups
    (True, {'therapist': 30})
    >>> d["sessions"] = rng.poisson(np.exp(1 + 0.3 * d["autonomy"]))
    >>> counts = glmm("sessions ~ autonomy + (1 | therapist)", d, family="poisson")
    >>> "rate_ratio" in counts.fixed.columns
    True
    """
    if isinstance(nagq, bool) or not isinstance(nagq, int | np.integer) or not 1 <= nagq <= 100:
        raise ModelSpecError(f"nagq must be an integer from 1 to 100, got {nagq!r}")
    fam = get_family(family, link)
    inputs = glmm_inputs(formula, data, fam, weights=weights, offset=offset)
    y, pw, off = inputs.y, inputs.pw, inputs.offset
    if fam.name == "negative_binomial":
        fit = fit_nb(inputs.design, y=y, pw=pw, offset=off, nagq=int(nagq))
    else:
        fit = _glmm_engine.fit_glmm(
            inputs.design, family=fam, y=y, pw=pw, offset=off, nagq=int(nagq)
        )
    result = GlmmResult(fit, inputs, offset_column=offset if isinstance(offset, str) else None)
    for term, cov in zip(inputs.design.terms, result._covariances(), strict=True):
        sd = np.sqrt(np.diag(cov))
        if np.any(sd < SINGULAR_TOL):
            warnings.warn(
                f"singular fit: an SD of the random effects of {term.group!r} "
                f"({', '.join(term.columns)}) is estimated at {sd.min():.3g}",
                SingularFitWarning,
                stacklevel=2,
            )
    if not fit.converged:
        warnings.warn(f"glmm did not converge: {fit.message}", ConvergenceWarning, stacklevel=2)
    return result
