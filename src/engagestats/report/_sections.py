"""The report's sections: each builds its tables, figures and narrative from a Study."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import matplotlib.pyplot as plt
import pandas as pd

from .. import reliability
from ..analyses import OutcomeModel
from ..analyses.endtoend import adjusted_model, total_model
from ..change import rates
from ..change.talking_therapies import instrument_change, talking_therapies_outcomes
from ..classify import readiness_stage
from ..engagement import dropout_definition, engagement
from ..errors import DataValidationError, EngageStatsError
from ..plots import jacobson_truax_plot, outcome_bars
from ..scoring import ScoringPolicy, policy_for, scoring_summary
from ..study import CLIENT, SESSION, THERAPIST, Study

__all__ = ["SECTIONS", "Context", "Section"]


@dataclass
class Section:
    """One report section: narrative paragraphs, named tables and figures.

    ``notes`` holds a note printed under a table (APA's "Note."), by table name; every
    table of the report gets the scoring-policy note (:func:`policy_note`).
    """

    key: str
    title: str
    text: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, plt.Figure] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def policy_note(policy: ScoringPolicy) -> str:
    """The note under every report table: the one scoring policy of the report.

    Examples
    --------
    >>> from engagestats.scoring import PRORATE_80
    >>> policy_note(PRORATE_80)
    "Note. Scoring policy 'prorate_80' (80% proration of gad7, phq9, srq, urica and wai_sr), the one policy of every table in this report; see Scoring and reliability."
    """  # noqa: E501
    return (
        f"Note. {policy.label()}, the one policy of every table in this report; "
        "see Scoring and reliability."
    )


def state_policy_in_notes(sections: list[Section], policy: ScoringPolicy) -> None:
    """Add the scoring-policy note to every table of ``sections`` (after a table's own note)."""
    note = policy_note(policy)
    for sec in sections:
        for name in sec.tables:
            own = sec.notes.get(name)
            sec.notes[name] = f"{own} {note}" if own else note


@dataclass
class Context:
    """What the sections share: the study as loaded and the one scored study, computed once.

    Every section and every ``analyse_*`` call receives :attr:`scored`, scored once under
    :attr:`policy` (the study's own, :attr:`Study.scoring_policy
    <engagestats.Study.scoring_policy>`); none scores again (the analyses score only score
    columns that are missing, and none is). Every table states it (:func:`policy_note`).
    """

    study: Study
    scored: Study
    policy: ScoringPolicy

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """NHS Talking Therapies outcomes per client, computed on first use."""
        return talking_therapies_outcomes(self.scored)

    @cached_property
    def engagement(self) -> pd.DataFrame:
        """Engagement metrics per client, computed on first use."""
        return engagement(self.scored)

    @cached_property
    def total(self) -> OutcomeModel:
        """The intake-covariates-only growth model (total effects), fitted on first use."""
        return total_model(self.scored)

    @cached_property
    def adjusted(self) -> OutcomeModel:
        """The adjusted growth model shared by the model sections, fitted on first use."""
        return adjusted_model(self.scored)

    @classmethod
    def build(cls, study: Study, *, policy: ScoringPolicy | None = None) -> Context:
        """Score ``study`` once under ``policy`` (by default the study's own)."""
        policy = policy_for(study, policy)
        return cls(study=study, scored=policy.score(study), policy=policy)


#: Section titles by key, for a section that could not be built.
TITLES = {
    "sample": "Sample description",
    "scoring": "Scoring and reliability",
    "change": "Clinical change (NHS Talking Therapies)",
    "engagement": "Engagement and dropout",
    "motivation": "Motivation and change",
    "readiness": "Readiness for change",
    "alliance": "Alliance within and between clients",
    "dropout": "Dropout",
}


def skipped_section(build: Callable[[Context], Section], error: Exception) -> Section:
    """The section a builder could not make from this study, saying why (never silently)."""
    key = build.__name__.removesuffix("_section")
    reason = " ".join(str(error).split("\n")[:3])
    return Section(
        key,
        TITLES.get(key, key.replace("_", " ").capitalize()),
        [f"Not reported: this study lacks what the section needs ({reason})."],
    )


def _pct(row: pd.Series) -> str:
    return (
        f"{row['k']:.0f} of {row['n']:.0f} ({100 * row['rate']:.1f}%, "
        f"95% CI {100 * row['ci_low']:.1f} to {100 * row['ci_high']:.1f})"
    )


def sample_section(ctx: Context) -> Section:
    study = ctx.study
    clients = study.clients.merge(study.therapists, on=THERAPIST, how="left")
    groups = []
    for col in ("modality", "format", "gender"):
        if col in clients.columns:
            counts = clients[col].value_counts().sort_index()
            groups.append(
                pd.DataFrame(
                    {"variable": col, "level": counts.index.astype(str), "clients": counts.values}
                )
            )
    composition = pd.concat(groups, ignore_index=True) if groups else pd.DataFrame()
    s = study.summary().set_index("metric")["value"]
    if "attended_sessions" in s.index:
        sessions = (
            f"{s['session_rows']:.0f} offered sessions, of which {s['attended_sessions']:.0f} "
            f"were attended (a median of {s['median']:.0f} attended sessions per client)."
        )
    else:  # no attendance column: every session row counts, and the text says so
        sessions = (
            f"{s['session_rows']:.0f} session rows (attendance not recorded; a median of "
            f"{s['median']:.0f} sessions per client)."
        )
    text = [
        f"The study holds {s['therapists']:.0f} therapists, {s['clients']:.0f} clients and "
        + sessions,
        f"{len(study.excluded)} rows were excluded while loading.",
    ]
    return Section(
        "sample",
        "Sample description",
        text,
        tables={"summary": study.summary(), "composition": composition},
        captions={
            "summary": "Counts, sessions per client and missing answers",
            "composition": "Clients by modality, format and gender",
        },
    )


def scoring_section(ctx: Context) -> Section:
    scored = ctx.scored
    summary = scoring_summary(scored)
    first = scored.sessions.sort_values([CLIENT, SESSION])
    if "attended" in first.columns:
        first = first.loc[first["attended"] == 1]
    first = first.groupby(CLIENT, sort=False).head(1)
    parts, missing = [], []
    for table, names in ((first, ("phq9", "gad7", "wai_sr")), (scored.clients, ("urica", "srq"))):
        for name in names:
            try:
                parts.append(reliability.report(table, name))
            except EngageStatsError:
                missing.append(name)
    if not parts:
        raise DataValidationError.for_file(
            "study", "no questionnaire items to compute reliability from"
        )
    rel = pd.concat(parts, ignore_index=True)
    n_unscored = int(summary["n_too_few"].sum())
    low = rel.loc[rel["alpha"].idxmin()]
    text = [
        "Scores were computed from the declared keys, once, under one scoring policy that every "
        f"section and model below uses. {ctx.policy.describe()}",
        f"{n_unscored} scores could not be computed because too few items were answered; each "
        "is counted below.",
        "Cronbach's alpha (first attended session for session measures) ranged from "
        f"{rel['alpha'].min():.2f} ({low['instrument']} {low['scale']}) "
        f"to {rel['alpha'].max():.2f}.",
        *(
            [f"Not computed (no item answers in this study): {', '.join(missing)}."]
            if missing
            else []
        ),
    ]
    return Section(
        "scoring",
        "Scoring and reliability",
        text,
        tables={"summary": summary, "reliability": rel},
        captions={
            "summary": "Scores computed, prorated and left unscored",
            "reliability": "Internal consistency: alpha (Feldt CI) and omega total",
        },
    )


def change_section(ctx: Context) -> Section:
    out = ctx.outcomes
    metrics = ["recovery", "reliable_improvement", "reliable_deterioration", "reliable_recovery"]
    overall = pd.concat(
        [rates(out, outcome=m).assign(outcome=m) for m in metrics], ignore_index=True
    )
    overall = overall[["outcome", "n", "k", "rate", "ci_low", "ci_high", "n_missing"]]
    tables = {"rates": overall}
    if "modality" in ctx.study.therapists.columns:
        by_mod = out.merge(ctx.study.clients[[CLIENT, THERAPIST]], on=CLIENT).merge(
            ctx.study.therapists[[THERAPIST, "modality"]], on=THERAPIST
        )
        tables["by_modality"] = rates(
            by_mod, outcome="reliable_recovery", by="modality", overall=False
        )
    rec = overall.set_index("outcome").loc["reliable_recovery"]
    kept = int(out["reason"].notna().sum())
    text = [
        f"By NHS Talking Therapies definitions (first and last paired PHQ-9 and GAD-7 scores), "
        f"{_pct(rec)} clients at caseness reached reliable recovery.",
        f"{kept} clients had fewer than two paired scores; "
        "they are kept in the tables with a reason.",
    ]
    change = instrument_change(ctx.scored, instrument="phq9")
    fig, ax = plt.subplots(figsize=(5.5, 5))
    jacobson_truax_plot(
        change.dropna(subset=["pre", "post"]),
        pre="pre",
        post="post",
        sd=float(change["pre"].std()),
        reliability=0.84,
        cutoff=10,
        ax=ax,
    )
    ax.set_title("PHQ-9: first vs last score")
    stages = readiness_stage(ctx.scored)
    merged = out.merge(stages, on=CLIENT).dropna(subset=["stage", "reliable_recovery"])
    merged["reliable_recovery"] = merged["reliable_recovery"].map(
        {True: "reliable recovery", False: "no reliable recovery"}
    )
    fig2, ax2 = plt.subplots(figsize=(5.5, 4))
    outcome_bars(merged, outcome="reliable_recovery", by="stage", ax=ax2)
    return Section(
        "change",
        "Clinical change (NHS Talking Therapies)",
        text,
        tables=tables,
        figures={"jacobson_truax_phq9": fig, "recovery_by_stage": fig2},
        captions={
            "rates": "Outcome rates with Wilson 95% CIs",
            "by_modality": "Reliable recovery by therapy modality",
            "jacobson_truax_phq9": "Jacobson-Truax plot, PHQ-9 (reliability .84)",
            "recovery_by_stage": "Reliable recovery by intake readiness stage",
        },
    )


def engagement_section(ctx: Context) -> Section:
    eng = ctx.engagement
    cols = [
        "sessions_offered",
        "sessions_attended",
        "attendance_rate",
        "homework_rate",
        "weeks_in_treatment",
        "early_change",
    ]
    desc = eng[cols].describe().T.reset_index(names="metric")
    desc = desc[["metric", "count", "mean", "std", "min", "50%", "max"]].rename(
        columns={"50%": "median"}
    )
    has_format = "format" in ctx.study.clients.columns
    if has_format:
        joined = eng.merge(ctx.study.clients[[CLIENT, "format"]], on=CLIENT)
        dropout = rates(joined, outcome="dropout", by="format")
        overall = dropout.loc[dropout["group"] == "all"].iloc[0]
    else:
        overall = rates(eng, outcome="dropout").iloc[0]
    text = [
        f"{_pct(overall)} clients dropped out ({dropout_definition()}); "
        f"mean attendance was {100 * eng['attendance_rate'].mean():.1f}% of offered sessions.",
    ]
    tables, figures = {"summary": desc}, {}
    if has_format:
        lab = joined.assign(
            dropout=joined["dropout"].map({True: "dropped out", False: "completed"})
        )
        fig, ax = plt.subplots(figsize=(5.5, 4))
        outcome_bars(lab, outcome="dropout", by="format", ax=ax)
        tables["dropout_by_format"], figures["dropout_by_format"] = dropout, fig
    return Section(
        "engagement",
        "Engagement and dropout",
        text,
        tables=tables,
        figures=figures,
        captions={"summary": "Engagement per client", "dropout_by_format": "Dropout by format"},
    )


#: The sections in report order.
SECTIONS: list[Callable[[Context], Section]] = [
    sample_section,
    scoring_section,
    change_section,
    engagement_section,
]
