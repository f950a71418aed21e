"""The :class:`LmmResult`: a fitted linear mixed model and its inference."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ModelSpecError
from . import _display, stats
from . import newdata as _newdata
from ._accessors import FitAccessors
from ._fixed_tests import FixedEffectTests
from ._types import Design, EngineFit

__all__ = ["LmmResult", "fit_design"]

ENGINES = ("engagestats", "statsmodels")


def fit_design(design: Design, *, reml: bool, engine: str) -> LmmResult:
    """Fit a built design with the chosen engine and wrap it in :class:`LmmResult`."""
    if engine == "engagestats":
        from .engine import fit

        return LmmResult(fit(design, reml=reml), engine=engine)
    if engine == "statsmodels":
        from ._statsmodels import fit_statsmodels

        return LmmResult(fit_statsmodels(design, reml=reml), engine=engine)
    raise ModelSpecError(f"engine must be one of {ENGINES}, got {engine!r}")


class LmmResult(FitAccessors, FixedEffectTests):
    """A fitted linear mixed model (returned by :func:`engagestats.lmm`).

    Attributes mirror lme4/lmerTest so results can be compared with R line
    by line: fixed-effect names (``(Intercept)``, ``session:autonomy``), the
    ``theta`` parametrisation, the layout of ``as.data.frame(VarCorr(fit))``
    and lme4's conventions for the log-likelihood, AIC and BIC.

    Parameters
    ----------
    fit : EngineFit
        The engine's output (internal).
    engine : str, default "engagestats"
        ``"engagestats"`` (Satterthwaite df, as lmerTest) or ``"statsmodels"``
        (df = inf: z tests and Wald chi-square tests).

    Notes
    -----
    ``loglik`` is the REML log-likelihood for REML fits and the log-likelihood
    for ML fits (``logLik(fit)`` in lme4). ``aic = -2 loglik + 2 k`` and
    ``bic = -2 loglik + log(n) k`` with ``k = p + len(theta) + 1``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from engagestats.models import compare, lmm
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"g": np.repeat(np.arange(30), 5), "x": np.tile(np.arange(5.0), 30)})
    >>> d["y"] = 1 + 0.5 * d["x"] + rng.normal(size=30)[d["g"]] + rng.normal(size=150)
    >>> fit = lmm("y ~ x + (1 | g)", d)
    >>> fit.fixed.columns.tolist()
    ['estimate', 'se', 'df', 't', 'p', 'ci_low', 'ci_high']
    >>> fit.varcorr["group"].tolist()
    ['g', 'Residual']
    """

    def __init__(self, fit: EngineFit, *, engine: str = "engagestats") -> None:
        self._fit = fit
        self.engine = engine

    # ---------------------------------------------------------------- basics

    @property
    def reml(self) -> bool:
        """Whether the model was fitted by REML."""
        return bool(self._fit.reml)

    @property
    def theta(self) -> pd.Series:
        """Relative covariance parameters, named as ``getME(fit, "theta")``."""
        names = [
            f"{t.group}.{t.columns[r]}" if r == c else f"{t.group}.{t.columns[r]}.{t.columns[c]}"
            for t in self._fit.design.terms
            for c in range(t.k)
            for r in range(c, t.k)
        ]
        return pd.Series(np.asarray(self._fit.theta, dtype=float), index=names, name="theta")

    @property
    def sigma(self) -> float:
        """Residual standard deviation."""
        return float(self._fit.sigma)

    @property
    def deviance(self) -> float:
        """REML criterion for REML fits, -2 log-likelihood for ML fits."""
        return float(self._fit.deviance)

    @property
    def n_params(self) -> int:
        """Number of estimated parameters: fixed effects, theta and sigma."""
        return self._fit.design.p + len(self._fit.theta) + 1

    @property
    def loglik(self) -> float:
        """(REML) log-likelihood, as ``logLik(fit)``."""
        return -0.5 * self.deviance

    @property
    def aic(self) -> float:
        """Akaike information criterion, as ``AIC(fit)``."""
        return self.deviance + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        """Bayesian information criterion, as ``BIC(fit)``."""
        return self.deviance + np.log(self.nobs) * self.n_params

    def refit_ml(self) -> LmmResult:
        """The same model refitted by maximum likelihood (itself if already ML)."""
        if not self.reml:
            return self
        return fit_design(self._fit.design, reml=False, engine=self.engine)

    # ------------------------------------------------------- random effects
    @property
    def varcorr(self) -> pd.DataFrame:
        """Variance components in the layout of ``as.data.frame(VarCorr(fit))``.

        Columns ``group, var1, var2, vcov, sdcor``: per term the variances
        (``sdcor`` = SD), then the covariances (``sdcor`` = correlation), then
        the ``Residual`` row.
        """
        return stats.varcorr_table(self._fit)

    def ranef(self, *, cond_sd: bool = False) -> pd.DataFrame:
        """Conditional modes of the random effects (``ranef(fit)``).

        Parameters
        ----------
        cond_sd : bool, default False
            Add ``cond_sd``, the conditional SDs (``ranef(fit, condVar = TRUE)``).

        Returns
        -------
        DataFrame
            One row per group, level and term: ``group, level, term, estimate``
            (and ``cond_sd``).
        """
        return stats.ranef_table(self._fit, cond_sd=cond_sd)

    # ------------------------------------------------------------- prediction
    def fitted(self) -> pd.Series:
        """Fitted values including the random effects, indexed like the data rows used."""
        design = self._fit.design
        mu = design.X @ self._fit.beta
        for term, b in zip(design.terms, self._fit.b, strict=True):
            mu = mu + np.einsum("ij,ij->i", term.Z, np.asarray(b)[term.codes])
        return pd.Series(mu, index=design.row_index, name="fitted")

    def residuals(self) -> pd.Series:
        """Response minus :meth:`fitted` (``residuals(fit)``)."""
        design = self._fit.design
        return pd.Series(
            design.y - self.fitted().to_numpy(), index=design.row_index, name="residual"
        )

    def predict(
        self, newdata: pd.DataFrame | None = None, *, include_random: bool = True
    ) -> pd.Series:
        """Predictions for the data used or for new data.

        Parameters
        ----------
        newdata : DataFrame, optional
            Rows to predict; they need every predictor and grouping column.
            Levels not seen in the fit get the population prediction for that
            term (``allow.new.levels = TRUE`` in lme4).
        include_random : bool, default True
            Add the conditional modes of the random effects; ``False`` gives
            the population prediction (``re.form = NA``).

        Returns
        -------
        Series
            Indexed like ``newdata`` (or like the rows used in the fit).

        Raises
        ------
        ModelSpecError
            If ``newdata`` lacks a column the model needs.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from engagestats.models import lmm
        >>> rng = np.random.default_rng(1)
        >>> d = pd.DataFrame({"g": np.repeat(np.arange(30), 5), "x": np.tile(np.arange(5.0), 30)})
        >>> d["y"] = 1 + 0.5 * d["x"] + rng.normal(size=30)[d["g"]] + rng.normal(size=150)
        >>> fit = lmm("y ~ x + (1 | g)", d)
        >>> new = pd.DataFrame({"x": [2.0, 2.0], "g": [0, 999]})
        >>> pred = fit.predict(new)
        >>> bool(pred.iloc[1] == fit.predict(new, include_random=False).iloc[1])
        True
        """
        design = self._fit.design
        if newdata is None:
            mu = design.X @ self._fit.beta
            if include_random:
                mu = self.fitted().to_numpy()
            return pd.Series(mu, index=design.row_index, name="predicted")
        if not isinstance(newdata, pd.DataFrame):
            raise TypeError(f"newdata must be a DataFrame, got {type(newdata).__name__}")
        try:
            mu = _newdata.new_fixed(design, newdata) @ self._fit.beta
            if include_random:
                for (z, codes), b in zip(
                    _newdata.new_random(design, newdata), self._fit.b, strict=True
                ):
                    known = codes >= 0
                    add = np.zeros(len(newdata))
                    add[known] = np.einsum("ij,ij->i", z[known], np.asarray(b)[codes[known]])
                    mu = mu + add
        except KeyError as exc:
            raise ModelSpecError(f"newdata lacks a column the model needs: {exc}") from None
        return pd.Series(mu, index=newdata.index, name="predicted")

    # --------------------------------------------------------- variance parts
    def icc(self) -> pd.DataFrame:
        """Adjusted (and unadjusted) ICC, as ``performance::icc``.

        Returns
        -------
        DataFrame
            Indexed by ``group``: ``"overall"`` (``ICC_adjusted`` /
            ``ICC_unadjusted`` in performance), then each grouping factor with a
            random intercept (``icc(fit, by_group = TRUE)``).

        Notes
        -----
        ``icc_adjusted = var_random / (var_random + sigma^2)`` and
        ``icc_unadjusted = var_random / (var_fixed + var_random + sigma^2)``,
        with random-slope variance averaged over the observations (Johnson, 2014).
        Per group the numerator is that group's intercept variance.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from engagestats.models import lmm
        >>> rng = np.random.default_rng(1)
        >>> d = pd.DataFrame({"g": np.repeat(np.arange(30), 5), "x": np.tile(np.arange(5.0), 30)})
        >>> d["y"] = 1 + 0.5 * d["x"] + rng.normal(size=30)[d["g"]] + rng.normal(size=150)
        >>> fit = lmm("y ~ x + (1 | g)", d)
        >>> fit.icc().index.tolist()
        ['overall', 'g']
        >>> fit.r2().columns.tolist()[:2]
        ['r2_marginal', 'r2_conditional']
        """
        return stats.icc_table(self._fit)

    def r2(self) -> pd.DataFrame:
        """Nakagawa's marginal and conditional R2, as ``performance::r2_nakagawa``.

        Returns
        -------
        DataFrame
            One row: ``r2_marginal, r2_conditional, var_fixed, var_random, var_residual``.

        Notes
        -----
        ``R2_m = var_fixed / total``, ``R2_c = (var_fixed + var_random) / total``,
        ``total = var_fixed + var_random + sigma^2``, ``var_fixed = var(X beta)``.
        """
        return stats.r2_table(self._fit)

    # ---------------------------------------------------------------- display
    def summary(self) -> str:
        """A text summary in the style of lmerTest's ``summary(fit)``."""
        return _display.summary_text(self)

    def __repr__(self) -> str:
        return _display.short_repr(self)

    def _repr_html_(self) -> str:
        return _display.summary_html(self)
