"""Mediation of intake motivation by early alliance: :func:`mediation`.

Three client-level regressions (product-of-coefficients method): the mediator on the
exposure, the outcome on exposure and mediator, and the outcome on the exposure alone,
each adjusted for the same covariates and (by default) with a therapist random intercept.
The indirect effect ``a * b`` gets a Monte-Carlo confidence interval.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import as_table, check_choice, check_level, check_positive_int, require_columns
from ..errors import DataValidationError, ModelSpecError, SingularFitWarning
from ..models import lmm
from ..study import CLIENT, THERAPIST, Study
from ._mediation_data import DERIVED, client_frame
from ._panel import Exclusions

__all__ = ["EFFECT_COLUMNS", "MediationResult", "mediation"]

#: Columns of :attr:`MediationResult.effects`.
EFFECT_COLUMNS = ["effect", "estimate", "se", "df", "p", "ci_low", "ci_high", "ci_method"]

CAVEAT = (
    "The decomposition into direct and indirect parts is descriptive unless sequential "
    "ignorability holds (Imai, Keele & Tingley, 2010): no unmeasured confounding of "
    "exposure-outcome, exposure-mediator and mediator-outcome, and no confounder of "
    "mediator and outcome that the exposure affects. Randomisation of the exposure would "
    "not secure the mediator-outcome part. Read the results as associations."
)

PROPORTION_CAUTION = (
    "The proportion mediated is unstable and can fall outside [0, 1] when the total "
    "association is small or its interval includes zero; report it only alongside the "
    "indirect and total estimates."
)


@dataclass(frozen=True)
class _Path:
    """Coefficients and covariance of one regression."""

    coef: pd.Series
    vcov: pd.DataFrame
    df: pd.Series
    table: pd.DataFrame
    fit: Any = None


def _ols(data: pd.DataFrame, y: str, xs: list[str]) -> _Path:
    X = np.column_stack([np.ones(len(data)), data[xs].to_numpy(float)])
    names = ["(Intercept)", *xs]
    yv = data[y].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, yv, rcond=None)
    n, k = X.shape
    if np.linalg.matrix_rank(X) < k or n <= k:
        raise ModelSpecError(f"the regression of {y} on {xs} is not estimable (n = {n}, k = {k})")
    resid = yv - X @ beta
    s2 = float(resid @ resid) / (n - k)
    cov = s2 * np.linalg.inv(X.T @ X)
    se = np.sqrt(np.diag(cov))
    t = beta / se
    q = stats.t.ppf(0.975, n - k)
    table = pd.DataFrame(
        {
            "estimate": beta,
            "se": se,
            "df": float(n - k),
            "t": t,
            "p": 2 * stats.t.sf(np.abs(t), n - k),
            "ci_low": beta - q * se,
            "ci_high": beta + q * se,
        },
        index=pd.Index(names, name="term"),
    )
    return _Path(
        coef=table["estimate"],
        vcov=pd.DataFrame(cov, index=names, columns=names),
        df=table["df"],
        table=table,
    )


def _mixed(data: pd.DataFrame, y: str, xs: list[str], therapist: str, notes: list[str]) -> _Path:
    formula = f"{y} ~ {' + '.join(xs)} + (1 | {therapist})"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SingularFitWarning)
        fit = lmm(formula, data)
    for w in caught:
        if issubclass(w.category, SingularFitWarning):
            notes.append(
                f"{formula}: the therapist variance is estimated as 0 (singular fit); its "
                "estimates equal those of the single-level regression"
            )
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    table = fit.fixed
    return _Path(coef=table["estimate"], vcov=fit.vcov, df=table["df"], table=table, fit=fit)


@dataclass(frozen=True)
class MediationResult:
    """The result of :func:`mediation`.

    Attributes
    ----------
    effects : DataFrame
        One row per quantity (``effect``: ``total``, ``direct``, ``indirect``,
        ``a_path``, ``b_path``, ``proportion_mediated``); columns
        :data:`EFFECT_COLUMNS`. ``ci_method`` says how the interval was made.
    paths : dict of str to DataFrame
        The fixed-effect tables of the three regressions (``mediator``,
        ``outcome``, ``total``).
    fits : dict
        The :class:`~engagestats.LmmResult` of each regression (``method="lmm"``)
        or empty (``method="ols"``).
    data : DataFrame
        The clients analysed (complete cases on every variable used).
    exclusions : DataFrame
        ``reason, n_rows, n_clients``: clients left out and why.
    estimand : str
        What the effects estimate, in words.
    exposure, mediator, outcome : str
    covariates : tuple of str
    method : str
    n_draws : int
    seed : int or None
    level : float
    notes : tuple of str
        Fit notes (e.g. a therapist variance estimated as 0).
    caveats : tuple of str
        The sequential-ignorability caveat and the proportion-mediated caution.
    """

    effects: pd.DataFrame
    paths: dict[str, pd.DataFrame]
    fits: dict[str, Any]
    data: pd.DataFrame
    exclusions: pd.DataFrame
    estimand: str
    exposure: str
    mediator: str
    outcome: str
    covariates: tuple[str, ...]
    method: str
    n_draws: int
    seed: int | None
    level: float = 0.95
    notes: tuple[str, ...] = ()
    caveats: tuple[str, ...] = field(default=(CAVEAT, PROPORTION_CAUTION))

    def _row(self, effect: str) -> pd.Series:
        return self.effects.set_index("effect").loc[effect]

    def interpretation(self) -> str:
        """One sentence per quantity, in the language of association."""
        pct = f"{100 * self.level:.0f}%"
        ind, tot, dirr = self._row("indirect"), self._row("total"), self._row("direct")
        return (
            f"Indirect association of {self.exposure} with {self.outcome} via {self.mediator}: "
            f"a*b = {ind.estimate:.3g} per unit of {self.exposure}, {pct} Monte-Carlo CI "
            f"[{ind.ci_low:.3g}, {ind.ci_high:.3g}]. Total association {tot.estimate:.3g} "
            f"[{tot.ci_low:.3g}, {tot.ci_high:.3g}]; association not via {self.mediator} "
            f"(direct) {dirr.estimate:.3g} [{dirr.ci_low:.3g}, {dirr.ci_high:.3g}]."
        )

    def summary(self) -> str:
        """Estimand, sample, effect table, interpretation and caveats as text."""
        excl = "none" if self.exclusions.empty else "\n" + self.exclusions.to_string(index=False)
        lines = [
            f"Mediation ({self.method}): {self.exposure} -> {self.mediator} -> {self.outcome}",
            f"Covariates: {', '.join(self.covariates) or 'none'}; n = {len(self.data)} clients",
            f"Estimand: {self.estimand}",
            f"Clients excluded: {excl}",
            "",
            self.effects.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
            "",
            self.interpretation(),
            "",
            *(f"Note: {c}" for c in self.notes),
            *(f"Caveat: {c}" for c in self.caveats),
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        ind = self._row("indirect")
        return (
            f"<MediationResult {self.exposure} -> {self.mediator} -> {self.outcome}: "
            f"indirect {ind.estimate:.3g} [{ind.ci_low:.3g}, {ind.ci_high:.3g}], "
            f"n = {len(self.data)}>"
        )

    def _repr_html_(self) -> str:
        head = html.escape(
            f"Mediation ({self.method}): {self.exposure} → {self.mediator} → {self.outcome}; "
            f"n = {len(self.data)} clients"
        )
        notes = "".join(f"<p><em>{html.escape(c)}</em></p>" for c in self.notes + self.caveats)
        return (
            f"<div><p><strong>{head}</strong></p><p>{html.escape(self.estimand)}</p>"
            f"{self.effects.to_html(index=False, float_format=lambda v: f'{v:.4g}')}"
            f"<p>{html.escape(self.interpretation())}</p>{notes}</div>"
        )


def _check_names(frame: pd.DataFrame, names: list[str]) -> None:
    bad = [c for c in names if not str(c).isidentifier()]
    if bad:
        raise DataValidationError.for_argument(
            "covariates", bad, "column names that are Python identifiers (rename them first)"
        )
    for c in names:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            raise DataValidationError.for_argument(
                c, str(frame[c].dtype), "a numeric column (dummy-code categorical covariates)"
            )


def mediation(
    data: Study | pd.DataFrame,
    *,
    exposure: str = "srq_autonomous",
    mediator: str = "early_alliance",
    outcome: str = "phq9_last",
    covariates: Sequence[str] = ("phq9_first",),
    therapist: str = THERAPIST,
    method: Literal["lmm", "ols"] = "lmm",
    early_sessions: int = 3,
    n_draws: int = 20_000,
    seed: int | None = 20261202,
    level: float = 0.95,
) -> MediationResult:
    """Decompose the exposure-outcome association into a part via the mediator and the rest.

    The default asks whether intake autonomous motivation is associated with
    end-of-treatment PHQ-9 (adjusted for intake PHQ-9) through the early
    alliance (mean WAI-SR over sessions 1-3).

    Parameters
    ----------
    data : Study or DataFrame
        A Study (the client table is built as described under Notes) or a
        client-level DataFrame holding every named column.
    exposure : str, default "srq_autonomous"
        Intake exposure column (continuous or 0/1).
    mediator : str, default "early_alliance"
        Mediator column; from a Study, ``"early_alliance"`` is derived.
    outcome : str, default "phq9_last"
        Outcome column; from a Study, ``"phq9_last"`` is derived.
    covariates : sequence of str, default ("phq9_first",)
        Numeric pre-exposure covariates, in all three regressions.
    therapist : str, default "therapist_id"
        Cluster column for ``method="lmm"``.
    method : {"lmm", "ols"}, default "lmm"
        ``"lmm"``: each regression has a therapist random intercept (REML,
        Satterthwaite df), so clients of one therapist are not treated as
        independent. ``"ols"``: single-level least squares (what a path model
        in lavaan fits; use it when there is no clustering).
    early_sessions : int, default 3
        The early window ``k`` (Study input only).
    n_draws : int, default 20000
        Monte-Carlo draws for the indirect-effect interval.
    seed : int or None, default 20261202
        Seed of the Monte-Carlo draws (``None``: not reproducible).
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    MediationResult
        ``.effects`` (tidy: ``effect, estimate, se, df, p, ci_low, ci_high,
        ci_method``), ``.paths``, ``.exclusions``, ``.summary()``.

    Raises
    ------
    DataValidationError
        A named column is missing or not numeric, or an argument is out of range.
    ModelSpecError
        Too few clients left to fit the regressions.

    Notes
    -----
    With exposure ``X``, mediator ``M``, outcome ``Y``, covariates ``C`` and a
    therapist intercept ``u_j`` (``method="lmm"``), for client ``i`` of therapist ``j``::

        M_ij = a0 + a X_ij + g'C_ij + u_j + e_ij                (mediator model)
        Y_ij = b0 + c' X_ij + b M_ij + h'C_ij + v_j + e_ij      (outcome model)
        Y_ij = c0 + c X_ij + k'C_ij + w_j + e_ij                (total model)

    ``indirect = a b``, ``direct = c'``, ``total = c`` (Baron & Kenny's
    product-of-coefficients decomposition; with ``method="ols"`` on one sample
    ``c = c' + a b`` exactly, with random intercepts approximately). These are
    the *natural* indirect and direct effects only under sequential
    ignorability and no exposure-mediator interaction (Imai, Keele & Tingley,
    2010); without it they are conditional associations.

    The interval for ``a b`` is a Monte-Carlo interval (Preacher & Selig,
    2012): ``a* ~ N(a, se_a^2)`` from the mediator model and ``(b*, c'*)``
    from the outcome model's covariance (independent of ``a*``, the two
    models' estimates being asymptotically uncorrelated), ``n_draws`` draws of
    ``a* b*``, percentile interval. ``se`` of the indirect effect is the
    first-order delta (Sobel) SE ``sqrt(b^2 se_a^2 + a^2 se_b^2)``, reported
    for comparison only (the product is not normal, so no p-value).
    ``proportion_mediated = a b / (c' + a b)`` with a Monte-Carlo interval from
    the same draws; see the caution in ``.caveats``.

    From a Study: ``early_alliance`` is the mean WAI-SR total (12-60) over
    the scored sessions ``1..k``; ``phq9_first`` is PHQ-9 at the first scored
    session ``<= k``; ``phq9_last`` is PHQ-9 at the last scored session
    ``> k`` (end of treatment for completers, last observation for dropouts;
    the mediator thus precedes the outcome). Clients without one of these are
    excluded and counted in ``.exclusions``.

    References
    ----------
    Imai, K., Keele, L., & Tingley, D. (2010). A general approach to causal mediation
    analysis. *Psychological Methods, 15*(4), 309-334.

    Preacher, K. J., & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals
    for indirect effects. *Communication Methods and Measures, 6*(2), 77-98.

    MacKinnon, D. P. (2008). *Introduction to statistical mediation analysis*. Erlbaum.

    Examples
    --------
    >>> import engagestats as es
    >>> res = es.mediation(es.load_sample(), n_draws=2000, seed=1)
    >>> res.effects["effect"].tolist()
    ['total', 'direct', 'indirect', 'a_path', 'b_path', 'proportion_mediated']
    >>> len(res.data)
    303
    >>> print(res.exclusions.to_string(index=False))
                             reason  n_rows  n_clients
    missing outcome 'phq9_last'      27         27
    """
    check_choice(method, ("lmm", "ols"), name="method")
    n_draws = check_positive_int(n_draws, name="n_draws", minimum=100, what="Monte-Carlo draws")
    level = check_level(level)
    early_sessions = check_positive_int(early_sessions, name="early_sessions", what="sessions")
    covs = [covariates] if isinstance(covariates, str) else [str(c) for c in covariates]
    if isinstance(data, Study):
        frame = client_frame(data, early_sessions=early_sessions, exposure=exposure)
    else:
        frame = as_table(data, "clients").reset_index(drop=True).copy()
    variables = [exposure, mediator, outcome, *covs]
    if len(set(variables)) < len(variables):
        raise DataValidationError.for_argument(
            "covariates", variables, "exposure, mediator, outcome and covariates all different"
        )
    needed = [*variables, therapist] if method == "lmm" else variables
    require_columns(frame, needed, table="clients", role="mediation model")
    _check_names(frame, variables)
    ex = Exclusions(frame, CLIENT if CLIENT in frame.columns else None)
    for role, col in (("outcome", outcome), ("mediator", mediator), ("exposure", exposure)):
        ex.drop(frame[col].isna().to_numpy(), f"missing {role} {col!r}")
    for c in covs:
        ex.drop(frame[c].isna().to_numpy(), f"missing covariate {c!r}")
    if method == "lmm":
        ex.drop(frame[therapist].isna().to_numpy(), f"missing {therapist!r}")
    used = frame.loc[ex.keep].reset_index(drop=True)
    if len(used) < len(covs) + 5:
        raise ModelSpecError(f"only {len(used)} clients left after the exclusions")

    notes: list[str] = []

    def fit(y: str, xs: list[str]) -> _Path:
        return _mixed(used, y, xs, therapist, notes) if method == "lmm" else _ols(used, y, xs)

    pm = fit(mediator, [exposure, *covs])
    po = fit(outcome, [exposure, mediator, *covs])
    pt = fit(outcome, [exposure, *covs])
    effects = _effects(pm, po, pt, exposure, mediator, n_draws, seed, level)
    derived = {c: DERIVED[c] for c in (mediator, outcome, *covs) if c in DERIVED}
    derived_text = "".join(f" {c}: {v}." for c, v in derived.items()) if derived else ""
    estimand = (
        f"differences in {outcome} per unit of {exposure} among clients with equal "
        f"{', '.join(covs) or 'covariates'}"
        + (", within therapist (therapist random intercepts)" if method == "lmm" else "")
        + f": total (not adjusted for {mediator}), direct (adjusted for {mediator}) and "
        f"indirect via {mediator} (a*b).{derived_text}"
    )
    return MediationResult(
        effects=effects,
        paths={"mediator": pm.table, "outcome": po.table, "total": pt.table},
        fits={k: p.fit for k, p in (("mediator", pm), ("outcome", po), ("total", pt)) if p.fit},
        data=used,
        exclusions=ex.table(),
        estimand=estimand,
        exposure=exposure,
        mediator=mediator,
        outcome=outcome,
        covariates=tuple(covs),
        method=method,
        n_draws=n_draws,
        seed=seed,
        level=level,
        notes=tuple(notes),
    )


def _effects(
    pm: _Path,
    po: _Path,
    pt: _Path,
    x: str,
    m: str,
    n_draws: int,
    seed: int | None,
    level: float,
) -> pd.DataFrame:
    a, b, cp = float(pm.coef[x]), float(po.coef[m]), float(po.coef[x])
    va = float(pm.vcov.loc[x, x])
    vbc = po.vcov.loc[[m, x], [m, x]].to_numpy(float)
    rng = np.random.default_rng(seed)
    a_draws = rng.normal(a, np.sqrt(va), size=n_draws)
    bc = rng.multivariate_normal([b, cp], vbc, size=n_draws, method="cholesky")
    ab_draws = a_draws * bc[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        prop_draws = ab_draws / (bc[:, 1] + ab_draws)
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2

    def coef_row(name: str, path: _Path, term: str) -> dict[str, Any]:
        est, se, df = float(path.coef[term]), float(np.sqrt(path.vcov.loc[term, term])), 0.0
        df = float(path.df[term])
        crit = stats.t.ppf(hi_q, df)
        return {
            "effect": name,
            "estimate": est,
            "se": se,
            "df": df,
            "p": float(2 * stats.t.sf(abs(est / se), df)),
            "ci_low": est - crit * se,
            "ci_high": est + crit * se,
            "ci_method": "t (Satterthwaite df)" if path.fit is not None else "t (OLS)",
        }

    def mc_row(name: str, est: float, se: float, draws: np.ndarray) -> dict[str, Any]:
        lo, hi = np.nanquantile(draws, [lo_q, hi_q])
        return {
            "effect": name,
            "estimate": est,
            "se": se,
            "df": np.nan,
            "p": np.nan,
            "ci_low": float(lo),
            "ci_high": float(hi),
            "ci_method": f"Monte Carlo ({n_draws} draws)",
        }

    sobel = float(np.sqrt(b**2 * va + a**2 * vbc[0, 0]))
    rows = [
        coef_row("total", pt, x),
        coef_row("direct", po, x),
        mc_row("indirect", a * b, sobel, ab_draws),
        coef_row("a_path", pm, x),
        coef_row("b_path", po, m),
        mc_row("proportion_mediated", a * b / (cp + a * b), np.nan, prop_draws),
    ]
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)
