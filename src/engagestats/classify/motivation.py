"""SDT motivation at intake: the relative autonomy index and a 2 x 2 quantity/quality profile."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from .._validate import renamed_arguments
from ..errors import DataValidationError
from ..scoring import ScoringPolicy, ensure_scores, policy_for, state_policy
from ..study import CLIENT
from .readiness import _frame, _keys

__all__ = ["MOTIVATION_TYPES", "motivation_type"]

#: Levels of :func:`motivation_type` (Vansteenkiste et al. 2009): low A low C, low A high C,
#: high A high C, high A low C.
MOTIVATION_TYPES = ("low_quantity", "poor_quality", "high_quantity", "good_quality")


def _split_value(values: np.ndarray, split: Any, name: str) -> float:
    if isinstance(split, str):
        if split not in ("median", "mean"):
            raise DataValidationError.for_argument(
                "split", split, 'split must be "median", "mean" or a pair of numbers'
            )
        ok = values[~np.isnan(values)]
        if ok.size == 0:
            return float("nan")
        return float(np.median(ok) if split == "median" else np.mean(ok))
    value = float(split)
    if not np.isfinite(value):
        raise DataValidationError.for_argument("split", split, f"the {name} split must be finite")
    return value


@renamed_arguments(scores="data")
def motivation_type(
    data: Any,
    *,
    autonomous: str = "srq_autonomous",
    controlled: str = "srq_controlled",
    amotivation: str | None = "srq_amotivation",
    split: Literal["median", "mean"] | tuple[float, float] = "median",
    policy: ScoringPolicy | None = None,
    client: str = CLIENT,
) -> pd.DataFrame:
    """Relative autonomy index, and a quantity/quality motivation profile from two subscales.

    The continuous RAI (or the two subscales) is the predictor for analyses;
    the profile describes the sample.

    Parameters
    ----------
    data : Study or DataFrame
        A study (its clients table) or a table with the subscale means
        (scored under ``policy`` when missing and the items exist).
        (``scores=``, its former name, is deprecated.)
    autonomous, controlled : str
        Subscale mean columns (``srq_autonomous``, ``srq_controlled``).
    amotivation : str or None, default "srq_amotivation"
        Amotivation subscale, carried into the result when present or
        scorable (the instrument may not have one); None leaves it out.
    split : {"median", "mean"} or pair of float, default "median"
        Where "high" starts: the sample median (or mean) of each subscale
        over the clients with both, or fixed ``(autonomous, controlled)``
        values. A client is high when strictly above the split.
    policy : ScoringPolicy, optional
        Rule for scoring missing subscales: by default the study's own
        (:attr:`Study.scoring_policy <engagestats.Study.scoring_policy>`), or
        :data:`~engagestats.scoring.PRORATE_80` (the analyses' rule) for a
        table. The result records it in ``attrs["scoring_policy"]``.
    client : str
        Key column carried into the result when present.

    Returns
    -------
    DataFrame
        ``client_id`` (when present), ``autonomous``, ``controlled``,
        ``amotivation`` (when available), ``rai`` (autonomous - controlled)
        and ``motivation_type`` (categorical, :data:`MOTIVATION_TYPES`);
        ``attrs["splits"]`` holds the two split values used.

    Notes
    -----
    :math:`RAI = A - C` (the two-subscale relative autonomy index of the
    Treatment Self-Regulation Questionnaire). With the splits
    :math:`s_A, s_C` (sample medians by default), the profile crosses the
    quantity and the quality of motivation:

    * ``good_quality``: :math:`A > s_A`, :math:`C \\le s_C`;
    * ``high_quantity``: :math:`A > s_A`, :math:`C > s_C`;
    * ``poor_quality``: :math:`A \\le s_A`, :math:`C > s_C`;
    * ``low_quantity``: :math:`A \\le s_A`, :math:`C \\le s_C`.

    These are the four profiles Vansteenkiste et al. (2009) found by cluster
    analysis; median splits are a sample-relative stand-in, so the same
    client can change profile in another sample. Amotivation is reported but
    not crossed: the 2 x 2 uses autonomous and controlled motivation only
    (Ratelle et al. 2007 cluster on amotivation as well). Missing subscales
    give a missing type.

    References
    ----------
    Vansteenkiste, M., Sierens, E., Soenens, B., Luyckx, K., & Lens, W.
    (2009). Motivational profiles from a self-determination perspective: the
    quality of motivation matters. *J Educ Psychol, 101*(3), 671-688.
    Ratelle, C. F., Guay, F., Vallerand, R. J., Larose, S., & Senecal, C.
    (2007). Autonomous, controlled, and amotivated types of academic
    motivation: a person-oriented analysis. *J Educ Psychol, 99*(4), 734-746.
    Ryan, R. M., & Connell, J. P. (1989). Perceived locus of causality and
    internalization. *J Pers Soc Psychol, 57*(5), 749-761.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"srq_autonomous": [6.0, 3.0, 2.0, 5.0],
    ...                    "srq_controlled": [3.0, 5.5, 3.0, 5.0]})
    >>> motivation_type(df)[["rai", "motivation_type"]]
       rai motivation_type
    0  3.0    good_quality
    1 -2.5    poor_quality
    2 -1.0    low_quantity
    3  0.0   high_quantity
    """
    wanted = [autonomous, controlled]
    table = _frame(data, wanted, policy)
    if amotivation is not None and amotivation not in table.columns:
        if isinstance(data, pd.DataFrame) or hasattr(data, "clients"):
            rule = policy_for(data, policy)
            table = ensure_scores(table, [amotivation], policy=rule, errors="ignore")
    a = table[autonomous].to_numpy(dtype=float)
    c = table[controlled].to_numpy(dtype=float)
    both = ~(np.isnan(a) | np.isnan(c))
    if isinstance(split, str):
        s_a = _split_value(np.where(both, a, np.nan), split, "autonomous")
        s_c = _split_value(np.where(both, c, np.nan), split, "controlled")
    else:
        if len(split) != 2:
            raise DataValidationError.for_argument(
                "split", split, "give two split values, (autonomous, controlled)"
            )
        s_a = _split_value(a, split[0], "autonomous")
        s_c = _split_value(c, split[1], "controlled")
    high_a, high_c = a > s_a, c > s_c
    kind = np.empty(a.shape, dtype=object)
    kind[~high_a & ~high_c] = "low_quantity"
    kind[~high_a & high_c] = "poor_quality"
    kind[high_a & high_c] = "high_quantity"
    kind[high_a & ~high_c] = "good_quality"
    kind[~both] = None
    out = _keys(table, client)
    out["autonomous"] = a
    out["controlled"] = c
    if amotivation is not None and amotivation in table.columns:
        out["amotivation"] = table[amotivation].to_numpy(dtype=float)
    out["rai"] = a - c
    out["motivation_type"] = pd.Categorical(kind, categories=MOTIVATION_TYPES)
    out.attrs["splits"] = {"autonomous": s_a, "controlled": s_c}
    if isinstance(data, pd.DataFrame) or hasattr(data, "clients"):
        state_policy(out, policy_for(data, policy))
    return out
