"""Private: the formula of a growth model and the outcome's direction (for :mod:`.growth`).

Every data-derived name in the formula (outcome, predictors, moderators, grouping columns)
passes through :func:`engagestats.models.formula.quote_name`, so ``"x-1"`` or ``"my var"``
is one column, never an expression.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import instruments
from ..models.formula import quote_name
from ..study import CLIENT, THERAPIST
from ._panel import PanelSpec
from ._time_scale import TimeScale

__all__ = ["growth_formula", "outcome_direction"]


def outcome_direction(outcome: str) -> bool | None:
    """Whether a higher ``outcome`` is worse, from its instrument; None when unknown.

    The instrument is the registered (or example) one whose name begins the
    column (``phq9_total``, ``wai_sr_sum``: the longest such name); its
    ``direction`` says what a higher score means.

    Examples
    --------
    >>> outcome_direction("phq9_total"), outcome_direction("wai_sr_sum")
    (True, False)
    >>> outcome_direction("bdi_total") is None
    True
    """
    column = str(outcome).lower()
    names = [*instruments.available(), *instruments.example_names()]
    stems = [n for n in names if column.startswith(n + "_")]
    if not stems:
        return None
    inst = instruments.resolve(max(stems, key=len), examples=True)
    return inst.direction == "higher_is_worse"


def growth_formula(
    outcome: str,
    *,
    predictors: Sequence[str] = (),
    time_varying: Sequence[str] = (),
    moderators: Sequence[str] = (),
    client: str = CLIENT,
    therapist: str | None = THERAPIST,
    random_slope: bool = True,
    lag: int = 1,
    prior: str | None = None,
    therapist_slope: bool = False,
    time_method: str = "session",
    knots: Sequence[float] | None = None,
) -> str:
    """The lme4 formula of a growth model (the one :func:`growth_model` fits).

    Parameters
    ----------
    outcome : str
        Outcome column.
    predictors : sequence of str
        Intake (time-invariant) predictors; each interacts with ``time``.
    time_varying : sequence of str
        Time-varying predictors ``x``: ``x_between`` interacts with ``time``;
        ``x_within_lag`` (``lag=1``; ``x_within`` for ``lag=0``,
        ``x_within_lag<k>`` otherwise) enters as a main effect.
    moderators : sequence of str
        Each adds ``moderator * time * (predictors)``: its main effect, its
        interaction with time and the three-way interactions.
    client, therapist : str
        Grouping columns; ``therapist=None`` omits the therapist level.
    random_slope : bool, default True
        ``(1 + time | client)`` (correlated intercept and slope) or ``(1 | client)``.
    lag : int, default 1
        The lag of the within-person parts.
    prior : str, optional
        A prior-outcome term (``phq9_total_prior``), entered as a main effect.
    therapist_slope : bool, default False
        ``(1 + time | therapist)`` (therapist random slope) instead of ``(1 | therapist)``.
    time_method : {"session", "log", "piecewise"}, default "session"
        The time terms: ``time``; ``log_time``; ``time_p1``, ``time_p2``, ... (one per
        phase). Each takes the place of ``time`` above (in the interactions and the
        random slopes), as in :func:`growth_model`.
    knots : sequence of float, optional
        ``time_method="piecewise"``: the knots (sessions since the first); default
        ``[4]``.

    Returns
    -------
    str

    Examples
    --------
    >>> growth_formula("phq9_total", predictors=["autonomous"], time_varying=["alliance"])
    'phq9_total ~ time + autonomous + alliance_between + alliance_within_lag + time:autonomous + time:alliance_between + (1 | therapist_id) + (1 + time | client_id)'
    >>> growth_formula("phq9_total", predictors=["my var"], therapist=None, time_method="piecewise")
    'phq9_total ~ time_p1 + time_p2 + `my var` + time_p1:`my var` + time_p2:`my var` + (1 + time_p1 + time_p2 | client_id)'
    """  # noqa: E501
    q = quote_name
    spec = PanelSpec(outcome, "time", client, therapist, {}, {}, {}, True, lag, "zero", "session")
    times = TimeScale.build(time_method, knots).terms
    slopes = [q(p) for p in predictors] + [q(f"{v}_between") for v in time_varying]
    terms = [*times, *slopes, *[q(spec.within_name(v)) for v in time_varying]]
    terms += [q(prior)] if prior else []
    terms += [f"{t}:{p}" for p in slopes for t in times]
    for m in map(q, moderators):
        terms += [m, *[f"{t}:{m}" for t in times]]
        terms += [f"{p}:{m}" for p in slopes]
        terms += [f"{t}:{p}:{m}" for p in slopes for t in times]
    slope = "1 + " + " + ".join(times)
    random = []
    if therapist is not None:
        random.append(f"({slope} | {q(therapist)})" if therapist_slope else f"(1 | {q(therapist)})")
    random.append(f"({slope} | {q(client)})" if random_slope else f"(1 | {q(client)})")
    return f"{q(outcome)} ~ " + " + ".join(terms + random)
