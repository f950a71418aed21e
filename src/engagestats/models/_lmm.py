"""``lmm(formula, data)``: fit a linear mixed model written in lme4 syntax."""

from __future__ import annotations

import pandas as pd

from ..errors import ModelSpecError
from .design import build_design
from .result import ENGINES, LmmResult, fit_design

__all__ = ["lmm"]


def lmm(
    formula: str,
    data: pd.DataFrame,
    *,
    reml: bool = True,
    engine: str = "engagestats",
    correlation: str | None = None,
    time: str | None = None,
    group: str | None = None,
) -> LmmResult:
    """Fit a linear mixed model written in lme4 syntax.

    Parameters
    ----------
    formula : str
        lme4-style formula, e.g. ``"phq ~ session * autonomy + (1 + session | client)"``.
        Supports ``(expr | g)``, uncorrelated ``(expr || g)``, nested
        ``(1 | therapist/client)`` and several grouping factors.
    data : DataFrame
        One row per observation. Rows with a missing value in a column the
        model uses are dropped and counted (:attr:`LmmResult.n_dropped`).
    reml : bool, default True
        Restricted maximum likelihood (``lmer(REML = TRUE)``) or maximum
        likelihood.
    engine : {"engagestats", "statsmodels"}, default "engagestats"
        ``"engagestats"``: profiled (RE)ML as in lme4, Satterthwaite df as in
        lmerTest. ``"statsmodels"``: the same design fitted with
        ``statsmodels`` MixedLM, as an independent cross-check; df = inf
        (Wald z tests). It cannot express crossed factors or correlated
        slopes combined with a second level and raises ``ModelSpecError``.
    correlation : {None, "ar1", "car1"}, default None
        Residual correlation within groups (nlme's ``corAR1`` / ``corCAR1``):
        ``corr(e_j, e_k) = phi^|t_j - t_k|``. Returns a
        :class:`~engagestats.models._ar1_result.CorrelatedLmmResult` with
        ``fit.phi``; its t tests use nlme's containment df. See
        ``docs/methods/residual-correlation.md``.
    time : str, optional
        Column of observation times: integers (occasion or session numbers,
        gaps for missed sessions) for ``"ar1"``, any numbers for ``"car1"``
        (required there). Without it ``"ar1"`` uses the row order within
        each group: consecutive rows are one step apart.
    group : str, optional
        Column whose groups carry the correlation; default the innermost
        random-effects grouping factor. It must be nested in every grouping
        factor (crossed factors are refused).

    Returns
    -------
    LmmResult
        ``.fixed`` (estimate, se, df, t, p, ci_low, ci_high), ``.fixed_effects()``, ``.varcorr``,
        ``.ranef()``, ``.predict()``, ``.icc()``, ``.r2()``, ``.contrast()``,
        ``.summary()``.

    Raises
    ------
    FormulaError
        If the formula cannot be parsed.
    ModelSpecError
        If the model cannot be built from the data (unknown columns, a rank
        deficient fixed-effects matrix, too few groups) or the engine is unknown.

    Notes
    -----
    The model is ``y = X beta + Z b + e`` with ``b ~ N(0, Sigma_theta)`` and
    ``e ~ N(0, sigma^2 I)``. The degrees of freedom of each fixed effect follow
    Satterthwaite (1946) as lmerTest computes them: ``df = 2 (l'Vl)^2 / (g'Ag)``
    with ``V = vcov(beta)``, ``g`` its gradient in ``(theta, sigma)`` and ``A``
    twice the inverse Hessian of the deviance. Kenward-Roger standard errors
    and df (pbkrtest) are available for REML fits through
    ``fit.fixed_effects(ddf="kenward-roger")`` and
    ``fit.contrast(L, ddf="kenward-roger")``.

    With ``correlation=`` the residuals of group ``i`` are ``N(0, sigma^2 R_i)``,
    ``R_i[j, k] = phi^|t_j - t_k|`` (Pinheiro & Bates, 2000, sec. 5.3); the model is
    fitted on Prais-Winsten transformed data, adding ``log |R|`` to the deviance, and
    the t tests use nlme's containment df (``docs/methods/residual-correlation.md``).

    References
    ----------
    Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear
    mixed-effects models using lme4. J Stat Softw, 67(1), 1-48.

    Kuznetsova, A., Brockhoff, P. B. & Christensen, R. H. B. (2017). lmerTest
    package: tests in linear mixed effects models. J Stat Softw, 82(13), 1-26.

    Pinheiro, J. C. & Bates, D. M. (2000). Mixed-Effects Models in S and S-PLUS.
    Springer.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from engagestats.models import compare, lmm
    >>> rng = np.random.default_rng(3)
    >>> d = pd.DataFrame({"client": np.repeat(np.arange(40), 6),
    ...                   "session": np.tile(np.arange(1.0, 7.0), 40)})
    >>> d["phq"] = (15 - 0.8 * d["session"] + rng.normal(0, 3, 40)[d["client"]]
    ...             + rng.normal(0, 2, len(d)))
    >>> fit = lmm("phq ~ session + (1 | client)", d)
    >>> fit.fixed.loc["session", "estimate"].round(1)
    np.float64(-0.8)
    >>> fit.ngroups
    {'client': 40}
    """
    if engine not in ENGINES:
        raise ModelSpecError(f"engine must be one of {ENGINES}, got {engine!r}")
    design = build_design(formula, data)
    if correlation is not None or time is not None or group is not None:
        from ._ar1_result import lmm_correlated

        return lmm_correlated(
            design, data, reml=reml, engine=engine, correlation=correlation, time=time, group=group
        )
    return fit_design(design, reml=reml, engine=engine)
