"""Time to dropout: a person-period table and a discrete-time hazard GLMM.

``person_period(study)`` turns the sessions into one row per client and attended session
up to the client's last one, with ``event = 1`` on the last session of a client who
dropped out. ``dropout_hazard(study)`` fits the discrete-time logistic hazard with a
therapist random intercept, the alliance rated at the session (before the client decides
whether to come back) and the change in symptoms so far.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._validate import as_table, check_choice, require_columns
from ..engagement import DROPOUT_CODING
from ..errors import DataValidationError, EngageStatsWarning, ModelSpecError
from ..models import GlmmResult, glmm
from ..models.formula import quote_name
from ..scoring import ScoringPolicy, policy_for, state_policy
from ..study import CLIENT, SESSION, THERAPIST, Study
from ._panel import EXCLUSION_COLUMNS, scored_study

__all__ = ["DropoutHazard", "dropout_hazard", "person_period"]


def _exclusions(rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(EXCLUSION_COLUMNS))


def person_period(
    study: Study,
    *,
    alliance: str = "wai_sr_total",
    score: str = "phq9_total",
    dropout_coding: Mapping[str, bool] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per client and attended session, with the dropout event and its predictors.

    Parameters
    ----------
    study : Study
        Needs ``end_reason`` in the clients table and attended sessions;
        missing ``alliance`` and ``score`` columns are scored under the
        study's policy (:attr:`Study.scoring_policy
        <engagestats.Study.scoring_policy>`, :data:`engagestats.scoring.PRORATE_80`
        unless set).
    alliance, score : str
        Alliance and symptom score columns of the sessions table.
    dropout_coding : mapping of str to bool, optional
        Which ``end_reason`` values are a dropout, as in
        :func:`engagestats.engagement`; default
        :data:`engagestats.engagement.DROPOUT_CODING`.

    Returns
    -------
    table : DataFrame
        ``client_id``, ``therapist_id``, ``period`` (1, 2, ... over the
        client's attended sessions), ``session``, ``event`` (1 on the last
        attended session of a dropout, else 0), ``alliance`` (rated at that
        session), ``change`` (score at that session minus the first score;
        missing when either is) and ``log_period``.
    exclusions : DataFrame
        ``reason, n_rows, n_clients`` for the clients left out: no attended
        sessions, a missing or uncoded ``end_reason``.

    Notes
    -----
    Period :math:`t` is the interval that starts at the client's
    :math:`t`-th attended session; the event is "does not come back after
    it". A completer's periods are all 0: completion ends the risk set
    (treated as censoring, not as a competing event). The covariates are
    measured at the session that opens the interval, so they precede the
    event (the alliance is lagged with respect to the decision to leave).
    """
    coding = dict(DROPOUT_CODING if dropout_coding is None else dropout_coding)
    scored = scored_study(study, [alliance, score])
    clients = as_table(scored, "clients")
    require_columns(clients, [CLIENT, THERAPIST, "end_reason"], table="clients")
    sessions = as_table(scored, "sessions", attended_only=True)
    require_columns(sessions, [CLIENT, SESSION, alliance, score], table="sessions")
    reason = clients.set_index(CLIENT)["end_reason"]
    excl: list[tuple[str, int, int]] = []
    no_reason = reason.isna()
    uncoded = reason.notna() & ~reason.astype(str).isin(list(coding))
    keep_ids = reason.index[~(no_reason | uncoded)]
    if no_reason.any():
        excl.append(("no end_reason", int(no_reason.sum()), int(no_reason.sum())))
    if uncoded.any():
        excl.append(("end_reason not coded", int(uncoded.sum()), int(uncoded.sum())))
    att = sessions.loc[sessions[CLIENT].isin(keep_ids)]
    att = att.sort_values([CLIENT, SESSION], kind="stable")
    without = keep_ids.difference(pd.Index(att[CLIENT].unique()))
    if len(without):
        excl.append(("no attended sessions", len(without), len(without)))
    out = pd.DataFrame(
        {
            CLIENT: att[CLIENT].to_numpy(),
            SESSION: att[SESSION].to_numpy(),
            "alliance": att[alliance].to_numpy(dtype=float),
        }
    )
    out["period"] = out.groupby(CLIENT, sort=False).cumcount() + 1
    first = att.groupby(CLIENT, sort=False)[score].transform(
        lambda s: s.dropna().iloc[0] if s.notna().any() else np.nan
    )
    out["change"] = att[score].to_numpy(dtype=float) - first.to_numpy(dtype=float)
    last = out.groupby(CLIENT, sort=False)["period"].transform("max") == out["period"]
    dropped = out[CLIENT].map(reason.astype(str).map(coding)).astype(bool)
    out["event"] = (last & dropped).astype(int)
    therapists = clients.set_index(CLIENT)[THERAPIST]
    out.insert(1, THERAPIST, out[CLIENT].map(therapists).to_numpy())
    out["log_period"] = np.log(out["period"].to_numpy(dtype=float))
    cols = [CLIENT, THERAPIST, "period", SESSION, "event", "alliance", "change", "log_period"]
    return out[cols], _exclusions(excl)


@dataclass
class DropoutHazard:
    """A fitted discrete-time dropout hazard (returned by :func:`dropout_hazard`).

    Attributes
    ----------
    fit : GlmmResult
        The logistic GLMM (``glmer``) of the person-period table.
    formula : str
    person_period : DataFrame
        The rows the model used (with ``alliance_c``, the centred alliance).
    exclusions : DataFrame
        ``reason, n_rows, n_clients``: clients and periods left out.
    alliance_mean : float
        The mean the alliance was centred at.
    notes : list of str
        Warnings of the fit (a singular fit: no therapist variation in the
        hazard), kept here instead of being re-issued.
    scoring_policy : ScoringPolicy or None
        The study's scoring policy (alliance and outcome scores);
        :attr:`odds_ratios` records it in ``attrs["scoring_policy"]`` and
        :meth:`summary` states it.
    """

    fit: GlmmResult
    formula: str
    person_period: pd.DataFrame
    exclusions: pd.DataFrame
    alliance_mean: float
    notes: list[str] = field(default_factory=list)
    scoring_policy: ScoringPolicy | None = None

    @property
    def odds_ratios(self) -> pd.DataFrame:
        """``term, estimate, se, z, p, ci_low, ci_high, odds_ratio, or_ci_low, or_ci_high``.

        The odds ratios are of the conditional (per-period, given the
        therapist) hazard of dropping out.
        """
        table = self.fit.fixed.reset_index().rename(columns={"index": "term"})
        return state_policy(table, self.scoring_policy)

    def summary(self) -> str:
        """Formula, exclusions, events and the fit summary."""
        pp = self.person_period
        excl = "none" if self.exclusions.empty else "\n" + self.exclusions.to_string(index=False)
        return (
            f"discrete-time dropout hazard: {self.formula}\n"
            f"{len(pp)} periods, {pp[CLIENT].nunique()} clients, {int(pp['event'].sum())} "
            f"dropouts; excluded: {excl}\n"
            + (f"{self.scoring_policy.describe()}\n" if self.scoring_policy is not None else "")
            + "".join(f"note: {n}\n" for n in self.notes)
            + f"\n{self.fit.summary()}"
        )

    def __repr__(self) -> str:
        return f"<DropoutHazard {self.formula!r}: {len(self.person_period)} periods>"

    def _repr_html_(self) -> str:
        head = html.escape(f"discrete-time dropout hazard: {self.formula}")
        return f"<div><p>{head}</p>{self.odds_ratios.to_html(index=False)}</div>"


def dropout_hazard(
    study: Study,
    *,
    time: Literal["log", "linear"] = "log",
    alliance: str = "wai_sr_total",
    score: str = "phq9_total",
    dropout_coding: Mapping[str, bool] | None = None,
) -> DropoutHazard:
    """Discrete-time hazard of dropping out after each session (logistic GLMM).

    Parameters
    ----------
    study : Study
        As in :func:`person_period`.
    time : {"log", "linear"}, default "log"
        Baseline hazard: linear in log(period) or in period.
    alliance, score : str
        Columns, as in :func:`person_period`.
    dropout_coding : mapping of str to bool, optional
        As in :func:`person_period`.

    Returns
    -------
    DropoutHazard
        ``.fit``, ``.odds_ratios``, ``.person_period``, ``.exclusions``,
        ``.notes``, ``.summary()``.

    Notes
    -----
    .. math::

        \\mathrm{logit}\\, h_{ijt} = \\beta_0 + \\beta_1 f(t) + \\beta_2
        (a_{ijt} - \\bar a) + \\beta_3 c_{ijt} + u_j, \\qquad
        u_j \\sim N(0, \\sigma_u^2),

    with :math:`h_{ijt}` the probability that client :math:`i` of therapist
    :math:`j` does not return after attended session :math:`t`, given that
    they reached it; :math:`f(t) = \\log t` (or :math:`t`), :math:`a` the
    alliance rated at session :math:`t` and :math:`c` the symptom change
    since the first session (negative = improved). Fitted by Laplace, as
    ``glmer(event ~ log_period + alliance_c + change + (1 | therapist_id),
    family = binomial)``. The coefficients are associations, conditional on the
    therapist: the alliance and change are themselves outcomes of therapy,
    so they are not causal effects on dropout. Periods with a missing
    alliance or change are dropped and counted.

    References
    ----------
    Singer, J. D., & Willett, J. B. (1993). It's about time: using
    discrete-time survival analysis to study duration and the timing of
    events. *J Educ Stat, 18*(2), 155-195.
    Swift, J. K., & Greenberg, R. P. (2012). Premature discontinuation in
    adult psychotherapy: a meta-analysis. *J Consult Clin Psychol, 80*(4),
    547-559.

    Examples
    --------
    >>> import engagestats as es
    >>> from engagestats.analyses import dropout_hazard
    >>> hz = dropout_hazard(es.load_sample())
    >>> hz.odds_ratios["term"].tolist()
    ['(Intercept)', 'log_period', 'alliance_c', 'change']
    """
    check_choice(time, ("log", "linear"), name="time")
    if not isinstance(study, Study):
        raise DataValidationError.for_argument(
            "study", type(study).__name__, "dropout_hazard needs a Study"
        )
    table, excl = person_period(
        study, alliance=alliance, score=score, dropout_coding=dropout_coding
    )
    missing = table["alliance"].isna() | table["change"].isna()
    if missing.any():
        gone = table.loc[missing]
        row = ("missing alliance or change", int(missing.sum()), int(gone[CLIENT].nunique()))
        excl = pd.concat([excl, _exclusions([row])], ignore_index=True)
    used = table.loc[~missing].reset_index(drop=True)
    if used.empty or used["event"].sum() == 0:
        raise ModelSpecError("no dropout events are left to model")
    centre = float(used["alliance"].mean())
    used["alliance_c"] = used["alliance"] - centre
    t_term = "log_period" if time == "log" else "period"
    # The user's alliance and score columns enter under fixed names (person_period renames
    # them), so no data-derived name is parsed; the grouping column is quoted all the same.
    formula = f"event ~ {t_term} + alliance_c + change + (1 | {quote_name(THERAPIST)})"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EngageStatsWarning)
        fit = glmm(formula, used, family="binomial")
    notes = [str(w.message) for w in caught if issubclass(w.category, EngageStatsWarning)]
    for w in caught:
        if not issubclass(w.category, EngageStatsWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return DropoutHazard(fit, formula, used, excl, centre, notes, policy_for(study))
