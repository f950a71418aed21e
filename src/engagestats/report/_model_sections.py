"""Report sections for the outcome models: motivation, readiness, alliance and dropout.

The motivation and readiness questions share one total-effect model (intake
covariates only, :attr:`Context.total`) and show the alliance-adjusted model
(:attr:`Context.adjusted`, shared with the alliance question) as a
decomposition into controlled direct effects; each is fitted once per report.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ..analyses import (
    AnalysisResult,
    analyse_alliance,
    analyse_dropout,
    analyse_motivation,
    analyse_readiness,
)
from ..plots import alliance_scatter, caterpillar, forest, trajectories
from ..study import CLIENT, THERAPIST
from ._sections import Context, Section

__all__ = ["MODEL_SECTIONS"]


def _interpretations(res: AnalysisResult) -> list[str]:
    eff = res.tables["effects"]
    return [f"{str(row)[:1].upper()}{str(row)[1:].rstrip('.')}." for row in eff["interpretation"]]


def _trajectory_figure(data: pd.DataFrame, by: str, title: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 4))
    trajectories(data, by=by, ax=ax)
    ax.set_title(title)
    return fig


def _forest_figure(fixed: pd.DataFrame, title: str, **kwargs) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 4))
    forest(fixed, ax=ax, **kwargs)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _growth_section(
    res: AnalysisResult, key: str, title: str, by: str, label: str, *, model_table: bool
) -> Section:
    """A growth-model section of the report.

    ``model_table`` adds the total-effect model's full table and forest plot (shared by
    the motivation and readiness questions, so shown once).
    """
    total = res.model
    direct = res.models["adjusted"]
    text = [
        "Scores are those of the scoring section above (one scoring policy for the whole report).",
        f"Total-effect model (intake covariates only): `{total.formula}` (REML; Satterthwaite "
        f"df; {'converged' if total.fit.converged else 'did NOT converge'}), fitted to "
        f"{total.fit.nobs} sessions of {total.fit.ngroups.get(CLIENT, 0)} clients "
        "(the full table is in the first model section).",
        *_interpretations(res),
        "Decomposition: the same terms adjusted for the alliance (client mean and lagged "
        f"within-client part; `{direct.formula}`) are controlled direct effects. The alliance "
        "is measured after intake and may carry part of the association, so the difference "
        "from the total effect is not an estimate of an indirect effect with an interval "
        "(see `mediation()` for that), and neither estimate is causal without the assumption "
        "of no unmeasured confounding.",
    ]
    counts = res.tables[f"{by}_counts"]
    return Section(
        key,
        title,
        text,
        tables={
            "effects": res.tables["effects"],
            "decomposition": res.tables["decomposition"],
            **({"model": res.tables["model"]} if model_table else {}),
            f"effects_by_{by}": res.tables[f"effects_by_{by}"],
            f"{by}_counts": counts,
        },
        figures={
            f"trajectories_by_{by}": _trajectory_figure(
                res.figure_data[f"trajectories_by_{by}"], by, f"PHQ-9 by {label}"
            ),
            **(
                {"forest": _forest_figure(res.figure_data["fixed"], "Fixed effects (95% CI)")}
                if model_table
                else {}
            ),
        },
        captions={
            "effects": "Effects of interest: total effects (intake covariates only)",
            "decomposition": "Total and alliance-adjusted (controlled direct) estimates",
            "model": "Total-effect growth model (APA style)",
            f"effects_by_{by}": f"Growth model by {label}",
            f"{by}_counts": f"Clients by {label}",
            f"trajectories_by_{by}": f"Model-implied PHQ-9 trajectories by {label} (95% CI)",
            "forest": "Fixed effects of the total-effect growth model",
        },
    )


def motivation_section(ctx: Context) -> Section:
    res = analyse_motivation(ctx.scored, model=ctx.total, adjusted=ctx.adjusted)
    return _growth_section(
        res,
        "motivation",
        "Motivation and change",
        "motivation_type",
        "motivation type",
        model_table=True,
    )


def readiness_section(ctx: Context) -> Section:
    res = analyse_readiness(ctx.scored, model=ctx.total, adjusted=ctx.adjusted)
    return _growth_section(
        res, "readiness", "Readiness for change", "stage", "readiness profile", model_table=False
    )


def alliance_section(ctx: Context) -> Section:
    res = analyse_alliance(ctx.scored, model=ctx.adjusted)
    panel = res.figure_data["panel"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    alliance_scatter(panel, alliance="wai_sr_total", outcome="phq9_total", axes=axes)
    fig.tight_layout()
    fig2, ax2 = plt.subplots(figsize=(6, 5))
    caterpillar(res.figure_data["ranef"], group=THERAPIST, ax=ax2)
    ax2.set_title("Therapist random intercepts (95% intervals)")
    return Section(
        "alliance",
        "Alliance within and between clients",
        [
            "The WAI-SR total is split into each client's mean (between) and its deviation from "
            "the client's own trend line at the previous attended session (within, lagged), and "
            "the model also controls for the previous PHQ-9 relative to the client's own trend "
            "line (Falkenström et al., 2017). The within estimate is a prospective association "
            "within clients: the PHQ-9 at a session, given the previous PHQ-9, when the alliance "
            "at the previous session was above the client's own line. Stable differences between "
            "clients and clients' own trends cannot produce it; it is not a causal effect, and "
            "the lag does not settle which way the influence runs (symptoms also shape the "
            "alliance: engagestats.cross_lagged estimates both directions). The between estimate "
            "compares clients and may reflect who the clients are.",
            *_interpretations(res),
        ],
        tables={
            "effects": res.tables["effects"],
            "model": res.tables["model"],
            "exclusions": res.tables["exclusions"],
        },
        figures={"within_between": fig, "therapists": fig2},
        captions={
            "effects": "Alliance effects (adjusted growth model)",
            "model": "Alliance-adjusted growth model (APA style)",
            "exclusions": "Rows excluded from the growth model, by reason",
            "within_between": "Alliance and PHQ-9: between clients (left) and within clients "
            "(right)",
            "therapists": "Therapist random intercepts",
        },
    )


def dropout_section(ctx: Context) -> Section:
    res = analyse_dropout(ctx.scored)
    odds = res.tables["odds_ratios"]
    text = [
        "Dropout is modelled per client with clients clustered in therapists: a GEE logistic "
        "model (exchangeable working correlation; population-averaged odds ratios) and a "
        "logistic GLMM with a therapist random intercept (Laplace; subject-specific).",
        *(f"Note: {n}" for n in res.notes),
    ]
    return Section(
        "dropout",
        "Dropout",
        text,
        tables={
            "rate": res.tables["dropout_rate"],
            "odds_ratios_gee": odds,
            "odds_ratios_glmm": res.tables["odds_ratios_glmm"],
            "exclusions": res.tables["exclusions"],
        },
        figures={
            "forest": _forest_figure(
                odds,
                "Dropout odds ratios (GEE, 95% CI)",
                estimate="odds_ratio",
                ci_low="or_ci_low",
                ci_high="or_ci_high",
                log=True,
            )
        },
        captions={
            "rate": "Dropout rate",
            "odds_ratios_gee": "Odds ratios of dropout (GEE)",
            "odds_ratios_glmm": "Odds ratios of dropout (GLMM)",
            "exclusions": "Clients excluded from the dropout models, by reason",
            "forest": "Dropout odds ratios per point of each intake score (centred; GEE, 95% CI)",
        },
    )


#: Model sections in report order.
MODEL_SECTIONS = [motivation_section, readiness_section, alliance_section, dropout_section]
