"""Tests for engagestats.classify.motivation: RAI and the 2 x 2 quantity/quality profile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.classify import MOTIVATION_TYPES, motivation_type
from engagestats.errors import DataValidationError


def _df():
    return pd.DataFrame(
        {
            "client_id": list("abcdefg"),
            "srq_autonomous": [6.0, 3.0, 3.9, 4.0, 5.0, np.nan, 3.0],
            "srq_controlled": [3.0, 5.5, 3.9, 3.0, 5.0, 2.0, 3.0],
        }
    )


def test_median_split_profiles():
    df = _df()
    out = motivation_type(df)
    assert out["client_id"].tolist() == list("abcdefg")
    np.testing.assert_allclose(out["rai"], df["srq_autonomous"] - df["srq_controlled"])
    # medians over the 6 clients with both: A 3.95, C 3.45 (client f has no A)
    assert out.attrs["splits"] == pytest.approx({"autonomous": 3.95, "controlled": 3.45})
    types = out["motivation_type"].astype(object).where(out["motivation_type"].notna(), None)
    expected = []
    for a, c in zip(df["srq_autonomous"], df["srq_controlled"], strict=True):
        if np.isnan(a) or np.isnan(c):
            expected.append(None)
            continue
        hi_a, hi_c = a > 3.95, c > 3.45
        expected.append(
            {
                (False, False): "low_quantity",
                (False, True): "poor_quality",
                (True, True): "high_quantity",
                (True, False): "good_quality",
            }[(hi_a, hi_c)]
        )
    assert types.tolist() == expected
    assert types.tolist()[2] == "poor_quality"  # A 3.9 not above 3.95, C 3.9 above 3.45
    assert list(out["motivation_type"].cat.categories) == list(MOTIVATION_TYPES)
    assert "balanced" not in MOTIVATION_TYPES


def test_fixed_and_mean_splits():
    df = _df()
    fixed = motivation_type(df, split=(4.0, 4.0))
    assert fixed["motivation_type"].astype(object).iloc[3] == "low_quantity"  # 4.0 is not > 4
    assert fixed.attrs["splits"] == {"autonomous": 4.0, "controlled": 4.0}
    mean = motivation_type(df, split="mean")
    ok = df.dropna()
    assert mean.attrs["splits"]["autonomous"] == pytest.approx(ok["srq_autonomous"].mean())
    with pytest.raises(DataValidationError):
        motivation_type(df, split="tertile")
    with pytest.raises(DataValidationError):
        motivation_type(df, split=(4.0,))
    with pytest.raises(DataValidationError):
        motivation_type(df, split=(np.inf, 4.0))


def test_sample_carries_amotivation_and_uses_the_analyses_policy():
    study = es.load_sample()
    out = motivation_type(study)
    assert "amotivation" in out.columns
    counts = out["motivation_type"].value_counts()
    assert counts.min() > 0.1 * counts.sum()  # median splits: no empty or tiny cell
    strict = motivation_type(study, policy=es.scoring.BUILTIN_RULES)
    assert out["rai"].notna().sum() > strict["rai"].notna().sum()
    none = motivation_type(study, amotivation=None)
    assert "amotivation" not in none.columns


def test_motivation_missing_columns():
    with pytest.raises(DataValidationError):
        motivation_type(pd.DataFrame({"srq_autonomous": [1.0]}))
