"""engine="statsmodels": an independent estimator of the same models.

statsmodels MixedLM is cross-checked against the lme4 fixtures and against
the engagestats engine; it uses df = inf (z tests).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engagestats.errors import ModelSpecError
from engagestats.models import lmm

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "lme4"
with (REF_DIR / "reference.json").open() as fh:
    REF = json.load(fh)

FITS = {
    True: "lmer(formula, data, REML = TRUE, control = ctl)",
    False: "lmer(formula, data, REML = FALSE, control = ctl)",
}
EXPRESSIBLE = ["sleep_corr", "sleep_uncorr", "growth", "threelevel_nested", "stages"]


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / name, dtype={"Subject": str, "client": str, "therapist": str})


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("name", EXPRESSIBLE)
def test_statsmodels_matches_lme4(name, reml):
    model = REF["models"][name]
    ref = model[FITS[reml]]
    fit = lmm(model["formula"], load(model["data"]), reml=reml, engine="statsmodels")
    assert fit.engine == "statsmodels"
    expected = ref["REMLcrit(fit)"] if reml else ref["deviance(fit, REML = FALSE)"]
    np.testing.assert_allclose(fit.deviance, expected, rtol=1e-6)
    coef = pd.DataFrame(ref[next(k for k in ref if k.startswith("coef(summary"))])
    np.testing.assert_allclose(fit.fixed["estimate"], coef["estimate"], rtol=1e-4)
    np.testing.assert_allclose(fit.fixed["se"], coef["se"], rtol=1e-3)
    vc = pd.DataFrame(ref["as.data.frame(VarCorr(fit))"])
    assert fit.varcorr["group"].tolist() == vc["grp"].tolist()
    np.testing.assert_allclose(
        fit.varcorr["vcov"], vc["vcov"], rtol=1e-3, atol=1e-4 * vc["vcov"].abs().max()
    )
    np.testing.assert_allclose(
        fit.predict(
            pd.DataFrame(ref["newdata"]).astype(
                {c: str for c in ("Subject",) if c in ref["newdata"][0]}
            )
        ),
        ref["predict(fit, newdata, allow.new.levels = TRUE)"],
        rtol=1e-4,
    )


def test_z_tests_have_infinite_df():
    model = REF["models"]["growth"]
    fit = lmm(model["formula"], load(model["data"]), engine="statsmodels")
    fixed = fit.fixed
    assert np.isinf(fixed["df"]).all()
    np.testing.assert_allclose(fixed["p"], 2 * stats.norm.sf(np.abs(fixed["t"])), rtol=1e-12)
    assert "Wald z" in fit.summary()
    joint = fit.contrast(np.eye(4)[1:], joint=True)
    assert np.isinf(joint["den_df"].iloc[0])


def test_statsmodels_agrees_with_engagestats_on_icc_and_r2():
    model = REF["models"]["threelevel_nested"]
    data = load(model["data"])
    ours = lmm(model["formula"], data)
    theirs = lmm(model["formula"], data, engine="statsmodels")
    np.testing.assert_allclose(theirs.icc(), ours.icc(), rtol=1e-3)
    np.testing.assert_allclose(theirs.r2(), ours.r2(), rtol=1e-3)
    merged = ours.ranef().merge(theirs.ranef(), on=["group", "level", "term"])
    assert len(merged) == 220
    np.testing.assert_allclose(merged["estimate_x"], merged["estimate_y"], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(
    ("formula", "match"),
    [
        ("phq ~ session * readiness + (1 + session | client) + (1 | therapist)", "correlated"),
        ("phq ~ session + (1 | client) + (1 | session)", "crossed"),
        ("phq ~ session + (1 + session | client) + (1 | client)", "same factor"),
    ],
)
def test_inexpressible_models_raise(formula, match):
    with pytest.raises(ModelSpecError, match=match):
        lmm(formula, load("threelevel.csv"), engine="statsmodels")


def test_pls_is_unavailable():
    fit = lmm("Reaction ~ Days + (1 | Subject)", load("sleepstudy.csv"), engine="statsmodels")
    with pytest.raises(ModelSpecError, match="penalised least squares"):
        fit._fit.pls(fit.theta.to_numpy())
