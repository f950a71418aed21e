"""therapist_effects against lme4 (tests/reference/therapist_effects/therapist_effects.R)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import growth_formula, growth_model, therapist_effects
from engagestats.analyses._therapist_variance import Components, shares

REF = Path(__file__).resolve().parents[1] / "reference" / "therapist_effects"


@pytest.fixture(scope="module")
def fixture_model():
    data = pd.read_csv(REF / "growth_fixture.csv")
    model = growth_model(data.drop(columns="time"), therapist_slope=True)
    # the model codes time exactly as the CSV (and so R) holds it
    merged = model.data[["client_id", "session", "time"]].merge(
        data, on=["client_id", "session"], suffixes=("", "_csv")
    )
    assert (merged["time"] == merged["time_csv"]).all()
    return model


@pytest.fixture(scope="module")
def point(fixture_model):
    return therapist_effects(fixture_model, ci="none")


@pytest.fixture(scope="module")
def r_shares():
    return pd.read_csv(REF / "shares.csv").set_index("estimand")


def test_therapist_slope_formula():
    f = growth_formula("phq9_total", therapist_slope=True)
    assert "(1 + time | therapist_id)" in f
    assert "(1 | therapist_id)" in growth_formula("phq9_total")


def test_growth_model_therapist_slope(fixture_model):
    assert "(1 + time | therapist_id)" in fixture_model.formula
    assert set(fixture_model.fit.varcorr["group"]) == {"therapist_id", "client_id", "Residual"}


def test_shares_match_lme4(point, r_shares):
    est = point.shares.set_index("estimand")["estimate"]
    for name in ("end_adjusted", "change", "intake"):
        assert est[name] == pytest.approx(r_shares.loc[name, "estimate_last"], rel=1e-4)
    comp = point.components.iloc[0]
    assert comp["b_pre"] == pytest.approx(r_shares["b_pre"].iloc[0], rel=1e-4)
    assert comp["end_time"] == pytest.approx(r_shares["t_mean"].iloc[0], rel=1e-12)


def test_single_end_time_matches_lme4(fixture_model, r_shares):
    te = therapist_effects(fixture_model, end_time=10, ci="none")
    est = te.shares.set_index("estimand")["estimate"]
    assert est["end_adjusted"] == pytest.approx(
        r_shares.loc["end_adjusted", "estimate_end10"], rel=1e-4
    )
    # a later end gives the slope variance more weight: the share grows here
    assert est["end_adjusted"] > point_share(fixture_model)


def point_share(model):
    return float(therapist_effects(model, ci="none").shares["estimate"].iloc[0])


def test_conditional_modes_and_sds_match_lme4(point):
    r = pd.read_csv(REF / "therapists.csv")
    py = point.therapists
    assert py["therapist"].tolist() == r["therapist"].tolist()
    for col in ("intake", "slope", "end_adjusted"):
        np.testing.assert_allclose(py[col], r[col], rtol=1e-4, atol=1e-5)
    for col in ("intake_sd", "slope_sd", "end_adjusted_sd"):
        np.testing.assert_allclose(py[col], r[col], rtol=1e-5)
    z = 1.959963984540054
    np.testing.assert_allclose(
        py["ci_high"] - py["end_adjusted"], z * r["end_adjusted_sd"], rtol=1e-5
    )
    assert (py["n_clients"] == 10).all()


def test_conditional_sds_agree_with_ranef(fixture_model, point):
    re = fixture_model.fit.ranef(cond_sd=True)
    th = re.loc[(re["group"] == "therapist_id") & (re["term"] == "time")]
    np.testing.assert_allclose(point.therapists["slope_sd"], th["cond_sd"], rtol=1e-10)


def test_bootstrap_loosely_matches_bootmer(fixture_model, r_shares):
    # Monte Carlo on both sides (R: 400 refits); 25 refits here keeps the test short, so only
    # the centre and spread of the bootstrap distribution are compared, loosely
    te = therapist_effects(fixture_model, n_boot=25, seed=4)
    s = te.shares.set_index("estimand")
    r = r_shares
    for name in ("end_adjusted", "intake"):
        width = r.loc[name, "boot_high"] - r.loc[name, "boot_low"]
        mid_py = (s.loc[name, "ci_low"] + s.loc[name, "ci_high"]) / 2
        mid_r = (r.loc[name, "boot_low"] + r.loc[name, "boot_high"]) / 2
        assert abs(mid_py - mid_r) < 0.35 * width
        assert 0.4 * width < s.loc[name, "ci_high"] - s.loc[name, "ci_low"] < 1.6 * width
        assert s.loc[name, "ci_low"] <= s.loc[name, "estimate"] <= s.loc[name, "ci_high"]
    comp = te.components.iloc[0]
    assert comp["n_boot"] + comp["n_failed"] == 25


def test_bootstrap_is_seeded(fixture_model):
    a = therapist_effects(fixture_model, n_boot=3, seed=9).shares
    b = therapist_effects(fixture_model, n_boot=3, seed=9).shares
    pd.testing.assert_frame_equal(a, b)


def test_shares_formula_by_hand():
    # intercept-only therapist term, one end time: rho = (1 - b)^2 T00 / V_res
    c = Components(np.diag([2.0, 0.0]), np.array([[10.0, -0.5], [-0.5, 0.2]]), 4.0, -0.5)
    s = shares(c, np.array([5.0]))
    v_pre, cov = 16.0, 12.0 - 2.5
    v_post = 12.0 - 5.0 + 0.2 * 25 + 4.0
    b = cov / v_pre
    assert s["b_pre"] == pytest.approx(b)
    assert s["end_adjusted"] == pytest.approx((1 - b) ** 2 * 2.0 / (v_post - cov**2 / v_pre))
    assert s["change"] == 0.0
    assert s["intake"] == pytest.approx(2.0 / 16.0)


def test_end_time_series_and_errors(fixture_model, point):
    last = fixture_model.data.groupby("client_id")["time"].max()
    te = therapist_effects(fixture_model, end_time=last, ci="none")
    pd.testing.assert_frame_equal(te.shares, point.shares)
    with pytest.raises(es.DataValidationError, match="end_time"):
        therapist_effects(fixture_model, end_time=last.iloc[:-1], ci="none")
    with pytest.raises(es.DataValidationError):
        therapist_effects(fixture_model, end_time=-1, ci="none")
    with pytest.raises(es.DataValidationError):
        therapist_effects(fixture_model, ci="profile")


def test_no_therapist_level_is_an_error():
    data = pd.read_csv(REF / "growth_fixture.csv").drop(columns="time")
    model = growth_model(data, therapist=None)
    with pytest.raises(es.ModelSpecError, match="no therapist random effect"):
        therapist_effects(model, ci="none")
    with pytest.raises(es.ModelSpecError, match="growth_model"):
        therapist_effects(model.fit, ci="none")


def test_summary_and_html(point):
    text = point.summary()
    assert "end_adjusted" in text
    assert "Do not rank therapists" in text
    assert "excludes 0: " in text
    html = point._repr_html_()
    assert html.count("<table") == 3
    assert list(point.shares.columns) == ["estimand", "estimate", "ci_low", "ci_high", "definition"]


def test_slope_check_matches_lme4(point):
    # tests/reference/therapist_effects/slope_test.R: anova(fit0, fit1, refit = FALSE), the
    # 50:50 chi2(1)/chi2(2) mixture p and the intercept-only model's end_adjusted share
    ref = pd.read_csv(REF / "slope_test.csv").set_index("quantity")["value"]
    comp = point.components.iloc[0]
    assert comp["slope_lrt_chisq"] == pytest.approx(ref["slope_lrt_chisq"], rel=1e-4)
    assert comp["slope_lrt_p"] == pytest.approx(ref["slope_lrt_p"], rel=1e-4)
    assert comp["end_adjusted_intercept_only"] == pytest.approx(
        ref["end_adjusted_intercept_only"], rel=1e-4
    )
    assert "boundary LRT chi2 = 2.80, p = 0.170" in point.summary()
    assert "Report both shares" in point.summary()


def test_slope_lrt_mixture():
    from engagestats.analyses._therapist_variance import slope_lrt

    assert slope_lrt(-10.0, -10.5) == pytest.approx((1.0, 0.5 * 0.3173105 + 0.5 * 0.6065307))
    assert slope_lrt(-11.0, -10.0) == (0.0, 1.0)  # a worse larger model is a statistic of 0


def test_no_slope_check_without_a_therapist_slope():
    data = pd.read_csv(REF / "growth_fixture.csv").drop(columns="time")
    te = therapist_effects(growth_model(data), ci="none")
    comp = te.components.iloc[0]
    assert np.isnan(comp["slope_lrt_p"])
    assert np.isnan(comp["end_adjusted_intercept_only"])
    assert "boundary LRT" not in te.summary()
