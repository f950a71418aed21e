"""End-to-end analyses of a study: motivation, readiness, alliance and dropout."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from ..classify import MOTIVATION_TYPES, motivation_type, readiness_stage
from ..errors import EngageStatsWarning
from ..scoring import ScoringPolicy, policy_for, state_policy
from ..study import Study
from ._panel import ADJUSTED_PREDICTORS, ADJUSTED_TIME_VARYING, scored_study
from ._tables import policy_text
from .client_outcomes import BinaryModel, binary_model
from .growth import growth_model
from .outcome_model import OutcomeModel

__all__ = [
    "ADJUSTED_PREDICTORS",
    "ADJUSTED_TIME_VARYING",
    "AnalysisResult",
    "analyse_alliance",
    "analyse_dropout",
    "analyse_motivation",
    "analyse_readiness",
    "total_model",
]

#: The score columns the adjusted growth model and the analyses by category need.
_SCORES = ["phq9_total", *ADJUSTED_PREDICTORS.values(), *ADJUSTED_TIME_VARYING.values()]


@dataclass
class AnalysisResult:
    """The result of an end-to-end analysis.

    Attributes
    ----------
    name : str
        ``"motivation"``, ``"readiness"``, ``"alliance"`` or ``"dropout"``.
    model : OutcomeModel or BinaryModel
        The main (covariate-adjusted) model.
    models : dict
        Every fitted model by name (the main one included).
    tables : dict of DataFrame
        Result tables: ``"effects"`` (the focal effects with interpretations),
        ``"model"`` (the full APA table), ``"exclusions"`` and more per analysis.
    figure_data : dict of DataFrame
        Inputs of the figures in :mod:`engagestats.plots`: ``"trajectories"``
        (for ``plots.trajectories``), ``"fixed"`` (for ``plots.forest``),
        ``"panel"`` (for ``plots.spaghetti``).
    notes : list of str
        Warnings raised while fitting (e.g. a singular GLMM fit), kept here
        instead of being re-issued.
    scoring_policy : ScoringPolicy or None
        The study's one scoring policy (:attr:`Study.scoring_policy
        <engagestats.Study.scoring_policy>`), under which every score of every
        model was computed. Every table in :attr:`tables` records it in
        ``attrs["scoring_policy"]``; the report states it in each caption.
    """

    name: str
    model: OutcomeModel | BinaryModel
    models: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figure_data: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scoring_policy: ScoringPolicy | None = None

    def __repr__(self) -> str:
        policy = (
            repr(self.scoring_policy.name)
            if self.scoring_policy is not None
            else "none (scores as given)"
        )
        return (
            f"AnalysisResult({self.name!r}: models {list(self.models)}, "
            f"tables {list(self.tables)}, figure data {list(self.figure_data)}, "
            f"scoring policy {policy})"
        )

    def summary(self) -> str:
        """The tables' names, the notes and the scoring policy, as text."""
        policy = policy_text(self.scoring_policy)  # the words of every other table
        notes = "".join(f"\n  - {n}" for n in self.notes) or " none"
        return f"Analysis of {self.name}: tables {', '.join(self.tables)}\n{policy}\nnotes:{notes}"


def _stated(result: AnalysisResult, study: Study) -> AnalysisResult:
    """``result`` with the study's scoring policy set and recorded in every table."""
    result.scoring_policy = policy_for(study)
    for table in result.tables.values():
        state_policy(table, result.scoring_policy)
    return result


def adjusted_model(study: Study) -> OutcomeModel:
    """The covariate-adjusted growth model that the ``analyse_*`` functions share.

    ``growth_model(study, predictors=ADJUSTED_PREDICTORS,
    time_varying=ADJUSTED_TIME_VARYING)``: PHQ-9 over sessions with intake
    autonomous motivation and readiness interacting with time, and the alliance
    split into its between-client part (interacting with time) and its lagged
    within-client part, under growth_model's defaults: the within part and the
    prior PHQ-9 control are deviations from each client's own trend line, and each
    client's first session (no previous one) is excluded and counted. Fit it once
    and pass it as ``model=`` to :func:`analyse_alliance` and as ``adjusted=`` to
    :func:`analyse_motivation` and :func:`analyse_readiness` (where its motivation
    and readiness terms are controlled direct effects: adjusted for the post-intake
    alliance).
    """
    return growth_model(
        scored_study(study, _SCORES),
        predictors=ADJUSTED_PREDICTORS,
        time_varying=ADJUSTED_TIME_VARYING,
    )


def total_model(study: Study) -> OutcomeModel:
    """The intake-covariates-only growth model: total effects of motivation and readiness.

    ``growth_model(study, predictors=ADJUSTED_PREDICTORS)``: PHQ-9 over sessions
    with intake autonomous motivation and readiness interacting with time and
    nothing measured after intake. Its motivation and readiness terms are total
    effects (each given the other intake covariate): the primary estimates of
    :func:`analyse_motivation` and :func:`analyse_readiness`. The
    :func:`adjusted_model` adds the alliance, a post-intake variable that may
    mediate them, so its terms are controlled direct effects.
    """
    # no prior outcome: conditioning on the previous session's outcome would turn the intake
    # effects on change into effects on session-to-session change (not a total effect)
    return growth_model(
        scored_study(study, _SCORES), predictors=ADJUSTED_PREDICTORS, prior_outcome="none"
    )


def _with_client_column(study: Study, column: str, values: pd.Series) -> Study:
    clients = study.clients.copy()
    clients[column] = values.array  # keeps a Categorical (and its reference level)
    return replace(study, clients=clients)


def _growth_result(
    name: str, focal: str, main: OutcomeModel, by: str, *, adjusted: OutcomeModel | None = None
) -> AnalysisResult:
    effects = main.effects()
    keep = effects["term"].str.contains(focal, regex=False)
    result = AnalysisResult(
        name=name,
        model=main,
        models={"adjusted": main},
        tables={
            "effects": effects.loc[keep].reset_index(drop=True),
            "all_effects": effects,
            "model": main.table(),
            "exclusions": main.exclusions,
        },
        figure_data={
            "trajectories": main.trajectories(by=by),
            "fixed": main.fit.fixed,
            "panel": main.data,
        },
    )
    if adjusted is not None:  # main is the total-effect model; adjusted gives the direct effect
        result.models = {"total": main, "adjusted": adjusted}
        direct = adjusted.effects()
        keep = direct["term"].str.contains(focal, regex=False)
        result.tables["direct_effects"] = direct.loc[keep].reset_index(drop=True)
        result.tables["decomposition"] = _decomposition(
            result.tables["effects"], result.tables["direct_effects"]
        )
    return result


def _decomposition(total: pd.DataFrame, direct: pd.DataFrame) -> pd.DataFrame:
    """Total and alliance-adjusted (controlled direct) estimates side by side, per term."""
    out = total[["term", "effect"]].copy()
    for name, table in (("total", total), ("direct", direct)):
        values = table.set_index("term").reindex(out["term"])
        for col in ("estimate", "ci_low", "ci_high"):
            out[f"{name}_{col}"] = values[col].to_numpy()
    out["difference"] = out["total_estimate"] - out["direct_estimate"]
    return out


def _categorical(
    result: AnalysisResult,
    study: Study,
    term: str,
    labels: pd.Series,
    *,
    levels: tuple[str, ...],
    reference: str,
) -> None:
    """Fit the growth model by a client category, contrasting each level with ``reference``.

    The model holds the category only (intake), so its contrasts are total effects.
    """
    order = [reference, *(lv for lv in levels if lv != reference)]
    coded = pd.Series(pd.Categorical(labels, categories=order), index=labels.index)
    model = growth_model(
        _with_client_column(study, term, coded), predictors={term: term}, prior_outcome="none"
    )
    result.models[f"by_{term}"] = model
    result.tables[f"effects_by_{term}"] = model.effects()
    missing = "not classified (missing score)"
    counts = coded.astype(object).fillna(missing).value_counts()
    # Levels in their declared order (reference first), never in the input's row order.
    present = [lv for lv in [*order, missing] if lv in counts.index]
    result.tables[f"{term}_counts"] = (
        counts.reindex(present).rename_axis(term).reset_index(name="n_clients")
    )
    result.figure_data[f"trajectories_by_{term}"] = model.trajectories(by=term)


def analyse_motivation(
    study: Study, *, model: OutcomeModel | None = None, adjusted: OutcomeModel | None = None
) -> AnalysisResult:
    """Does intake autonomous motivation predict the level and rate of improvement?

    The primary estimates are total effects: the growth model with the intake
    covariates only (:func:`total_model`: :data:`ADJUSTED_PREDICTORS`), and a
    model by motivation type (:func:`engagestats.motivation_type` of the scored
    intake SRQ). The alliance-adjusted model (:func:`adjusted_model`) is shown as
    a decomposition: its motivation terms are controlled direct effects, because
    the alliance is measured after intake and may carry part of the association
    (for the indirect part with intervals, see :func:`engagestats.mediation`).
    Neither is a causal effect without the assumption of no unmeasured
    confounding.

    Parameters
    ----------
    study : Study
        Score columns the models need that it lacks are scored once, under the
        study's policy (:attr:`Study.scoring_policy
        <engagestats.Study.scoring_policy>`, :data:`engagestats.scoring.PRORATE_80`
        unless set), the policy that :func:`engagestats.score` of the study uses;
        scores already present are used as they are.
    model : OutcomeModel, optional
        The total-effect growth model of this study (:func:`total_model`), when
        already fitted (the ``analyse_*`` calls share it), to avoid fitting it
        again.
    adjusted : OutcomeModel, optional
        The alliance-adjusted growth model (:func:`adjusted_model`), likewise.

    Returns
    -------
    AnalysisResult
        Models ``"total"``, ``"adjusted"`` and ``"by_motivation_type"``; tables
        ``"effects"`` (autonomous motivation: total effects, the primary
        estimates), ``"direct_effects"`` (the same terms in the
        alliance-adjusted model: controlled direct effects), ``"decomposition"``
        (both side by side with their difference), ``"all_effects"``, ``"model"``
        (of the total-effect model), ``"exclusions"``, ``"effects_by_motivation_type"``,
        ``"motivation_type_counts"``; figure data ``"trajectories"`` (by
        autonomous motivation at -1 SD, mean, +1 SD),
        ``"trajectories_by_motivation_type"``, ``"fixed"``, ``"panel"``.

    Examples
    --------
    >>> import engagestats as es
    >>> from engagestats.analyses import analyse_motivation
    >>> res = analyse_motivation(es.simulate_study(n_therapists=8, clients_per_therapist=8, seed=2))
    >>> res.tables["effects"]["term"].tolist()
    ['autonomous', 'time:autonomous']
    """
    study = scored_study(study, [*_SCORES, "srq_autonomous", "srq_controlled"])
    main = model if model is not None else total_model(study)
    direct = adjusted if adjusted is not None else adjusted_model(study)
    result = _growth_result("motivation", "autonomous", main, by="autonomous", adjusted=direct)
    types = motivation_type(study.clients)["motivation_type"]
    _categorical(
        result,
        study,
        "motivation_type",
        types,
        levels=MOTIVATION_TYPES,
        reference="good_quality",
    )
    return _stated(result, study)


def analyse_readiness(
    study: Study, *, model: OutcomeModel | None = None, adjusted: OutcomeModel | None = None
) -> AnalysisResult:
    """Does readiness for change (URICA) at intake predict improvement?

    Total effects first (:func:`total_model`) and a model by stage of change
    (:func:`engagestats.readiness_stage`, its default sample-relative profiles);
    the alliance-adjusted (controlled direct) effects as a decomposition, as in
    :func:`analyse_motivation`.

    Parameters
    ----------
    study : Study
        Score columns the models need that it lacks are scored once, under the
        study's policy (:attr:`Study.scoring_policy
        <engagestats.Study.scoring_policy>`, :data:`engagestats.scoring.PRORATE_80`
        unless set), the policy that :func:`engagestats.score` of the study uses;
        scores already present are used as they are.
    model, adjusted : OutcomeModel, optional
        As in :func:`analyse_motivation`.

    Returns
    -------
    AnalysisResult
        As :func:`analyse_motivation`, focused on ``readiness``, with the
        categorical model ``"by_stage"``. A stage holding more than half the
        clients (the DataWarning of :func:`engagestats.readiness_stage`) is
        reported in ``notes``.

    Examples
    --------
    >>> import engagestats as es
    >>> from engagestats.analyses import analyse_readiness
    >>> res = analyse_readiness(es.simulate_study(n_therapists=8, clients_per_therapist=8, seed=1))
    >>> res.tables["effects"]["term"].tolist()
    ['readiness', 'time:readiness']
    """
    study = scored_study(study, [*_SCORES, "urica_readiness"])
    main = model if model is not None else total_model(study)
    direct = adjusted if adjusted is not None else adjusted_model(study)
    result = _growth_result("readiness", "readiness", main, by="readiness", adjusted=direct)
    with warnings.catch_warnings(record=True) as caught:  # a lopsided split goes to notes
        warnings.simplefilter("always", EngageStatsWarning)
        stages = readiness_stage(study.clients)["stage"]
    result.notes += [
        f"stage: {w.message}" for w in caught if issubclass(w.category, EngageStatsWarning)
    ]
    for w in caught:
        if not issubclass(w.category, EngageStatsWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    levels = tuple(str(s) for s in stages.cat.categories)
    _categorical(result, study, "stage", stages, levels=levels, reference=levels[0])
    return _stated(result, study)


def analyse_alliance(study: Study, *, model: OutcomeModel | None = None) -> AnalysisResult:
    """Does the alliance predict improvement, between clients and session by session?

    The WAI-SR total (12-60 sum scale) is split into the client mean
    (``alliance_between``) and the deviation from the client's own trend line at
    the previous attended session (``alliance_within_lag``), given the previous
    PHQ-9 (relative to its own line) and adjusted for intake motivation and
    readiness (:func:`growth_model`'s defaults). ``alliance_within_lag`` is a
    within-client, prospective association, not a causal effect; the reverse
    direction (PHQ-9 -> next alliance) is estimated by
    :func:`engagestats.cross_lagged`. ``alliance_between`` compares clients and
    may reflect who they are.

    Parameters
    ----------
    study : Study
        Score columns the models need that it lacks are scored once, under the
        study's policy (:attr:`Study.scoring_policy
        <engagestats.Study.scoring_policy>`, :data:`engagestats.scoring.PRORATE_80`
        unless set), the policy that :func:`engagestats.score` of the study uses;
        scores already present are used as they are.
    model : OutcomeModel, optional
        The adjusted growth model of this study, when already fitted (for
        example by another ``analyse_*`` call: they share it), to avoid
        fitting it again.

    Returns
    -------
    AnalysisResult
        Tables ``"effects"`` (the alliance terms), ``"all_effects"``,
        ``"model"``, ``"exclusions"``; figure data ``"trajectories"`` (by mean
        alliance), ``"fixed"``, ``"panel"``, ``"ranef"`` (client and
        therapist random effects, for ``plots.caterpillar``).

    Examples
    --------
    >>> import engagestats as es
    >>> from engagestats.analyses import analyse_alliance
    >>> res = analyse_alliance(es.simulate_study(n_therapists=8, clients_per_therapist=8, seed=2))
    >>> res.tables["effects"]["term"].tolist()
    ['alliance_between', 'time:alliance_between', 'alliance_within_lag']
    """
    main = model if model is not None else adjusted_model(study)
    result = _growth_result("alliance", "alliance", main, by="alliance_between")
    result.figure_data["ranef"] = main.fit.ranef(cond_sd=True)
    return _stated(result, study)


def analyse_dropout(study: Study) -> AnalysisResult:
    """Do intake motivation and readiness predict dropout?

    Fits :func:`binary_model` by GEE (population-averaged odds ratios) and as a
    logistic GLMM with a therapist random intercept (subject-specific).

    Parameters
    ----------
    study : Study
        Score columns the models need that it lacks are scored once, under the
        study's policy (:attr:`Study.scoring_policy
        <engagestats.Study.scoring_policy>`, :data:`engagestats.scoring.PRORATE_80`
        unless set), the policy that :func:`engagestats.score` of the study uses;
        scores already present are used as they are.

    Returns
    -------
    AnalysisResult
        Models ``"gee"`` and ``"glmm"``; tables ``"odds_ratios"`` (GEE),
        ``"odds_ratios_glmm"``, ``"exclusions"``, ``"dropout_rate"``. A
        singular GLMM fit (no therapist variation in dropout) is reported in
        ``notes`` rather than as a warning; so is the GEE's standard error,
        Mancl-DeRouen bias-reduced under 40 therapists (the small-sample
        default of :func:`engagestats.models.gee`).

    Examples
    --------
    >>> import engagestats as es
    >>> from engagestats.analyses import analyse_dropout
    >>> res = analyse_dropout(es.simulate_study(n_therapists=10, clients_per_therapist=8))
    >>> res.tables["odds_ratios"]["term"].tolist()
    ['(Intercept)', 'autonomous', 'readiness']
    """
    study = scored_study(study, [*ADJUSTED_PREDICTORS.values(), "phq9_total", "gad7_total"])
    gee = binary_model(study, outcome="dropout", predictors=ADJUSTED_PREDICTORS, method="gee")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EngageStatsWarning)
        glmm = binary_model(study, outcome="dropout", predictors=ADJUSTED_PREDICTORS, method="glmm")
    notes = [f"glmm: {w.message}" for w in caught if issubclass(w.category, EngageStatsWarning)]
    n_clusters = next(iter(gee.fit.ngroups.values()))
    se_text = "Mancl-DeRouen bias-reduced" if gee.fit.se_type == "bias_reduced" else "robust"
    notes.insert(0, f"gee: {se_text} sandwich standard errors ({n_clusters} therapist clusters)")
    for w in caught:
        if not issubclass(w.category, EngageStatsWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    rate = pd.DataFrame(
        {
            "n_clients": [len(gee.data)],
            "n_dropout": [int(gee.data["dropout"].sum())],
            "dropout_rate": [float(gee.data["dropout"].mean())],
        }
    )
    result = AnalysisResult(
        name="dropout",
        model=gee,
        models={"gee": gee, "glmm": glmm},
        tables={
            "odds_ratios": gee.odds_ratios,
            "odds_ratios_glmm": glmm.odds_ratios,
            "exclusions": gee.exclusions,
            "dropout_rate": rate,
        },
        figure_data={"fixed": gee.fit.fixed},
        notes=notes,
    )
    return _stated(result, study)
