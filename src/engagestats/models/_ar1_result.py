"""The result of ``lmm(..., correlation=...)``: an :class:`LmmResult` with residual AR(1)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ModelSpecError
from . import stats
from ._ar1 import containment_df, residual_structure
from ._ar1_optim import CorrFit, fit_correlated
from ._types import Design
from .result import LmmResult

__all__ = ["ContainmentDF", "CorrelatedLmmResult", "lmm_correlated"]


@dataclass(frozen=True)
class ContainmentDF:
    """Wald t tests with nlme's "inner-outer" denominator df (``summary.lme``).

    A contrast ``l' beta`` gets the smallest df of the columns it involves.
    """

    beta: np.ndarray
    vcov_beta: np.ndarray
    column_df: np.ndarray
    sigma: float

    def df(self, vec: np.ndarray) -> float:
        """Denominator df of the contrast ``vec``."""
        used = np.abs(np.asarray(vec, dtype=float)) > 0
        return float(np.min(self.column_df[used])) if used.any() else float("nan")


class CorrelatedLmmResult(LmmResult):
    """A linear mixed model with AR(1) or continuous-time AR(1) residuals.

    Returned by :func:`engagestats.models.lmm` with ``correlation="ar1"`` or
    ``"car1"``. Everything of :class:`LmmResult` applies, with these differences:
    :attr:`phi` is the estimated correlation; the t tests use nlme's
    containment ("inner-outer") df instead of Satterthwaite's; ``loglik``,
    ``aic`` and ``bic`` count ``phi`` as a parameter; Kenward-Roger and joint F
    tests are not available.

    Notes
    -----
    ``aic`` equals nlme's ``AIC``. ``bic`` uses ``log(n)`` as lme4 (and every
    other fit here) does; nlme's ``BIC`` of a REML fit uses ``log(n - p)``.
    ``fitted`` and ``predict`` add the conditional modes of the random effects
    but not a prediction of the correlated residual (nlme's ``fitted`` neither).

    References
    ----------
    Pinheiro, J. C. & Bates, D. M. (2000). *Mixed-Effects Models in S and S-PLUS*.
    Springer, sections 5.3 (corAR1, corCAR1) and 2.4.2 (denominator df).

    Examples
    --------
    PHQ-9 over attended sessions of the sample: clients within therapists, AR(1)
    residuals within clients; ``time="session"`` makes a missed session a gap of 2.

    >>> from engagestats.datasets import load_sample
    >>> from engagestats.models import compare, lmm
    >>> d = load_sample().panel(attended_only=True)
    >>> d["phq9"] = d[[f"phq9_{i}" for i in range(1, 10)]].sum(axis=1, min_count=9)
    >>> f = "phq9 ~ session + (1 | therapist_id/client_id)"
    >>> fit = lmm(f, d, correlation="ar1", time="session")
    >>> round(fit.phi, 2), fit.correlation["group"]
    (0.51, 'client_id:therapist_id')
    >>> fit.fixed.loc["session", ["estimate", "df"]].round(2).tolist()
    [-0.68, 2804.0]
    >>> lrt = compare(lmm(f, d), fit)  # refitted by ML: LRT of phi = 0, 1 df
    >>> int(lrt["df"].iloc[1]), bool(lrt["p"].iloc[1] < 1e-10)
    (1, True)
    """

    def __init__(self, corr: CorrFit, *, engine: str = "engagestats") -> None:
        super().__init__(corr.fit, engine=engine)
        self._corr = corr

    # ------------------------------------------------------------ correlation
    @property
    def phi(self) -> float:
        """The residual correlation: at lag 1 (``"ar1"``) or per unit of time (``"car1"``)."""
        return float(self._corr.phi)

    @property
    def correlation(self) -> pd.Series:
        """Kind, group, time column, phi and the number of correlation groups."""
        spec = self._corr.spec
        return pd.Series(
            {
                "kind": spec.kind,
                "group": spec.group,
                "time": spec.time if spec.time is not None else "(row order)",
                "phi": self.phi,
                "n_groups": spec.n_groups,
            },
            name="correlation",
        )

    @property
    def model_label(self) -> str:
        """Formula and correlation, ``"y ~ x + (1 | g), ar1(t | g)"``: ``compare``'s label."""
        spec = self._corr.spec
        return f"{self.formula}, {spec.kind}({spec.time or '1'} | {spec.group})"

    @property
    def n_params(self) -> int:
        """Fixed effects, theta, sigma and phi."""
        return super().n_params + 1

    def refit_ml(self) -> CorrelatedLmmResult:
        """The same model (with its residual correlation) refitted by maximum likelihood."""
        if not self.reml:
            return self
        corr = fit_correlated(self._fit.design, self._corr.spec, reml=False)
        return CorrelatedLmmResult(corr, engine=self.engine)

    # -------------------------------------------------------------- inference
    @cached_property
    def _sat(self) -> Any:  # the df rule of this fit (ContainmentDF)
        fit = self._fit
        return ContainmentDF(
            beta=np.asarray(fit.beta, dtype=float),
            vcov_beta=np.asarray(fit.vcov_beta, dtype=float),
            column_df=containment_df(fit.design),
            sigma=float(fit.sigma),
        )

    @property
    def _df_inf(self) -> bool:
        return False

    def _use_kr(self, ddf: str) -> bool:
        if ddf not in ("satterthwaite", "containment"):
            raise ModelSpecError(
                f"ddf={ddf!r} is not available with correlation=; the t tests use nlme's "
                "containment df (ddf='containment')"
            )
        return False

    def fixed_effects(self, *, ddf: str = "containment", level: float = 0.95) -> pd.DataFrame:
        """Fixed effects with Wald t tests on nlme's containment df.

        Parameters
        ----------
        ddf : {"containment"}, default "containment"
            The only rule available with a residual correlation (``"satterthwaite"``
            is accepted as an alias so generic code keeps working; the df are
            the containment df).
        level : float, default 0.95

        Returns
        -------
        DataFrame
            Indexed by ``term``: ``estimate, se, df, t, p, ci_low, ci_high``.
        """
        return super().fixed_effects(ddf=ddf, level=level)

    def contrast(self, L: Any, *, joint: bool = False, **kwargs: Any) -> pd.DataFrame:
        """Row-wise t tests of ``L beta = rhs``; see :meth:`LmmResult.contrast`.

        Raises
        ------
        ModelSpecError
            With ``joint=True``: the F test's df need Satterthwaite's machinery,
            which does not cover phi.
        """
        if joint:
            raise ModelSpecError("joint F tests are not available with correlation=")
        return super().contrast(L, joint=False, **kwargs)

    def anova(self, *, type: int | str = 3, ddf: str = "satterthwaite") -> pd.DataFrame:
        """Not available with a residual correlation.

        Raises
        ------
        ModelSpecError
            Always: use :meth:`contrast` row-wise or :func:`compare` (LRT).
        """
        raise ModelSpecError(
            "anova() F tests are not available with correlation=; use contrast() row-wise "
            "or compare() for likelihood-ratio tests"
        )

    def ranef(self, *, cond_sd: bool = False) -> pd.DataFrame:
        """Conditional modes (SDs given the correlated residuals); see :meth:`LmmResult.ranef`."""
        white = dataclasses.replace(self._fit, design=self._corr.white)
        return stats.ranef_table(white, cond_sd=cond_sd)

    # ---------------------------------------------------------------- display
    def _corr_line(self) -> str:
        spec = self._corr.spec
        what = "AR(1)" if spec.kind == "ar1" else "continuous-time AR(1)"
        over = f"time {spec.time!r}" if spec.time is not None else "row order"
        return f"Residual correlation: {what} within {spec.group!r} ({over}), phi = {self.phi:.4f}"

    def _method_line(self) -> str:
        crit = "REML" if self.reml else "Maximum likelihood"
        return f"Linear mixed model fit by {crit}. t-tests use nlme's containment df"

    def summary(self) -> str:
        """A text summary: as :meth:`LmmResult.summary`, with the correlation and the df rule."""
        lines = super().summary().split("\n")
        return "\n".join([self._method_line(), lines[1], self._corr_line(), *lines[2:]])

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f"; {self._corr.spec.kind} phi {self.phi:.4f}>"

    def _repr_html_(self) -> str:
        body = super()._repr_html_()
        for quote in ("'", "&#x27;"):
            body = body.replace(f"t-tests use Satterthwaite{quote}s method", "t-tests: see above")
        return f"<div><p>{self._method_line()}<br>{self._corr_line()}</p>{body}</div>"


def lmm_correlated(
    design: Design,
    data: pd.DataFrame,
    *,
    reml: bool,
    engine: str,
    correlation: str | None,
    time: str | None,
    group: str | None,
) -> CorrelatedLmmResult:
    """``lmm(..., correlation=...)`` once the design is built."""
    if correlation is None:
        raise ModelSpecError("time= and group= describe a residual correlation: give correlation=")
    if engine != "engagestats":
        raise ModelSpecError("correlation= needs engine='engagestats'")
    spec = residual_structure(design, data, correlation=correlation, time=time, group=group)
    return CorrelatedLmmResult(fit_correlated(design, spec, reml=reml), engine=engine)
