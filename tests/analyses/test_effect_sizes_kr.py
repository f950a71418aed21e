"""effect_sizes under Kenward-Roger df: the delta-method SE from pbkrtest::vcovAdj (Phi_A).

tests/reference/effect_sizes_kr/ (R script, panel, effect_sizes_kr.csv with the R call beside
each number): the same growth models fitted by lme4 on data/sample, L'b and sqrt(L' Phi_A L)
from fixef and vcovAdj, cross-checked there against lmerTest::contest(ddf = "Kenward-Roger")
and emmeans(lmer.df = "kenward-roger").
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import effect_sizes, growth_model

D = 12.0
REF = pd.read_csv(
    Path(__file__).resolve().parents[1] / "reference" / "effect_sizes_kr" / "effect_sizes_kr.csv"
)
# Observed: the SEs agree with R to < 2e-7 (relative), d to < 5e-6 (d is near 0). SE_RTOL is
# 50 times the largest SE discrepancy and 80 times smaller than the Kenward-Roger adjustment
# itself (Phi_A vs vcov(fit): 8e-4 and 1.1e-3 relative), so an unadjusted SE fails it.
SE_RTOL = 1e-5
D_RTOL = 1e-4
CASES = {"session": {}, "pw4": {"time_method": "piecewise", "knots": [4]}}


def _ref(case):
    sub = REF.loc[REF["case"].isin([case, "all"])].set_index("quantity")["value"]
    return sub


def _row(result, method):
    t = result.table
    return t.loc[(t["effect"] == "d_gma") & (t["ci_method"] == method)].iloc[0]


@pytest.fixture(scope="module")
def sample():
    return es.load_sample()


@pytest.fixture(scope="module", params=list(CASES))
def case(request, sample):
    kw = CASES[request.param]
    m = growth_model(sample, predictors=["format"], ddf="kenward-roger", **kw)
    return request.param, m, effect_sizes(m, group="format", duration=D, n_boot=2, seed=3)


def test_reference_separates_adjusted_from_unadjusted():
    # the tolerance below can tell Phi_A from vcov(fit) on these data
    for case in CASES:
        ref = _ref(case)
        gap = abs(float(ref["difference_se_unadjusted"]) / float(ref["difference_se"]) - 1)
        assert gap > 50 * SE_RTOL
        # the three R routes to the KR SE agree with each other
        assert float(ref["contest_se"]) == pytest.approx(float(ref["difference_se"]), rel=1e-12)
        assert float(ref["emmeans_se"]) == pytest.approx(float(ref["difference_se"]), rel=1e-8)


def test_against_pbkrtest_vcovadj(case):
    name, m, r = case
    ref = _ref(name)
    comp = r.components
    assert float(ref["duration"]) == D
    assert comp["sd_baseline"].iloc[0] == pytest.approx(float(ref["sd_raw"]), rel=1e-12)
    assert m.formula == ref["formula"]
    for term, b, b_se in zip(comp["term"], comp["b"], comp["b_se"], strict=True):
        assert b == pytest.approx(float(ref[f"b:{term}"]), rel=D_RTOL)
        assert b_se == pytest.approx(float(ref[f"b_se:{term}"]), rel=SE_RTOL)
    assert comp["difference"].iloc[0] == pytest.approx(float(ref["difference"]), rel=D_RTOL)
    assert comp["difference_se"].iloc[0] == pytest.approx(float(ref["difference_se"]), rel=SE_RTOL)
    delta, fixed = _row(r, "delta"), _row(r, "delta_sd_fixed")
    assert delta["estimate"] == pytest.approx(float(ref["d"]), rel=D_RTOL)
    assert fixed["se"] == pytest.approx(float(ref["se_fixed"]), rel=SE_RTOL)
    assert delta["se"] == pytest.approx(float(ref["se_delta"]), rel=SE_RTOL)
    assert delta["se"] != pytest.approx(float(ref["se_delta_unadjusted"]), rel=SE_RTOL)


def test_kr_se_is_the_kr_contrast_se(case):
    # by hand from the fit: sqrt(L' Phi_A L) is the SE of fit.contrast(L, ddf="kenward-roger")
    _, m, r = case
    comp = r.components
    names = list(m.fit.fixed.index)
    lvec = np.zeros(len(names))
    for term, code in zip(comp["term"], comp["time_code"], strict=True):
        lvec[names.index(term)] = code
    kr = m.fit.contrast(lvec[None, :], ddf="kenward-roger")
    sat = m.fit.contrast(lvec[None, :], ddf="satterthwaite")
    assert comp["difference_se"].iloc[0] == pytest.approx(float(kr["se"].iloc[0]), rel=1e-10)
    assert comp["difference_se"].iloc[0] != pytest.approx(float(sat["se"].iloc[0]), rel=1e-5)
    fe = m.fit.fixed_effects(ddf="kenward-roger")
    np.testing.assert_allclose(comp["b_se"], fe.loc[comp["term"], "se"], rtol=1e-10)


def test_satterthwaite_path_unchanged(sample):
    # the default df method keeps vcov(fit): the same SE as fit.vcov, not Phi_A
    m = growth_model(sample, predictors=["format"])
    r = effect_sizes(m, group="format", duration=D, n_boot=2, seed=3)
    b_se = float(np.sqrt(m.fit.vcov.loc["time:formatindividual", "time:formatindividual"]))
    assert r.components["b_se"].iloc[0] == pytest.approx(b_se, rel=1e-12)
    ref = _ref("session")
    assert r.components["difference_se"].iloc[0] == pytest.approx(
        float(ref["difference_se_unadjusted"]), rel=SE_RTOL
    )
