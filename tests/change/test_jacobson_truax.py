"""Tests for engagestats.change: RCI, cutoffs, clinical significance, rates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from engagestats.change import (
    CLINICAL_CATEGORIES,
    RELIABLE_CATEGORIES,
    clinical_cutoffs,
    clinical_significance,
    rates,
    reliable_change,
    reliable_change_threshold,
)
from engagestats.errors import DataValidationError, EngageStatsError

REF = Path(__file__).parents[1] / "reference" / "change"

#: The confidence level whose critical value is exactly 1.96 (Jacobson & Truax; R's
#: clinicalsignificance): level=0.95 uses the exact quantile 1.95996 instead.
LEVEL_196 = 2 * stats.norm.cdf(1.96) - 1
Z95 = stats.norm.ppf(0.975)


# ------------------------------------------------------------ worked numbers
# Source: R package clinicalsignificance, tests/testthat/test-calc_rci_jt.R
# (sd_pre = 5, reliability = .80 -> SE 2.236068, S_diff 3.162278; changes
# -8, -4, 0, 4, 8 -> RCI -2.529822, -1.264911, 0, 1.264911, 2.529822).
def test_rci_matches_clinicalsignificance_worked_numbers():
    pre = np.full(5, 20.0)
    post = pre + np.array([-8, -4, 0, 4, 8])
    out = reliable_change(pre, post, sd=5, reliability=0.80)
    # S_diff = threshold / z
    assert reliable_change_threshold(5, 0.80) / Z95 == pytest.approx(3.162278, abs=1e-6)
    np.testing.assert_allclose(
        out["rci"], [-2.529822, -1.264911, 0, 1.264911, 2.529822], rtol=0, atol=1e-6
    )
    assert out["category"].tolist() == [
        "reliably_improved",
        "no_reliable_change",
        "no_reliable_change",
        "no_reliable_change",
        "reliably_deteriorated",
    ]


def test_threshold_is_z_times_sdiff():
    assert reliable_change_threshold(5, 0.80) == pytest.approx(Z95 * 3.16227766, rel=1e-9)
    assert reliable_change_threshold(5, 0.80, level=0.90) == pytest.approx(
        stats.norm.ppf(0.95) * np.sqrt(2) * 5 * np.sqrt(0.2), rel=1e-12
    )
    assert reliable_change_threshold(5, 0.80, level=LEVEL_196) == pytest.approx(
        1.96 * 3.16227766, rel=1e-9
    )


def test_the_former_z_keyword_is_a_deprecated_critical_value():
    with pytest.deprecated_call(match="z= is deprecated; use level="):
        old = reliable_change_threshold(5, 0.80, z=1.645)
    assert old == pytest.approx(1.645 * np.sqrt(2) * 5 * np.sqrt(0.2), rel=1e-12)
    with pytest.deprecated_call():
        out = clinical_significance([20], [4], sd=5, reliability=0.8, cutoff=10, z=1.96)
    assert out["category"].tolist() == ["recovered"]
    with pytest.raises(TypeError, match="both z= and level="):
        reliable_change([1], [2], sd=5, reliability=0.8, z=1.96, level=0.95)


def test_rci_strict_inequality_at_threshold():
    # RCI exactly at z is not reliable (strict >, as in clinicalsignificance): with
    # sd = 1 and r = .5, S_diff = 1, so a change of z gives RCI = z exactly.
    post = [20 - Z95, 20 + Z95, 20 - Z95 - 0.01, 20 + Z95 + 0.01]
    out = reliable_change([20, 20, 20, 20], post, sd=1, reliability=0.5)
    np.testing.assert_allclose(out["rci"], [-Z95, Z95, -Z95 - 0.01, Z95 + 0.01], rtol=1e-12)
    assert out["category"].tolist() == [
        "no_reliable_change",
        "no_reliable_change",
        "reliably_improved",
        "reliably_deteriorated",
    ]


def test_rci_direction_higher_is_better():
    out = reliable_change([20, 20], [30, 10], sd=5, reliability=0.8, higher_is_better=True)
    assert out["category"].tolist() == ["reliably_improved", "reliably_deteriorated"]
    assert list(out["category"].cat.categories) == list(RELIABLE_CATEGORIES)
    assert out["category"].cat.ordered


def test_rci_keeps_series_index_and_missing_rows():
    pre = pd.Series([10.0, np.nan, 12.0], index=["a", "b", "c"])
    out = reliable_change(pre, [2.0, 3.0, np.nan], sd=5, reliability=0.8)
    assert list(out.index) == ["a", "b", "c"]
    assert out["category"].isna().tolist() == [False, True, True]


# Source: clinicalsignificance tests/testthat/test-calc_cutoff.R ("Example from
# Jacobson et al. (1991)"): M_clin 40, SD 7.5; M_func 60, SD 7.5 -> c = 50;
# higher better a = 55, b = 45; lower better a = 25, b = 75.
@pytest.mark.parametrize(("hib", "a", "b"), [(True, 55.0, 45.0), (False, 25.0, 75.0)])
def test_cutoffs_worked_example(hib, a, b):
    cuts = clinical_cutoffs(
        clinical_mean=40,
        clinical_sd=7.5,
        functional_mean=60,
        functional_sd=7.5,
        higher_is_better=hib,
    )
    np.testing.assert_allclose(cuts[["a", "b", "c"]], [a, b, 50.0], rtol=1e-12)


def test_cutoff_c_weights_by_sd():
    cuts = clinical_cutoffs(clinical_mean=20, clinical_sd=6, functional_mean=5, functional_sd=3)
    assert cuts["c"] == pytest.approx((6 * 5 + 3 * 20) / 9, rel=1e-12)
    only_a = clinical_cutoffs(clinical_mean=20, clinical_sd=6)
    assert only_a["a"] == pytest.approx(8.0)
    assert np.isnan(only_a["b"])
    assert np.isnan(only_a["c"])


# ----------------------------------------------------- J&T (1991) DAS data
def test_jt_das_table2_matches_base_r_reference():
    data = pd.read_csv(REF / "jt1991_table2_das.csv")
    ref = pd.read_csv(REF / "jt_das_reference.csv")
    meta = json.loads((REF / "jt_das_reference.json").read_text())
    sd = data["pre"].std(ddof=1)
    assert sd == pytest.approx(meta["sd(pre)"], rel=1e-12)
    out = clinical_significance(
        data["pre"],
        data["post"],
        sd=sd,
        reliability=meta["r"],
        cutoff_type="a",
        higher_is_better=True,
        level=LEVEL_196,  # the reference applies |RCI| > 1.96
    )
    s_diff = reliable_change_threshold(sd, meta["r"], level=LEVEL_196) / 1.96
    assert s_diff == pytest.approx(meta["s_diff = sqrt(2 * se^2)"], rel=1e-12)
    assert out["cutoff"].nunique() == 1  # the one cutoff applied, on every row
    assert out["cutoff"].iloc[0] == pytest.approx(
        meta["cutoff_a = mean(pre) + 2 * sd(pre)"], rel=1e-12
    )
    np.testing.assert_allclose(out["rci"], ref["rci = change / s_diff"], rtol=1e-12)
    assert out["reliable_change"].astype(str).tolist() == ref["reliable_change"].tolist()
    assert out["category"].astype(str).tolist() == ref["category"].tolist()
    counts = out["category"].value_counts()
    assert counts["recovered"] == 10
    assert counts["improved"] == 8
    assert counts["unchanged"] == 11
    assert counts["deteriorated"] == 1


# --------------------------------------------------- clinical significance
def test_categories_symptom_scale():
    # threshold 6.198; cutoff 10 (dysfunctional when >= 10)
    pre = [15, 20, 15, 5, 14, 9]
    post = [4, 12, 15, 12, 21, 2]
    out = clinical_significance(pre, post, sd=5, reliability=0.8, cutoff=10)
    assert out["category"].tolist() == [
        "recovered",
        "improved",
        "unchanged",
        "harmed",
        "deteriorated",
        "improved",  # already functional at pre: reliable improvement only
    ]
    assert list(out["category"].cat.categories) == list(CLINICAL_CATEGORIES)


def test_cutoff_is_on_the_dysfunctional_side():
    # post exactly at the cutoff stays dysfunctional, so not recovered
    out = clinical_significance([18, 18], [10, 9.99], sd=5, reliability=0.8, cutoff=10)
    assert out["category"].tolist() == ["improved", "recovered"]


def test_harmed_can_be_merged():
    out = clinical_significance([5], [12], sd=5, reliability=0.8, cutoff=10, harmed=False)
    assert out["category"].tolist() == ["deteriorated"]


def test_cutoff_type_c_uses_norms():
    out = clinical_significance(
        [40, 40],
        [52, 48],
        sd=5,
        reliability=0.9,
        cutoff_type="c",
        clinical_mean=40,
        clinical_sd=7.5,
        functional_mean=60,
        functional_sd=7.5,
        higher_is_better=True,
    )
    assert out["cutoff"].tolist() == [50.0, 50.0]
    assert out["category"].tolist() == ["recovered", "improved"]


# ---------------------------------------------------------------- bad input
def test_bad_inputs_raise_typed_errors():
    with pytest.raises(DataValidationError, match="length"):
        reliable_change([1, 2], [1, 2, 3], sd=5, reliability=0.8)
    with pytest.raises(DataValidationError):
        reliable_change([1], [2], sd=-5, reliability=0.8)
    for r in (0.0, 1.0, 1.2, -0.1):
        with pytest.raises(DataValidationError, match="reliability"):
            reliable_change_threshold(5, r)
    with pytest.raises(EngageStatsError):
        clinical_significance([1], [2], sd=5, reliability=0.8)  # no cutoff
    with pytest.raises(DataValidationError, match="functional"):
        clinical_significance([1], [2], sd=5, reliability=0.8, cutoff_type="b")
    with pytest.raises(DataValidationError, match="norms"):
        clinical_significance([1], [2], sd=5, reliability=0.8, cutoff_type="a")
    with pytest.raises(DataValidationError):
        clinical_significance([1], [2], sd=5, reliability=0.8, cutoff_type="d")
    with pytest.raises(DataValidationError):
        clinical_cutoffs(clinical_mean=1, clinical_sd=0)


# -------------------------------------------------------------------- rates
def test_wilson_matches_statsmodels(rng):
    n_group = rng.integers(1, 60, size=8)
    rows = []
    for g, n in enumerate(n_group):
        k = rng.integers(0, n + 1)
        rows += [{"g": g, "y": i < k} for i in range(n)]
    df = pd.DataFrame(rows)
    for level in (0.90, 0.95, 0.99):
        out = rates(df, outcome="y", by="g", level=level, overall=False)
        low, high = proportion_confint(out["k"], out["n"], alpha=1 - level, method="wilson")
        np.testing.assert_allclose(out["ci_low"], low, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(out["ci_high"], high, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(out["rate"], out["k"] / out["n"], rtol=1e-12)


def test_rates_edge_cases_and_missing_counted():
    df = pd.DataFrame({"y": [0, 0, 0, 1, 1, np.nan], "g": ["a", "a", "a", "b", "b", "b"]})
    out = rates(df, outcome="y", by="g")
    assert out["group"].tolist() == ["a", "b", "all"]
    assert out["n"].tolist() == [3, 2, 5]
    assert out["k"].tolist() == [0, 2, 2]
    assert out["n_missing"].tolist() == [0, 1, 1]
    low, high = proportion_confint(0, 3, method="wilson")
    assert out.loc[0, "ci_low"] == pytest.approx(low, abs=1e-12)
    assert out.loc[0, "ci_high"] == pytest.approx(high, rel=1e-10)
    assert out.loc[1, "ci_high"] == pytest.approx(1.0)
    empty = rates(pd.DataFrame({"y": [np.nan]}), outcome="y")
    assert empty.loc[0, "n"] == 0
    assert np.isnan(empty.loc[0, "rate"])


def test_rates_categorical_levels_sum_to_one():
    cat = pd.Categorical(
        ["improved", "recovered", "unchanged", "improved"], list(CLINICAL_CATEGORIES)
    )
    df = pd.DataFrame({"category": cat, "g": ["x", "x", "y", "y"]})
    out = rates(df, outcome="category", by="g", overall=False)
    assert list(out.columns[:2]) == ["group", "level"]
    assert len(out) == 2 * len(CLINICAL_CATEGORIES)
    np.testing.assert_allclose(out.groupby("group")["rate"].sum(), [1.0, 1.0], rtol=1e-12)
    x = out[(out["group"] == "x") & (out["level"] == "recovered")]
    assert x["k"].item() == 1
    assert x["rate"].item() == pytest.approx(0.5)


def test_rates_bad_input():
    df = pd.DataFrame({"y": [1, 0]})
    with pytest.raises(DataValidationError, match="missing"):
        rates(df, outcome="nope")
    with pytest.raises(DataValidationError, match="level must be") as err:
        rates(df, outcome="y", level=1.5)
    assert err.value.problems[["file", "column", "value"]].iloc[0].tolist() == [
        "argument",
        "level",
        "1.5",
    ]
    with pytest.deprecated_call(match="ci= is deprecated"):
        old = rates(df, outcome="y", ci=0.9)
    pd.testing.assert_frame_equal(old, rates(df, outcome="y", level=0.9))


def test_rates_refuses_a_group_named_like_the_overall_row():
    from engagestats.change import rates

    data = pd.DataFrame({"g": ["all", "b", "b"], "y": [True, False, True]})
    with pytest.raises(DataValidationError, match="overall"):
        rates(data, outcome="y", by="g")
    assert rates(data, outcome="y", by="g", overall=False)["group"].tolist() == ["all", "b"]
