"""Plain-language interpretations of the effects of an :class:`OutcomeModel`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .outcome_model import OutcomeModel

__all__ = ["interpret"]


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def _within_phrase(model: OutcomeModel) -> tuple[str, str]:
    """Lead-in and outcome timing of the within-client interpretation, by lag."""
    k = model.spec.lag
    if k == 0:
        return "in a session with", ""
    if k == 1:
        return "after a session with", " at the next session"
    return f"{k} sessions after a session with", ""


def interpret(
    model: OutcomeModel, row: tuple, est: float, lo: float, hi: float, level: float
) -> str:
    """The sentence of one row of :meth:`OutcomeModel.effects` (per SD of continuous predictors).

    ``row`` is ``(term, effect, sd, kind, time term)``; ``est``, ``lo`` and ``hi`` are per
    unit of the predictor. Slopes are stated per unit of their time term (per session, per
    unit of log(1 + sessions), per session in a phase). Wording states associations only:
    no causal words.
    """
    term, _, sd, kind, time_term = row
    per = model.time_scale.per(time_term) if time_term is not None else "per session"
    y = model.outcome
    pct = f"{100 * level:g}% CI"
    scale = 1.0 if np.isnan(sd) else sd
    est, lo, hi = est * scale, lo * scale, hi * scale
    good = -1.0 if model.higher_is_worse else 1.0  # sign of improvement
    if kind == "time":
        word = "improved" if est * good > 0 else "worsened"
        return (
            f"{per}, the average client {word} by {_fmt(abs(est))} {y} points "
            f"(change {_fmt(est)}, {pct} {_fmt(lo)} to {_fmt(hi)}){_read_back(model, est)}"
        )
    who = _who(model, term, time_term)
    if kind == "slope":
        faster = est * good
        word = "faster" if faster > 0 else "more slowly"
        a, b = sorted((lo * good, hi * good)) if faster > 0 else sorted((-hi * good, -lo * good))
        return (
            f"{per}, {who} improved {_fmt(abs(est))} {y} points {word} "
            f"({pct} {_fmt(a)} to {_fmt(b)})"
        )
    if kind == "within":
        word = "higher" if est > 0 else "lower"
        a, b = (lo, hi) if est > 0 else (-hi, -lo)
        own = "own trend line" if model.spec.detrend else "own mean"
        given = f", at the same previous {y} relative to the client's {own}"
        return (
            f"{_within_phrase(model)[0]} {term.split('_within')[0]} one SD above the "
            f"client's {own}, {y}{_within_phrase(model)[1]} was {_fmt(abs(est))} points "
            f"{word} ({pct} {_fmt(a)} to {_fmt(b)}){given if model.spec.prior_name else ''}; "
            "a within-client association over time, not evidence of cause"
        )
    word = "higher" if est > 0 else "lower"
    a, b = (lo, hi) if est > 0 else (-hi, -lo)
    return (
        f"at intake, {who} scored {_fmt(abs(est))} {y} points {word} ({pct} {_fmt(a)} to {_fmt(b)})"
    )


def _read_back(model: OutcomeModel, est: float) -> str:
    """With log time: the slope read back as change in sessions (to 4 sessions after the first)."""
    if model.time_scale.method != "log":
        return ""
    return f"; from the first session to 4 sessions later, a change of {_fmt(est * np.log(5.0))}"


def _who(model: OutcomeModel, name: str, time_term: str | None = None) -> str:
    piece = model._piece(name, time_term)
    for term in model.slope_terms:
        for p, lv in model._coded(term):
            if piece == p:
                if lv is not None:
                    return f"clients with {term} = {lv} (vs {model.spec.levels[term][0]})"
                if term.endswith("_between"):
                    return f"clients one SD higher in mean {term[: -len('_between')]}"
                return f"clients one SD higher in {term}"
    return "clients"
