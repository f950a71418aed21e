"""engagestats.models.pool / rubin against mice::pool (tests/reference/pool/reference.R).

reference.R imputes mice's ``popmis`` m = 5 times, fits lm, lmer, glmer and geeglm to
each completed data set and pools them with ``mice::pool`` (default dfcom from
broom/broom.mixed ``df.residual``, and ``dfcom = 30``) and by hand. Two levels of check:

- :func:`rubin` on R's own per-imputation estimates and vcovs must reproduce
  ``mice::pool`` to rounding (rtol 1e-9): this checks the pooling arithmetic alone;
- :func:`pool` on engagestats' own fits of the committed imputations must reproduce
  the pooled R numbers to the agreement of the fits themselves (lmm vs lmer ~1e-7,
  gee vs geeglm ~1e-6; glmm vs glmer (tight control) ~1e-6 in estimates, ~2e-4 in
  variances, lme4 taking vcov from a finite-difference Hessian).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.errors import DataValidationError, ModelSpecError
from engagestats.models import gee, glmm, lmm, pool, rubin

REF = Path(__file__).resolve().parents[1] / "reference" / "pool"
POOLED = pd.read_csv(REF / "pooled.csv")
FITS = pd.read_csv(REF / "fits.csv")
COLS = ["estimate", "ubar", "b", "df", "riv", "lambda", "fmi", "se", "p", "ci_low", "ci_high"]
RENAME = {"t": "total_var"}


def expected(model: str, source: str) -> pd.DataFrame:
    rows = POOLED[(POOLED["model"] == model) & (POOLED["source"] == source)]
    return rows.set_index("term")


@functools.cache
def imputed() -> list[pd.DataFrame]:
    d = pd.read_csv(REF / "imputed.csv").sort_values([".imp", "school", "pupil"])
    return [g.drop(columns=".imp").reset_index(drop=True) for _, g in d.groupby(".imp")]


@functools.cache
def our_fits(model: str) -> tuple:
    out = []
    for d in imputed():
        if model == "lmer":
            out.append(lmm("popular ~ sex + texp + (1 | school)", d))
        elif model == "glmer":
            out.append(glmm("hi ~ sex + texp + (1 | school)", d))
        else:
            out.append(gee("hi ~ sex + texp", d, groups="school"))
    return tuple(out)


def r_arrays(model: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rows = FITS[FITS["model"] == model]
    names = list(rows.loc[rows["imp"] == 1, "term"])
    q = np.array([g["estimate"].to_numpy() for _, g in rows.groupby("imp")])
    u = np.array([np.diag(g[["v_1", "v_2", "v_3"]].to_numpy()) for _, g in rows.groupby("imp")])
    return q, u, names


@pytest.mark.parametrize("model", ["lm", "lmer", "glmer", "gee"])
@pytest.mark.parametrize("source", ["mice_default", "mice_dfcom30", "hand_default"])
def test_rubin_matches_mice_pool_on_r_fits(model, source):
    q, u, names = r_arrays(model)
    ref = expected(model, source)
    got = rubin(q, u, dfcom=float(ref["dfcom"].iloc[0]), names=names)
    np.testing.assert_allclose(got.loc[names, "total_var"], ref.loc[names, "t"], rtol=1e-9)
    for col in COLS:
        np.testing.assert_allclose(got.loc[names, col], ref.loc[names, col], rtol=1e-9, err_msg=col)


# engagestats fit vs R fit agreement sets the tolerance of the end-to-end checks.
TOL = {"lmer": 1e-5, "gee": 1e-5, "glmer": 3e-4}


@pytest.mark.parametrize("model", ["lmer", "glmer", "gee"])
@pytest.mark.parametrize("dfcom", ["residual", 30.0])
def test_pool_of_engagestats_fits_matches_mice(model, dfcom):
    source = "mice_default" if dfcom == "residual" else "mice_dfcom30"
    ref = expected(model, source)
    got = pool(our_fits(model), dfcom=dfcom)
    names = list(ref.index)
    assert list(got.index) == names
    # dfcom "residual" reproduces broom.mixed's df.residual exactly
    np.testing.assert_array_equal(got["dfcom"], ref["dfcom"])
    rtol = TOL[model]
    for col in ["estimate", "se", "ci_low", "ci_high"]:
        np.testing.assert_allclose(got[col], ref[col], rtol=rtol, err_msg=col)
    # b is a variance of 5 close numbers: its relative error is larger than the estimates'
    np.testing.assert_allclose(got["b"], ref["b"], rtol=50 * rtol, atol=1e-9)
    np.testing.assert_allclose(got["df"], ref["df"], rtol=50 * rtol)
    np.testing.assert_allclose(got["fmi"], ref["fmi"], rtol=50 * rtol)


def test_auto_dfcom_uses_satterthwaite_for_lmm_and_inf_otherwise():
    fits = our_fits("lmer")
    got = pool(fits, dfcom="auto")
    sat = np.mean([f.fixed["df"].to_numpy() for f in fits], axis=0)
    np.testing.assert_allclose(got["dfcom"], sat)
    assert (got["df"] < got["dfcom"]).all()
    # texp is a school-level predictor: ~98 Satterthwaite df, far below n - k = 1995
    assert got.loc["texp", "dfcom"] < 110
    assert got.loc["texp", "df"] < pool(fits, dfcom="residual").loc["texp", "df"]
    g = pool(our_fits("gee"))
    assert np.isinf(g["dfcom"]).all()
    q, u, names = r_arrays("gee")
    np.testing.assert_allclose(g["df"], rubin(q, u, names=names)["df"], rtol=1e-3)


def test_rubin_without_between_variance_is_complete_data_inference():
    q = np.tile([2.0, -1.0], (4, 1))
    u = np.tile([0.25, 0.01], (4, 1))
    got = rubin(q, u, dfcom=40.0, names=["a", "b"])
    np.testing.assert_allclose(got["se"], [0.5, 0.1])
    np.testing.assert_allclose(got["riv"], 0.0)
    # lambda floored at 1e-4 inside the df only: df -> (41/43) * 40 * (1 - 1e-4) ~ dfcom
    np.testing.assert_allclose(got["df"], 41 / 43 * 40 * (1 - 1e-4), rtol=1e-4)
    assert (got["lambda"] == 0).all()


def test_pool_rejects_bad_input():
    fits = our_fits("gee")
    with pytest.raises(DataValidationError, match="m >= 2"):
        pool(fits[:1])
    with pytest.raises(ModelSpecError, match="one model class"):
        pool([fits[0], our_fits("lmer")[0]])
    with pytest.raises(ModelSpecError, match="LmmResult"):
        pool([1, 2])
    with pytest.raises(DataValidationError, match="dfcom"):
        pool(fits, dfcom="satterthwaite")
    with pytest.raises(DataValidationError, match="dfcom"):
        pool(fits, dfcom=-3)
    with pytest.raises(DataValidationError, match="missing"):
        pool(fits, dfcom={"sex": 10.0})
    other = gee("hi ~ sex", imputed()[0], groups="school")
    with pytest.raises(ModelSpecError, match="same model"):
        pool([fits[0], other])
    with pytest.raises(DataValidationError, match="shape"):
        rubin(np.zeros((3, 2)), np.zeros((3, 3)))


def test_pool_is_exported_at_top_level():
    assert es.pool is pool
