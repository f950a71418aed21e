"""Client-level binary outcomes (dropout, reliable improvement, recovery): :func:`binary_model`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import DataValidationError, ModelSpecError
from ..models import gee, glmm
from ..study import Study
from ._panel import _is_categorical, _named, score_study

__all__ = ["BinaryModel", "binary_model", "client_table"]

#: Default intake predictors of a Study: term name -> clients column.
DEFAULT_PREDICTORS: dict[str, str] = {
    "autonomous": "srq_autonomous",
    "readiness": "urica_readiness",
}


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
    """

    fit: Any
    method: str
    formula: str
    data: pd.DataFrame
    exclusions: pd.DataFrame
    centres: dict[str, float]

    @property
    def odds_ratios(self) -> pd.DataFrame:
        """``term, estimate, se, z, p, ci_low, ci_high, odds_ratio, or_ci_low, or_ci_high``."""
        return self.fit.fixed.reset_index().rename(columns={"index": "term"})

    def summary(self) -> str:
        """The formula, exclusions and the fit summary as text."""
        excl = "none" if self.exclusions.empty else "\n" + self.exclusions.to_string(index=False)
        return f"formula: {self.formula}\nclients excluded: {excl}\n\n{self.fit.summary()}"


def client_table(study: Study) -> pd.DataFrame:
    """One row per client: intake scores, ``dropout`` and Talking Therapies outcomes.

    Parameters
    ----------
    study : Study
        Scored here with :data:`engagestats.analyses.PRORATION`.

    Returns
    -------
    DataFrame
        The scored clients table with therapist columns, ``dropout`` (1 when
        ``end_reason`` is ``"dropout"``, 0 when ``"completed"``, missing
        otherwise) and, when PHQ-9 and GAD-7 are present, ``recovery``,
        ``reliable_improvement`` and ``reliable_recovery`` (0/1, missing when
        undefined) from :func:`engagestats.change.talking_therapies_outcomes`.
    """
    scored = score_study(study)
    clients = scored.clients.merge(
        scored.therapists, on="therapist_id", how="left", suffixes=("", "_therapist")
    )
    if "end_reason" in clients.columns:
        clients["dropout"] = clients["end_reason"].map({"dropout": 1.0, "completed": 0.0})
    if {"phq9_total", "gad7_total"} <= set(scored.sessions.columns):
        from ..change.talking_therapies import talking_therapies_outcomes

        tt = talking_therapies_outcomes(scored)
        keep = ["recovery", "reliable_improvement", "reliable_recovery"]
        tt = tt[["client_id", *keep]].copy()
        for c in keep:
            tt[c] = tt[c].astype("Float64").astype(float)
        clients = clients.merge(tt, on="client_id", how="left")
    return clients


def binary_model(
    study_or_frame: Study | pd.DataFrame,
    *,
    outcome: str = "dropout",
    predictors: Sequence[str] | Mapping[str, str] | None = None,
    therapist: str = "therapist_id",
    method: Literal["gee", "glmm"] = "gee",
    center: bool = True,
    nagq: int = 1,
) -> BinaryModel:
    """Logistic model of a client-level binary outcome, clients clustered in therapists.

    Parameters
    ----------
    study_or_frame : Study or DataFrame
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
        working correlation and robust SEs
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
        When a named column is missing.
    ModelSpecError
        For an unknown method or when no client is left.

    Notes
    -----
    :math:`\\mathrm{logit}\\,P(y_{ij} = 1) = x_{ij}'\\beta` (+ :math:`u_j` for the
    GLMM). GEE odds ratios are population-averaged and closer to 1 than the
    GLMM's subject-specific ones (Zeger, Liang & Albert 1988).

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
    if method not in ("gee", "glmm"):
        raise ModelSpecError(f"method must be 'gee' or 'glmm', got {method!r}")
    preds = dict(DEFAULT_PREDICTORS) if predictors is None else _named(predictors)
    if isinstance(study_or_frame, Study):
        frame = client_table(study_or_frame)
    elif isinstance(study_or_frame, pd.DataFrame):
        frame = study_or_frame.reset_index(drop=True).copy()
    else:
        raise TypeError(f"expected a Study or a DataFrame, got {type(study_or_frame).__name__}")
    needed = [outcome, therapist, *preds.values()]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataValidationError(
            [
                {
                    "file": "clients",
                    "row": None,
                    "column": c,
                    "value": None,
                    "problem": f"model column {c!r} is not in the data",
                }
                for c in missing
            ]
        )
    client = "client_id" if "client_id" in frame.columns else None
    counts = []
    keep = np.ones(len(frame), dtype=bool)
    for col, reason in (
        [(outcome, f"missing outcome {outcome!r}")]
        + [(c, f"missing predictor {c!r}") for c in preds.values()]
        + [(therapist, f"missing {therapist!r}")]
    ):
        hit = keep & frame[col].isna().to_numpy()
        if hit.any():
            n_cl = int(frame.loc[hit, client].nunique()) if client else int(hit.sum())
            counts.append((reason, int(hit.sum()), n_cl))
        keep &= ~hit
    exclusions = pd.DataFrame(counts, columns=["reason", "n_rows", "n_clients"])
    data = frame.loc[keep].reset_index(drop=True)
    if data.empty:
        raise ModelSpecError("no clients left to fit after the exclusions")
    centres: dict[str, float] = {}
    for name, col in preds.items():
        if _is_categorical(data[col]):
            data[name] = data[col].astype(str)
        else:
            centres[name] = float(data[col].mean()) if center else 0.0
            data[name] = data[col].astype(float) - centres[name]
    data[outcome] = data[outcome].astype(float)
    rhs = " + ".join(preds) if preds else "1"
    formula = f"{outcome} ~ {rhs}"

    if method == "gee":
        fit = gee(formula, data, groups=therapist, cov_struct="exchangeable")
    else:
        fit = glmm(f"{formula} + (1 | {therapist})", data, nagq=nagq)
    return BinaryModel(
        fit=fit, method=method, formula=formula, data=data, exclusions=exclusions, centres=centres
    )
