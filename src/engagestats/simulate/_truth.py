"""Private: the truth behind a simulated study (generating effects, latent scores).

:class:`SimulationTruth` and :data:`FIXED_TERMS` are public through
:mod:`engagestats.simulate`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import ModelSpecError

if TYPE_CHECKING:
    from .params import SimulationParams

__all__ = ["FIXED_TERMS", "SimulationTruth", "build_truth"]

#: lme4 term name -> (SimulationParams field, meaning of the predictor).
FIXED_TERMS: dict[str, tuple[str, str]] = {
    "(Intercept)": ("intercept", "PHQ-9 total at session 1 for an average client"),
    "time": ("time", "session - 1 (offered appointments since the first session)"),
    "autonomous": ("autonomous", "srq_autonomous minus its mean over clients"),
    "readiness": ("readiness", "urica_readiness minus its mean over clients"),
    "alliance_between": (
        "alliance_between",
        "client's true mean wai_sr_total minus the mean over clients "
        "(an analysis uses the observed client mean)",
    ),
    "alliance_within_lag": (
        "alliance_within_lag",
        "wai_sr_total at the previous attended session minus the client's mean (0 at the first)",
    ),
    "time:autonomous": ("time_autonomous", "time x autonomous"),
    "time:readiness": ("time_readiness", "time x readiness"),
    "time:alliance_between": ("time_alliance_between", "time x alliance_between"),
}


@dataclass(frozen=True, eq=False)
class SimulationTruth:
    """The truth behind a simulated study.

    Attributes
    ----------
    params : SimulationParams
        The generating parameters.
    fixed_effects : DataFrame
        Columns ``term`` (lme4 names), ``estimate`` (true value, PHQ-9 total
        scale) and ``predictor`` (definition). The generating model is
        ``phq9_total ~ time * (autonomous + readiness + alliance_between) +
        alliance_within_lag + (1 + time || therapist_id) + (1 + time |
        client_id)`` with AR(1) residuals (``time`` is ``log(1 + time)`` with
        ``trajectory="log_linear"``), and the alliance responds to the
        symptoms (``alliance_symptom``), so these are the generating values,
        not necessarily what a model that omits those parts estimates.
    random_effects : DataFrame
        Columns ``group``, ``term``, ``sd`` (``cor`` row: the correlation).
    clients : DataFrame
        One row per client: latent motivation and readiness, the observed
        scale scores and centred predictors used by the generator, the true
        alliance mean (WAI-SR total scale), the random effects, the last
        session and the dropout flag.
    sessions : DataFrame
        One row per session row of the study: latent PHQ-9, GAD-7 and
        alliance totals, the PHQ-9 residual, whether the session had an
        alliance rupture and the lagged within-client alliance predictor.
    max_sessions : int
        The study's ``max_sessions`` (population truths depend on it).
    estimands : DataFrame
        (computed on first access) The true value of every estimand the
        library's analyses target: columns ``estimand``, ``value``,
        ``definition`` and ``source`` (``"parameter"``: a generating value;
        ``"population"``: computed on the latent values of a population study
        of 500 therapists x 40 clients with the same parameters and a fixed
        seed, see ``simulate._population``, and for
        ``therapist_share_adjusted_observed`` on its observed totals;
        Monte-Carlo error, the SD over six population seeds in
        ``benchmarks/validity/therapist_share_diagnostics.py`` and
        ``therapist_share.py``: 0.0002-0.0011 for the shares, 0.006-0.012 for
        the dropout log-odds).
        ``alliance_within_effect`` is
        the causal lagged within-client effect (0 in the null scenarios), also
        when reciprocal paths, AR(1) residuals or alliance trends make a
        naive estimate non-zero.

    Examples
    --------
    >>> from engagestats.simulate import simulate_study
    >>> _, truth = simulate_study(n_therapists=2, clients_per_therapist=3, return_truth=True)
    >>> truth.random_effects.columns.tolist()
    ['group', 'term', 'sd']
    >>> truth.sessions.columns[2:4].tolist()
    ['phq9_latent', 'gad7_latent']
    """

    params: SimulationParams
    fixed_effects: pd.DataFrame
    random_effects: pd.DataFrame
    clients: pd.DataFrame
    sessions: pd.DataFrame = field(repr=False)
    max_sessions: int = 20

    @cached_property
    def estimands(self) -> pd.DataFrame:
        from ._population import population_truths

        p = self.params
        pop = population_truths(p, self.max_sessions).set_index("estimand")["value"]
        rows = [
            ("alliance_within_effect", p.alliance_within_lag, "parameter", _DEF["within"]),
            ("alliance_between_level", p.alliance_between, "parameter", _DEF["between"]),
            ("autonomous_level", p.autonomous, "parameter", _DEF["level"]),
            ("readiness_level", p.readiness, "parameter", _DEF["level"]),
            (
                "therapist_share_adjusted",
                pop["therapist_share_adjusted"],
                "population",
                _DEF["share"],
            ),
            (
                "therapist_share_adjusted_observed",
                pop["therapist_share_adjusted_observed"],
                "population",
                _DEF["share_observed"],
            ),
            ("residual_ar", p.residual_ar, "parameter", _DEF["ar"]),
            (
                "dropout_log_odds_autonomous",
                pop["dropout_log_odds_autonomous"],
                "population",
                _DEF["or"],
            ),
            (
                "dropout_log_odds_readiness",
                pop["dropout_log_odds_readiness"],
                "population",
                _DEF["or"],
            ),
            ("dropout_rate", pop["dropout_rate"], "population", "share of clients who drop out"),
            *(
                (f"{v}_total_{part}", pop[f"{v}_total_{part}"], "population", _DEF[f"total_{part}"])
                for part in ("level", "slope")
                for v in ("autonomous", "readiness")
            ),
        ]
        return pd.DataFrame(rows, columns=["estimand", "value", "source", "definition"])

    def recovery(self, fixed: pd.DataFrame) -> pd.DataFrame:
        """Compare estimated fixed effects with the generating values.

        Parameters
        ----------
        fixed : DataFrame
            Fixed-effects table indexed by lme4 term names with columns
            ``estimate``, ``ci_low`` and ``ci_high`` (``LmmResult.fixed``,
            e.g. ``growth_model(...).fit.fixed``). Every term of
            :attr:`fixed_effects` must be present.

        Returns
        -------
        DataFrame
            One row per generating term: ``term, true, estimate, ci_low,
            ci_high, error`` (estimate - true), ``covered`` (the CI contains
            the true value) and ``right_sign`` (the estimate has the sign of
            the true value; true for a zero effect).

        Raises
        ------
        ModelSpecError
            If a generating term is missing from ``fixed``.

        Examples
        --------
        >>> from engagestats.simulate import simulate_study
        >>> _, truth = simulate_study(n_therapists=2, clients_per_therapist=3, return_truth=True)
        >>> est = truth.fixed_effects.set_index("term")[["estimate"]]
        >>> est["ci_low"], est["ci_high"] = est["estimate"] - 1, est["estimate"] + 1
        >>> truth.recovery(est)[["covered", "right_sign"]].all().tolist()
        [True, True]
        """
        missing = [t for t in self.fixed_effects["term"] if t not in fixed.index]
        if missing:
            raise ModelSpecError(f"fixed-effects table lacks the generating terms {missing}")
        true = self.fixed_effects.set_index("term")["estimate"]
        est = fixed.loc[true.index, ["estimate", "ci_low", "ci_high"]].astype(float)
        out = pd.DataFrame({"term": true.index, "true": true.to_numpy(dtype=float)})
        for col in ("estimate", "ci_low", "ci_high"):
            out[col] = est[col].to_numpy()
        out["error"] = out["estimate"] - out["true"]
        out["covered"] = (out["ci_low"] <= out["true"]) & (out["true"] <= out["ci_high"])
        out["right_sign"] = (out["true"] == 0) | (np.sign(out["estimate"]) == np.sign(out["true"]))
        return out


_DEF = {
    "within": "PHQ-9 points per WAI-SR total point of the alliance at the previous attended "
    "session above the client's own level (generating lagged within-client effect)",
    "between": "PHQ-9 points at session 1 per WAI-SR total point of the client's alliance level",
    "level": "PHQ-9 points at session 1 per point of the centred intake score",
    "share": "therapist share of the variance of the latent PHQ-9 at the planned last session "
    "adjusted (linearly) for the latent PHQ-9 at session 1",
    "share_observed": "therapist share of the variance of the observed PHQ-9 total at the "
    "planned last session adjusted (linearly) for the observed total at session 1 (the "
    "estimand of a model fitted to observed scores; the scale's floor compresses therapist "
    "differences)",
    "total_level": "total effect on the PHQ-9 at session 1 per point of the centred intake "
    "score (population projection on intake covariates only)",
    "total_slope": "total effect on the PHQ-9 change per session per point of the centred "
    "intake score (population projection of the latent PHQ-9 on linear time and intake "
    "covariates only; averages over the alliance and its feedback)",
    "ar": "lag-1 autocorrelation of the within-client PHQ-9 residuals",
    "or": "population-averaged log-odds ratio of dropout per point of the centred intake "
    "score, from a logistic regression on autonomous and readiness",
}


def build_truth(
    p: SimulationParams, latent: dict[str, pd.DataFrame], max_sessions: int = 20
) -> SimulationTruth:
    """The :class:`SimulationTruth` of a simulated study from its parameters and latent tables."""
    values = asdict(p)
    fixed = pd.DataFrame(
        {
            "term": list(FIXED_TERMS),
            "estimate": [float(values[f]) for f, _ in FIXED_TERMS.values()],
            "predictor": [d for _, d in FIXED_TERMS.values()],
        }
    )
    random = pd.DataFrame(
        {
            "group": ["therapist_id"] * 2 + ["client_id"] * 3 + ["Residual"],
            "term": ["(Intercept)", "time", "(Intercept)", "time", "cor", "(Intercept)"],
            "sd": [
                p.sd_therapist,
                p.sd_therapist_slope,
                p.sd_client_intercept,
                p.sd_client_slope,
                p.cor_client,
                p.sd_residual,
            ],
        }
    )
    return SimulationTruth(p, fixed, random, latent["clients"], latent["sessions"], max_sessions)
