"""Population-averaged logistic GEE, as ``geepack``: :func:`gee` and :class:`GeeResult`.

``gee("dropout ~ autonomy", data, groups="therapist_id")`` fits the population-averaged
model by generalised estimating equations with robust standard errors. :func:`fit_gee`
runs ``statsmodels`` ``GEE`` on a :class:`~._types.Design` (so term names and
missing-value handling are those of the mixed models) and wraps the result in
:class:`GeeResult`. ``ddof_scale=0`` makes statsmodels' exchangeable correlation
estimator identical to geepack's
``sum_i sum_{j<k} r_ij r_ik / N_pairs / (sum r^2 / N)`` (Pearson residuals
``r``, no degrees-of-freedom correction), so estimates agree with
``geepack::geeglm`` to its convergence tolerance.

Under :data:`SMALL_SAMPLE_CLUSTERS` clusters the standard errors default to the
Mancl-DeRouen bias-reduced sandwich (statsmodels ``cov_type="bias_reduced"``), checked
against a hand computation on geepack fits (``tests/reference/gee_small_sample``).
"""

from __future__ import annotations

import html
import re
import warnings
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools import sm_exceptions

from ..errors import ConvergenceWarning, ModelSpecError
from ._display import fmt_p
from ._response import binary_design
from ._types import Design
from .formula import quote_name

__all__ = [
    "COV_STRUCTS",
    "FIXED_COLUMNS",
    "SE_TYPES",
    "SMALL_SAMPLE_CLUSTERS",
    "GeeResult",
    "fit_gee",
    "fixed_text",
    "gee",
    "wald_table",
]

COV_STRUCTS = ("exchangeable", "independence")
#: Standard-error choices of :func:`gee`: ``"auto"`` is ``"bias_reduced"`` under
#: :data:`SMALL_SAMPLE_CLUSTERS` clusters, else ``"robust"``.
SE_TYPES = ("auto", "robust", "bias_reduced")
#: Below this many clusters ``se="auto"`` uses the Mancl-DeRouen correction: the plain
#: sandwich is biased downwards with fewer than about 40 clusters (Mancl & DeRouen 2001;
#: Li & Redden 2015).
SMALL_SAMPLE_CLUSTERS = 40
_SE_LABELS = {
    "robust": "robust (sandwich) SEs",
    "bias_reduced": "Mancl-DeRouen bias-reduced sandwich SEs",
}
_CTOL = 1e-10

FIXED_COLUMNS = [
    "estimate",
    "se",
    "z",
    "p",
    "ci_low",
    "ci_high",
    "odds_ratio",
    "or_ci_low",
    "or_ci_high",
]


def wald_table(names: list[str], estimate: np.ndarray, se: np.ndarray) -> pd.DataFrame:
    """Wald z tests and 95% intervals on the log-odds and odds-ratio scales (tidy table)."""
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    z = estimate / se
    q = stats.norm.ppf(0.975)
    low, high = estimate - q * se, estimate + q * se
    with np.errstate(over="ignore"):  # exp of a huge log-odds (separation) is inf, correctly
        odds = np.exp(np.stack([estimate, low, high]))
    table = pd.DataFrame(
        {
            "estimate": estimate,
            "se": se,
            "z": z,
            "p": 2.0 * stats.norm.sf(np.abs(z)),
            "ci_low": low,
            "ci_high": high,
            "odds_ratio": odds[0],
            "or_ci_low": odds[1],
            "or_ci_high": odds[2],
        },
        index=pd.Index(names, name="term"),
    )
    return table.loc[:, FIXED_COLUMNS]


def fixed_text(fixed: pd.DataFrame) -> pd.DataFrame:
    """Display version of a Wald table (formatted strings, R-like column names)."""
    return pd.DataFrame(
        {
            "Estimate": fixed["estimate"].map(lambda v: f"{v:.4g}"),
            "Std. Error": fixed["se"].map(lambda v: f"{v:.4g}"),
            "z value": fixed["z"].map(lambda v: f"{v:.3f}"),
            "Pr(>|z|)": fixed["p"].map(fmt_p),
            "OR": fixed["odds_ratio"].map(lambda v: f"{v:.3g}"),
            "OR 95% CI": [
                f"[{lo:.3g}, {hi:.3g}]"
                for lo, hi in zip(fixed["or_ci_low"], fixed["or_ci_high"], strict=True)
            ],
        },
        index=fixed.index,
    )


def resolve_se(se: str, n_clusters: int) -> str:
    """The covariance ``se`` stands for with ``n_clusters`` clusters (``"auto"`` resolved)."""
    if se not in SE_TYPES:
        raise ModelSpecError(f"se must be one of {SE_TYPES}, got {se!r}")
    if se == "auto":
        return "bias_reduced" if n_clusters < SMALL_SAMPLE_CLUSTERS else "robust"
    return se


def fit_gee(design: Design, *, cov_struct: str, formula: str, se: str = "auto") -> GeeResult:
    """Fit the GEE with a sandwich covariance (bias-reduced under 40 clusters by default)."""
    if cov_struct not in COV_STRUCTS:
        raise ModelSpecError(f"cov_struct must be one of {COV_STRUCTS}, got {cov_struct!r}")
    se_type = resolve_se(se, int(design.terms[0].n_levels))
    structure = sm.cov_struct.Exchangeable() if cov_struct == "exchangeable" else None
    structure = structure or sm.cov_struct.Independence()
    model = sm.GEE(
        design.y,
        design.X,
        groups=design.terms[0].codes,
        family=sm.families.Binomial(),
        cov_struct=structure,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit(maxiter=200, ctol=_CTOL, ddof_scale=0, cov_type=se_type)
    problems = []
    for w in caught:
        if issubclass(
            w.category, sm_exceptions.ConvergenceWarning | sm_exceptions.IterationLimitWarning
        ):
            problems.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if res is None:
        raise ModelSpecError(f"the GEE could not be estimated: {'; '.join(problems)}")
    converged = bool(res.converged) and not problems
    if not converged:
        warnings.warn(
            f"gee did not converge: {'; '.join(problems) or 'iteration limit reached'}",
            ConvergenceWarning,
            stacklevel=3,
        )
    alpha = float(np.atleast_1d(structure.dep_params)[0]) if cov_struct == "exchangeable" else 0.0
    names = list(design.fixed_names)
    params = np.asarray(res.params, dtype=float)
    cov = np.asarray(res.cov_robust_bc if se_type == "bias_reduced" else res.cov_robust)
    return GeeResult(
        design=design,
        formula=formula,
        cov_struct=cov_struct,
        fixed=wald_table(names, params, np.sqrt(np.diag(cov))),
        vcov=pd.DataFrame(cov, index=names, columns=names),
        working_correlation=alpha,
        converged=converged,
        se_type=se_type,
    )


class GeeResult:
    """A fitted logistic GEE (returned by :func:`engagestats.models.gee`).

    Attributes
    ----------
    fixed : DataFrame
        Indexed by lme4-style ``term``; ``estimate, se, z, p, ci_low, ci_high,
        odds_ratio, or_ci_low, or_ci_high`` with robust (sandwich) SEs. The odds
        ratios are population-averaged.
    vcov : DataFrame
        Robust covariance matrix of the coefficients.
    working_correlation : float
        The exchangeable correlation (0.0 for ``"independence"``).
    cov_struct : str
    converged : bool
    nobs : int
    ngroups : dict
    n_dropped : int
    """

    def __init__(
        self,
        *,
        design: Design,
        formula: str,
        cov_struct: str,
        fixed: pd.DataFrame,
        vcov: pd.DataFrame,
        working_correlation: float,
        converged: bool,
        se_type: str = "robust",
    ) -> None:
        self._design = design
        self._formula = formula
        self.cov_struct = cov_struct
        self._fixed = fixed
        self.vcov = vcov
        self.working_correlation = working_correlation
        self.converged = converged
        self.se_type = se_type

    @property
    def fixed(self) -> pd.DataFrame:
        """Coefficients with sandwich Wald z tests and 95% CIs (log-odds and odds ratios)."""
        return self._fixed.copy()

    @property
    def formula(self) -> str:
        """The model formula as given."""
        return self._formula

    @property
    def nobs(self) -> int:
        """Number of observations used."""
        return self._design.n

    @property
    def n_dropped(self) -> int:
        """Rows dropped because a used column (or the group) was missing."""
        return int(self._design.n_dropped)

    @property
    def ngroups(self) -> dict[str, int]:
        """Number of clusters."""
        term = self._design.terms[0]
        return {term.group: term.n_levels}

    def _head(self) -> str:
        group, n = next(iter(self.ngroups.items()))
        corr = (
            f"exchangeable working correlation {self.working_correlation:.4f}"
            if self.cov_struct == "exchangeable"
            else "independence working correlation"
        )
        return (
            f"GEE, binomial (logit), {corr}; {_SE_LABELS[self.se_type]}\n"
            f"Formula: {self.formula}; clusters: {group} ({n}); n = {self.nobs}"
        )

    def summary(self) -> str:
        """Text summary: model, working correlation, coefficient table."""
        lines = [
            self._head(),
            "",
            "Coefficients (population-averaged odds ratios):",
            fixed_text(self.fixed).to_string(),
        ]
        if self.n_dropped:
            lines.insert(1, f"({self.n_dropped} rows with missing values dropped)")
        if not self.converged:
            lines += ["", "Warning: the GEE iterations did not converge."]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<GeeResult {self.formula!r}: {self.cov_struct}, n = {self.nobs}>"

    def _repr_html_(self) -> str:
        head = html.escape(self._head()).replace("\n", "<br>")
        return f"<div><p>{head}</p>{fixed_text(self.fixed).to_html()}</div>"


def gee(
    formula: str,
    data: pd.DataFrame,
    *,
    groups: str,
    family: str = "binomial",
    cov_struct: str = "exchangeable",
    se: Literal["auto", "robust", "bias_reduced"] = "auto",
) -> GeeResult:
    """Fit a population-averaged logistic model by GEE, with sandwich standard errors.

    Parameters
    ----------
    formula : str
        Fixed-effects formula without random terms, e.g.
        ``"dropout ~ autonomy + readiness + stage"``.
    data : DataFrame
        One row per observation. Rows with a missing value in a used column or
        in ``groups`` are dropped and counted (:attr:`GeeResult.n_dropped`).
    groups : str
        Column identifying the clusters (e.g. ``"therapist_id"``); any column name
        without a backtick (it is quoted, :func:`engagestats.models.formula.quote_name`).
    family : {"binomial"}, default "binomial"
        Binomial with the logit link; the response must be 0/1 or boolean.
    cov_struct : {"exchangeable", "independence"}, default "exchangeable"
        Working correlation within clusters.
    se : {"auto", "robust", "bias_reduced"}, default "auto"
        ``"robust"``: the Liang-Zeger sandwich. ``"bias_reduced"``: the
        Mancl-DeRouen small-sample correction. ``"auto"``: bias-reduced under
        :data:`SMALL_SAMPLE_CLUSTERS` (40) clusters, else robust. The choice
        is stated in ``.summary()`` and kept as ``.se_type``.

    Returns
    -------
    GeeResult
        ``.fixed`` (``estimate, se, z, p, ci_low, ci_high, odds_ratio, or_ci_low,
        or_ci_high``; lme4-style term names), ``.working_correlation``,
        ``.vcov``, ``.se_type``, ``.nobs``, ``.ngroups``, ``.summary()``.

    Raises
    ------
    ModelSpecError
        Unknown columns, random terms in the formula, an unknown ``cov_struct``
        or family, fewer than 2 clusters.
    DataValidationError
        If the response has values other than 0 and 1.

    Warns
    -----
    ConvergenceWarning
        If the GEE iterations do not converge.

    Notes
    -----
    Solves ``sum_i D_i' V_i^{-1} (y_i - mu_i) = 0`` with ``mu = expit(X beta)``,
    ``V_i = A_i^{1/2} R(alpha) A_i^{1/2}`` and ``A_i = diag(mu (1 - mu))``
    (Liang & Zeger, 1986), fitted by ``statsmodels`` GEE. The exchangeable
    ``alpha`` is geepack's moment estimator (no degrees-of-freedom correction),
    so results match ``geepack::geeglm``. Standard errors are the robust
    sandwich ``A^{-1} B A^{-1}``, valid even if the working correlation is wrong,
    with ``A = sum_i D_i' V_i^{-1} D_i`` and ``B = sum_i D_i' V_i^{-1} r_i r_i'
    V_i^{-1} D_i``. With few clusters the residuals ``r_i`` are too small on
    average and ``B`` is biased downwards; Mancl and DeRouen (2001) replace
    ``r_i`` by ``(I - H_ii)^{-1} r_i`` with the cluster leverage
    ``H_ii = D_i A^{-1} D_i' V_i^{-1}``. Tests stay Wald z tests.

    The odds ratios are *population-averaged*: they compare the whole
    population at ``x + 1`` with the population at ``x``, averaging over the
    clusters. The GLMM's (:func:`glmm`) are *subject-specific*: they compare two
    observations within the same cluster. With a random-intercept SD ``sigma``,
    ``beta_PA ~ beta_SS / sqrt(1 + 0.346 sigma^2)`` (Zeger, Liang & Albert, 1988),
    so GEE odds ratios are closer to 1; neither is wrong, they answer different
    questions.

    References
    ----------
    Liang, K.-Y. & Zeger, S. L. (1986). Longitudinal data analysis using
    generalized linear models. Biometrika, 73(1), 13-22.

    Zeger, S. L., Liang, K.-Y. & Albert, P. S. (1988). Models for longitudinal
    data: a generalized estimating equation approach. Biometrics, 44(4), 1049-1060.

    Mancl, L. A. & DeRouen, T. A. (2001). A covariance estimator for GEE with
    improved small-sample properties. Biometrics, 57(1), 126-134.

    Li, P. & Redden, D. T. (2015). Small sample performance of bias-corrected
    sandwich estimators for cluster-randomized trials with binary outcomes.
    Statistics in Medicine, 34(2), 281-296.

    Halekoh, U., Hojsgaard, S. & Yan, J. (2006). The R package geepack for
    generalized estimating equations. J Stat Softw, 15(2), 1-11.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from engagestats.models import gee
    >>> rng = np.random.default_rng(7)
    >>> d = pd.DataFrame({"therapist": np.repeat([f"T{i}" for i in range(30)], 12),
    ...                   "autonomy": rng.normal(size=360)})
    >>> eta = -0.5 - 0.8 * d["autonomy"] + rng.normal(0, 0.8, 30)[np.repeat(range(30), 12)]
    >>> d["dropout"] = (rng.random(360) < 1 / (1 + np.exp(-eta))).astype(int)
    >>> fit = gee("dropout ~ autonomy", d, groups="therapist")
    >>> fit.fixed.index.tolist()
    ['(Intercept)', 'autonomy']
    >>> 0 < fit.working_correlation < 1
    True
    >>> fit.se_type  # 30 clusters: under 40, so the small-sample correction
    'bias_reduced'
    """
    if not isinstance(groups, str) or not groups:
        raise ModelSpecError(f"groups must be the name of a column, got {groups!r}")
    if isinstance(data, pd.DataFrame) and groups not in data.columns:
        raise ModelSpecError(f"groups={groups!r} is not a column of the data")
    # a "|" inside backticks is part of a column name, not a random term
    if isinstance(formula, str) and "|" in re.sub(r"`[^`]*`", "", formula):
        raise ModelSpecError("gee formulas have no random terms; give the clusters as groups=")
    des = binary_design(f"{formula} + (1 | {quote_name(groups)})", data, family)
    return fit_gee(des, cov_struct=cov_struct, formula=formula, se=se)
