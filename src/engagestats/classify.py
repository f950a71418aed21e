"""Intake classification: URICA readiness stage and motivation type."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._validate import as_table, check_choice, renamed_arguments
from .errors import DataValidationError
from .scoring import ensure_scores
from .study import CLIENT, Study

__all__ = [
    "ATTC_CENTROIDS",
    "CONVENTIONAL_CUTOFFS",
    "MOTIVATION_TYPES",
    "READINESS_STAGES",
    "motivation_type",
    "readiness_stage",
]

#: Stages of :func:`readiness_stage`, least ready first.
READINESS_STAGES = ("precontemplation", "contemplation", "action")
#: Group means of the URICA readiness score (Mid-Atlantic ATTC scoring guide).
ATTC_CENTROIDS: dict[str, float] = {
    "precontemplation": 9.3,
    "contemplation": 11.0,
    "action": 12.6,
}
#: Conventional (not normed) upper edges: <= 8 precontemplation, <= 11 contemplation.
CONVENTIONAL_CUTOFFS = (8.0, 11.0)
#: Levels of :func:`motivation_type`.
MOTIVATION_TYPES = ("low_motivation", "controlled_dominant", "balanced", "autonomous_dominant")


def _frame(data: Any, columns: Sequence[str]) -> pd.DataFrame:
    """The clients table of a Study, a DataFrame, or a Series named after ``columns[0]``.

    Missing score columns of a Study or DataFrame are scored from their items
    (:func:`engagestats.scoring.ensure_scores`, the instruments' own rules).
    """
    if isinstance(data, Study | pd.DataFrame):
        return ensure_scores(as_table(data, "clients"), columns, table="clients")
    if isinstance(data, pd.Series):
        return data.rename(columns[0]).to_frame()
    return pd.Series(np.asarray(data, dtype=float), name=columns[0]).to_frame()


def _keys(table: pd.DataFrame, client: str) -> pd.DataFrame:
    return (
        table[[client]].reset_index(drop=True)
        if client in table.columns
        else pd.DataFrame(index=pd.RangeIndex(len(table)))
    )


def readiness_stage(
    data: Any,
    *,
    score: str = "urica_readiness",
    method: Literal["centroid", "cutoffs"] = "centroid",
    centroids: Mapping[str, float] | None = None,
    cutoffs: Sequence[float] = CONVENTIONAL_CUTOFFS,
    right: bool = True,
    client: str = CLIENT,
) -> pd.DataFrame:
    """Stage of change from the URICA readiness (second-order) score.

    Parameters
    ----------
    data : Study, DataFrame, Series or array-like
        A study (its clients table), a table with the ``score`` column (scored
        from ``urica_*`` items with :func:`engagestats.score` when missing),
        or the readiness scores themselves.
    score : str, default "urica_readiness"
        Readiness column: mean(C) + mean(A) + mean(M) - mean(PC), -2 to 14.
    method : {"centroid", "cutoffs"}, default "centroid"
        ``"centroid"``: the stage whose group mean is nearest (the ATTC
        method). ``"cutoffs"``: fixed edges.
    centroids : mapping, optional
        Stage name to group mean, default :data:`ATTC_CENTROIDS`
        (precontemplation 9.3, contemplation 11.0, action 12.6).
    cutoffs : pair of float, default (8, 11)
        Upper edges of precontemplation and contemplation for
        ``method="cutoffs"``. These are conventional, **not normed**: the
        often quoted "<= 8 / 8-11 / 11-14" cut points could not be traced to
        a validation study. Set your own.
    right : bool, default True
        With ``cutoffs``: True puts a score equal to an edge in the lower
        (less ready) stage, ``(-inf, 8], (8, 11], (11, inf)``; False puts it
        in the upper one, ``(-inf, 8), [8, 11), [11, inf)``.
    client : str
        Key column carried into the result when present.

    Returns
    -------
    DataFrame
        One row per input row: ``client_id`` (when present), ``readiness``
        and ``stage`` (ordered categorical, least ready first; missing when
        the score is missing).

    Notes
    -----
    Centroid method: stage :math:`= \\arg\\min_s |x - m_s|`; a score exactly
    halfway between two means (within 1e-9) goes to the less ready stage. With the ATTC
    means the boundaries are 10.15 and 11.8. The ATTC gives no mean for
    maintenance, so no score is classified as maintenance. The HABITS Lab
    scoring notes call URICA stage cut-offs essentially arbitrary and
    suggest reading them as least, middle and most ready.

    References
    ----------
    McConnaughy, E. A., Prochaska, J. O., & Velicer, W. F. (1983). Stages of
    change in psychotherapy: measurement and sample profiles.
    *Psychotherapy: Theory, Research & Practice, 20*(3), 368-375.
    Mid-Atlantic Addiction Technology Transfer Center, URICA scoring guide
    (vcu.edu/vattc/uricascoring.html).

    Examples
    --------
    >>> readiness_stage([8.0, 10.15, 10.2, 12.0])["stage"].tolist()
    ['precontemplation', 'precontemplation', 'contemplation', 'action']
    >>> readiness_stage([8.0, 11.0, 11.5], method="cutoffs")["stage"].tolist()
    ['precontemplation', 'contemplation', 'action']
    """
    check_choice(method, ("centroid", "cutoffs"), name="method")
    table = _frame(data, [score])
    x = table[score].to_numpy(dtype=float)
    if method == "centroid":
        cents = dict(ATTC_CENTROIDS if centroids is None else centroids)
        if len(cents) < 2:
            raise DataValidationError.for_argument(
                "centroids", cents, "centroids must give the means of at least two stages"
            )
        order = sorted(cents, key=cents.__getitem__)
        means = np.array([cents[s] for s in order], dtype=float)
        dist = np.abs(x[:, None] - means[None, :])
        with np.errstate(invalid="ignore"):
            best = np.min(dist, axis=1, keepdims=True)
            # first stage within 1e-9 of the minimum: ties go to the less ready stage
            idx = np.argmax(dist <= best + 1e-9, axis=1)
        labels = np.array(order, dtype=object)[idx]
        levels = order
    else:
        cuts = [float(c) for c in cutoffs]
        if len(cuts) != len(READINESS_STAGES) - 1 or cuts[0] >= cuts[1]:
            raise DataValidationError.for_argument(
                "cutoffs", cutoffs, "cutoffs must be two increasing edges"
            )
        bins = np.searchsorted(cuts, x, side="left" if right else "right")
        labels = np.array(READINESS_STAGES, dtype=object)[bins]
        levels = list(READINESS_STAGES)
    labels[np.isnan(x)] = None
    out = _keys(table, client)
    out["readiness"] = x
    out["stage"] = pd.Categorical(labels, categories=levels, ordered=True)
    return out


@renamed_arguments(scores="data")
def motivation_type(
    data: Any,
    *,
    autonomous: str = "srq_autonomous",
    controlled: str = "srq_controlled",
    threshold: float = 4.0,
    client: str = CLIENT,
) -> pd.DataFrame:
    """Relative autonomy index and a motivation type from two subscale means.

    Parameters
    ----------
    data : Study or DataFrame
        A study (its clients table) or a table with the two subscale means
        (scored with :func:`engagestats.score` when missing and items exist).
        (``scores=``, its former name, is deprecated.)
    autonomous, controlled : str
        Subscale mean columns (``srq_autonomous``, ``srq_controlled``).
    threshold : float, default 4.0
        Below this on both subscales the client counts as low in motivation;
        the default is the midpoint of a 1-7 response scale.
    client : str
        Key column carried into the result when present.

    Returns
    -------
    DataFrame
        ``client_id`` (when present), ``autonomous``, ``controlled``,
        ``rai`` (autonomous - controlled) and ``motivation_type`` (ordered
        categorical: ``low_motivation`` < ``controlled_dominant`` <
        ``balanced`` < ``autonomous_dominant``).

    Notes
    -----
    :math:`RAI = A - C` (the two-subscale relative autonomy index of the
    Treatment Self-Regulation Questionnaire). Rules, in order:

    1. ``low_motivation`` when :math:`A < t` and :math:`C < t`;
    2. ``autonomous_dominant`` when :math:`A > C`;
    3. ``controlled_dominant`` when :math:`C > A`;
    4. ``balanced`` when :math:`A = C` (neither dominates).

    Missing subscales give a missing type.

    References
    ----------
    Ryan, R. M., & Connell, J. P. (1989). Perceived locus of causality and
    internalization. *J Pers Soc Psychol, 57*(5), 749-761.
    Williams, G. C., Freedman, Z. R., & Deci, E. L. (1998). Supporting
    autonomy to motivate patients with diabetes for glucose control.
    *Diabetes Care, 21*(10), 1644-1651.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"srq_autonomous": [6.0, 3.0, 2.0, 5.0],
    ...                    "srq_controlled": [3.0, 5.5, 3.0, 5.0]})
    >>> motivation_type(df)[["rai", "motivation_type"]]
       rai      motivation_type
    0  3.0  autonomous_dominant
    1 -2.5  controlled_dominant
    2 -1.0       low_motivation
    3  0.0             balanced
    """
    table = _frame(data, [autonomous, controlled])
    a = table[autonomous].to_numpy(dtype=float)
    c = table[controlled].to_numpy(dtype=float)
    rai = a - c
    kind = np.full(a.shape, "balanced", dtype=object)
    kind[a > c] = "autonomous_dominant"
    kind[c > a] = "controlled_dominant"
    kind[(a < threshold) & (c < threshold)] = "low_motivation"
    kind[np.isnan(rai)] = None
    out = _keys(table, client)
    out["autonomous"] = a
    out["controlled"] = c
    out["rai"] = rai
    out["motivation_type"] = pd.Categorical(kind, categories=MOTIVATION_TYPES, ordered=True)
    return out
