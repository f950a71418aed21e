"""effect_sizes for log and piecewise time: the model-implied difference at D over SD_raw.

Feingold (2009) defines d_GMA for linear growth, b_{time x group} D / SD_raw. For the other
codings effect_sizes uses the contrast sum_j b_{j x group} c_j(D) (our generalisation); the
tests compute it by hand from the fitted coefficients and their covariance (vcov(fit)), and
compare it with lme4 (tests/reference/effect_sizes_time/: R script, panel, reference.json).
"""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import effect_sizes, growth_model

Z = 1.959963984540054
D = 12.0


@pytest.fixture(scope="module")
def sample():
    return es.load_sample()


def _fit(study, time_method="session", knots=None, group="format"):
    return growth_model(study, predictors=[group], time_method=time_method, knots=knots)


def _sd_raw(model, group_column="format"):
    data = model.data
    base = data.loc[data["time"] == 0]
    ss = sum(((g - g.mean()) ** 2).sum() for _, g in base.groupby(group_column)[model.outcome])
    return float(np.sqrt(ss / (len(base) - 2))), len(base) - 2


def _row(result, method):
    t = result.table
    return t.loc[(t["effect"] == "d_gma") & (t["ci_method"] == method)].iloc[0]


CASES = [
    ("log", None, {"log_time": np.log1p(D)}),
    ("piecewise", [4], {"time_p1": 4.0, "time_p2": D - 4.0}),
    ("piecewise", [3, 8], {"time_p1": 3.0, "time_p2": 5.0, "time_p3": D - 8.0}),
]


@pytest.mark.parametrize(("method", "knots", "codes"), CASES, ids=["log", "pw4", "pw3_8"])
def test_d_by_hand_from_coefficients_and_vcov(sample, method, knots, codes):
    m = _fit(sample, method, knots)
    r = effect_sizes(m, group="format", duration=D, n_boot=3, seed=4)
    beta = m.fit.fixed["estimate"]
    vcov = m.fit.vcov
    # the model-implied individual - group difference at D sessions since the first
    lvec = pd.Series(0.0, index=beta.index)
    for term, code in codes.items():
        lvec[f"{term}:formatindividual"] = code
    diff = float(lvec @ beta)
    diff_se = float(np.sqrt(lvec @ vcov @ lvec))
    sd, df = _sd_raw(m)
    d = diff / sd
    se_fixed = diff_se / sd
    se_full = np.sqrt(se_fixed**2 + d**2 / (2 * df))
    delta, fixed = _row(r, "delta"), _row(r, "delta_sd_fixed")
    assert delta["estimate"] == pytest.approx(d, rel=1e-10)
    assert delta["se"] == pytest.approx(se_full, rel=1e-10)
    assert delta["ci_low"] == pytest.approx(d - Z * se_full, rel=1e-10)
    assert fixed["se"] == pytest.approx(se_fixed, rel=1e-10)
    assert fixed["ci_high"] == pytest.approx(d + Z * se_fixed, rel=1e-10)
    comp = r.components
    assert comp["term"].tolist() == [f"{t}:formatindividual" for t in codes]
    np.testing.assert_allclose(comp["time_code"], list(codes.values()), rtol=1e-15)
    np.testing.assert_allclose(comp["b"], [beta[f"{t}:formatindividual"] for t in codes])
    assert comp["difference"].iloc[0] == pytest.approx(diff, rel=1e-10)
    assert comp["difference_se"].iloc[0] == pytest.approx(diff_se, rel=1e-10)
    assert comp["sd_baseline"].iloc[0] == pytest.approx(sd, rel=1e-12)
    boot = _row(r, "bootstrap")
    assert np.isfinite([boot["ci_low"], boot["ci_high"]]).all()
    assert comp["n_boot"].iloc[0] + comp["n_failed"].iloc[0] == 3
    # not the single-slope formula: a wrong contrast (one term times D) would differ
    first = f"{next(iter(codes))}:formatindividual"
    assert d != pytest.approx(beta[first] * D / sd, rel=1e-3)


def test_session_model_reduces_to_feingold(sample):
    m = _fit(sample)
    r = effect_sizes(m, group="format", duration=D, n_boot=3, seed=4)
    b = float(m.fit.fixed.loc["time:formatindividual", "estimate"])
    b_se = float(m.fit.fixed.loc["time:formatindividual", "se"])
    sd, df = _sd_raw(m)
    d = b * D / sd  # Feingold (2009)
    se_fixed = D * b_se / sd
    assert _row(r, "delta")["estimate"] == pytest.approx(d, rel=1e-12)
    assert _row(r, "delta_sd_fixed")["se"] == pytest.approx(se_fixed, rel=1e-12)
    assert _row(r, "delta")["se"] == pytest.approx(
        np.sqrt(se_fixed**2 + d**2 / (2 * df)), rel=1e-12
    )
    assert r.components["time_code"].tolist() == [D]
    assert "model-implied difference" in r.summary()


@pytest.mark.parametrize("numeric", [False, True], ids=["categorical", "numeric"])
@pytest.mark.parametrize(("method", "knots"), [("session", None), ("piecewise", [4])])
def test_backticked_group_name_gives_the_same_d(sample, method, knots, numeric):
    clients = sample.clients
    if numeric:  # 0/1 instead of the two format levels
        clients = clients.assign(format=(clients["format"] == "individual").astype(float))
    hostile = dataclasses.replace(sample, clients=clients.rename(columns={"format": "my group"}))
    clean = dataclasses.replace(sample, clients=clients.rename(columns={"format": "my_group"}))
    mh = _fit(hostile, method, knots, group="my group")
    mc = _fit(clean, method, knots, group="my_group")
    assert any("`my group`" in n for n in mh.fit.fixed.index)  # R's name, backticked
    rh = effect_sizes(mh, group="my group", duration=D, n_boot=3, seed=4)
    rc = effect_sizes(mc, group="my_group", duration=D, n_boot=3, seed=4)
    pd.testing.assert_frame_equal(rh.table, rc.table, check_exact=False, rtol=1e-10)
    assert rh.components["term"].str.replace("my group", "my_group").tolist() == (
        rc.components["term"].tolist()
    )
    cols = ["time_code", "b", "b_se", "difference", "difference_se", "sd_baseline"]
    pd.testing.assert_frame_equal(
        rh.components[cols], rc.components[cols], check_exact=False, rtol=1e-10
    )


def test_three_groups_still_refused_with_piecewise(sample):
    clients = sample.clients.assign(arm=np.arange(len(sample.clients)) % 3)
    clients["arm"] = clients["arm"].map({0: "a", 1: "b", 2: "c"})
    m = _fit(dataclasses.replace(sample, clients=clients), "piecewise", [4], group="arm")
    with pytest.raises(es.ModelSpecError, match="two-group"):
        effect_sizes(m, group="arm", duration=D)


REF = json.loads(
    (
        Path(__file__).resolve().parents[1] / "reference" / "effect_sizes_time" / "reference.json"
    ).read_text()
)


@pytest.mark.parametrize(
    ("method", "knots", "case"),
    [(m, k, i) for (m, k, _), i in zip(CASES, ["log", "pw4", "pw3_8"], strict=True)],
    ids=["log", "pw4", "pw3_8"],
)
def test_against_lme4(sample, method, knots, case):
    # effect_sizes_time.R: lme4 fit of the same model; L'b and sqrt(L'VL) from fixef, vcov
    ref = REF[case]
    r = effect_sizes(_fit(sample, method, knots), group="format", duration=D, n_boot=2)
    comp = r.components
    assert REF["duration"] == D
    assert comp["sd_baseline"].iloc[0] == pytest.approx(REF["sd_raw"], rel=1e-12)
    assert comp["df_sd"].iloc[0] == REF["df_sd"]
    np.testing.assert_allclose(comp["time_code"], np.atleast_1d(ref["codes"]), rtol=1e-12)
    np.testing.assert_allclose(comp["b"], np.atleast_1d(ref["b"]), rtol=1e-4)
    assert comp["difference"].iloc[0] == pytest.approx(ref["difference"], rel=1e-4)
    assert comp["difference_se"].iloc[0] == pytest.approx(ref["difference_se"], rel=1e-4)
    assert _row(r, "delta")["estimate"] == pytest.approx(ref["d"], rel=1e-4)
    assert _row(r, "delta")["se"] == pytest.approx(ref["se_delta"], rel=1e-4)
    assert _row(r, "delta_sd_fixed")["se"] == pytest.approx(ref["se_fixed"], rel=1e-4)
