"""lmm(..., correlation="ar1" | "car1") against nlme::lme (tests/reference/nlme_ar1).

Fixtures: ar1.R -> ar1.json (Ovary corAR1, BodyWeight corCAR1, sleepstudy corAR1),
ar1_gaps.R -> ar1_gaps.json (missed occasions), ar1_nested.R -> ar1_nested.json (two
nested levels, sample data). Tolerances (issue 14): fixed effects 1e-4 relative, SEs 1e-3,
variance components 1e-3, phi 1e-3; logLik 1e-6 relative.
"""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import SingularFitWarning
from engagestats.models import compare, lmm

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "nlme_ar1"
REF = json.loads((REF_DIR / "ar1.json").read_text())
MODELS = {m["id"]: m for m in REF["models"]}
GAPS = json.loads((REF_DIR / "ar1_gaps.json").read_text())["models"]
NESTED = json.loads((REF_DIR / "ar1_nested.json").read_text())["models"]
RE = "random effects (getVarCov(fit) and sigma(fit)^2, lme4 long layout)"
PHI = "coef(fit$modelStruct$corStruct, unconstrained = FALSE)"
OV = "follicles ~ sin(2*pi*Time) + cos(2*pi*Time) + (1 | Mare)"
BW = "weight ~ Time * Diet + (Time | Rat)"
BW_INT = "weight ~ Time * Diet + (1 | Rat)"
SS = "Reaction ~ Days + (Days | Subject)"

# id stem -> (formula, data file, lmm keyword arguments)
SPECS = {
    "ovary_ar1": (OV, "ovary.csv", {"correlation": "ar1"}),
    "ovary_indep": (OV, "ovary.csv", {}),
    "bw_slope_car1": (BW, "bodyweight.csv", {"correlation": "car1", "time": "Time"}),
    "bw_slope_indep": (BW, "bodyweight.csv", {}),
    "bw_int_car1": (BW_INT, "bodyweight.csv", {"correlation": "car1", "time": "Time"}),
    "bw_int_indep": (BW_INT, "bodyweight.csv", {}),
    "ss_ar1": (SS, "sleepstudy.csv", {"correlation": "ar1"}),
    "ss_indep": (SS, "sleepstudy.csv", {}),
}
CORR_CASES = [f"{s}_{m}" for s in SPECS if "indep" not in s for m in ("REML", "ML")]


@functools.cache
def data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / name, dtype={"Mare": str, "Rat": str, "Diet": str, "Subject": str})


@functools.cache
def fitted(case: str):
    stem, method = case.rsplit("_", 1)
    formula, file, kw = SPECS[stem]
    with warnings.catch_warnings():
        # sleepstudy: the random-effect correlation is estimated at 1 in both nlme and here
        warnings.simplefilter("ignore", SingularFitWarning)
        return lmm(formula, data(file), reml=method == "REML", **kw)


def rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


@pytest.mark.parametrize("case", CORR_CASES)
def test_phi_fixed_effects_and_standard_errors(case):
    fit, ref = fitted(case), MODELS[case]["result"]
    assert fit.converged
    # lme(..., correlation = corAR1(form = ~ 1 | g)) / corCAR1(form = ~ Time | Rat)
    np.testing.assert_allclose(fit.phi, ref[PHI], rtol=1e-3)
    assert fit.fixed.index.tolist() == ref["fixef(fit)"]["names"]
    # fixef(fit); sqrt(diag(vcov(fit)))
    np.testing.assert_allclose(fit.fixed["estimate"], ref["fixef(fit)"]["values"], rtol=1e-4)
    np.testing.assert_allclose(fit.fixed["se"], ref["sqrt(diag(vcov(fit)))"]["values"], rtol=1e-3)
    # summary(fit)$tTable: nlme's containment DF, t and p. For ML fits summary.lme
    # (adjustSigma = TRUE) scales the SEs by sqrt(N / (N - p)); vcov(fit) and we do not.
    tt = ref["summary(fit)$tTable"]
    np.testing.assert_array_equal(fit.fixed["df"], tt["DF"])
    adj = 1.0 if fit.reml else np.sqrt(fit.nobs / (fit.nobs - len(fit.fixed)))
    np.testing.assert_allclose(fit.fixed["se"] * adj, tt["Std.Error"], rtol=1e-3)
    np.testing.assert_allclose(fit.fixed["t"] / adj, tt["t-value"], rtol=1e-3)
    if fit.reml:
        np.testing.assert_allclose(fit.fixed["p"], tt["p-value"], rtol=2e-2)


@pytest.mark.parametrize("case", CORR_CASES)
def test_loglik_information_criteria_and_variance_components(case):
    fit, ref = fitted(case), MODELS[case]["result"]
    ll = ref["as.numeric(logLik(fit))"]
    # as.numeric(logLik(fit)): never below nlme's optimum, and equal to it within 1e-6
    assert fit.loglik >= ll - 1e-6
    np.testing.assert_allclose(fit.loglik, ll, rtol=1e-6)
    assert fit.n_params == ref["attr(logLik(fit), 'df')"]
    np.testing.assert_allclose(fit.aic, ref["AIC(fit)"], rtol=1e-6)  # AIC(fit)
    # BIC(fit): nlme uses log(N - p) for REML fits, lme4 and engagestats log(N)
    n_eff = fit.nobs - (len(fit.fixed) if fit.reml else 0)
    nlme_bic = fit.bic - fit.n_params * (np.log(fit.nobs) - np.log(n_eff))
    np.testing.assert_allclose(nlme_bic, ref["BIC(fit)"], rtol=1e-6)
    # getVarCov(fit) and sigma(fit)^2. sleepstudy: the random intercept-slope correlation is
    # 0.99995 and nlme stops 1.5e-5 (REML) / 2.4e-5 (ML) logLik below our optimum, so its
    # variances differ by up to 1.1e-3 (ML); rtol 2e-3 there.
    rtol = 2e-3 if case.startswith("ss_") else 1e-3
    np.testing.assert_allclose(fit.varcorr["vcov"], ref[RE]["vcov"], rtol=rtol)
    np.testing.assert_allclose(fit.sigma, ref["sigma(fit)"], rtol=rtol / 2)


@pytest.mark.parametrize("case", ["ovary_ar1_REML", "bw_slope_car1_REML", "bw_int_car1_ML"])
def test_fitted_values_include_the_conditional_modes(case):
    fit, ref = fitted(case), MODELS[case]["result"]
    # unname(fitted(fit))[1:5]: X beta + Z b with nlme's BLUPs; level 0 = X beta
    np.testing.assert_allclose(fit.fitted().iloc[:5], ref["unname(fitted(fit))[1:5]"], rtol=1e-5)
    np.testing.assert_allclose(
        fit.predict(include_random=False).iloc[:5],
        ref["unname(fitted(fit, level = 0))[1:5]"],
        rtol=1e-6,
    )


@pytest.mark.parametrize("stem", ["ovary", "bw_slope", "bw_int", "ss"])
def test_likelihood_ratio_against_independent_residuals(stem):
    kind = "car1" if stem.startswith("bw") else "ar1"
    for method in ("REML", "ML"):
        lrt = next(x for x in REF["lrt"] if x["m1"] == f"{stem}_{kind}_{method}")
        tab = lrt["anova(fit_indep, fit_corr)"]
        m0, m1 = fitted(f"{stem}_indep_{method}"), fitted(f"{stem}_{kind}_{method}")
        # anova(fit_indep, fit_corr): REML fits with the same fixed effects are compared
        # on the REML likelihood, as nlme does (refit=False)
        out = compare(m0, m1, refit=False)
        assert out["npar"].tolist() == tab["df"]
        np.testing.assert_allclose(out["chisq"].iloc[1], tab["L.Ratio"][1], rtol=1e-5)
        np.testing.assert_allclose(out["p"].iloc[1], tab["p-value"][1], rtol=1e-3)
        np.testing.assert_allclose(out["aic"], tab["AIC"], rtol=1e-6)


def test_compare_refits_reml_fits_by_ml_with_the_correlation():
    # compare()'s default refits REML fits by ML: then it is nlme's ML anova
    tab = next(x for x in REF["lrt"] if x["m1"] == "ovary_ar1_ML")["anova(fit_indep, fit_corr)"]
    out = compare(fitted("ovary_indep_REML"), fitted("ovary_ar1_REML"))
    np.testing.assert_allclose(out["chisq"].iloc[1], tab["L.Ratio"][1], rtol=1e-5)
    np.testing.assert_allclose(out["loglik"], tab["logLik"], rtol=1e-7)
    assert out.index[1].endswith("ar1(1 | Mare)")


@pytest.mark.parametrize("pair", sorted(REF["se_ratio"]))
def test_standard_error_ratios(pair):
    corr, indep = (p.strip() for p in pair.split("/"))
    ratio = fitted(corr).fixed["se"] / fitted(indep).fixed["se"]
    # sqrt(diag(vcov(fit_corr))) / sqrt(diag(vcov(fit_indep))): Ovary's time trend 1.74 / 1.89
    np.testing.assert_allclose(ratio, REF["se_ratio"][pair]["values"], rtol=1e-3)


def test_time_column_form_equals_row_order_without_gaps():
    # corAR1(form = ~ occasion | Mare) and ~ Days | Subject equal ~ 1 | g on gap-free data
    ref = MODELS["ovary_ar1_REML_occasion"]["result"]
    d = data("ovary.csv").copy()
    d["occasion"] = d.groupby("Mare").cumcount() + 1
    fit = lmm(OV, d, correlation="ar1", time="occasion")
    np.testing.assert_allclose(fit.phi, ref[PHI], rtol=1e-3)
    np.testing.assert_allclose(fit.loglik, ref["as.numeric(logLik(fit))"], rtol=1e-7)


def _gaps() -> pd.DataFrame:
    d = data("ovary.csv").copy()
    d["occasion"] = d.groupby("Mare").cumcount() + 1
    return d[d["occasion"] % 4 != 3]


@pytest.mark.parametrize(
    ("rid", "kw", "reml"),
    [
        ("gaps_ar1_occasion_REML", {"correlation": "ar1", "time": "occasion"}, True),
        ("gaps_ar1_occasion_ML", {"correlation": "ar1", "time": "occasion"}, False),
        ("gaps_car1_occasion_REML", {"correlation": "car1", "time": "occasion"}, True),
        ("gaps_ar1_order_REML", {"correlation": "ar1"}, True),
    ],
)
def test_missed_occasions(rid, kw, reml):
    # ar1_gaps.json: every 4th occasion of each Mare missing. With time= a gap of two
    # occasions has correlation phi^2 (nlme corAR1(form = ~ occasion | Mare)); without it
    # the rows are taken as consecutive (corAR1(form = ~ 1 | Mare)), a different model.
    ref = GAPS[rid]
    fit = lmm(OV, _gaps(), reml=reml, **kw)
    np.testing.assert_allclose(fit.phi, ref["phi"], rtol=1e-3)
    np.testing.assert_allclose(fit.loglik, ref["as.numeric(logLik(fit))"], rtol=1e-6)
    np.testing.assert_allclose(fit.fixed["estimate"], ref["fixef(fit)"]["values"], rtol=1e-4)
    np.testing.assert_allclose(fit.fixed["se"], ref["sqrt(diag(vcov(fit)))"]["values"], rtol=1e-3)
    np.testing.assert_array_equal(fit.fixed["df"], ref["summary(fit)$tTable[, 'DF']"])
    np.testing.assert_allclose(fit.varcorr["vcov"].iloc[0], ref["getVarCov(fit)[1, 1]"], rtol=1e-3)
    np.testing.assert_allclose(fit.aic, ref["AIC(fit)"], rtol=1e-6)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_two_nested_levels_on_the_sample(method):
    # ar1_nested.json: clients within therapists, AR(1) within clients over session numbers
    # (missed sessions are gaps); nlme's DF over two strata
    ref = NESTED[f"nested_ar1_{method}"]
    d = pd.read_csv(REF_DIR / "sample_phq9.csv")
    fit = lmm(
        "phq9 ~ session + (1 | therapist_id/client_id)",
        d,
        reml=method == "REML",
        correlation="ar1",
        time="session",
    )
    assert fit.correlation["group"] == "client_id:therapist_id"
    np.testing.assert_allclose(fit.phi, ref["phi"], rtol=1e-3)
    assert fit.loglik >= ref["as.numeric(logLik(fit))"] - 1e-6
    np.testing.assert_allclose(fit.loglik, ref["as.numeric(logLik(fit))"], rtol=1e-7)
    np.testing.assert_allclose(fit.fixed["estimate"], ref["fixef(fit)"]["values"], rtol=1e-4)
    np.testing.assert_allclose(fit.fixed["se"], ref["sqrt(diag(vcov(fit)))"]["values"], rtol=1e-3)
    np.testing.assert_array_equal(fit.fixed["df"], ref["summary(fit)$tTable[, 'DF']"])
    vc = fit.varcorr.set_index("group")["vcov"]
    key = "as.numeric(VarCorr(fit)[c(2, 4), 'Variance']) (therapist, client)"
    np.testing.assert_allclose(
        [vc["therapist_id"], vc["client_id:therapist_id"]], ref[key], rtol=1e-3
    )
    np.testing.assert_allclose(fit.sigma, ref["sigma(fit)"], rtol=5e-4)
