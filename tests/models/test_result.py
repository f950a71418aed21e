"""LmmResult: shapes, display, prediction and typed errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import ModelSpecError
from engagestats.models import LmmResult, lmm

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "lme4"


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "sleepstudy.csv", dtype={"Subject": str})


@pytest.fixture(scope="module")
def fit(sleep) -> LmmResult:
    return lmm("Reaction ~ Days + (Days | Subject)", sleep)


def test_attributes(fit):
    assert isinstance(fit, LmmResult)
    assert fit.formula == "Reaction ~ Days + (Days | Subject)"
    assert fit.reml
    assert fit.engine == "engagestats"
    assert fit.n_dropped == 0
    assert fit.ngroups == {"Subject": 18}
    assert fit.n_params == 6
    assert fit.loglik == pytest.approx(-fit.deviance / 2, rel=1e-15)
    assert fit.aic == pytest.approx(fit.deviance + 12, rel=1e-15)
    assert fit.bic == pytest.approx(fit.deviance + np.log(180) * 6, rel=1e-15)


def test_vcov_matches_standard_errors(fit):
    vcov = fit.vcov
    assert list(vcov.index) == list(vcov.columns) == ["(Intercept)", "Days"]
    np.testing.assert_allclose(vcov.to_numpy(), vcov.to_numpy().T, rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(np.diag(vcov)), fit.fixed["se"], rtol=1e-12)


def test_varcorr_layout_and_internal_consistency(fit):
    vc = fit.varcorr
    assert vc["group"].tolist() == ["Subject", "Subject", "Subject", "Residual"]
    assert vc["var1"].iloc[:3].tolist() == ["(Intercept)", "Days", "(Intercept)"]
    assert vc["var2"].iloc[2] == "Days"
    assert vc["var2"].iloc[:2].isna().all()
    assert vc["var1"].iloc[3:].isna().all()
    np.testing.assert_allclose(vc["sdcor"].iloc[:2] ** 2, vc["vcov"].iloc[:2], rtol=1e-12)
    corr = vc["vcov"].iloc[2] / (vc["sdcor"].iloc[0] * vc["sdcor"].iloc[1])
    assert vc["sdcor"].iloc[2] == pytest.approx(corr, rel=1e-12)
    assert vc["sdcor"].iloc[3] == pytest.approx(fit.sigma, rel=1e-15)


def test_fitted_plus_residuals_is_response(fit, sleep):
    total = fit.fitted() + fit.residuals()
    np.testing.assert_allclose(total, sleep["Reaction"], rtol=1e-12)
    np.testing.assert_allclose(fit.predict(), fit.fitted(), rtol=1e-15)
    pop = fit.predict(include_random=False)
    expected = fit.fixed["estimate"].iloc[0] + fit.fixed["estimate"].iloc[1] * sleep["Days"]
    np.testing.assert_allclose(pop, expected, rtol=1e-12)


def test_ranef_tidy(fit):
    re = fit.ranef()
    assert list(re.columns) == ["group", "level", "term", "estimate"]
    assert len(re) == 36
    assert set(re["term"]) == {"(Intercept)", "Days"}
    # Conditional modes are centred near zero (BLUPs shrink towards the mean).
    assert abs(re["estimate"].mean()) < 1.0


def test_predict_new_level_gets_population_value(fit):
    new = pd.DataFrame({"Days": [3.0, 3.0], "Subject": ["308", "nobody"]}, index=[10, 11])
    pred = fit.predict(new)
    assert list(pred.index) == [10, 11]
    pop = fit.predict(new, include_random=False)
    assert pred.loc[11] == pytest.approx(pop.loc[11], rel=1e-14)
    assert pred.loc[10] != pytest.approx(pop.loc[10], rel=1e-3)


def test_predict_missing_column_raises(fit):
    with pytest.raises(ModelSpecError):
        fit.predict(pd.DataFrame({"Days": [1.0]}))
    with pytest.raises(ModelSpecError):
        fit.predict(pd.DataFrame({"Subject": ["308"]}))
    with pytest.raises(TypeError):
        fit.predict([[1.0, 2.0]])


def test_contrast_shape_errors(fit):
    with pytest.raises(ModelSpecError, match="2 columns"):
        fit.contrast([1.0, 0.0, 0.0])
    with pytest.raises(ModelSpecError, match="2 columns"):
        fit.contrast(np.ones((2, 3)), joint=True)
    with pytest.raises(ModelSpecError, match="rhs"):
        fit.contrast(np.eye(2), rhs=[1.0, 2.0, 3.0])
    with pytest.raises(ModelSpecError, match="not fixed effects"):
        fit.contrast(pd.DataFrame({"Weeks": [1.0]}))
    with pytest.raises(ModelSpecError, match="missing or infinite"):
        fit.contrast([np.nan, 1.0])


def test_contrast_dataframe_and_rhs(fit):
    L = pd.DataFrame({"Days": [1.0]}, index=["days"])
    row = fit.contrast(L, rhs=10.0)
    assert list(row.index) == ["days"]
    fx = fit.fixed.loc["Days"]
    assert row["estimate"].iloc[0] == pytest.approx(fx["estimate"], rel=1e-14)
    assert row["t"].iloc[0] == pytest.approx((fx["estimate"] - 10.0) / fx["se"], rel=1e-12)
    assert row["df"].iloc[0] == pytest.approx(fx["df"], rel=1e-12)


def test_summary_and_html(fit):
    text = fit.summary()
    assert "Satterthwaite" in text
    assert "REML criterion at convergence" in text
    assert "Reaction ~ Days + (Days | Subject)" in text
    assert "Number of obs: 180, groups: Subject, 18" in text
    assert "Days" in text
    assert "Residual" in text
    html = fit._repr_html_()
    assert html.startswith("<div>")
    assert "<table" in html
    assert "LmmResult" in repr(fit)


def test_ml_summary_and_refit(fit, sleep):
    ml = fit.refit_ml()
    assert not ml.reml
    assert ml.refit_ml() is ml
    direct = lmm("Reaction ~ Days + (Days | Subject)", sleep, reml=False)
    assert ml.deviance == pytest.approx(direct.deviance, rel=1e-10)
    assert "AIC" in ml.summary()


def test_unknown_engine(sleep):
    with pytest.raises(ModelSpecError, match="engine"):
        lmm("Reaction ~ Days + (1 | Subject)", sleep, engine="lme4")


def test_uncorrelated_terms_get_lme4_group_names(sleep):
    fit = lmm("Reaction ~ Days + (Days || Subject)", sleep)
    assert fit.varcorr["group"].tolist() == ["Subject", "Subject.1", "Residual"]
    assert list(fit.theta.index) == ["Subject.(Intercept)", "Subject.Days"]
    assert fit.ngroups == {"Subject": 18}
