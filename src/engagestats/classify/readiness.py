"""URICA readiness: the continuous score, and stages by three documented methods."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._validate import as_table, check_choice
from ..errors import DataValidationError, DataWarning
from ..scoring import ScoringPolicy, ensure_scores, policy_for, state_policy
from ..study import CLIENT, Study
from ._kmeans import kmeans

__all__ = [
    "ATTC_CENTROIDS",
    "CONVENTIONAL_CUTOFFS",
    "PROFILE_STAGES",
    "READINESS_STAGES",
    "URICA_SUBSCALES",
    "readiness_profiles",
    "readiness_stage",
]

#: Stages of the ``"centroid"`` and ``"cutoffs"`` methods, least ready first.
READINESS_STAGES = ("precontemplation", "contemplation", "action")
#: Labels of the three ``"profile"`` clusters, ordered by their mean readiness score.
PROFILE_STAGES = ("least_ready", "middle_ready", "most_ready")
#: The four URICA subscale means the profiles are built from (PC, C, A, M).
URICA_SUBSCALES = (
    "urica_precontemplation",
    "urica_contemplation",
    "urica_action",
    "urica_maintenance",
)
#: Addiction-treatment group means of the readiness score, of unknown population (Mid-Atlantic
#: ATTC scoring page, an archive); kept for ``method="centroid"``, not a default.
ATTC_CENTROIDS: dict[str, float] = {
    "precontemplation": 9.3,
    "contemplation": 11.0,
    "action": 12.6,
}
#: Conventional, **not normed** upper edges (<= 8 precontemplation, <= 11 contemplation): no
#: validation study was found for them.
CONVENTIONAL_CUTOFFS = (8.0, 11.0)

#: Share of the classified clients in one stage above which a DataWarning is issued.
LOPSIDED_SHARE = 0.5


def _frame(data: Any, columns: Sequence[str], policy: ScoringPolicy | None) -> pd.DataFrame:
    """The clients table of a Study, a DataFrame, or a Series named after ``columns[0]``.

    Missing score columns of a Study or DataFrame are scored from their items
    under ``policy`` (:func:`engagestats.scoring.policy_for`: a Study's own by default;
    :func:`engagestats.scoring.ensure_scores`).
    """
    if isinstance(data, Study | pd.DataFrame):
        rule = policy_for(data, policy)
        return ensure_scores(as_table(data, "clients"), columns, policy=rule, table="clients")
    if isinstance(data, pd.Series):
        return data.rename(columns[0]).to_frame()
    return pd.Series(np.asarray(data, dtype=float), name=columns[0]).to_frame()


def _keys(table: pd.DataFrame, client: str) -> pd.DataFrame:
    return (
        table[[client]].reset_index(drop=True)
        if client in table.columns
        else pd.DataFrame(index=pd.RangeIndex(len(table)))
    )


def _warn_lopsided(stage: pd.Series, what: str) -> None:
    """DataWarning when one level holds more than :data:`LOPSIDED_SHARE` of the classified."""
    counts = stage.value_counts()
    n = int(counts.sum())
    if n == 0:
        return
    top = str(counts.idxmax())
    share = float(counts.max()) / n
    if share > LOPSIDED_SHARE:
        warnings.warn(
            f"{what}: {counts.max()} of {n} classified clients ({100 * share:.0f}%) are in "
            f"one stage ({top!r}); check that the method suits this sample",
            DataWarning,
            stacklevel=3,
        )


def _profile_labels(k: int) -> list[str]:
    return list(PROFILE_STAGES) if k == 3 else [f"profile_{j + 1}" for j in range(k)]


def _fit_profiles(
    table: pd.DataFrame, subscales: Sequence[str], k: int, seed: int | None, n_init: int
) -> tuple[np.ndarray, pd.DataFrame]:
    """Cluster index per row (-1 when a subscale is missing; least ready first) and centres."""
    if not isinstance(k, int | np.integer) or k < 2:
        raise DataValidationError.for_argument("k", k, "k must be an integer of at least 2")
    if not isinstance(n_init, int | np.integer) or n_init < 1:
        raise DataValidationError.for_argument("n_init", n_init, "n_init must be at least 1")
    raw = table[list(subscales)].to_numpy(dtype=float)
    ok = ~np.isnan(raw).any(axis=1)
    if ok.sum() < k:
        raise DataValidationError.for_argument(
            "k", k, f"only {int(ok.sum())} clients have all four subscales; need at least k"
        )
    x = raw[ok]
    mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
    if np.any(sd <= 0):
        raise DataValidationError.for_argument(
            "data", "constant subscale", "each URICA subscale must vary to be standardised"
        )
    z = (x - mean) / sd
    fit = kmeans(z, int(k), seed=seed, n_init=int(n_init))
    # readiness of each cluster: C + A + M - PC of its members' mean subscales
    raw_means = np.vstack([x[fit.labels == j].mean(axis=0) for j in range(k)])
    ready = raw_means[:, 1:].sum(axis=1) - raw_means[:, 0]
    order = np.argsort(ready, kind="stable")
    rank = np.empty(k, dtype=int)
    rank[order] = np.arange(k)
    idx = np.full(len(raw), -1)
    idx[ok] = rank[fit.labels]
    names = [s.removeprefix("urica_") for s in subscales]
    centres = pd.DataFrame({"stage": _profile_labels(k)})
    centres["n_clients"] = np.bincount(rank[fit.labels], minlength=k)
    for i, name in enumerate(names):
        centres[f"{name}_z"] = fit.centers[order, i]
    for i, name in enumerate(names):
        centres[name] = raw_means[order, i]
    centres["readiness"] = ready[order]
    return idx, centres


def readiness_profiles(
    data: Study | pd.DataFrame,
    *,
    k: int = 3,
    seed: int | None = 0,
    n_init: int = 200,
    subscales: Sequence[str] = URICA_SUBSCALES,
    policy: ScoringPolicy | None = None,
) -> pd.DataFrame:
    """Sample-relative URICA profiles: k-means on the four standardised subscales.

    Parameters
    ----------
    data : Study or DataFrame
        A study (its clients table) or a table with the four subscale means
        (scored from ``urica_*`` items under ``policy`` when missing).
    k : int, default 3
        Number of profiles.
    seed : int, default 0
        Seed of the k-means++ starts (the result is deterministic given it).
    n_init : int, default 200
        Restarts; the one with the lowest within-profile sum of squares wins.
    subscales : sequence of str
        PC, C, A and M subscale columns, in that order.
    policy : ScoringPolicy, optional
        Rule for scoring missing subscales: by default the study's own
        (:attr:`Study.scoring_policy <engagestats.Study.scoring_policy>`), or
        :data:`~engagestats.scoring.PRORATE_80` (the analyses' rule) for a
        table. The result records it in ``attrs["scoring_policy"]``.

    Returns
    -------
    DataFrame
        One row per profile, least ready first: ``stage``, ``n_clients``, the
        centres in z units (``precontemplation_z`` ...), the members' mean
        subscales on the 1-5 scale and their ``readiness`` (C + A + M - PC).

    Notes
    -----
    Each subscale is standardised over the clients with all four
    (:math:`z = (x - \\bar x)/s`), then clustered by Lloyd's k-means with
    k-means++ starts. Profiles are ordered by the readiness score of their
    mean subscales. The solution is specific to the sample (as the HABITS Lab
    scoring notes stress); compare several ``k`` and seeds before naming them.

    References
    ----------
    DiClemente, C. C., & Hughes, S. O. (1990). Stages of change profiles in
    outpatient alcoholism treatment. *J Subst Abuse, 2*(2), 217-235.
    Arthur, D., & Vassilvitskii, S. (2007). k-means++: the advantages of
    careful seeding. *Proc. 18th ACM-SIAM SODA*, 1027-1035.

    Examples
    --------
    >>> import engagestats as es
    >>> readiness_profiles(es.load_sample())[["stage", "n_clients"]]
              stage  n_clients
    0   least_ready        101
    1  middle_ready        126
    2    most_ready         96
    """
    table = _frame(data, list(subscales), policy)
    _, centres = _fit_profiles(table, subscales, k, seed, n_init)
    return state_policy(centres, policy_for(data, policy))


def readiness_stage(
    data: Any,
    *,
    method: Literal["profile", "cutoffs", "centroid"] = "profile",
    score: str = "urica_readiness",
    k: int = 3,
    seed: int | None = 0,
    n_init: int = 200,
    subscales: Sequence[str] = URICA_SUBSCALES,
    cutoffs: Sequence[float] = CONVENTIONAL_CUTOFFS,
    right: bool = True,
    centroids: Mapping[str, float] | None = None,
    policy: ScoringPolicy | None = None,
    client: str = CLIENT,
) -> pd.DataFrame:
    """A readiness stage for each client, by a stated method (the score itself comes first).

    Analyses should use the continuous readiness score (``urica_readiness``,
    returned as ``readiness``); a stage is a coarsening of it for description.

    Parameters
    ----------
    data : Study, DataFrame, Series or array-like
        A study (its clients table) or a table with the score columns (scored
        from ``urica_*`` items under ``policy`` when missing). The
        ``"cutoffs"`` and ``"centroid"`` methods also take the readiness
        scores themselves.
    method : {"profile", "cutoffs", "centroid"}, default "profile"
        ``"profile"``: sample-relative profiles by k-means on the four
        standardised subscales (:func:`readiness_profiles`), labelled
        ``least_ready`` < ``middle_ready`` < ``most_ready`` by their mean
        readiness (``profile_1`` ... for ``k != 3``). ``"cutoffs"``: fixed
        edges on the readiness score. ``"centroid"``: the nearest ATTC group
        mean.
    score : str, default "urica_readiness"
        Readiness column: mean(C) + mean(A) + mean(M) - mean(PC), -2 to 14.
    k, seed, n_init, subscales
        For ``"profile"``: as in :func:`readiness_profiles`.
    cutoffs : pair of float, default (8, 11)
        Upper edges of precontemplation and contemplation for ``"cutoffs"``.
        Conventional, **not normed**: the often quoted "<= 8 / 8-11 / 11-14"
        cut points could not be traced to a source; the HABITS Lab scoring
        notes call any readiness cut-off "essentially arbitrary" and advise
        choosing them for the population. Set your own.
    right : bool, default True
        With ``cutoffs``: True puts a score equal to an edge in the lower
        (less ready) stage, ``(-inf, 8], (8, 11], (11, inf)``; False puts it
        in the upper one.
    centroids : mapping, optional
        For ``"centroid"``: stage name to group mean, default
        :data:`ATTC_CENTROIDS` (9.3 / 11.0 / 12.6: addiction-treatment group
        means of unknown population, from an archived ATTC page).
    policy : ScoringPolicy, optional
        Rule for scoring missing scores: the study's own by default
        (:attr:`Study.scoring_policy <engagestats.Study.scoring_policy>`), or
        :data:`~engagestats.scoring.PRORATE_80` for a table (so that the
        stages cover the clients the analyses use).
    client : str
        Key column carried into the result when present.

    Returns
    -------
    DataFrame
        One row per input row: ``client_id`` (when present), ``readiness``
        and ``stage`` (ordered categorical, least ready first; missing when
        a score it needs is missing).

    Warns
    -----
    DataWarning
        When one stage holds more than half of the classified clients.

    Notes
    -----
    Profiles: see :func:`readiness_profiles`. Cutoffs: ``np.searchsorted``
    on the two edges. Centroid: stage :math:`= \\arg\\min_s |x - m_s|`, ties
    (within 1e-9) to the less ready stage; with the ATTC means the
    boundaries are 10.15 and 11.8, so a treatment-seeking sample with mean
    readiness near 9.3 comes out mostly "precontemplation". No method gives
    maintenance.

    References
    ----------
    McConnaughy, E. A., Prochaska, J. O., & Velicer, W. F. (1983). Stages of
    change in psychotherapy: measurement and sample profiles.
    *Psychotherapy: Theory, Research & Practice, 20*(3), 368-375.
    DiClemente, C. C., & Hughes, S. O. (1990). Stages of change profiles in
    outpatient alcoholism treatment. *J Subst Abuse, 2*(2), 217-235.
    HABITS Lab, UMBC: URICA scoring and readiness score pages
    (habitslab.umbc.edu/urica). Mid-Atlantic ATTC, URICA scoring (archive,
    vcu.edu/vattc/uricascoring.html).

    Examples
    --------
    >>> import engagestats as es
    >>> es.readiness_stage(es.load_sample())["stage"].value_counts(sort=False).tolist()
    [101, 126, 96]
    >>> readiness_stage([8.0, 11.0, 11.5], method="cutoffs")["stage"].tolist()
    ['precontemplation', 'contemplation', 'action']
    >>> readiness_stage([9.0, 10.2, 12.0], method="centroid")["stage"].tolist()
    ['precontemplation', 'contemplation', 'action']
    """
    check_choice(method, ("profile", "cutoffs", "centroid"), name="method")
    if method == "profile":
        if not isinstance(data, Study | pd.DataFrame):
            raise DataValidationError.for_argument(
                "data", type(data).__name__, 'method="profile" needs the four URICA subscales'
            )
        table = _frame(data, [score, *subscales], policy)
        idx, _ = _fit_profiles(table, subscales, k, seed, n_init)
        levels = _profile_labels(k)
        labels = np.array(levels, dtype=object)[np.maximum(idx, 0)]
        labels[idx < 0] = None
        x = table[score].to_numpy(dtype=float)
    else:
        table = _frame(data, [score], policy)
        x = table[score].to_numpy(dtype=float)
        if method == "centroid":
            labels, levels = _by_centroid(x, centroids)
        else:
            labels, levels = _by_cutoffs(x, cutoffs, right)
        labels[np.isnan(x)] = None
    out = _keys(table, client)
    out["readiness"] = x
    out["stage"] = pd.Categorical(labels, categories=levels, ordered=True)
    _warn_lopsided(out["stage"], f'readiness_stage(method="{method}")')
    return (
        state_policy(out, policy_for(data, policy))
        if isinstance(data, Study | pd.DataFrame)
        else out
    )


def _by_centroid(
    x: np.ndarray, centroids: Mapping[str, float] | None
) -> tuple[np.ndarray, list[str]]:
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
    return np.array(order, dtype=object)[idx], order


def _by_cutoffs(
    x: np.ndarray, cutoffs: Sequence[float], right: bool
) -> tuple[np.ndarray, list[str]]:
    cuts = [float(c) for c in cutoffs]
    if len(cuts) != len(READINESS_STAGES) - 1 or cuts[0] >= cuts[1]:
        raise DataValidationError.for_argument(
            "cutoffs", cutoffs, "cutoffs must be two increasing edges"
        )
    bins = np.searchsorted(cuts, x, side="left" if right else "right")
    return np.array(READINESS_STAGES, dtype=object)[bins], list(READINESS_STAGES)
