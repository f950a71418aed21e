"""effect_sizes: Feingold d_GMA by hand (published formula, lme4 b); Becker and Morris d."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import effect_sizes, growth_model

REF = Path(__file__).resolve().parents[1] / "reference" / "therapist_effects"
Z = 1.959963984540054
DURATION = 10.0


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "effect_sizes_fixture.csv")


@pytest.fixture(scope="module")
def model(data):
    return growth_model(
        data.drop(columns="time"), predictors={"group": "treatment"}, therapist_slope=True
    )


@pytest.fixture(scope="module")
def result(model):
    return effect_sizes(model, group="group", duration=DURATION, n_boot=25, seed=2)


@pytest.fixture(scope="module")
def r_ref():
    return pd.read_csv(REF / "effect_sizes.csv").set_index("quantity")["value"]


def table(result, effect, method=None):
    t = result.table.loc[result.table["effect"] == effect]
    return t if method is None else t.loc[t["ci_method"] == method].iloc[0]


def test_d_gma_by_hand(data, result, r_ref):
    # Feingold (2009), eq. for d_GMA: d = (b_{time x group} * duration) / SD_raw, SD_raw the
    # pooled within-group SD of the raw scores at baseline
    base = data.loc[data["time"] == 0]
    ss = sum(((g - g.mean()) ** 2).sum() for _, g in base.groupby("treatment")["phq9_total"])
    df = len(base) - 2
    sd_raw = np.sqrt(ss / df)
    b = r_ref["b"]  # lme4: fixef(fit)["time:group"]
    d_hand = b * DURATION / sd_raw
    assert sd_raw == pytest.approx(r_ref["sd_raw"], rel=1e-12)
    assert d_hand == pytest.approx(r_ref["d_gma"], rel=1e-10)
    row = table(result, "d_gma", "delta")
    assert row["estimate"] == pytest.approx(d_hand, rel=1e-4)
    comp = result.components.iloc[0]
    assert comp["b"] == pytest.approx(b, rel=1e-4)
    assert comp["b_se"] == pytest.approx(r_ref["b_se"], rel=1e-3)
    assert comp["sd_baseline"] == pytest.approx(sd_raw, rel=1e-12)
    assert d_hand < 0  # the fixture's treatment lowers the PHQ-9 slope by 0.25 a session


def test_delta_intervals_by_hand(result, r_ref):
    sd, b_se, d = r_ref["sd_raw"], r_ref["b_se"], r_ref["d_gma"]
    df = result.components["df_sd"].iloc[0]
    se_fixed = DURATION * b_se / sd  # Feingold (2013): CI of b scaled by duration / SD
    se_full = np.sqrt(se_fixed**2 + d**2 / (2 * df))  # plus the sampling error of the SD
    fixed = table(result, "d_gma", "delta_sd_fixed")
    full = table(result, "d_gma", "delta")
    assert fixed["se"] == pytest.approx(se_fixed, rel=1e-3)
    assert full["se"] == pytest.approx(se_full, rel=1e-3)
    assert full["ci_low"] == pytest.approx(d - Z * se_full, rel=1e-3)
    assert full["ci_high"] == pytest.approx(d + Z * se_full, rel=1e-3)


def test_bootstrap_loosely_matches_bootmer(result, r_ref):
    # Monte Carlo on both sides (R: 300 refits, here 25): centre and width, loosely
    row = table(result, "d_gma", "bootstrap")
    width = r_ref["boot_high"] - r_ref["boot_low"]
    mid = (row["ci_low"] + row["ci_high"]) / 2
    assert abs(mid - (r_ref["boot_low"] + r_ref["boot_high"]) / 2) < 0.35 * width
    assert 0.4 * width < row["ci_high"] - row["ci_low"] < 1.6 * width
    assert row["se"] == pytest.approx(r_ref["boot_sd"], rel=0.5)


def test_pre_post_by_hand(data, result):
    d = data.sort_values(["client_id", "time"])
    g = d.groupby("client_id")
    pp = pd.DataFrame(
        {
            "pre": g["phq9_total"].first(),
            "post": g["phq9_total"].last(),
            "t0": g["time"].first(),
            "t1": g["time"].last(),
            "treatment": g["treatment"].first(),
        }
    )
    pp = pp.loc[(pp["t0"] == 0) & (pp["t1"] > 0)]
    rows = table(result, "pre_post").set_index("contrast")
    stats = {}
    for arm, sub in pp.groupby("treatment"):
        n = len(sub)
        sd_pre = sub["pre"].std(ddof=1)
        r = np.corrcoef(sub["pre"], sub["post"])[0, 1]
        change = (sub["post"] - sub["pre"]).mean()
        # Becker (1988): g = c(n - 1) (M_post - M_pre) / SD_pre, c(m) = 1 - 3 / (4m - 1)
        d_b = (1 - 3 / (4 * (n - 1) - 1)) * change / sd_pre
        se = np.sqrt(2 * (1 - r) / n + d_b**2 / (2 * n))
        row = rows.loc[str(arm)]
        assert row["estimate"] == pytest.approx(d_b, rel=1e-12)
        assert row["se"] == pytest.approx(se, rel=1e-12)
        assert row["n"] == n
        stats[arm] = (change, sd_pre, r, n)
    (c0, s0, r0, n0), (c1, s1, r1, n1) = stats[0], stats[1]
    # Morris (2008) d_ppc2: c_p [(post_T - pre_T) - (post_C - pre_C)] / SD_pre,pooled
    df = n0 + n1 - 2
    sd_pool = np.sqrt(((n0 - 1) * s0**2 + (n1 - 1) * s1**2) / df)
    cp = 1 - 3 / (4 * df - 1)
    d_ppc2 = cp * (c1 - c0) / sd_pool
    k = 2 * (1 - (r0 + r1) / 2) * (n0 + n1) / (n0 * n1)
    var = cp**2 * k * df / (df - 2) * (1 + d_ppc2**2 / k) - d_ppc2**2  # Morris eq. 25
    row = table(result, "d_ppc2").iloc[0]
    assert row["estimate"] == pytest.approx(d_ppc2, rel=1e-12)
    assert row["se"] == pytest.approx(np.sqrt(var), rel=1e-12)
    assert row["contrast"] == "1 - 0"


def test_categorical_group_gives_the_same_d(data, result):
    arm = data.assign(arm=np.where(data["treatment"] == 1, "tx", "ctl")).drop(columns="time")
    m = growth_model(arm, predictors=["arm"], therapist_slope=True)
    r = effect_sizes(m, group="arm", duration=DURATION, n_boot=2)
    a, b = table(r, "d_gma", "delta"), table(result, "d_gma", "delta")
    assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-6)
    assert a["contrast"] == "tx - ctl"


def test_errors(model, data):
    with pytest.raises(es.ModelSpecError, match="not a predictor"):
        effect_sizes(model, group="treatment", duration=10)
    with pytest.raises(es.DataValidationError):
        effect_sizes(model, group="group", duration=0)
    three = data.assign(arm=data["client_id"].str[-1].astype(int) % 3).drop(columns="time")
    three["arm"] = three["arm"].map({0: "a", 1: "b", 2: "c"})
    m = growth_model(three, predictors=["arm"])
    with pytest.raises(es.ModelSpecError, match="two-group"):
        effect_sizes(m, group="arm", duration=10)


def test_summary_and_html(result):
    assert "d_gma" in result.summary()
    assert result._repr_html_().count("<table") == 2
    assert list(result.table.columns) == [
        "effect",
        "contrast",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "ci_method",
        "n",
    ]
