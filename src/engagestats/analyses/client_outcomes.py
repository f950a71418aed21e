"""Client-level binary outcomes (dropout, reliable improvement, recovery): :func:`binary_model`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from .._validate import as_table, check_choice, check_positive_int, require_columns
from ..errors import ModelSpecError
from ..models import GeeResult, GlmmResult, gee, glmm
from ..models.formula import quote_name
from ..scoring import ScoringPolicy, policy_for, state_policy
from ..study import CLIENT, THERAPIST, Study
from ._panel import ADJUSTED_PREDICTORS, Exclusions, is_categorical, named_terms, scored_study
from ._tables import policy_text

__all__ = ["DEFAULT_PREDICTORS", "BinaryModel", "binary_model", "client_table"]

#: Default intake predictors of :func:`binary_model`: those of the adjusted growth model
#: (:data:`engagestats.analyses.endtoend.ADJUSTED_PREDICTORS`), term name -> clients column.
DEFAULT_PREDICTORS = ADJUSTED_PREDICTORS

#: Talking Therapies outcomes that :func:`client_table` adds (0/1).
_TT_OUTCOMES = ["recovery", "reliable_improvement", "reliable_recovery"]


@dataclass(frozen=True)
class BinaryModel:
    """A fitted client-level binary-outcome model (returned by :func:`binary_model`).

    Attributes
    ----------
    fit : GeeResult or GlmmResult
        The fit from :func:`engagestats.models.gee` or ``glmm``.
    method : str
        ``"gee"`` or ``"glmm"``.
    formula : str
        The formula fitted.
    data : DataFrame
        The model frame (one row per client used, predictors centred).
    exclusions : DataFrame
        ``reason, n_rows, n_clients``: clients left out and why.
    centres : dict
        Constants subtracted from continuous predictors.
    scoring_policy : ScoringPolicy or None
        The study's scoring policy (None for a client-level DataFrame, whose
        scores are used as given); :attr:`odds_ratios` records it in
        ``attrs["scoring_policy"]`` and :meth:`summary` states it.
    """

    fit: Any
    method: str
    formula: str
    data: pd.DataFrame
    exclusions: pd.DataFrame
    centres: dict[str, float]
    scoring_policy: ScoringPolicy | None = None

    @property
    def odds_ratios(self) -> pd.DataFrame:
        """``term, estimate, se, z, p, ci_low, ci_high, odds_ratio, or_ci_low, or_ci_high``."""
        table = self.fit.fixed.reset_index().rename(columns={"index": "term"})
        return state_policy(table, self.scoring_policy)

    def summary(self) -> str:
        """The formula, the scoring policy, exclusions and the fit summary as text."""
        excl = "none" if self.exclusions.empty else "\n" + self.exclusions.to_string(index=False)
        policy = policy_text(self.scoring_policy)
        return (
            f"formula: {self.formula}\n{policy}\nclients excluded: {excl}\n\n{self.fit.summary()}"
        )


def client_table(
    study: Study, *, predictors: Sequence[str] | Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One row per client: intake scores, ``dropout`` and Talking Therapies outcomes.

    Parameters
    ----------
    study : Study
        Score columns it lacks (the ``predictors``, and the PHQ-9 and GAD-7
        totals of the outcomes) are scored under the study's policy
        (:attr:`Study.scoring_policy <engagestats.Study.scoring_policy>`,
        :data:`engagestats.scoring.PRORATE_80` unless set); scores already
        present are used as they are.
    predictors : sequence or mapping of str, optional
        The intake score columns needed; :data:`DEFAULT_PREDICTORS` by default.

    Returns
    -------
    DataFrame
        The clients table with therapist columns, ``dropout`` (1 when
        ``end_reason`` is ``"dropout"``, 0 when ``"completed"``, missing
        otherwise) and, when PHQ-9 and GAD-7 are present, ``recovery``,
        ``reliable_improvement`` and ``reliable_recovery`` (0/1, missing when
        undefined) from :func:`engagestats.change.talking_therapies_outcomes`.
    """
    preds = named_terms(DEFAULT_PREDICTORS if predictors is None else predictors)
    scored = scored_study(study, [*preds.values(), "phq9_total", "gad7_total"])
    clients = scored.clients.merge(
        scored.therapists, on=THERAPIST, how="left", suffixes=("", "_therapist")
    )
    if "end_reason" in clients.columns:
        clients["dropout"] = clients["end_reason"].map({"dropout": 1.0, "completed": 0.0})
    if {"phq9_total", "gad7_total"} <= set(scored.sessions.columns):
        from ..change.talking_therapies import talking_therapies_outcomes

        tt = talking_therapies_outcomes(scored, policy=policy_for(scored))
        tt = tt[[CLIENT, *_TT_OUTCOMES]].copy()
        for c in _TT_OUTCOMES:
            tt[c] = tt[c].astype("Float64").astype(float)
        clients = clients.merge(tt, on=CLIENT, how="left")
    return clients


def binary_model(
    data: Study | pd.DataFrame,
    *,
    outcome: str = "dropout",
    predictors: Sequence[str] | Mapping[str, str] | None = None,
    therapist: str = THERAPIST,
    method: Literal["gee", "glmm"] = "gee",
    center: bool = True,
    nagq: int = 1,
) -> BinaryModel:
    """Logistic model of a client-level binary outcome, clients clustered in therapists.

    Parameters
    ----------
    data : Study or DataFrame
        A Study (turned into one row per client by :func:`client_table`) or a
        client-level DataFrame.
    outcome : str, default "dropout"
        0/1 outcome column (``dropout``, ``reliable_improvement``, ``recovery``).
    predictors : sequence of str or mapping of term name to column, optional
        Client-level predictors; by default intake autonomous motivation and
        readiness (``{"autonomous": "srq_autonomous", "readiness":
        "urica_readiness"}``). Continuous ones are centred at their mean when
        ``center`` (so the intercept is the log-odds of the average client).
    therapist : str, default "therapist_id"
        Cluster column.
    method : {"gee", "glmm"}, default "gee"
        ``"gee"``: population-averaged logistic GEE with an exchangeable
        working correlation and sandwich SEs (Mancl-DeRouen bias-reduced under 40
        therapists)
        (:func:`engagestats.models.gee`). ``"glmm"``: logistic mixed
        model with a therapist random intercept (``glmer``;
        :func:`engagestats.models.glmm`), subject-specific odds ratios.
    center : bool, default True
        Centre continuous predictors.
    nagq : int, default 1
        Quadrature nodes of the GLMM (1 = Laplace).

    Returns
    -------
    BinaryModel
        ``.fit``, ``.odds_ratios`` (``term, estimate, se, z, p, ci_low,
        ci_high, odds_ratio, or_ci_low, or_ci_high``), ``.exclusions``.

    Raises
    ------
    DataValidationError
        When a named column is missing, ``method`` is unknown or ``nagq`` is not
        a positive integer.
    ModelSpecError
        When no client is left.
    FormulaError
        When a term, outcome or therapist name contains a backtick.

    Notes
    -----
    :math:`\\mathrm{logit}\\,P(y_{ij} = 1) = x_{ij}'\\beta` (+ :math:`u_j` for the
    GLMM). GEE odds ratios are population-averaged and closer to 1 than the
    GLMM's subject-specific ones (Zeger, Liang & Albert 1988).

    Names enter the formula through :func:`engagestats.models.formula.quote_name`:
    a name that R would not read as a name (``"x-1"``, ``"my var"``, ``"2nd"``) is
    written in backticks and is one variable, never an expression, and its
    coefficient is named as R names it (``"`my var`"``).

    References
    ----------
    Liang, K.-Y., & Zeger, S. L. (1986). Longitudinal data analysis using
    generalized linear models. *Biometrika, 73*(1), 13-22.

    Zeger, S. L., Liang, K.-Y., & Albert, P. S. (1988). Models for longitudinal
    data: a generalized estimating equation approach. *Biometrics, 44*(4),
    1049-1060.

    Examples
    --------
    >>> import engagestats as es
    >>> from engagestats.analyses import binary_model
    >>> study = es.simulate_study(n_therapists=10, clients_per_therapist=8, seed=3)
    >>> m = binary_model(study)
    >>> m.formula
    'dropout ~ autonomous + readiness'
    >>> m.odds_ratios["term"].tolist()
    ['(Intercept)', 'autonomous', 'readiness']
    """
    check_choice(method, ("gee", "glmm"), name="method")
    check_positive_int(nagq, name="nagq", what="quadrature nodes")
    preds = named_terms(DEFAULT_PREDICTORS if predictors is None else predictors)
    original = data
    # Every name enters the formula quoted (R's backticks when it is not a syntactic name),
    # so that a column such as "x-1" or "I(x^2)" is one variable, never an expression.
    q_outcome, q_therapist = quote_name(outcome), quote_name(therapist)
    q_terms = [quote_name(name) for name in preds]
    if isinstance(data, Study):
        frame = client_table(data, predictors=preds)
    else:
        frame = as_table(data, "clients").reset_index(drop=True).copy()
    require_columns(frame, [outcome, therapist, *preds.values()], table="clients", role="model")
    # Fit on rows sorted by their keys, so that no estimate depends on the input's row order
    # (the optimiser's path, and so its last digits, would).
    keys = [therapist, *([CLIENT] if CLIENT in frame.columns else [])]
    frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    ex = Exclusions(frame, CLIENT if CLIENT in frame.columns else None)
    ex.drop(frame[outcome].isna().to_numpy(), f"missing outcome {outcome!r}")
    for c in preds.values():
        ex.drop(frame[c].isna().to_numpy(), f"missing predictor {c!r}")
    ex.drop(frame[therapist].isna().to_numpy(), f"missing {therapist!r}")
    exclusions = ex.table()
    data = frame.loc[ex.keep].reset_index(drop=True)
    if data.empty:
        raise ModelSpecError("no clients left to fit after the exclusions")
    centres: dict[str, float] = {}
    for name, col in preds.items():
        if is_categorical(data[col]):
            data[name] = data[col].astype(str)
        else:
            centres[name] = float(data[col].mean()) if center else 0.0
            data[name] = data[col].astype(float) - centres[name]
    data[outcome] = data[outcome].astype(float)
    formula = f"{q_outcome} ~ {' + '.join(q_terms) if q_terms else '1'}"

    fit: GeeResult | GlmmResult
    if method == "gee":
        fit = gee(formula, data, groups=therapist, cov_struct="exchangeable")
    else:
        fit = glmm(f"{formula} + (1 | {q_therapist})", data, nagq=nagq)
    return BinaryModel(
        fit=fit,
        method=method,
        formula=formula,
        data=data,
        exclusions=exclusions,
        centres=centres,
        scoring_policy=policy_for(original) if isinstance(original, Study) else None,
    )
