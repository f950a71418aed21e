"""A logistic mixed model, as ``lme4::glmer``: :func:`glmm` and :class:`GlmmResult`.

``glmm("dropout ~ autonomy + stage + (1 | therapist_id)", data)`` fits a
logistic regression with a random intercept per group by the Laplace
approximation (``nagq=1``) or adaptive Gauss-Hermite quadrature (``nagq > 1``)
and reports subject-specific (conditional) odds ratios. The population-averaged
alternative is :func:`engagestats.models.gee`.
"""

from __future__ import annotations

import warnings
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import expit

from ..errors import ConvergenceWarning, ModelSpecError, SingularFitWarning
from . import _glmm_engine
from . import design as _design
from ._accessors import FitAccessors
from ._gee import fixed_text, wald_table
from ._numerics import SINGULAR_TOL
from ._response import binary_design

__all__ = ["GlmmResult", "glmm"]


def glmm(
    formula: str,
    data: pd.DataFrame,
    *,
    family: str = "binomial",
    nagq: int = 1,
) -> GlmmResult:
    """Fit a logistic mixed model with a random intercept, as ``lme4::glmer``.

    Parameters
    ----------
    formula : str
        lme4-style formula with one random intercept, e.g.
        ``"dropout ~ autonomy + readiness + stage + (1 | therapist_id)"``.
    data : DataFrame
        One row per observation. Rows with a missing value in a column the model
        uses are dropped and counted (:attr:`GlmmResult.n_dropped`).
    family : {"binomial"}, default "binomial"
        Binomial with the logit link; the response must be 0/1 or boolean.
    nagq : int, default 1
        Number of adaptive Gauss-Hermite quadrature nodes per group
        (``glmer(nAGQ = )``): 1 is the Laplace approximation.

    Returns
    -------
    GlmmResult
        ``.fixed`` (``estimate, se, z, p, ci_low, ci_high, odds_ratio, or_ci_low,
        or_ci_high``), ``.varcorr``, ``.theta``, ``.loglik``, ``.aic``, ``.bic``,
        ``.ranef()``, ``.predict()``, ``.summary()``.

    Raises
    ------
    FormulaError
        If the formula cannot be parsed.
    ModelSpecError
        Unknown columns, a family other than binomial, ``nagq`` not a positive
        integer, random slopes or several random terms (not implemented; lme4
        forbids them with ``nAGQ > 1``), a non-numeric response.
    DataValidationError
        If the response has values other than 0 and 1 (``.problems`` lists them).

    Warns
    -----
    SingularFitWarning
        The random-intercept SD is estimated at (or within 1e-4 of) zero.
    ConvergenceWarning
        The scaled gradient at the optimum exceeds lme4's tolerance 0.002.

    Notes
    -----
    The model is ``logit P(y_ij = 1 | b_i) = x_ij' beta + b_i`` with
    ``b_i ~ N(0, theta^2)``. The marginal likelihood ``prod_i int prod_j
    p(y_ij | b) phi(b; 0, theta^2) db`` is approximated per group at the
    conditional mode of ``b_i`` (found by vectorised Newton iterations) by
    Laplace's method or adaptive Gauss-Hermite quadrature, exactly as lme4's
    ``glmerLaplace``/``glmerAGQ`` do, and maximised over ``(theta, beta)``
    (L-BFGS-B, ``theta >= 0``) from a GLM start. Standard errors are those of
    ``vcov(fit)`` in lme4 >= 1.1-31: the beta block of ``2 H^{-1}``, ``H`` the
    central finite-difference Hessian (step 1e-4) of the approximate deviance
    in ``(theta, beta)``. The odds ratios ``exp(beta)`` are *subject-specific*:
    they compare two observations of the same group (same ``b_i``).

    ``loglik`` is lme4's ``logLik(fit)``; ``deviance = -2 loglik`` (lme4's
    ``deviance()`` of a GLMM is a different quantity, the conditional deviance
    plus penalty, and is not reproduced); ``aic = -2 loglik + 2 k``,
    ``bic = -2 loglik + log(n) k`` with ``k = p + 1``.

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
    """
    if isinstance(nagq, bool) or not isinstance(nagq, int | np.integer) or not 1 <= nagq <= 100:
        raise ModelSpecError(f"nagq must be an integer from 1 to 100, got {nagq!r}")
    des = binary_design(formula, data, family)
    fit = _glmm_engine.fit_glmm(des, nagq=int(nagq))
    if fit.theta < SINGULAR_TOL:
        warnings.warn(
            f"singular fit: the SD of the random intercept of {des.terms[0].group!r} is "
            f"estimated at {fit.theta:.3g}; the model reduces to an ordinary logistic regression",
            SingularFitWarning,
            stacklevel=2,
        )
    if not fit.converged:
        warnings.warn(f"glmm did not converge: {fit.message}", ConvergenceWarning, stacklevel=2)
    return GlmmResult(fit)


class GlmmResult(FitAccessors):
    """A fitted logistic mixed model (returned by :func:`glmm`).

    Names and conventions follow lme4: fixed-effect names (``(Intercept)``,
    ``stageaction``), ``theta`` (the SD of the random intercept), the layout of
    ``as.data.frame(VarCorr(fit))`` and ``logLik``/``AIC``/``BIC``.

    Parameters
    ----------
    fit : GlmmFit
        Internal fit object.
    """

    def __init__(self, fit: _glmm_engine.GlmmFit) -> None:
        self._fit = fit

    @property
    def nagq(self) -> int:
        """Quadrature nodes per group (1: Laplace)."""
        return self._fit.nagq

    @property
    def theta(self) -> pd.Series:
        """Random-intercept SD, named as ``getME(fit, "theta")``."""
        term = self._fit.design.terms[0]
        return pd.Series([self._fit.theta], index=[f"{term.group}.(Intercept)"], name="theta")

    @property
    def loglik(self) -> float:
        """Approximate log-likelihood (``logLik(fit)``)."""
        return -0.5 * self._fit.deviance

    @property
    def deviance(self) -> float:
        """``-2 * loglik`` (not lme4's ``deviance()``; see :func:`glmm`)."""
        return float(self._fit.deviance)

    @property
    def n_params(self) -> int:
        """Fixed effects plus the random-intercept SD."""
        return self._fit.design.p + 1

    @property
    def aic(self) -> float:
        """``AIC(fit)``."""
        return self.deviance + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        """``BIC(fit)``."""
        return self.deviance + np.log(self.nobs) * self.n_params

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the fixed effects (``vcov(fit)``)."""
        names = list(self._fit.design.fixed_names)
        return pd.DataFrame(self._fit.vcov_beta, index=names, columns=names)

    @cached_property
    def _fixed_table(self) -> pd.DataFrame:
        se = np.sqrt(np.diag(self._fit.vcov_beta))
        return wald_table(list(self._fit.design.fixed_names), self._fit.beta, se)

    @property
    def fixed(self) -> pd.DataFrame:
        """Fixed effects with Wald z tests and 95% CIs, log-odds and odds-ratio scales.

        Indexed by ``term``; columns ``estimate, se, z, p, ci_low, ci_high,
        odds_ratio, or_ci_low, or_ci_high`` (``exp`` of the estimate and CI).
        """
        return self._fixed_table.copy()

    @property
    def varcorr(self) -> pd.DataFrame:
        """``as.data.frame(VarCorr(fit))``: ``group, var1, var2, vcov, sdcor``."""
        term = self._fit.design.terms[0]
        th = self._fit.theta
        return pd.DataFrame(
            [{"group": term.group, "var1": "(Intercept)", "var2": None, "vcov": th**2, "sdcor": th}]
        )

    def ranef(self) -> pd.DataFrame:
        """Conditional modes of the random intercepts (``ranef(fit, condVar = TRUE)``).

        Returns
        -------
        DataFrame
            One row per level: ``group, level, term, estimate, cond_sd``; ``cond_sd``
            is ``theta / sqrt(1 + theta^2 sum_j w_ij)`` at the mode, as lme4's ``condsd``.
        """
        term = self._fit.design.terms[0]
        return pd.DataFrame(
            {
                "group": term.group,
                "level": term.levels.astype(str),
                "term": "(Intercept)",
                "estimate": self._fit.theta * self._fit.u,
                "cond_sd": self._fit.cond_sd,
            }
        )

    def fitted(self) -> pd.Series:
        """Fitted probabilities with the random effects (``fitted(fit)``)."""
        return self.predict()

    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        type: str = "response",
        include_random: bool = True,
    ) -> pd.Series:
        """Predicted probabilities or log-odds.

        Parameters
        ----------
        newdata : DataFrame, optional
            Rows to predict (predictors and the grouping column); by default the
            rows used in the fit. Groups not seen in the fit get the population
            prediction (``allow.new.levels = TRUE``).
        type : {"response", "link"}, default "response"
            Probabilities or log-odds.
        include_random : bool, default True
            Add the conditional modes; ``False`` gives ``re.form = NA``.

        Returns
        -------
        Series
            Indexed like ``newdata`` (or the rows used).

        Raises
        ------
        ModelSpecError
            If ``type`` is unknown or ``newdata`` lacks a column the model needs.
        """
        if type not in ("response", "link"):
            raise ModelSpecError(f"type must be 'response' or 'link', got {type!r}")
        des, fit = self._fit.design, self._fit
        b = fit.theta * fit.u
        if newdata is None:
            eta = des.X @ fit.beta
            if include_random:
                eta = eta + b[des.terms[0].codes]
            index = des.row_index
        else:
            if not isinstance(newdata, pd.DataFrame):
                raise ModelSpecError(
                    f"newdata must be a DataFrame, got {newdata.__class__.__name__}"
                )
            try:
                eta = _design.new_fixed(des, newdata) @ fit.beta
                if include_random:
                    ((_, codes),) = _design.new_random(des, newdata)
                    eta = eta + np.where(codes >= 0, b[np.maximum(codes, 0)], 0.0)
            except KeyError as exc:
                raise ModelSpecError(f"newdata lacks a column the model needs: {exc}") from None
            index = newdata.index
        values = expit(eta) if type == "response" else eta
        return pd.Series(values, index=index, name="predicted")

    def _method(self) -> str:
        how = (
            "Laplace Approximation"
            if self.nagq == 1
            else f"Adaptive Gauss-Hermite Quadrature, nAGQ = {self.nagq}"
        )
        return f"Generalized linear mixed model fit by maximum likelihood ({how})"

    def summary(self) -> str:
        """A text summary in the style of lme4's ``summary(glmer_fit)``."""
        vc = self.varcorr
        group, n = next(iter(self.ngroups.items()))
        dropped = f" ({self.n_dropped} rows with missing values dropped)" if self.n_dropped else ""
        lines = [
            self._method(),
            " Family: binomial  ( logit )",
            f"Formula: {self.formula}",
            "",
            f"AIC {self.aic:.1f}  BIC {self.bic:.1f}  logLik {self.loglik:.1f}  "
            f"-2logLik {self.deviance:.1f}",
            "",
            "Random effects:",
            f" {group}  (Intercept)  variance {vc['vcov'].iloc[0]:.4g}  "
            f"SD {vc['sdcor'].iloc[0]:.4g}",
            f"Number of obs: {self.nobs}, groups: {group}, {n}{dropped}",
            "",
            "Fixed effects (conditional, subject-specific odds ratios):",
            fixed_text(self.fixed).to_string(),
        ]
        if not self.converged:
            lines += ["", f"Warning: not converged ({self._fit.message})"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        group, n = next(iter(self.ngroups.items()))
        return (
            f"<GlmmResult {self.formula!r}: binomial, nagq = {self.nagq}, n = {self.nobs}, "
            f"{group} {n}; logLik {self.loglik:.2f}>"
        )

    def _repr_html_(self) -> str:
        import html

        group, n = next(iter(self.ngroups.items()))
        return (
            f"<div><p><b>{html.escape(self._method())}</b><br>"
            f"Formula: <code>{html.escape(self.formula)}</code><br>"
            f"AIC {self.aic:.1f}, BIC {self.bic:.1f}, logLik {self.loglik:.1f}; "
            f"n = {self.nobs}, {html.escape(group)}: {n}; random-intercept SD "
            f"{self._fit.theta:.4g}</p>{fixed_text(self.fixed).to_html()}</div>"
        )
