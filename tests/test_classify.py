"""Tests for engagestats.classify: readiness stage and motivation type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engagestats.classify import (
    ATTC_CENTROIDS,
    MOTIVATION_TYPES,
    READINESS_STAGES,
    motivation_type,
    readiness_stage,
)
from engagestats.errors import DataValidationError


def test_centroid_method_nearest_attc_mean():
    # ATTC means 9.3 / 11.0 / 12.6 -> boundaries 10.15 and 11.8 (ties to the less ready stage)
    x = [-2.0, 10.15, 10.1501, 11.8, 11.8001, 14.0, np.nan]
    out = readiness_stage(x)
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
    assert out.attrs == {}  # the edges are the documented ATTC_CENTROIDS, not metadata
    moved = readiness_stage(x, centroids={**ATTC_CENTROIDS, "action": 20.0})
    assert moved["stage"].tolist() != out["stage"].tolist()


def test_centroid_brute_force_agrees(rng):
    x = rng.uniform(-2, 14, size=500)
    out = readiness_stage(x)
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
    two = readiness_stage([1, 4], centroids={"low": 0, "high": 5})
    assert two["stage"].astype(object).tolist() == ["low", "high"]


def test_readiness_from_table_keeps_client_ids():
    df = pd.DataFrame({"client_id": ["a", "b"], "urica_readiness": [9.0, 13.0]})
    out = readiness_stage(df)
    assert out["client_id"].tolist() == ["a", "b"]
    assert out["stage"].astype(object).tolist() == ["precontemplation", "action"]


def test_readiness_bad_input():
    with pytest.raises(DataValidationError):
        readiness_stage([1.0], method="kmeans")
    with pytest.raises(DataValidationError):
        readiness_stage([1.0], method="cutoffs", cutoffs=(11, 8))
    with pytest.raises(DataValidationError):
        readiness_stage([1.0], centroids={"only": 1.0})
    with pytest.raises(DataValidationError, match="missing"):
        readiness_stage(pd.DataFrame({"x": [1.0]}))


def test_motivation_rules():
    df = pd.DataFrame(
        {
            "client_id": list("abcdefg"),
            "srq_autonomous": [6.0, 3.0, 3.9, 4.0, 5.0, np.nan, 3.0],
            "srq_controlled": [3.0, 5.5, 3.9, 3.0, 5.0, 2.0, 3.0],
        }
    )
    out = motivation_type(df)
    assert out["client_id"].tolist() == list("abcdefg")
    np.testing.assert_allclose(out["rai"], df["srq_autonomous"] - df["srq_controlled"])
    types = out["motivation_type"].astype(object).where(out["motivation_type"].notna(), None)
    assert types.tolist() == [
        "autonomous_dominant",
        "controlled_dominant",
        "low_motivation",  # both below 4
        "autonomous_dominant",  # 4.0 is not below the threshold
        "balanced",
        None,
        "low_motivation",
    ]
    assert list(out["motivation_type"].cat.categories) == list(MOTIVATION_TYPES)
    low = motivation_type(df, threshold=3.0)
    assert low["motivation_type"].astype(object).iloc[2] == "balanced"


def test_motivation_missing_columns():
    with pytest.raises(DataValidationError):
        motivation_type(pd.DataFrame({"srq_autonomous": [1.0]}))
