"""Reliable and clinically significant change (Jacobson & Truax, 1991).

Functions work on plain arrays, Series and DataFrames:

* :func:`reliable_change_threshold` and :func:`reliable_change`: the reliable
  change index (RCI) and its raw-point threshold;
* :func:`clinical_cutoffs`: the cutoffs *a*, *b* and *c*;
* :func:`clinical_significance`: the Jacobson-Truax categories
  (recovered, improved, unchanged, deteriorated, harmed);
* :func:`rates`: proportions with Wilson intervals, overall and by group.

First-to-last change per client from a long sessions table with published
criteria (:func:`~engagestats.change.talking_therapies.instrument_change`) and the NHS
Talking Therapies outcomes live in :mod:`engagestats.change.talking_therapies`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import check_choice, check_level, check_prob, renamed_arguments
from ..errors import DataValidationError

__all__ = [
    "CLINICAL_CATEGORIES",
    "RELIABLE_CATEGORIES",
    "clinical_cutoffs",
    "clinical_significance",
    "reliable_change",
    "reliable_change_threshold",
]

#: Levels of the ``category`` column of :func:`reliable_change`, worst first.
RELIABLE_CATEGORIES = ("reliably_deteriorated", "no_reliable_change", "reliably_improved")
#: Levels of the ``category`` column of :func:`clinical_significance`, worst first.
CLINICAL_CATEGORIES = ("harmed", "deteriorated", "unchanged", "improved", "recovered")

ArrayLike: TypeAlias = Sequence[float] | np.ndarray | pd.Series


def _nullable(values: np.ndarray, missing: np.ndarray) -> pd.arrays.BooleanArray:
    """``values`` as a nullable boolean array, ``<NA>`` where ``missing``."""
    out = pd.array(np.asarray(values, dtype=bool), dtype="boolean")
    out[np.asarray(missing, dtype=bool)] = pd.NA
    return out


# --------------------------------------------------------------------- checks
def _level_of_z(z: float) -> float:
    """The confidence level of a two-sided normal critical value (``z=1.96`` -> 0.95)."""
    return float(2.0 * stats.norm.cdf(z) - 1.0)


#: Shim for the former keyword ``z`` (a critical value), now ``level`` (a confidence level).
_Z_TO_LEVEL = renamed_arguments(z=("level", _level_of_z))


def _critical(level: float) -> float:
    """Two-sided normal critical value of a confidence level (0.95 -> 1.95996)."""
    return float(stats.norm.ppf(0.5 + check_level(level) / 2.0))


def _check_sd_reliability(sd: float, reliability: float) -> None:
    if not np.isfinite(sd) or sd <= 0:
        raise DataValidationError.for_argument("sd", sd, "sd must be a standard deviation > 0")
    check_prob(reliability, name="reliability", closed="neither")


def _as_pair(pre: ArrayLike, post: ArrayLike) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Pre and post as float arrays of equal length, plus the index to keep."""
    index = pre.index if isinstance(pre, pd.Series) else None
    x1 = np.asarray(pre, dtype=float).ravel()
    x2 = np.asarray(post, dtype=float).ravel()
    if x1.shape != x2.shape:
        raise DataValidationError.for_argument(
            "pre/post", f"{x1.size} vs {x2.size}", "pre and post must have the same length"
        )
    if index is None or len(index) != x1.size:
        index = pd.RangeIndex(x1.size)
    return x1, x2, index


def _categorical(values: np.ndarray, levels: Sequence[str]) -> pd.Categorical:
    return pd.Categorical(values, categories=list(levels), ordered=True)


# ------------------------------------------------------------ reliable change
@_Z_TO_LEVEL
def reliable_change_threshold(sd: float, reliability: float, *, level: float = 0.95) -> float:
    """Raw-score change needed for a reliable change (Jacobson & Truax, 1991).

    Parameters
    ----------
    sd : float
        Standard deviation of the pre-treatment (or a norm) sample, ``s1``.
    reliability : float
        Test-retest (or internal-consistency) reliability ``r_xx``, in (0, 1).
    level : float, default 0.95
        Confidence level of the two-sided criterion: the critical value is
        :math:`z = \\Phi^{-1}((1 + level)/2)`, 1.95996 for 0.95 (Jacobson &
        Truax round it to 1.96). ``z=``, the critical value itself, is the
        deprecated former keyword.

    Returns
    -------
    float
        ``z * S_diff``, in raw score points.

    Notes
    -----
    :math:`SE = s_1\\sqrt{1 - r_{xx}}`, :math:`S_{diff} = \\sqrt{2 SE^2}`,
    threshold :math:`= z\\,S_{diff}`.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: a statistical
    approach to defining meaningful change in psychotherapy research. *Journal
    of Consulting and Clinical Psychology, 59*(1), 12-19.

    Examples
    --------
    >>> round(reliable_change_threshold(5, 0.80), 6)
    6.19795
    """
    _check_sd_reliability(sd, reliability)
    return float(_critical(level) * math.sqrt(2.0) * sd * math.sqrt(1.0 - reliability))


@_Z_TO_LEVEL
def reliable_change(
    pre: ArrayLike,
    post: ArrayLike,
    *,
    sd: float,
    reliability: float,
    higher_is_better: bool = False,
    level: float = 0.95,
) -> pd.DataFrame:
    """Jacobson-Truax reliable change index for each client.

    Parameters
    ----------
    pre, post : array-like
        Scores before and after treatment, one per client, in the same order.
        A Series index on ``pre`` is kept as the index of the result.
    sd : float
        Standard deviation ``s1`` of the pre-treatment or norm sample (> 0).
    reliability : float
        Reliability ``r_xx`` of the measure, strictly between 0 and 1.
    higher_is_better : bool, default False
        Direction of the scale. With the default (symptom scales such as
        PHQ-9), a negative change is an improvement.
    level : float, default 0.95
        Confidence level of the criterion, as in
        :func:`reliable_change_threshold` (``z=`` is deprecated).

    Returns
    -------
    DataFrame
        One row per client with columns ``pre``, ``post``, ``change``
        (post - pre), ``rci`` and ``category`` (ordered categorical:
        ``reliably_deteriorated`` < ``no_reliable_change`` <
        ``reliably_improved``). Clients with a missing score keep their row
        with ``rci`` and ``category`` missing. The threshold in raw points
        is :func:`reliable_change_threshold` of the same ``sd``,
        ``reliability`` and ``level``.

    Notes
    -----
    :math:`SE = s_1\\sqrt{1 - r_{xx}}`, :math:`S_{diff} = \\sqrt{2 SE^2}` and
    :math:`RC = (x_2 - x_1) / S_{diff}`. A client changed reliably when
    :math:`|RC| > z`, :math:`z = \\Phi^{-1}((1 + level)/2)` (strict inequality, as in the R package
    ``clinicalsignificance``); the sign and ``higher_is_better`` decide
    whether that is an improvement or a deterioration.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). *J Consult Clin Psychol, 59*(1),
    12-19. doi:10.1037/0022-006X.59.1.12

    Examples
    --------
    >>> out = reliable_change([20, 20, 20], [12, 19, 28], sd=5, reliability=0.8)
    >>> out[["change", "rci", "category"]].round(3)
       change    rci            category
    0    -8.0 -2.530   reliably_improved
    1    -1.0 -0.316  no_reliable_change
    2     8.0  2.530  reliably_deteriorated
    """
    _check_sd_reliability(sd, reliability)
    z = _critical(level)
    x1, x2, index = _as_pair(pre, post)
    se = sd * math.sqrt(1.0 - reliability)
    s_diff = math.sqrt(2.0 * se**2)
    change = x2 - x1
    rci = change / s_diff
    sign = 1.0 if higher_is_better else -1.0
    improved = sign * rci > z
    deteriorated = sign * rci < -z
    cat = np.where(improved, RELIABLE_CATEGORIES[2], RELIABLE_CATEGORIES[1]).astype(object)
    cat[deteriorated] = RELIABLE_CATEGORIES[0]
    cat[np.isnan(rci)] = None
    out = pd.DataFrame(
        {
            "pre": x1,
            "post": x2,
            "change": change,
            "rci": rci,
            "category": _categorical(cat, RELIABLE_CATEGORIES),
        },
        index=index,
    )
    return out


# ------------------------------------------------------------------- cutoffs
def clinical_cutoffs(
    *,
    clinical_mean: float,
    clinical_sd: float,
    functional_mean: float | None = None,
    functional_sd: float | None = None,
    higher_is_better: bool = False,
) -> pd.Series:
    """Jacobson-Truax cutoffs *a*, *b* and *c* between dysfunction and function.

    Parameters
    ----------
    clinical_mean, clinical_sd : float
        Mean and SD of the dysfunctional (clinical or pre-treatment) population.
    functional_mean, functional_sd : float, optional
        Mean and SD of the functional (normative) population; *b* and *c*
        are missing without them.
    higher_is_better : bool, default False
        Direction of the scale.

    Returns
    -------
    Series
        Indexed ``a``, ``b``, ``c`` (float; NaN when not computable).

    Notes
    -----
    With :math:`d = +1` when higher is better and :math:`-1` otherwise:

    * :math:`a = M_{clin} + 2 d\\,SD_{clin}` (two SDs beyond the dysfunctional mean),
    * :math:`b = M_{func} - 2 d\\,SD_{func}` (within two SDs of the functional mean),
    * :math:`c = (SD_{clin} M_{func} + SD_{func} M_{clin}) / (SD_{clin} + SD_{func})`.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). *J Consult Clin Psychol, 59*(1), 12-19.

    Examples
    --------
    >>> clinical_cutoffs(clinical_mean=40, clinical_sd=7.5, functional_mean=60,
    ...                  functional_sd=7.5, higher_is_better=True)
    a    55.0
    b    45.0
    c    50.0
    dtype: float64
    """
    for name, value in (("clinical_sd", clinical_sd), ("functional_sd", functional_sd)):
        if value is not None and (not np.isfinite(value) or value <= 0):
            raise DataValidationError.for_argument(
                name, value, f"{name} must be a standard deviation > 0"
            )
    d = 1.0 if higher_is_better else -1.0
    a = clinical_mean + d * 2.0 * clinical_sd
    b = c = np.nan
    if functional_mean is not None and functional_sd is not None:
        b = functional_mean - d * 2.0 * functional_sd
        c = (clinical_sd * functional_mean + functional_sd * clinical_mean) / (
            clinical_sd + functional_sd
        )
    return pd.Series({"a": float(a), "b": float(b), "c": float(c)}, dtype=float)


def _dysfunctional(x: np.ndarray, cutoff: float, higher_is_better: bool) -> np.ndarray:
    """True on the dysfunctional side of the cutoff (the cutoff itself included)."""
    return x <= cutoff if higher_is_better else x >= cutoff


def _jt_categories(
    reliable: pd.Categorical,
    pre_dys: np.ndarray,
    post_dys: np.ndarray,
    missing: np.ndarray,
    harmed: bool,
) -> pd.Categorical:
    rel = np.asarray(reliable.astype(object))
    cat = np.full(rel.shape, "unchanged", dtype=object)
    imp = rel == RELIABLE_CATEGORIES[2]
    det = rel == RELIABLE_CATEGORIES[0]
    cat[imp] = "improved"
    cat[imp & pre_dys & ~post_dys] = "recovered"
    cat[det] = "deteriorated"
    if harmed:
        cat[det & ~pre_dys & post_dys] = "harmed"
    cat[missing] = None
    return _categorical(cat, CLINICAL_CATEGORIES)


@_Z_TO_LEVEL
def clinical_significance(
    pre: ArrayLike,
    post: ArrayLike,
    *,
    sd: float,
    reliability: float,
    cutoff: float | None = None,
    cutoff_type: Literal["a", "b", "c"] | None = None,
    clinical_mean: float | None = None,
    clinical_sd: float | None = None,
    functional_mean: float | None = None,
    functional_sd: float | None = None,
    higher_is_better: bool = False,
    level: float = 0.95,
    harmed: bool = True,
) -> pd.DataFrame:
    """Jacobson-Truax clinical significance categories for each client.

    Parameters
    ----------
    pre, post : array-like
        Scores before and after treatment, one per client.
    sd, reliability, level, higher_is_better
        As in :func:`reliable_change` (``z=`` is deprecated).
    cutoff : float, optional
        The cutoff score (e.g. a published caseness threshold). Give either
        ``cutoff`` or ``cutoff_type``.
    cutoff_type : {"a", "b", "c"}, optional
        Compute the cutoff with :func:`clinical_cutoffs`. ``clinical_mean``
        and ``clinical_sd`` default to the mean and SD (ddof 1) of ``pre``;
        *b* and *c* need ``functional_mean`` and ``functional_sd``.
    clinical_mean, clinical_sd, functional_mean, functional_sd : float, optional
        Norms for ``cutoff_type``.
    harmed : bool, default True
        Separate ``harmed`` from ``deteriorated`` (see Notes). With False,
        every reliable deterioration is ``deteriorated``.

    Returns
    -------
    DataFrame
        One row per client: ``pre``, ``post``, ``change``, ``rci``,
        ``reliable_change`` (the category of :func:`reliable_change`),
        ``dysfunctional_pre``, ``dysfunctional_post`` (bool), ``cutoff`` (the
        cutoff applied, the same on every row: ``cutoff`` or the one computed
        for ``cutoff_type``) and ``category`` (ordered: ``harmed`` <
        ``deteriorated`` < ``unchanged`` < ``improved`` < ``recovered``).

    Notes
    -----
    A score is *dysfunctional* when it lies on the clinical side of the
    cutoff, the cutoff included (``score >= cutoff`` for symptom scales,
    ``score <= cutoff`` when higher is better), matching the caseness rule of
    the instrument registry. Categories:

    * ``recovered``: reliably improved (:math:`|RC| > z`) and moved from the
      dysfunctional to the functional range;
    * ``improved``: reliably improved without that crossing;
    * ``unchanged``: no reliable change;
    * ``deteriorated``: reliably deteriorated;
    * ``harmed``: reliably deteriorated and moved from the functional into
      the dysfunctional range (the mirror image of ``recovered``, as in the
      ``clinicalsignificance`` R package).

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). *J Consult Clin Psychol, 59*(1), 12-19.

    Examples
    --------
    >>> out = clinical_significance([15, 20, 15, 5], [4, 12, 15, 12], sd=5,
    ...                             reliability=0.8, cutoff=10)
    >>> out["category"].tolist()
    ['recovered', 'improved', 'unchanged', 'harmed']
    """
    if (cutoff is None) == (cutoff_type is None):
        raise DataValidationError.for_argument(
            "cutoff",
            f"cutoff={cutoff}, cutoff_type={cutoff_type}",
            "give exactly one of cutoff and cutoff_type",
        )
    rc = reliable_change(
        pre, post, sd=sd, reliability=reliability, higher_is_better=higher_is_better, level=level
    )
    if cutoff_type is not None:
        check_choice(cutoff_type, ("a", "b", "c"), name="cutoff_type")
        x_pre = rc["pre"].dropna()
        if cutoff_type in ("b", "c") and (functional_mean is None or functional_sd is None):
            raise DataValidationError.for_argument(
                "functional_mean/functional_sd",
                None,
                f"cutoff {cutoff_type!r} needs the functional norms (functional_mean and "
                "functional_sd)",
            )
        if cutoff_type == "b":
            clinical_mean, clinical_sd = 0.0, 1.0  # b does not depend on them
        if (clinical_mean is None or clinical_sd is None) and len(x_pre) < 2:
            raise DataValidationError.for_argument(
                "pre",
                str(len(x_pre)),
                "the clinical norms need clinical_mean and clinical_sd, or two or more pre "
                "scores to estimate them",
            )
        cm = float(x_pre.mean()) if clinical_mean is None else clinical_mean
        cs = float(x_pre.std(ddof=1)) if clinical_sd is None else clinical_sd
        cuts = clinical_cutoffs(
            clinical_mean=cm,
            clinical_sd=cs,
            functional_mean=functional_mean,
            functional_sd=functional_sd,
            higher_is_better=higher_is_better,
        )
        cutoff = float(cuts[cutoff_type])
    x1 = rc["pre"].to_numpy()
    x2 = rc["post"].to_numpy()
    cut = float(cutoff)  # type: ignore[arg-type]  # given, or set from cutoff_type above
    pre_dys = _dysfunctional(x1, cut, higher_is_better)
    post_dys = _dysfunctional(x2, cut, higher_is_better)
    missing = np.isnan(x1) | np.isnan(x2)
    out = rc.rename(columns={"category": "reliable_change"})
    out["dysfunctional_pre"] = _nullable(pre_dys, np.isnan(x1))
    out["dysfunctional_post"] = _nullable(post_dys, np.isnan(x2))
    out["cutoff"] = cut
    out["category"] = _jt_categories(rc["category"].array, pre_dys, post_dys, missing, harmed)
    return out
