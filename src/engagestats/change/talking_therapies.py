"""Routine outcome criteria on long sessions tables.

* :func:`instrument_change`: first-to-last change per client on one
  instrument, with its published reliable-change threshold and caseness
  cutoff (PHQ-9: 6 points and 10; GAD-7: 4 and 8; ORS: 5 and 25);
* :func:`talking_therapies_outcomes`: the NHS Talking Therapies (formerly
  IAPT) outcomes per client: caseness, recovery, reliable improvement,
  reliable deterioration and reliable recovery.

Summarise either with :func:`engagestats.change.rates`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._sessions import _first_last
from .._validate import as_table
from ..errors import DataValidationError
from ..instruments import resolve
from ..scoring import ScoringPolicy, ensure_scores, policy_for, state_policy
from ..study import CLIENT, SESSION, Study
from .jacobson_truax import (
    CLINICAL_CATEGORIES,
    RELIABLE_CATEGORIES,
    _categorical,
    _dysfunctional,
    _jt_categories,
    _nullable,
)

__all__ = ["instrument_change", "talking_therapies_outcomes"]


def _one_policy(data: Any, policy: ScoringPolicy | None, function: str) -> ScoringPolicy:
    """The policy to score and state: a Study's own; ``policy`` or PRORATE_80 for a table.

    A Study is scored under one policy, stated in every table (issue 15): an explicit
    other ``policy`` would score its missing columns under one rule while its present
    columns were scored under the other, and the table would state only one of them.
    """
    chosen = policy_for(data, policy)
    if isinstance(data, Study):
        own = policy_for(data)
        if chosen != own:
            raise DataValidationError.for_argument(
                "policy",
                chosen.name,
                f"{function}: policy {chosen.name!r} is not this study's own scoring policy "
                f"{own.name!r}; one scoring policy per study, stated in every table: use "
                f"{function}(study.with_policy(policy), ...) to analyse it under {chosen.name!r}",
            )
    return chosen


def instrument_change(
    data: Any,
    *,
    instrument: str | None = None,
    score: str | None = None,
    threshold: float | None = None,
    cutoff: float | None = None,
    higher_is_better: bool | None = None,
    client: str = CLIENT,
    session: str = SESSION,
    clients: Sequence[Any] | None = None,
    policy: ScoringPolicy | None = None,
) -> pd.DataFrame:
    """First-to-last change per client on one instrument, with published criteria.

    Parameters
    ----------
    data : Study or DataFrame
        A :class:`~engagestats.Study` (its attended sessions are used) or a
        long sessions table with one row per client and session.
    instrument : str, optional
        Registered instrument name (``"phq9"``, ``"gad7"``, ``"ors"`` ...).
        Supplies ``score`` (``<instrument>_<primary>``, e.g. ``phq9_total``),
        ``threshold`` (the
        instrument's ``reliable_change``), ``cutoff`` and the direction,
        unless given explicitly.
    score : str, optional
        Score column. Missing score columns are computed with
        :func:`engagestats.score` when the item columns are present.
    threshold : float, optional
        Raw-point change that counts as reliable (inclusive, see Notes);
        default the instrument's ``reliable_change``.
    cutoff : float, optional
        Caseness cutoff, default the instrument's ``cutoff``; without one the
        clinical columns are missing.
    higher_is_better : bool, optional
        Direction; default from the instrument, else False.
    client, session : str
        Key column names.
    clients : sequence, optional
        Clients to report (e.g. every client of a study); clients without a
        scored session still get a row.
    policy : ScoringPolicy, optional
        Rule for scoring a missing score column: by default the study's own
        (:attr:`Study.scoring_policy <engagestats.Study.scoring_policy>`), or
        :data:`~engagestats.scoring.PRORATE_80` (the analyses' policy) for a
        table. The result records it in ``attrs["scoring_policy"]``. For a Study only
        its own policy is accepted (another raises; use :meth:`Study.with_policy
        <engagestats.Study.with_policy>`).

    Returns
    -------
    DataFrame
        One row per client: ``client_id``, ``n_scored``, ``first_session``,
        ``last_session``, ``pre``, ``post``, ``change``, ``reliable_change``
        (ordered, as in :func:`reliable_change`), ``case_pre``, ``case_post``
        (nullable bool), ``category`` (as in :func:`clinical_significance`)
        and ``reason`` (why the outcome is missing, else missing).

    Raises
    ------
    DataValidationError
        For a Study, a ``policy`` other than the study's own (one scoring policy per
        study, stated in every table): use ``study.with_policy(policy)``.

    Notes
    -----
    Published raw thresholds are applied inclusively: a PHQ-9 change of
    ``-6`` or less is a reliable improvement, as in the NHS Talking Therapies
    definitions. Caseness follows the registry: ``score >= cutoff`` for
    symptom scales and ``score <= cutoff`` when higher is better. The
    categories are those of :func:`clinical_significance` with caseness as
    the dysfunctional range.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). *J Consult Clin Psychol, 59*(1), 12-19.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({"client_id": ["a", "a", "a", "b"], "session": [1, 2, 3, 1],
    ...                      "phq9_total": [15, 12, 8, 11]})
    >>> out = instrument_change(long, score="phq9_total", threshold=6, cutoff=10)
    >>> out[["client_id", "change", "category", "reason"]]
      client_id  change   category                     reason
    0         a    -7.0  recovered                        NaN
    1         b     NaN        NaN  fewer than two scored sessions
    """
    inst = resolve(instrument) if instrument is not None else None
    if score is None:
        if inst is None:
            raise DataValidationError.for_argument(
                "score", None, "give score= (a score column) or instrument= (a registered name)"
            )
        score = f"{inst.name}_{inst.primary}"
    if inst is not None:
        threshold = inst.reliable_change if threshold is None else threshold
        cutoff = inst.cutoff if cutoff is None else cutoff
        if higher_is_better is None:
            higher_is_better = inst.direction == "higher_is_better"
    if threshold is None or not np.isfinite(threshold) or threshold <= 0:
        raise DataValidationError.for_argument(
            "threshold", threshold, "a positive reliable-change threshold (raw points) is needed"
        )
    hib = bool(higher_is_better)
    sessions = as_table(data, "sessions", attended_only=True)
    policy = _one_policy(data, policy, "instrument_change")
    table = ensure_scores(sessions, [score], policy=policy, table="sessions")
    if clients is None and isinstance(data, Study):
        clients = list(data.clients[client])
    fl = _first_last(table, [score], client=client, session=session, clients=clients)
    x1 = fl[f"{score}_first"].to_numpy()
    x2 = fl[f"{score}_last"].to_numpy()
    enough = fl["n_scored"].to_numpy() >= 2
    x1 = np.where(enough, x1, np.nan)
    x2 = np.where(enough, x2, np.nan)
    change = x2 - x1
    better = change if hib else -change
    rel = np.full(change.shape, RELIABLE_CATEGORIES[1], dtype=object)
    rel[better >= threshold] = RELIABLE_CATEGORIES[2]
    rel[better <= -threshold] = RELIABLE_CATEGORIES[0]
    missing = ~enough
    rel[missing] = None
    out = pd.DataFrame({client: fl.index, "n_scored": fl["n_scored"].to_numpy()})
    out["first_session"] = fl["first_session"].to_numpy()
    out["last_session"] = fl["last_session"].to_numpy()
    out["pre"], out["post"], out["change"] = x1, x2, change
    out["reliable_change"] = _categorical(rel, RELIABLE_CATEGORIES)
    if cutoff is not None:
        pre_dys = _dysfunctional(x1, float(cutoff), hib)
        post_dys = _dysfunctional(x2, float(cutoff), hib)
        out["case_pre"] = _nullable(pre_dys, missing)
        out["case_post"] = _nullable(post_dys, missing)
        out["category"] = _jt_categories(
            out["reliable_change"].array, pre_dys, post_dys, missing, True
        )
    else:
        out["case_pre"] = pd.array([pd.NA] * len(out), dtype="boolean")
        out["case_post"] = pd.array([pd.NA] * len(out), dtype="boolean")
        out["category"] = _categorical(np.full(len(out), None, dtype=object), CLINICAL_CATEGORIES)
    reason = np.full(len(out), np.nan, dtype=object)
    reason[out["n_scored"].to_numpy() == 0] = "no scored sessions"
    reason[(out["n_scored"].to_numpy() == 1)] = "fewer than two scored sessions"
    out["reason"] = reason
    return state_policy(out, policy)


def _flag(values: np.ndarray, valid: np.ndarray) -> pd.arrays.BooleanArray:
    return _nullable(values, ~np.asarray(valid, dtype=bool))


def talking_therapies_outcomes(
    data: Any,
    *,
    phq9: str = "phq9_total",
    gad7: str = "gad7_total",
    client: str = CLIENT,
    session: str = SESSION,
    require_no_deterioration: bool = True,
    phq9_caseness: float = 10,
    gad7_caseness: float = 8,
    phq9_reliable: float = 6,
    gad7_reliable: float = 4,
    clients: Sequence[Any] | None = None,
    finished_treatment: bool | None = None,
    min_treatment_sessions: int = 2,
    policy: ScoringPolicy | None = None,
) -> pd.DataFrame:
    """NHS Talking Therapies (IAPT) outcomes per client, from first and last paired scores.

    Parameters
    ----------
    data : Study or DataFrame
        A :class:`~engagestats.Study` (its attended sessions; PHQ-9 and GAD-7
        totals are scored from the items when missing) or a long sessions
        table with one row per client and session.
    phq9, gad7 : str
        Columns of the PHQ-9 and GAD-7 totals.
    client, session : str
        Key column names.
    require_no_deterioration : bool, default True
        Count a reliable improvement only when neither measure reliably
        deteriorated (the NHS convention, see Notes). False gives the looser
        definition of MindStep and NCT05134103.
    phq9_caseness, gad7_caseness : float, default 10 and 8
        Caseness: ``PHQ-9 >= 10`` or ``GAD-7 >= 8``.
    phq9_reliable, gad7_reliable : float, default 6 and 4
        Reliable change in raw points, applied inclusively.
    clients : sequence, optional
        Clients to report; by default every client of the study (or of the
        table).
    finished_treatment : bool, optional
        Count outcomes only for referrals that *finished a course of
        treatment*: at least ``min_treatment_sessions`` attended sessions and
        an ended referral (a non-empty ``end_reason``, from the study's
        clients table or an ``end_reason`` column of the sessions table).
        Default: on when the data carry ``end_reason``, else off (the
        ``finished_treatment`` column is then missing). True without
        ``end_reason`` is an error.
    min_treatment_sessions : int, default 2
        Attended sessions needed to have finished a course of treatment.
    policy : ScoringPolicy, optional
        Rule for scoring missing PHQ-9 and GAD-7 totals: by default the study's
        own (:attr:`Study.scoring_policy <engagestats.Study.scoring_policy>`), or
        :data:`~engagestats.scoring.PRORATE_80` (the analyses' policy) for a
        table. The result records it in ``attrs["scoring_policy"]``. For a Study only
        its own policy is accepted (another raises; use :meth:`Study.with_policy
        <engagestats.Study.with_policy>`).

    Returns
    -------
    DataFrame
        One row per client, never dropped: ``client_id``, ``n_paired``
        (sessions with both scores), ``first_session``, ``last_session``,
        ``phq9_first``, ``phq9_last``, ``gad7_first``, ``gad7_last``,
        ``phq9_change``, ``gad7_change``, then nullable booleans
        ``caseness_start``, ``caseness_end``, ``recovery``,
        ``reliable_improvement``, ``reliable_deterioration``,
        ``reliable_recovery``, ``finished_treatment`` (nullable bool) and
        ``reason`` (why outcomes are missing: ``"no paired scores"``,
        ``"fewer than two paired scores"`` or ``"did not finish a course of
        treatment"``).
        ``recovery`` and ``reliable_recovery`` are missing for clients not at
        caseness at the start, who are outside their denominator.

    Raises
    ------
    DataValidationError
        For a Study, a ``policy`` other than the study's own (one scoring policy per
        study, stated in every table): use ``study.with_policy(policy)``.

    Notes
    -----
    A *paired score* is a session with both a PHQ-9 and a GAD-7 total; the
    first and last paired scores are compared, so clients with fewer than two
    keep their row with missing outcomes. With :math:`\\Delta` = last - first:

    * caseness: PHQ-9 >= 10 or GAD-7 >= 8 (">9" and ">7");
    * recovery: at caseness at the first paired score and below caseness on
      both measures at the last;
    * reliable improvement: :math:`\\Delta_{PHQ} \\le -6` or
      :math:`\\Delta_{GAD} \\le -4`, and (by default) neither
      :math:`\\Delta_{PHQ} \\ge 6` nor :math:`\\Delta_{GAD} \\ge 4`;
    * reliable deterioration: :math:`\\Delta_{PHQ} \\ge 6` or
      :math:`\\Delta_{GAD} \\ge 4` (with ``require_no_deterioration=False`` a
      client can be both reliably improved and deteriorated);
    * reliable recovery: recovery and reliable improvement.

    The "no reliable deterioration on the other measure" clause is the
    convention reported for the NHS Digital statistics (NHS Talking Therapies
    Manual); we could not retrieve the NHS glossary wording, and the NHS
    Digital outcome pages describe reliable improvement only as a significant
    improvement between the first and last scores. MindStep (BMC Psychiatry
    2018, doi:10.1186/s12888-018-1987-1, Table 1) and trial NCT05134103 omit
    the clause; ``require_no_deterioration=False`` reproduces them.

    *Finished a course of treatment* (NHS Digital glossary): a referral that
    has ended having had at least two attended treatment appointments. The
    official rates count only these referrals, so by default the outcomes
    of the others are missing (with a reason; their rows stay). The data
    format does not record the appointment type, so every attended session
    counts as a treatment appointment (an attended assessment-only
    appointment would count too).

    *ADSM caveat.* The official statistics use the anxiety disorder-specific
    measure (ADSM) recommended for the client's problem descriptor, not the
    GAD-7, for caseness, recovery and reliable change when the descriptor is
    a specific anxiety disorder (for example SPIN for social anxiety, IES-R
    for PTSD, OCI for OCD, PDSS for panic), falling back on the GAD-7 only
    when the ADSM is missing (Clark et al. 2018, Table 2). This function
    uses the GAD-7 for every client, so for clients with a specific anxiety
    disorder its rates are not the NHS Digital rates.

    References
    ----------
    Gyani, A., Shafran, R., Layard, R., & Clark, D. M. (2013). Enhancing
    recovery rates: lessons from year one of IAPT. *Behaviour Research and
    Therapy, 51*(9), 597-606.
    Clark, D. M., Canvin, L., Green, J., Layard, R., Pilling, S., & Janecka,
    M. (2018). Transparency about the outcomes of mental health services
    (IAPT approach): an analysis of public data. *The Lancet, 391*(10121),
    679-686.
    NHS Digital / OHID Fingertips, Common Mental Disorders glossary:
    "Finished course of treatment".

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({
    ...     "client_id": ["a", "a", "b", "b", "c"], "session": [1, 5, 1, 4, 1],
    ...     "phq9_total": [14, 6, 12, 13, 9], "gad7_total": [9, 5, 3, 8, 4]})
    >>> out = talking_therapies_outcomes(long)
    >>> out[["client_id", "recovery", "reliable_improvement", "reliable_deterioration"]]
      client_id  recovery  reliable_improvement  reliable_deterioration
    0         a      True                  True                   False
    1         b     False                 False                    True
    2         c      <NA>                  <NA>                    <NA>
    """
    sessions = as_table(data, "sessions", attended_only=True)
    policy = _one_policy(data, policy, "talking_therapies_outcomes")
    table = ensure_scores(sessions, [phq9, gad7], policy=policy, table="sessions")
    if clients is None and isinstance(data, Study):
        clients = list(data.clients[client])
    fl = _first_last(table, [phq9, gad7], client=client, session=session, clients=clients)
    finished = _finished(data, table, fl.index, finished_treatment, min_treatment_sessions, client)
    n = fl["n_scored"].to_numpy()
    valid = n >= 2
    p1, p2 = fl[f"{phq9}_first"].to_numpy(), fl[f"{phq9}_last"].to_numpy()
    g1, g2 = fl[f"{gad7}_first"].to_numpy(), fl[f"{gad7}_last"].to_numpy()
    p2, g2 = np.where(valid, p2, np.nan), np.where(valid, g2, np.nan)
    dp, dg = p2 - p1, g2 - g1
    case_start = (p1 >= phq9_caseness) | (g1 >= gad7_caseness)
    case_end = (p2 >= phq9_caseness) | (g2 >= gad7_caseness)
    improved = (dp <= -phq9_reliable) | (dg <= -gad7_reliable)
    deteriorated = (dp >= phq9_reliable) | (dg >= gad7_reliable)
    if require_no_deterioration:
        improved = improved & ~deteriorated
    recovery = case_start & ~case_end
    out = pd.DataFrame(
        {
            client: fl.index,
            "n_paired": n,
            "first_session": fl["first_session"].to_numpy(),
            "last_session": np.where(valid, fl["last_session"].to_numpy(), np.nan),
            "phq9_first": p1,
            "phq9_last": p2,
            "gad7_first": g1,
            "gad7_last": g2,
            "phq9_change": dp,
            "gad7_change": dg,
            "caseness_start": _flag(case_start, n >= 1),
            "caseness_end": _flag(case_end, valid),
            "recovery": _flag(recovery, valid & case_start),
            "reliable_improvement": _flag(improved, valid),
            "reliable_deterioration": _flag(deteriorated, valid),
            "reliable_recovery": _flag(recovery & improved, valid & case_start),
        }
    )
    out["finished_treatment"] = finished
    reason = np.full(len(out), np.nan, dtype=object)
    reason[n == 0] = "no paired scores"
    reason[n == 1] = "fewer than two paired scores"
    if finished_treatment is not False and not finished.isna().all():
        not_finished = ~finished.fillna(False).to_numpy(dtype=bool)
        for col in _TT_OUTCOMES:
            out.loc[not_finished, col] = pd.NA
        reason[not_finished & pd.isna(reason)] = "did not finish a course of treatment"
    out["reason"] = reason
    return state_policy(out, policy)


_TT_OUTCOMES = (
    "caseness_end",
    "recovery",
    "reliable_improvement",
    "reliable_deterioration",
    "reliable_recovery",
)


def _finished(
    data: Any,
    attended: pd.DataFrame,
    ids: pd.Index,
    rule: bool | None,
    min_sessions: int,
    client: str,
) -> pd.arrays.BooleanArray:
    """Finished a course of treatment: >= ``min_sessions`` attended and an ended referral."""
    if not isinstance(min_sessions, int | np.integer) or min_sessions < 1:
        raise DataValidationError.for_argument(
            "min_treatment_sessions", min_sessions, "a positive whole number of sessions"
        )
    if isinstance(data, Study) and "end_reason" in data.clients.columns:
        ended = data.clients.set_index(client)["end_reason"]
    elif "end_reason" in attended.columns:
        ended = attended.groupby(client, sort=False)["end_reason"].first()
    else:
        ended = None
    if ended is None or rule is False:
        if rule:
            raise DataValidationError.for_columns(
                {"clients": ["end_reason"]}, role="finished_treatment"
            )
        return pd.array([pd.NA] * len(ids), dtype="boolean")
    n_att = attended.groupby(client, sort=False).size().reindex(ids).fillna(0).to_numpy()
    has_end = ended.reindex(ids).notna().to_numpy()
    return pd.array((n_att >= min_sessions) & has_end, dtype="boolean")
