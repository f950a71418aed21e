"""What each effect of a growth model estimates, in words (the ``estimand`` column).

The rule is the covariate set of the model, read from its :class:`PanelSpec`:

- an intake predictor's effect is a **total effect** (given the other intake covariates)
  when the model holds only intake covariates;
- it is a **controlled direct effect** when the model also holds post-intake variables
  (the time-varying predictors' between and within parts: the alliance, say), which can
  lie on the path from the intake variable to the outcome (VanderWeele 2015, ch. 2;
  methods review H1). Neither is labelled causal: both are conditional associations
  whose causal reading needs no unmeasured confounding (and, for the direct effect, no
  mediator-outcome confounding either).
- between parts of time-varying predictors are post-intake client-level associations;
- within parts are within-client, prospective associations (Curran & Bauer 2011).
"""

from __future__ import annotations

from ._panel import PanelSpec

__all__ = ["estimand"]


def _others(spec: PanelSpec, term: str) -> str:
    others = [p for p in spec.predictors if p != term]
    return ", ".join(others) if others else "no other intake covariate"


def _post_intake(spec: PanelSpec) -> str:
    return ", ".join(spec.time_varying)


def _base(spec: PanelSpec, term: str) -> str:
    """The base term of a coded piece (``stageaction`` -> ``stage``)."""
    for t in [*spec.predictors, *(f"{v}_between" for v in spec.time_varying)]:
        if term == t or (spec.kinds.get(t) == "categorical" and term.startswith(t)):
            return t
    return term


def estimand(spec: PanelSpec, term: str, kind: str, *, time_term: str | None = None) -> str:
    """The estimand of one row of :meth:`OutcomeModel.effects`.

    Parameters
    ----------
    spec : PanelSpec
        The model's coding spec.
    term : str
        The coded term (lme4 name of the main effect piece, without ``time:``).
    kind : {"time", "level", "slope", "within"}
        The row kind of ``effects()``.
    time_term : str, optional
        The time term of a time or slope row (``time``, ``log_time``, ``time_p1``, ...):
        the rate is per unit of it (``TimeScale.per``); ``time``'s wording is unchanged.
    """
    if kind == "time":
        per = spec.time_scale.per(time_term or "time")
        return f"average rate of change {per} (at the centre of the predictors)"
    what = "intake level" if kind == "level" else "rate of change"
    if kind == "slope" and time_term not in (None, "time"):
        what = f"rate of change {spec.time_scale.per(time_term)}"
    if kind == "within":
        name = term.split("_within")[0]
        parts = ["within client, prospective association"]
        parts.append(
            f"{name} relative to the client's own "
            + ("trend" if spec.detrend else "mean")
            + (f", {spec.lag} session(s) earlier" if spec.lag else ", same session")
        )
        if spec.prior_outcome != "none":
            parts.append("net of the prior outcome")
        return "; ".join(parts)
    base = _base(spec, term)
    if base.endswith("_between") and base[: -len("_between")] in spec.time_varying:
        span = (
            f"first {spec.early_sessions} sessions" if spec.between == "early" else "all sessions"
        )
        return (
            f"between clients, {what}: client mean {base[: -len('_between')]} over {span} "
            "(measured after intake, partly a consequence of change)"
        )
    if spec.time_varying:
        return (
            f"between clients, {what}; controlled direct effect: adjusted for "
            f"{_others(spec, base)} and for the post-intake {_post_intake(spec)} "
            "(a possible mediator), so not a total effect"
        )
    return f"between clients, {what}; total effect given {_others(spec, base)}"
