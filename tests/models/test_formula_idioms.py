"""R formula idioms, written as users write them for lmer/glmer, against R's numbers.

Reference: ``tests/reference/formula_idioms/idioms.json`` (``idioms.R``; lme4 1.1-31
with tight optimiser settings, see ``tests/reference/README_issue14.md``).

Tolerances (deliberate):
* model-matrix columns: names exactly; values of the first five rows 1e-12;
* lmer fits: fixed effects 1e-4 relative (or 1e-4 SE for estimates smaller than
  their SE), SEs 1e-3, variance components 1e-3, logLik 1e-6 absolute;
* glmer fits: fixed effects 1e-4 relative or 1e-3 SE (the Contraception age terms are
  far below their SE, where optimisers agree to ~1e-4 SE), SEs 2e-3 against lme4's
  finite-difference-Hessian SE (noisy to 0.5% on poly_glmer: 6e-3 there), logLik 1e-5.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.models import glmm, lmm
from engagestats.models.design import build_design
from engagestats.models.formula import split_formula
from engagestats.models.newdata import new_fixed

REF = Path(__file__).parents[1] / "reference" / "formula_idioms"
FIXTURE = json.loads((REF / "idioms.json").read_text())
IDIOMS = {it["id"]: it for it in FIXTURE["idioms"]}
LMER = [k for k, it in IDIOMS.items() if it["call"].startswith("lmer(")]
GLMER = [k for k, it in IDIOMS.items() if it["call"].startswith("glmer(")]

# glmer idioms the binomial-logit glmm here fits once the response is 0/1.
GLMER_01 = ["factor_response_YN", "I_power_glmer", "poly_glmer", "relevel"]
# What each remaining glmer idiom needs beyond the fixed-effect formula (issue 14, glmm part).
MISSING = {
    "cbind_binomial": "binomial with trials: cbind(successes, failures) response",
    "proportion_weights": "binomial proportions with weights= (prior weights)",
    "offset_log": "Poisson family with offset() (offset is parsed: design.spec.offset)",
    "offset_argument": "Poisson family with an offset= argument",
    "scale_glmer": "Poisson family and two random intercepts",
}


def _data(file: str) -> pd.DataFrame:
    block = FIXTURE["data"][file]
    return pd.read_csv(REF / file, dtype=dict.fromkeys(block["factors"], str))


def _formula(call: str) -> str:
    """The formula argument of an R call: ``lmer(<formula>, data = ...)``."""
    inner = call[call.index("(") + 1 :]
    depth = 0
    for i, ch in enumerate(inner):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            return inner[:i]
    raise AssertionError(call)


def _values(block: dict) -> pd.Series:
    return pd.Series(block["values"], index=block["names"])


@pytest.mark.parametrize("idiom", list(IDIOMS))
def test_fixed_design_matches_model_matrix(idiom):
    """R's column names and values of model.matrix, for all 26 idioms (LHS aside)."""
    it = IDIOMS[idiom]
    data = _data(it["data_file"])
    _, rhs = split_formula(_formula(it["call"]))
    des = build_design(f"response_ ~ {rhs}", data.assign(response_=0.0), allow_offset=True)
    expected = it["result"]["model.matrix(fit)[1:5, ]"]
    assert list(des.fixed_names) == it["result"]["colnames(model.matrix(fit))"]
    assert list(des.fixed_names) == expected["columns"]
    np.testing.assert_allclose(des.X[:5], np.asarray(expected["rows"]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("idiom", LMER)
def test_lmer_idiom(idiom):
    it = IDIOMS[idiom]
    res = it["result"]
    fit = lmm(_formula(it["call"]), _data(it["data_file"]), reml="REML = FALSE" not in it["call"])
    fe, se = _values(res["fixef(fit)"]), _values(res["sqrt(diag(vcov(fit)))"])
    assert list(fit.fixed.index) == list(fe.index)
    est = fit.fixed["estimate"]
    ok = (np.abs(est - fe) <= 1e-4 * np.abs(fe)) | (np.abs(est - fe) <= 1e-4 * se)
    assert ok.all(), pd.DataFrame({"python": est, "R": fe})
    np.testing.assert_allclose(fit.fixed["se"], se, rtol=1e-3)
    vc = res["as.data.frame(VarCorr(fit))"]
    np.testing.assert_allclose(fit.varcorr["vcov"], vc["vcov"], rtol=1e-3, atol=1e-8)
    assert list(fit.varcorr["group"]) == vc["grp"]
    np.testing.assert_allclose(fit.loglik, res["as.numeric(logLik(fit))"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(fit.sigma, res["sigma(fit)"], rtol=1e-4)


def _glmer_check(fit, res, se_rtol):
    fe, se = _values(res["fixef(fit)"]), _values(res["sqrt(diag(vcov(fit)))"])
    assert list(fit.fixed.index) == list(fe.index)
    est = fit.fixed["estimate"]
    ok = (np.abs(est - fe) <= 1e-4 * np.abs(fe)) | (np.abs(est - fe) <= 1e-3 * se)
    assert ok.all(), pd.DataFrame({"python": est, "R": fe, "diff/se": (est - fe) / se})
    np.testing.assert_allclose(fit.fixed["se"], se, rtol=se_rtol)
    np.testing.assert_allclose(fit.loglik, res["as.numeric(logLik(fit))"], rtol=0, atol=1e-5)


@pytest.mark.parametrize("idiom", GLMER_01)
def test_glmer_idiom_with_01_response(idiom):
    """Fixed-effect idioms in glmer (I(age^2), poly, relevel) with use coded 0/1 (Y = 1)."""
    it = IDIOMS[idiom]
    data = _data(it["data_file"])
    data["use"] = (data["use"] == "Y").astype(float)
    fit = glmm(_formula(it["call"]), data)
    _glmer_check(fit, it["result"], se_rtol=6e-3 if idiom == "poly_glmer" else 2e-3)


def test_glmer_string_response_as_written():
    it = IDIOMS["factor_response_YN"]
    fit = glmm(_formula(it["call"]), _data(it["data_file"]))
    _glmer_check(fit, it["result"], se_rtol=2e-3)


@pytest.mark.parametrize(
    "idiom",
    list(MISSING),
)
def test_glmer_idiom_needing_new_families(idiom):
    it = IDIOMS[idiom]
    call = it["call"]
    kwargs = {"family": "poisson" if "poisson" in call else "binomial"}
    if "weights = size" in call:
        kwargs["weights"] = "size"
    data = _data(it["data_file"])
    if "offset = log(BroodSize)" in call:
        kwargs["offset"] = np.log(data["BroodSize"].to_numpy(dtype=float))
    fit = glmm(_formula(call), data, **kwargs)
    _glmer_check(fit, it["result"], se_rtol=2e-3)


def test_every_idiom_is_tested():
    assert set(LMER) | set(GLMER_01) | set(MISSING) == set(IDIOMS)
    assert len(IDIOMS) == 26


def test_scale_uses_n_minus_1_sd():
    t = IDIOMS["scale"]["transform"]
    data = _data("sleepstudy.csv")
    des = build_design("Reaction ~ scale(Days) + (1 | Subject)", data)
    np.testing.assert_allclose(
        des.X[:5, 1], t["as.numeric(scale(sleepstudy$Days))[1:5]"], rtol=1e-13
    )
    sd = t["attr(scale(sleepstudy$Days), 'scaled:scale')"]
    np.testing.assert_allclose(des.X[:, 1], (data["Days"] - 4.5) / sd, rtol=1e-13)
    t = IDIOMS["scale_glmer"]["transform"]
    g = _data("grouseticks.csv")
    des = build_design("TICKS ~ scale(HEIGHT) + (1 | BROOD)", g)
    centre = t["attr(scale(grouseticks$HEIGHT), 'scaled:center')"]
    scale = t["attr(scale(grouseticks$HEIGHT), 'scaled:scale')"]
    np.testing.assert_allclose(des.X[:, 1], (g["HEIGHT"] - centre) / scale, rtol=1e-12)
    # new data reuse the fitted centre and scale, as R's predict() does
    new = new_fixed(des, pd.DataFrame({"HEIGHT": [centre, centre + scale]}))
    np.testing.assert_allclose(new[:, 1], [0.0, 1.0], atol=1e-12)


def _poly_state(des):
    """The fitted RPoly transform (alpha, norm2) of the design's poly() term."""
    infos = des.spec.fixed_info.factor_infos
    (state,) = [fi.state for f, fi in infos.items() if "poly" in f.name()]
    return next(iter(state["transforms"].values()))


def test_poly_is_r_orthogonal_basis_and_predicts_with_stored_coefs():
    t = IDIOMS["poly"]["transform"]
    data = _data("sleepstudy.csv")
    des = build_design("Reaction ~ poly(Days, 2) + (1 | Subject)", data)
    P = des.X[:, 1:]
    np.testing.assert_allclose(P.sum(axis=0), 0.0, atol=1e-13)
    np.testing.assert_allclose(P.T @ P, np.eye(2), atol=1e-13)
    transform = _poly_state(des)
    np.testing.assert_allclose(transform.alpha, t["attr(poly(sleepstudy$Days, 2), 'coefs')$alpha"])
    np.testing.assert_allclose(
        transform.norm2, t["attr(poly(sleepstudy$Days, 2), 'coefs')$norm2"], rtol=1e-13
    )
    new = new_fixed(des, pd.DataFrame({"Days": np.arange(10.0)}))
    expected = np.asarray(t["unname(predict(poly(sleepstudy$Days, 2), 0:9)) (rows = Days 0..9)"])
    np.testing.assert_allclose(new[:, 1:], expected, rtol=1e-12, atol=1e-15)
    c = IDIOMS["poly_glmer"]["transform"]
    con = _data("contraception.csv")
    des = build_design("age ~ poly(age, 2) + (1 | district)", con)
    tr = _poly_state(des)
    np.testing.assert_allclose(tr.alpha, c["attr(poly(contraception$age, 2), 'coefs')$alpha"])
    np.testing.assert_allclose(tr.norm2, c["attr(poly(contraception$age, 2), 'coefs')$norm2"])


def test_string_levels_sorted_as_r_in_c_locale():
    """Fixed-effect factors: code-point order equals R's levels for every fixture column."""
    for file, block in FIXTURE["data"].items():
        data = _data(file)
        for col, levels in block["levels (R order; first is the reference)"].items():
            if col in ("Nest",):  # R sorted these in a locale (ChEsard after Champmartin)
                assert sorted(levels) != levels
                continue
            if all(lv.isdigit() for lv in levels):  # integer columns in R: numeric order
                assert sorted(data[col].unique(), key=int) == levels, (file, col)
                continue
            assert sorted(data[col].unique()) == levels, (file, col)  # character: code points


def test_formula_offset_is_rebuilt_for_new_data():
    """``offset(log(BroodSize))`` counts in prediction on new data, as in glmer."""
    it = IDIOMS["offset_log"]
    data = _data(it["data_file"])
    fit = glmm(_formula(it["call"]), data, family="poisson")
    np.testing.assert_allclose(fit.predict(data).to_numpy(), fit.predict().to_numpy(), rtol=1e-10)
    doubled = data.assign(BroodSize=2 * data["BroodSize"])
    np.testing.assert_allclose(
        fit.predict(doubled).to_numpy(), 2 * fit.predict().to_numpy(), rtol=1e-10
    )
