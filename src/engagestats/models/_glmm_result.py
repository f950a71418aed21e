"""The result of :func:`engagestats.models.glmm`: :class:`GlmmResult`."""

from __future__ import annotations

import html
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ModelSpecError
from . import newdata as _newdata
from ._accessors import FitAccessors
from ._gee import fixed_text as _or_text
from ._gee import wald_table
from ._glmm_engine import GlmmFit
from ._lambda import term_lambda, theta_names
from .stats import term_labels, varcorr_rows

__all__ = ["GlmmResult"]

_RATIO = {"odds_ratio": ("odds_ratio", "or_ci_low", "or_ci_high")}
_RATE = ("rate_ratio", "rr_ci_low", "rr_ci_high")


def fixed_text(fixed: pd.DataFrame) -> pd.DataFrame:
    """Display version of the fixed-effects table (odds ratios, rate ratios or neither)."""
    if "odds_ratio" in fixed.columns:
        return _or_text(fixed)
    out = _or_text(fixed.assign(odds_ratio=1.0, or_ci_low=1.0, or_ci_high=1.0))
    out = out.drop(columns=["OR", "OR 95% CI"])
    if "rate_ratio" in fixed.columns:
        out["RR"] = fixed["rate_ratio"].map(lambda v: f"{v:.3g}")
        out["RR 95% CI"] = [
            f"[{lo:.3g}, {hi:.3g}]"
            for lo, hi in zip(fixed["rr_ci_low"], fixed["rr_ci_high"], strict=True)
        ]
    return out


class GlmmResult(FitAccessors):
    """A fitted generalised linear mixed model (returned by :func:`glmm`).

    Names and conventions follow lme4: fixed-effect names (``(Intercept)``,
    ``stageaction``), ``theta`` (``getME(fit, "theta")``), the layout of
    ``as.data.frame(VarCorr(fit))`` and ``logLik``/``AIC``/``BIC``.

    Parameters
    ----------
    fit : GlmmFit
        Internal fit object.
    inputs : GlmmInputs, optional
        Response coding, weights and offset of the fit (internal).
    offset_column : str, optional
        Column holding the offset, read again by :meth:`predict` on new data.
    """

    def __init__(self, fit: GlmmFit, inputs: Any = None, offset_column: str | None = None):
        self._fit = fit
        self._inputs = inputs
        self._offset_column = offset_column

    # -- parameters ------------------------------------------------------------------------
    @property
    def family(self) -> str:
        """``"binomial"``, ``"poisson"`` or ``"negative_binomial"``."""
        return self._fit.family.name

    @property
    def link(self) -> str:
        """``"logit"``, ``"probit"`` or ``"log"``."""
        return self._fit.family.link

    @property
    def response_coding(self) -> str:
        """How the response was coded (e.g. ``"'N' = 0, 'Y' = 1 (sorted, as glmer)"``)."""
        return "numeric" if self._inputs is None else self._inputs.response_coding

    @property
    def nb_theta(self) -> float | None:
        """Negative binomial size (``getME(fit, "glmer.nb.theta")``); ``None`` otherwise."""
        return self._fit.family.nb_theta

    @property
    def reml(self) -> bool:
        """Always ``False``: GLMMs are fitted by maximum likelihood (for :func:`compare`)."""
        return False

    @property
    def nagq(self) -> int:
        """Quadrature nodes per group (1: Laplace)."""
        return self._fit.nagq

    @property
    def theta(self) -> pd.Series:
        """Random-effect Cholesky parameters, named and ordered as ``getME(fit, "theta")``."""
        return pd.Series(self._fit.theta, index=theta_names(self._fit.design.terms), name="theta")

    def _covariances(self) -> list[np.ndarray]:
        fit, out = self._fit, []
        for t, s in zip(fit.design.terms, fit.laplace.slices, strict=True):
            lam = term_lambda(fit.theta[s], t.k)
            out.append(lam @ lam.T)
        return out

    @property
    def loglik(self) -> float:
        """Log-likelihood with all constants (lme4's ``logLik`` for Laplace; see :func:`glmm`)."""
        return -0.5 * self._fit.deviance

    @property
    def loglik_lme4(self) -> float:
        """lme4's ``logLik``: for ``nagq > 1`` without the saturated-model constant."""
        if self.nagq == 1:
            return self.loglik
        return -0.5 * (self._fit.deviance - self._fit.saturated)

    @property
    def deviance(self) -> float:
        """``-2 * loglik`` (not lme4's ``deviance()``, a conditional deviance)."""
        return float(self._fit.deviance)

    @property
    def n_params(self) -> int:
        """Fixed effects plus covariance parameters (``attr(logLik(fit), "df")``)."""
        nb = self._fit.family.nb_theta is not None
        return self._fit.design.p + self._fit.theta.size + int(nb)

    @property
    def aic(self) -> float:
        """``AIC(fit)`` (on the scale of :attr:`loglik`)."""
        return self.deviance + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        """``BIC(fit)``."""
        return self.deviance + np.log(self.nobs) * self.n_params

    @property
    def warnings(self) -> list[str]:
        """Problems found in fitting (not converged; singular random effects)."""
        out = [] if self.converged else [f"not converged: {self._fit.message}"]
        for t, cov in zip(self._fit.design.terms, self._covariances(), strict=True):
            if np.any(np.sqrt(np.diag(cov)) < 1e-4):
                out.append(f"singular fit: a random-effect SD of {t.group!r} is ~0")
        return out

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the fixed effects (``vcov(fit)``)."""
        names = list(self._fit.design.fixed_names)
        return pd.DataFrame(self._fit.vcov_beta, index=names, columns=names)

    @cached_property
    def _fixed_table(self) -> pd.DataFrame:
        se = np.sqrt(np.diag(self._fit.vcov_beta))
        table = wald_table(list(self._fit.design.fixed_names), self._fit.beta, se)
        ratio = self._fit.family.effect_ratio()
        if ratio == "rate_ratio":
            table = table.rename(columns=dict(zip(_RATIO["odds_ratio"], _RATE, strict=True)))
        elif ratio is None:
            table = table.drop(columns=list(_RATIO["odds_ratio"]))
        return table

    @property
    def fixed(self) -> pd.DataFrame:
        """Fixed effects with Wald z tests and 95% CIs.

        Indexed by ``term``; columns ``estimate, se, z, p, ci_low, ci_high`` on the
        link scale, then ``exp`` of estimate and CI as ``odds_ratio, or_ci_low,
        or_ci_high`` (logit) or ``rate_ratio, rr_ci_low, rr_ci_high`` (log);
        none for probit. Ratios are conditional on the random effects.
        """
        return self._fixed_table.copy()

    @property
    def varcorr(self) -> pd.DataFrame:
        """``as.data.frame(VarCorr(fit))``: ``group, var1, var2, vcov, sdcor``."""
        rows = varcorr_rows(self._fit.design.terms, term_labels(self._fit), self._covariances())
        return pd.DataFrame(rows, columns=["group", "var1", "var2", "vcov", "sdcor"])

    # -- random effects and predictions -----------------------------------------------------
    @cached_property
    def _cond_var(self) -> list[np.ndarray]:
        fit = self._fit
        if fit.cond_var is not None:
            return fit.cond_var
        return fit.laplace.cond_var(fit.theta, fit.mode)

    def ranef(self) -> pd.DataFrame:
        """Conditional modes of the random effects (``ranef(fit, condVar = TRUE)``).

        Returns
        -------
        DataFrame
            One row per term, column and level: ``group, level, term, estimate,
            cond_sd`` (the conditional SD at the mode, as lme4's ``condsd``).
        """
        frames = []
        for i, (t, b) in enumerate(zip(self._fit.design.terms, self._fit.b, strict=True)):
            sd = np.sqrt(np.einsum("lii->li", self._cond_var[i]))
            for j, col in enumerate(t.columns):
                frames.append(
                    pd.DataFrame(
                        {
                            "group": t.group,
                            "level": t.levels.astype(str),
                            "term": col,
                            "estimate": b[:, j],
                            "cond_sd": sd[:, j],
                        }
                    )
                )
        return pd.concat(frames, ignore_index=True)

    def fitted(self) -> pd.Series:
        """Fitted means with the random effects (``fitted(fit)``): probabilities or rates."""
        return self.predict()

    def _new_offset(self, newdata: pd.DataFrame, offset: Any) -> np.ndarray:
        # The formula's offset() terms are rebuilt from newdata; an offset= argument of the
        # fit (a column, or predict's offset=) is added to them, as in lme4.
        in_formula = _newdata.new_offset(self._fit.design, newdata)
        base = np.zeros(len(newdata)) if in_formula is None else in_formula
        if offset is not None:
            arr = np.asarray(offset, dtype=float).ravel()
            return base + (np.broadcast_to(arr, len(newdata)) if arr.size == 1 else arr)
        if self._offset_column is not None:
            if self._offset_column not in newdata.columns:
                raise ModelSpecError(f"newdata lacks the offset column {self._offset_column!r}")
            return base + newdata[self._offset_column].to_numpy(dtype=float)
        if in_formula is not None:
            return base
        if np.any(self._fit.offset != 0):
            raise ModelSpecError("the model has an offset: give predict(..., offset=) for newdata")
        return np.zeros(len(newdata))

    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        type: str = "response",
        include_random: bool = True,
        offset: Any = None,
    ) -> pd.Series:
        """Predicted means (probabilities, counts) or linear predictors.

        Parameters
        ----------
        newdata : DataFrame, optional
            Rows to predict; by default the rows used in the fit. Groups not seen
            in the fit get the population prediction (``allow.new.levels = TRUE``).
        type : {"response", "link"}, default "response"
        include_random : bool, default True
            Add the conditional modes; ``False`` gives ``re.form = NA``.
        offset : float or array, optional
            Offset of ``newdata`` (read from the offset column if the fit used one).

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
        if newdata is None:
            eta = fit.offset + des.X @ fit.beta
            if include_random:
                for t, b in zip(des.terms, fit.b, strict=True):
                    eta = eta + np.sum(t.Z * b[t.codes], axis=1)
            index = des.row_index
        else:
            if not isinstance(newdata, pd.DataFrame):
                raise ModelSpecError(
                    f"newdata must be a DataFrame, got {newdata.__class__.__name__}"
                )
            try:
                eta = _newdata.new_fixed(des, newdata) @ fit.beta
                if include_random:
                    for (Z, codes), b in zip(_newdata.new_random(des, newdata), fit.b, strict=True):
                        seen = codes >= 0
                        eta = eta + np.where(seen, np.sum(Z * b[np.maximum(codes, 0)], axis=1), 0.0)
            except KeyError as exc:
                raise ModelSpecError(f"newdata lacks a column the model needs: {exc}") from None
            eta = eta + self._new_offset(newdata, offset)
            index = newdata.index
        values = fit.family.mu(eta) if type == "response" else eta
        if type == "response" and fit.family.name == "binomial":
            values = np.clip(values, 0.0, 1.0)
        return pd.Series(values, index=index, name="predicted")

    # -- display ---------------------------------------------------------------------------
    def _method(self) -> str:
        how = (
            "Laplace Approximation"
            if self.nagq == 1
            else f"Adaptive Gauss-Hermite Quadrature, nAGQ = {self.nagq}"
        )
        return f"Generalized linear mixed model fit by maximum likelihood ({how})"

    def _groups_text(self) -> str:
        return ", ".join(f"{g}, {n}" for g, n in self.ngroups.items())

    def summary(self) -> str:
        """A text summary in the style of lme4's ``summary(glmer_fit)``."""
        dropped = f" ({self.n_dropped} rows with missing values dropped)" if self.n_dropped else ""
        scale = {"odds_ratio": "odds ratios", "rate_ratio": "rate ratios"}.get(
            self._fit.family.effect_ratio() or "", "probit scale"
        )
        lines = [
            self._method(),
            f" Family: {self.family}  ( {self.link} )",
            f"Formula: {self.formula}",
            "",
            f"AIC {self.aic:.1f}  BIC {self.bic:.1f}  logLik {self.loglik:.1f}  "
            f"-2logLik {self.deviance:.1f}",
            "",
            "Random effects (variance; SD, or correlation for pairs):",
        ]
        for row in self.varcorr.itertuples():
            what = row.var1 if pd.isna(row.var2) else f"{row.var1} ~ {row.var2}"
            label = "SD" if pd.isna(row.var2) else "corr"
            lines.append(f" {row.group}  {what}  {row.vcov:.4g}  {label} {row.sdcor:.4g}")
        lines += [
            f"Number of obs: {self.nobs}, groups: {self._groups_text()}{dropped}",
            "",
            f"Fixed effects (conditional, subject-specific; {scale}):",
            fixed_text(self.fixed).to_string(),
        ]
        if not self.converged:
            lines += ["", f"Warning: not converged ({self._fit.message})"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<GlmmResult {self.formula!r}: {self.family}({self.link}), nagq = {self.nagq}, "
            f"n = {self.nobs}, {self._groups_text()}; logLik {self.loglik:.2f}>"
        )

    def _repr_html_(self) -> str:
        sds = "; ".join(
            f"{html.escape(str(r.group))} {html.escape(str(r.var1))} SD {r.sdcor:.4g}"
            for r in self.varcorr.itertuples()
            if pd.isna(r.var2)
        )
        return (
            f"<div><p><b>{html.escape(self._method())}</b><br>"
            f"Family: {self.family} ({self.link}); formula: <code>{html.escape(self.formula)}"
            f"</code><br>AIC {self.aic:.1f}, BIC {self.bic:.1f}, logLik {self.loglik:.1f}; "
            f"n = {self.nobs}, {html.escape(self._groups_text())}; {sds}</p>"
            f"{fixed_text(self.fixed).to_html()}</div>"
        )
