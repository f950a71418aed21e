"""Tests for engagestats.classify.readiness: profiles, cut-offs and ATTC centroids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.classify import (
    ATTC_CENTROIDS,
    PROFILE_STAGES,
    READINESS_STAGES,
    URICA_SUBSCALES,
    readiness_profiles,
    readiness_stage,
)
from engagestats.errors import DataValidationError, DataWarning


def test_centroid_method_nearest_attc_mean():
    # ATTC means 9.3 / 11.0 / 12.6 -> boundaries 10.15 and 11.8 (ties to the less ready stage)
    x = [-2.0, 10.15, 10.1501, 11.8, 11.8001, 14.0, np.nan]
    out = readiness_stage(x, method="centroid")
    assert out["stage"].astype(object).tolist()[:6] == [
        "precontemplation",
        "precontemplation",
        "contemplation",
        "contemplation",
        "action",
        "action",
    ]
    assert pd.isna(out["stage"].iloc[6])
    assert list(out["stage"].cat.categories) == list(READINESS_STAGES)
    assert out["stage"].cat.ordered
    np.testing.assert_array_equal(out["readiness"], x)
    with pytest.warns(DataWarning, match="4 of 6"):
        moved = readiness_stage(x, method="centroid", centroids={**ATTC_CENTROIDS, "action": 20.0})
    assert moved["stage"].tolist() != out["stage"].tolist()


def test_centroid_brute_force_agrees_and_warns_when_lopsided(rng):
    x = rng.uniform(-2, 14, size=500)  # about 76% below the 10.15 boundary
    with pytest.warns(DataWarning, match=r"in one stage \('precontemplation'\)"):
        out = readiness_stage(x, method="centroid")
    names = list(ATTC_CENTROIDS)
    means = np.array(list(ATTC_CENTROIDS.values()))
    expected = [names[int(np.argmin(np.abs(v - means)))] for v in x]
    assert out["stage"].astype(object).tolist() == expected


@pytest.mark.parametrize(
    ("right", "expected"),
    [
        (True, ["precontemplation", "contemplation", "contemplation", "action"]),
        (False, ["contemplation", "contemplation", "action", "action"]),
    ],
)
def test_cutoffs_edges(right, expected):
    out = readiness_stage([8.0, 8.5, 11.0, 11.5], method="cutoffs", right=right)
    assert out["stage"].astype(object).tolist() == expected


def test_custom_cutoffs_and_centroids():
    out = readiness_stage([5, 6, 7], method="cutoffs", cutoffs=(5, 6))
    assert out["stage"].astype(object).tolist() == list(READINESS_STAGES)
    two = readiness_stage([1, 4], method="centroid", centroids={"low": 0, "high": 5})
    assert two["stage"].astype(object).tolist() == ["low", "high"]


def test_no_warning_at_exactly_half():
    with pytest.warns(DataWarning):
        readiness_stage([1.0, 1.0, 12.0], method="cutoffs")  # 2 of 3
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        readiness_stage([1.0, 1.0, 12.0, 10.0], method="cutoffs")  # 2 of 4 is not "more than half"


def _profiles_table(seed=3, n=60):
    """Three planted URICA profiles: PC-high, middle, and C/A/M-high (1-5 scale)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[3.5, 3.0, 2.5, 2.5], [2.0, 4.0, 3.5, 3.0], [1.2, 4.7, 4.6, 4.2]])
    rows = np.vstack([c + 0.15 * rng.normal(size=(n, 4)) for c in centres])
    df = pd.DataFrame(rows, columns=list(URICA_SUBSCALES))
    df["urica_readiness"] = df.iloc[:, 1:].sum(axis=1) - df.iloc[:, 0]
    df.insert(0, "client_id", [f"c{i}" for i in range(len(df))])
    return df.sample(frac=1, random_state=1).reset_index(drop=True), np.repeat([0, 1, 2], n)


def test_profiles_recover_planted_clusters_ordered_by_readiness():
    df, _ = _profiles_table()
    truth = df["client_id"].str[1:].astype(int).to_numpy() // 60  # 0 least ready, 2 most
    out = readiness_stage(df)
    assert out["client_id"].tolist() == df["client_id"].tolist()
    assert list(out["stage"].cat.categories) == list(PROFILE_STAGES)
    assert out["stage"].cat.codes.tolist() == truth.tolist()
    prof = readiness_profiles(df)
    assert prof["stage"].tolist() == list(PROFILE_STAGES)
    assert prof["n_clients"].tolist() == [60, 60, 60]
    assert prof["readiness"].is_monotonic_increasing
    # members' raw means reproduce the planted centres to sampling error
    np.testing.assert_allclose(prof["precontemplation"], [3.5, 2.0, 1.2], atol=0.05)
    # z centres are the members' mean z scores
    x = df[list(URICA_SUBSCALES)]
    z = (x - x.mean()) / x.std(ddof=1)
    np.testing.assert_allclose(
        prof["action_z"], z["urica_action"].groupby(truth).mean().to_numpy(), atol=1e-12
    )


def test_profiles_deterministic_given_seed_and_missing_rows_unclassified():
    df, _ = _profiles_table()
    df.loc[[0, 5], "urica_action"] = np.nan
    a = readiness_stage(df, seed=7)
    b = readiness_stage(df, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert a["stage"].isna().sum() == 2
    assert pd.isna(a["stage"].iloc[0])
    with pytest.warns(DataWarning):  # two profiles of three planted groups: one is 2/3
        other_k = readiness_stage(df, k=2)
    assert list(other_k["stage"].cat.categories) == ["profile_1", "profile_2"]


def test_profiles_need_the_subscales_and_valid_k():
    with pytest.raises(DataValidationError, match="four URICA subscales"):
        readiness_stage([1.0, 2.0])
    df, _ = _profiles_table(n=5)
    with pytest.raises(DataValidationError, match="k must be"):
        readiness_stage(df, k=1)
    with pytest.raises(DataValidationError, match="n_init"):
        readiness_stage(df, n_init=0)
    with pytest.raises(DataValidationError, match="need at least k"):
        readiness_stage(df.head(2))
    flat = df.assign(urica_action=3.0)
    with pytest.raises(DataValidationError, match="vary"):
        readiness_stage(flat)


def test_sample_default_is_not_lopsided_and_scores_under_prorate_80():
    study = es.load_sample()
    out = readiness_stage(study)  # a DataWarning would fail here (warnings are errors)
    counts = out["stage"].value_counts(sort=False)
    assert counts.max() / counts.sum() <= 0.5
    # PRORATE_80 scores clients with one URICA item missing; the strict rule would not
    strict = readiness_stage(study, policy=es.scoring.BUILTIN_RULES)
    assert out["stage"].notna().sum() > strict["stage"].notna().sum()


def test_readiness_bad_input():
    with pytest.raises(DataValidationError):
        readiness_stage([1.0], method="kmeans")
    with pytest.raises(DataValidationError):
        readiness_stage([1.0], method="cutoffs", cutoffs=(11, 8))
    with pytest.raises(DataValidationError):
        readiness_stage([1.0], method="centroid", centroids={"only": 1.0})
    with pytest.raises(DataValidationError, match="missing"):
        readiness_stage(pd.DataFrame({"x": [1.0]}), method="cutoffs")
