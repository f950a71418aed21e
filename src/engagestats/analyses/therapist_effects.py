"""Therapist effects from a growth model: variance shares with CIs and shrunken therapist estimates.

``therapist_effects(growth_model(study, therapist_slope=True))`` returns a
:class:`TherapistEffects` with the therapist share of end-of-treatment outcome
variance adjusted for intake, of variance in change, and each therapist's
conditional mode (BLUP) with its interval.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from .._validate import check_choice, check_positive_int
from ..errors import DataValidationError, ModelSpecError
from ..models import lmm
from ..models._types import EngineFit
from ..models.formula import quote_name
from ..scoring import ScoringPolicy, state_policy
from ._tables import policy_text
from ._therapist_variance import (
    bootstrap,
    components,
    conditional_covs,
    shares,
    slope_lrt,
    term_index,
)
from .outcome_model import OutcomeModel

__all__ = ["TherapistEffects", "therapist_effects"]

_DEFINITIONS = {
    "end_adjusted": "therapist share of the variance of the end-of-treatment outcome "
    "adjusted (linearly) for the intake outcome",
    "change": "therapist share of the variance of the rate of change (random slopes)",
    "intake": "therapist share of the variance of the intake outcome",
}

RANKING_CAUTION = (
    "Do not rank therapists on these estimates: with few clients per therapist the "
    "intervals overlap for nearly all of them, ranks are far less certain than the "
    "estimates look, and differences in case mix not in the model remain "
    "(Goldstein & Spiegelhalter 1996; Wampold & Brown 2005)."
)


SLOPE_CAUTION = (
    "Report both shares: a therapist slope variance that is 0 in truth is estimated "
    "above 0 and inflates the share, and with about 40 therapists the test rarely "
    "detects a slope variance of the size seen in routine care (docs/validity.md)."
)


@dataclass(frozen=True, eq=False)
class TherapistEffects:
    """Therapist effects of a growth model (returned by :func:`therapist_effects`).

    Attributes
    ----------
    shares : DataFrame
        One row per estimand (``end_adjusted``, ``change``, ``intake``):
        ``estimand, estimate, ci_low, ci_high, definition``.
    therapists : DataFrame
        One row per therapist: ``therapist, n_clients, intake, intake_sd,
        slope, slope_sd, end_adjusted, end_adjusted_sd, ci_low, ci_high``:
        conditional modes (``ranef``) of the therapist intercept and slope, and
        the therapist's deviation in the intake-adjusted end-of-treatment
        outcome, each with its conditional SD; ``ci_low, ci_high`` are the
        interval of ``end_adjusted``.
    components : DataFrame
        One row: ``b_pre`` (regression of end on intake outcome), ``end_time``
        (mean end time), ``var_therapist_end``, ``var_residual_end``,
        ``n_therapists``, ``n_clients``, ``n_boot``, ``n_failed``, ``n_singular``,
        and the check of the therapist slope: ``slope_lrt_chisq``, ``slope_lrt_p``
        (boundary likelihood-ratio test against the same model with a therapist
        intercept only) and ``end_adjusted_intercept_only`` (the ``end_adjusted``
        share of that model); NaN without a therapist slope.
    outcome : str
    level : float
    scoring_policy : ScoringPolicy or None
        The model's scoring policy (:attr:`OutcomeModel.scoring_policy
        <engagestats.analyses.OutcomeModel.scoring_policy>`; None for scores
        given as data); each table records it in ``attrs["scoring_policy"]``
        and :meth:`summary` states it.
    """

    shares: pd.DataFrame
    therapists: pd.DataFrame
    components: pd.DataFrame
    outcome: str
    level: float
    scoring_policy: ScoringPolicy | None = None

    def __post_init__(self) -> None:
        for table in (self.shares, self.therapists, self.components):
            state_policy(table, self.scoring_policy)

    @property
    def caution(self) -> str:
        """The caution on ranking therapists."""
        return RANKING_CAUTION

    def summary(self) -> str:
        """Shares with CIs, how many therapists' intervals exclude 0, and the caution."""
        pct = round(self.level * 100)
        comp = self.components.iloc[0]
        lines = [
            f"Therapist effects on {self.outcome} ({int(comp['n_therapists'])} therapists, "
            f"{int(comp['n_clients'])} clients; {pct}% CIs: parametric bootstrap, "
            f"{int(comp['n_boot'])} refits)"
        ]
        for row in self.shares.itertuples():
            ci = (
                f" [{row.ci_low:.3f}, {row.ci_high:.3f}]"
                if np.isfinite(row.ci_low) and np.isfinite(row.ci_high)
                else ""
            )
            lines.append(f"  {row.estimand:<13} {row.estimate:.3f}{ci}  ({row.definition})")
        t = self.therapists
        out = int(((t["ci_low"] > 0) | (t["ci_high"] < 0)).sum())
        lines.append(
            f"Therapists whose {pct}% interval of the adjusted end-of-treatment deviation "
            f"excludes 0: {out} of {len(t)}."
        )
        if np.isfinite(comp["slope_lrt_p"]):
            lines.append(
                f"Therapist slope variance: boundary LRT chi2 = {comp['slope_lrt_chisq']:.2f}, "
                f"p = {comp['slope_lrt_p']:.3f}; with a therapist intercept only the "
                f"end_adjusted share is {comp['end_adjusted_intercept_only']:.3f}. " + SLOPE_CAUTION
            )
        lines.append(policy_text(self.scoring_policy))
        lines.append(self.caution)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        parts = [f"<p><b>Therapist effects on {html.escape(self.outcome)}</b></p>"]
        for title, table in (
            ("Variance shares", self.shares),
            ("Therapists", self.therapists),
            ("Components", self.components),
        ):
            parts.append(f"<p>{title}</p>" + table.to_html(index=False, float_format="%.4g"))
        parts.append(f"<p><small>{html.escape(policy_text(self.scoring_policy))}</small></p>")
        parts.append(f"<p><i>{html.escape(self.caution)}</i></p>")
        return "\n".join(parts)


def _end_times(
    model: OutcomeModel, end_time: float | Sequence[float] | pd.Series | None
) -> np.ndarray:
    client = model.spec.client
    last = model.data.groupby(client, sort=True)["time"].max()
    if end_time is None:
        return last.to_numpy(dtype=float)
    if isinstance(end_time, pd.Series):
        missing = last.index.difference(end_time.index)
        if len(missing):
            raise DataValidationError.for_argument(
                "end_time",
                end_time,
                f"a time for every analysed client; missing for {list(missing[:5])}",
            )
        values = end_time.reindex(last.index).to_numpy(dtype=float)
    elif np.ndim(end_time) == 0:
        values = np.array([float(end_time)])  # type: ignore[arg-type]
    else:
        values = np.asarray(end_time, dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise DataValidationError.for_argument(
            "end_time", end_time, "finite non-negative times in the model's time metric"
        )
    return values


def _therapist_table(
    fit: EngineFit, model: OutcomeModel, index: int, b_pre: float, t_mean: float, z: float
) -> pd.DataFrame:
    term = fit.design.terms[index]
    modes = np.asarray(fit.b[index], dtype=float)
    covs = conditional_covs(fit, index)
    col = {c: i for i, c in enumerate(term.columns)}
    weights = np.zeros(term.k)
    weights[col["(Intercept)"]] = 1.0 - b_pre
    if "time" in col:
        weights[col["time"]] = t_mean
    end = modes @ weights
    end_sd = np.sqrt(np.einsum("i,lij,j->l", weights, covs, weights))
    th = model.spec.therapist
    n_clients = model.data.groupby(th)[model.spec.client].nunique()
    n_clients.index = n_clients.index.astype(str)
    levels = term.levels.astype(str)
    out = pd.DataFrame(
        {
            "therapist": levels,
            "n_clients": n_clients.reindex(levels).fillna(0).astype(int).to_numpy(),
            "intake": modes[:, col["(Intercept)"]],
            "intake_sd": np.sqrt(covs[:, col["(Intercept)"], col["(Intercept)"]]),
            "slope": modes[:, col["time"]] if "time" in col else np.nan,
            "slope_sd": np.sqrt(covs[:, col["time"], col["time"]]) if "time" in col else np.nan,
            "end_adjusted": end,
            "end_adjusted_sd": end_sd,
        }
    )
    out["ci_low"] = end - z * end_sd
    out["ci_high"] = end + z * end_sd
    return out


def _slope_check(
    model: OutcomeModel, fit: EngineFit, index: int, times: np.ndarray
) -> dict[str, float]:
    """The therapist slope's boundary LRT against the intercept-only refit, and its share."""
    th, client = model.spec.therapist, model.spec.client
    out = dict.fromkeys(("slope_lrt_chisq", "slope_lrt_p", "end_adjusted_intercept_only"), np.nan)
    slope = f"(1 + time | {quote_name(str(th))})"
    if "time" not in fit.design.terms[index].columns or slope not in model.formula:
        return out
    with warnings.catch_warnings():
        # the intercept-only refit may be singular (a therapist variance of 0): a legitimate
        # estimate whose share is then 0, not a problem of the user's model
        warnings.simplefilter("ignore")
        reduced = lmm(
            model.formula.replace(slope, f"(1 | {quote_name(str(th))})"),
            model.data,
            reml=model.fit.reml,
        )
    chisq, p = slope_lrt(model.fit.loglik, reduced.loglik)
    share = shares(components(reduced._fit, therapist=str(th), client=client), times)
    out.update(
        slope_lrt_chisq=chisq, slope_lrt_p=p, end_adjusted_intercept_only=share["end_adjusted"]
    )
    return out


def therapist_effects(
    model: OutcomeModel,
    *,
    end_time: float | Sequence[float] | pd.Series | None = None,
    ci: Literal["bootstrap", "none"] = "bootstrap",
    n_boot: int = 500,
    level: float = 0.95,
    seed: int | None = 1,
) -> TherapistEffects:
    """Therapist effects: variance shares (with CIs) and shrunken therapist estimates.

    Parameters
    ----------
    model : OutcomeModel
        A :func:`~engagestats.analyses.growth_model` fit with a therapist level;
        ``therapist_slope=True`` for the share of variance in change (without a
        therapist slope it is 0 by assumption and reported as such).
    end_time : float, sequence of float or Series, optional
        End-of-treatment time of each client in the model's time metric
        (``time``: sessions since the first). Default: each analysed client's
        last analysed time point. A Series is indexed by client id; one number
        sets the same end for every client.
    ci : {"bootstrap", "none"}, default "bootstrap"
        Parametric-bootstrap percentile CIs of the shares, or none.
    n_boot : int, default 500
        Bootstrap refits.
    level : float, default 0.95
        Coverage of the CIs and of the therapists' intervals.
    seed : int, optional, default 1
        Seed of the bootstrap's ``numpy.random.default_rng``.

    Returns
    -------
    TherapistEffects
        ``shares``, ``therapists``, ``components``, ``summary()``.

    Raises
    ------
    ModelSpecError
        When the model has no therapist random effect, or its ``time_method`` is not
        ``"session"``.
    DataValidationError
        When ``end_time`` is not a non-negative time for every client.

    Notes
    -----
    Estimand. With the growth model's therapist covariance :math:`T` and client
    covariance :math:`C` of (intercept, slope), residual variance :math:`\\sigma^2`
    and fixed time slope :math:`\\beta_1`, the model implies for a client with end
    time :math:`T_i` (times drawn from the clients' end times; :math:`\\bar t`,
    :math:`\\overline{t^2}`, :math:`s_t^2` their mean, mean square and variance)
    the intake outcome ``pre`` :math:`= y_{0i}` and end outcome ``post``
    :math:`= y_{T_i i}`, with

    .. math::

        V_{pre} = T_{00} + C_{00} + \\sigma^2, \\quad
        c = T_{00} + C_{00} + (T_{01} + C_{01})\\bar t,

        V_{post} = T_{00} + C_{00} + 2 (T_{01} + C_{01}) \\bar t
                   + (T_{11} + C_{11}) \\overline{t^2} + \\sigma^2 + \\beta_1^2 s_t^2 .

    The intake-adjusted end outcome is ``post - b pre`` with :math:`b = c / V_{pre}`
    (the population regression of end on intake outcome); its variance is
    :math:`V_{res} = V_{post} - c^2 / V_{pre}` and its therapist-level part is
    :math:`\\tau^2_{end} = a' T a`, :math:`a = (1 - b, \\bar t)'`. The shares are

    .. math::

        \\rho_{end} = \\tau^2_{end} / V_{res}, \\quad
        \\rho_{change} = T_{11} / (T_{11} + C_{11}), \\quad
        \\rho_{intake} = T_{00} / V_{pre} .

    :math:`\\rho_{end}` is the growth-model counterpart of the ICC of Saxon &
    Barkham (2012), who fit a two-level model (clients in therapists) of the
    end-of-treatment PHQ-9 with the intake score (and case mix) as covariates and
    report :math:`\\tau^2 / (\\tau^2 + \\sigma^2_e)`; Wampold & Brown (2005) and
    Baldwin & Imel (2013) define therapist effects the same way, as the
    proportion of outcome variance, adjusted for intake severity, that lies
    between therapists. Variance explained by the model's other intake
    predictors (case mix) is excluded from every share: they are conditional on
    the predictors, and time-varying predictors are held at their centres. The
    client part of :math:`v_j (T_i - \\bar t)` counts as within-therapist variance.
    The residuals are taken as independent (as the growth model assumes).

    CIs: percentile intervals over parametric-bootstrap refits (simulate from the
    fitted model, refit, recompute; lme4's ``bootMer(type = "parametric")``);
    non-converged refits are dropped and counted, singular ones kept. The
    therapists' deviations :math:`a'\\hat u_j` use the conditional modes and their
    conditional covariance (``ranef(fit, condVar = TRUE)``), taking the variance
    parameters and :math:`b` as known; the interval is
    :math:`a'\\hat u_j \\pm z\\,\\sqrt{a' V_j a}`. With fewer than about 30-40
    therapists the shares are imprecise (Baldwin & Imel 2013; Schiefele et al.
    2017).

    Therapist slope. When the model has one, the therapist slope's variance and
    covariance are tested against the same model with a therapist intercept only
    (REML likelihood ratio, same fixed effects, referred to the 50:50 mixture of
    :math:`\\chi^2_1` and :math:`\\chi^2_2` because the null lies on the boundary;
    Stram & Lee 1994), and that model's ``end_adjusted`` share is reported beside
    it (``components``; :meth:`TherapistEffects.summary`). The share is not
    chosen by the test: with about 40 therapists it rejects in about a fifth of
    studies with a slope SD of 0.09 (a realistic size), and a share taken from
    the intercept-only model after a non-rejection would be far too low.

    Validity (``benchmarks/validity/therapist_share.py``, 40 therapists x 8
    clients, 200 simulated studies, observed scores, the planned end times):
    unbiased for the share of the observed-score variance when the therapists
    differ in change (docs/validity.md). On observed totals the scale's floor
    compresses therapist differences, so this share is below that of the latent
    symptom level (0.049 against 0.054 in the benchmark). With no true therapist
    slope variance a fitted slope biases the share upwards (0.021 for a true
    0.013), the intercept-only share much less: report both. The default end
    times (last analysed session) are earlier for dropouts and target a
    different, smaller share.

    Ranking: the conditional modes are shrunken towards 0 and their intervals
    overlap for nearly all therapists; ranks and league tables built on them are
    highly uncertain (Goldstein & Spiegelhalter 1996) and are not a measure of a
    therapist's competence.

    References
    ----------
    Baldwin, S. A., & Imel, Z. E. (2013). Therapist effects: Findings and
    methods. In M. J. Lambert (Ed.), *Bergin and Garfield's Handbook of
    Psychotherapy and Behavior Change* (6th ed., pp. 258-297). Wiley.

    Goldstein, H., & Spiegelhalter, D. J. (1996). League tables and their
    limitations: Statistical issues in comparisons of institutional performance.
    *Journal of the Royal Statistical Society A, 159*(3), 385-443.

    Saxon, D., & Barkham, M. (2012). Patterns of therapist variability: Therapist
    effects and the contribution of patient severity and risk. *Journal of
    Consulting and Clinical Psychology, 80*(4), 535-546.

    Schiefele, A.-K., et al. (2017). Reviewing the research on therapist effects
    with a focus on sample sizes. *Administration and Policy in Mental Health,
    44*(5), 759-769.

    Self, S. G., & Liang, K.-Y. (1987). Asymptotic properties of maximum
    likelihood estimators and likelihood ratio tests under nonstandard
    conditions. *Journal of the American Statistical Association, 82*(398),
    605-610.

    Stram, D. O., & Lee, J. W. (1994). Variance components testing in the
    longitudinal mixed effects model. *Biometrics, 50*(4), 1171-1177.

    Wampold, B. E., & Brown, G. S. (2005). Estimating variability in outcomes
    attributable to therapists: A naturalistic study of outcomes in managed care.
    *Journal of Consulting and Clinical Psychology, 73*(5), 914-923.

    Examples
    --------
    >>> import warnings
    >>> import engagestats as es
    >>> from engagestats.analyses import growth_model, therapist_effects
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", es.errors.SingularFitWarning)
    ...     m = growth_model(es.load_sample(), therapist_slope=True)
    >>> te = therapist_effects(m, n_boot=5, seed=1)
    >>> te.shares["estimand"].tolist()
    ['end_adjusted', 'change', 'intake']
    >>> te.therapists.columns.tolist()[:4]
    ['therapist', 'n_clients', 'intake', 'intake_sd']
    >>> round(float(te.shares["estimate"].iloc[0]), 3)  # end_adjusted share
    0.018
    """
    if not isinstance(model, OutcomeModel):
        raise ModelSpecError(
            f"therapist_effects needs a growth_model fit, got {type(model).__name__}"
        )
    if model.spec.time_method != "session":  # its slopes and end times are in sessions
        raise ModelSpecError(
            f"therapist_effects needs a growth model with time_method='session', not "
            f"{model.spec.time_method!r}"
        )
    check_choice(ci, ("bootstrap", "none"), name="ci")
    n_boot = check_positive_int(n_boot, name="n_boot")
    if not 0 < float(level) < 1:
        raise DataValidationError.for_argument("level", level, "a number between 0 and 1")
    fit = model.fit._fit
    th, client = model.spec.therapist, model.spec.client
    index = term_index(fit, th) if th is not None else None
    if th is None or index is None:
        raise ModelSpecError(
            "the model has no therapist random effect (one therapist, or therapist=None); "
            "therapist effects need growth_model(..., therapist=<column>) with 2+ therapists"
        )
    times = _end_times(model, end_time)

    def statistic(f: EngineFit) -> np.ndarray:
        s = shares(components(f, therapist=th, client=client), times)
        return np.array([s["end_adjusted"], s["change"], s["intake"]])

    point = shares(components(fit, therapist=th, client=client), times)
    est = np.array([point["end_adjusted"], point["change"], point["intake"]])
    lo = hi = np.full(3, np.nan)
    failed = singular = 0
    used = 0
    if ci == "bootstrap":
        reps, failed, singular = bootstrap(fit, statistic, n_boot=n_boot, seed=seed)
        ok = reps[np.isfinite(reps[:, 0])]
        used = len(ok)
        if used:
            alpha = (1 - float(level)) / 2
            lo = np.nanquantile(ok, alpha, axis=0)
            hi = np.nanquantile(ok, 1 - alpha, axis=0)
    table = pd.DataFrame(
        {
            "estimand": list(_DEFINITIONS),
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "definition": list(_DEFINITIONS.values()),
        }
    )
    z = float(sps.norm.ppf((1 + float(level)) / 2))
    therapists = _therapist_table(fit, model, index, point["b_pre"], point["t_mean"], z)
    comp = pd.DataFrame(
        {
            "b_pre": [point["b_pre"]],
            "end_time": [point["t_mean"]],
            "var_therapist_end": [point["var_therapist_end"]],
            "var_residual_end": [point["var_residual_end"]],
            "n_therapists": [fit.design.terms[index].n_levels],
            "n_clients": [int(model.data[client].nunique())],
            "n_boot": [used],
            "n_failed": [failed],
            "n_singular": [singular],
            **{k: [v] for k, v in _slope_check(model, fit, index, times).items()},
        }
    )
    return TherapistEffects(
        table, therapists, comp, model.spec.outcome, float(level), model.scoring_policy
    )
