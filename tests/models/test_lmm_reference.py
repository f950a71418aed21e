"""engagestats.models.lmm against lme4 / lmerTest / performance (tests/reference/lme4)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.models import lmm

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "lme4"
with (REF_DIR / "reference.json").open() as fh:
    REF = json.load(fh)

COEF = "coef(summary(fit)) with Satterthwaite df; ci = Estimate +/- qt(0.975, df) * SE"
FITS = {
    True: "lmer(formula, data, REML = TRUE, control = ctl)",
    False: "lmer(formula, data, REML = FALSE, control = ctl)",
}
GROUP_COLS = {"Subject": str, "client": str, "therapist": str}
CASES = [(name, reml) for name in REF["models"] for reml in (True, False)]


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / name, dtype=GROUP_COLS)


@functools.cache
def fitted(name: str, reml: bool):
    model = REF["models"][name]
    return lmm(model["formula"], load(model["data"]), reml=reml)


@pytest.fixture(
    scope="module", params=CASES, ids=[f"{n}-{'REML' if r else 'ML'}" for n, r in CASES]
)
def case(request):
    name, reml = request.param
    model = REF["models"][name]
    return fitted(name, reml), model, model[FITS[reml]], reml


def test_versions_recorded():
    assert set(REF["versions"]) == {"R", "lme4", "lmerTest", "performance", "insight"}


def test_deviance_and_information_criteria(case):
    fit, _, ref, reml = case
    expected = ref["REMLcrit(fit)"] if reml else ref["deviance(fit, REML = FALSE)"]
    # Our optimum may only be as good or better than lme4's.
    assert fit.deviance <= expected * (1 + 1e-6)
    np.testing.assert_allclose(fit.deviance, expected, rtol=1e-6)
    np.testing.assert_allclose(fit.loglik, ref["as.numeric(logLik(fit))"], rtol=1e-6)
    np.testing.assert_allclose(fit.aic, ref["AIC(fit)"], rtol=1e-6)
    np.testing.assert_allclose(fit.bic, ref["BIC(fit)"], rtol=1e-6)
    assert fit.n_params == ref["attr(logLik(fit), 'df')"]
    assert fit.reml is ref["isREML(fit)"]


def test_counts(case):
    fit, _, ref, _ = case
    assert fit.nobs == ref["nobs(fit)"]
    assert fit.ngroups == ref["ngrps(fit)"]
    assert fit.converged


def test_theta_and_sigma(case):
    fit, _, ref, _ = case
    theta = ref["getME(fit, 'theta')"]
    assert list(fit.theta.index) == theta["names"]
    # theta elements can be near 0 (off-diagonals): absolute tolerance on the relative scale.
    np.testing.assert_allclose(fit.theta.to_numpy(), theta["values"], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(fit.sigma, ref["sigma(fit)"], rtol=1e-4)


def test_fixed_effects(case):
    fit, _, ref, _ = case
    expected = pd.DataFrame(ref[COEF]).set_index("term")
    fixed = fit.fixed
    assert list(fixed.index) == list(expected.index)
    assert list(fixed.columns) == ["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]
    np.testing.assert_allclose(fixed["estimate"], expected["estimate"], rtol=1e-4)
    np.testing.assert_allclose(fixed["se"], expected["se"], rtol=1e-4)
    np.testing.assert_allclose(fixed["df"], expected["df"], rtol=1e-2)
    np.testing.assert_allclose(fixed["t"], expected["t"], rtol=1e-4)
    np.testing.assert_allclose(fixed["p"], expected["p"], rtol=1e-2, atol=1e-12)
    for col in ("ci_low", "ci_high"):
        np.testing.assert_allclose(fixed[col], expected[col], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        fit.vcov.to_numpy(), np.array(ref["as.matrix(vcov(fit))"]), rtol=1e-3, atol=1e-8
    )


def test_varcorr(case):
    fit, _, ref, _ = case
    expected = pd.DataFrame(ref["as.data.frame(VarCorr(fit))"])
    vc = fit.varcorr
    assert list(vc.columns) == ["group", "var1", "var2", "vcov", "sdcor"]
    assert vc["group"].tolist() == expected["grp"].tolist()
    assert vc["var1"].fillna("NA").tolist() == expected["var1"].fillna("NA").tolist()
    assert vc["var2"].fillna("NA").tolist() == expected["var2"].fillna("NA").tolist()
    scale = expected["vcov"].abs().max()
    np.testing.assert_allclose(vc["vcov"], expected["vcov"], rtol=1e-3, atol=1e-5 * scale)
    np.testing.assert_allclose(vc["sdcor"], expected["sdcor"], rtol=1e-3, atol=1e-4)


def test_ranef_with_conditional_sd(case):
    fit, _, ref, _ = case
    key = "as.data.frame(ranef(fit, condVar = TRUE)), first 3 levels per group"
    expected = pd.DataFrame(ref[key]).rename(
        columns={"grpvar": "group", "grp": "level", "condval": "estimate", "condsd": "cond_sd"}
    )
    ours = fit.ranef(cond_sd=True)
    assert list(ours.columns) == ["group", "level", "term", "estimate", "cond_sd"]
    merged = expected.merge(ours, on=["group", "level", "term"], suffixes=("_r", ""))
    assert len(merged) == len(expected)
    scale = np.abs(ours["estimate"]).max()
    np.testing.assert_allclose(
        merged["estimate"], merged["estimate_r"], rtol=1e-3, atol=1e-4 * scale
    )
    np.testing.assert_allclose(merged["cond_sd"], merged["cond_sd_r"], rtol=1e-3)


def test_predictions_fitted_residuals(case):
    fit, _, ref, _ = case
    newdata = pd.DataFrame(ref["newdata"]).astype(
        {c: str for c in GROUP_COLS if c in ref["newdata"][0]}
    )
    with_re = fit.predict(newdata)
    np.testing.assert_allclose(
        with_re, ref["predict(fit, newdata, allow.new.levels = TRUE)"], rtol=1e-5
    )
    pop = fit.predict(newdata, include_random=False)
    np.testing.assert_allclose(pop, ref["predict(fit, newdata, re.form = NA)"], rtol=1e-5)
    # The last row is a new level everywhere: the population prediction.
    assert with_re.iloc[-1] == pytest.approx(pop.iloc[-1], rel=1e-12)
    np.testing.assert_allclose(fit.fitted().iloc[:5], ref["head(fitted(fit), 5)"], rtol=1e-5)
    scale = float(np.std(fit.residuals()))
    np.testing.assert_allclose(
        fit.residuals().iloc[:5], ref["head(residuals(fit), 5)"], rtol=1e-4, atol=1e-5 * scale
    )


def test_contest(case):
    fit, model, _, reml = case
    ref = model["REML fit: contest" if reml else "ML fit: contest"]
    L = np.array(ref["L"], dtype=float).reshape(-1, len(fit.fixed))
    joint = fit.contrast(L, joint=True)
    expected = pd.DataFrame(ref["contest(fit, L, joint = TRUE)"])
    assert list(joint.columns) == ["sum_sq", "mean_sq", "num_df", "den_df", "f", "p"]
    assert joint["num_df"].iloc[0] == expected["num_df"].iloc[0]
    np.testing.assert_allclose(joint["f"], expected["f"], rtol=1e-4)
    np.testing.assert_allclose(joint["sum_sq"], expected["sum_sq"], rtol=1e-3)
    np.testing.assert_allclose(joint["den_df"], expected["den_df"], rtol=1e-2)
    np.testing.assert_allclose(joint["p"], expected["p"], rtol=1e-2, atol=1e-14)
    rows = fit.contrast(L)
    exp_rows = pd.DataFrame(ref["contest(fit, L, joint = FALSE)"])
    for col in ("estimate", "se", "t", "ci_low", "ci_high"):
        np.testing.assert_allclose(rows[col], exp_rows[col], rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(rows["df"], exp_rows["df"], rtol=1e-2)


@pytest.mark.parametrize("name", list(REF["models"]))
def test_icc_and_r2(name):
    model = REF["models"][name]
    perf = model["REML fit: performance"]
    fit = fitted(name, True)
    icc = fit.icc()
    np.testing.assert_allclose(
        icc.loc["overall", "icc_adjusted"], perf["performance::icc(fit)$ICC_adjusted"], rtol=1e-4
    )
    np.testing.assert_allclose(
        icc.loc["overall", "icc_unadjusted"],
        perf["performance::icc(fit)$ICC_unadjusted"],
        rtol=1e-4,
    )
    by_group = pd.DataFrame(perf["performance::icc(fit, by_group = TRUE)"]).set_index("group")
    assert list(icc.index[1:]) == list(by_group.index)
    np.testing.assert_allclose(icc["icc_adjusted"].iloc[1:], by_group["icc"], rtol=1e-4)
    r2 = fit.r2()
    np.testing.assert_allclose(
        r2["r2_marginal"].iloc[0], perf["performance::r2_nakagawa(fit)$R2_marginal"], rtol=1e-4
    )
    np.testing.assert_allclose(
        r2["r2_conditional"].iloc[0],
        perf["performance::r2_nakagawa(fit)$R2_conditional"],
        rtol=1e-4,
    )
    variance = perf["insight::get_variance(fit)"]
    np.testing.assert_allclose(r2["var_fixed"].iloc[0], variance["var.fixed"], rtol=1e-4)
    np.testing.assert_allclose(r2["var_random"].iloc[0], variance["var.random"], rtol=1e-3)
    np.testing.assert_allclose(r2["var_residual"].iloc[0], variance["var.residual"], rtol=1e-3)


def test_missing_outcomes_are_counted():
    data = load("growth.csv")
    fit = lmm(REF["models"]["growth"]["formula"], data)
    assert fit.n_dropped == int(data["phq"].isna().sum()) == 6
    assert fit.nobs + fit.n_dropped == len(data)
