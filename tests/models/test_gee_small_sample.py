"""The GEE's small-sample (Mancl-DeRouen) standard errors against a hand computation in R.

Reference: tests/reference/gee_small_sample/reference.R fits geepack::geeglm, checks its
own hand-computed plain sandwich against geepack's vbeta, then computes Mancl-DeRouen's
bias-reduced sandwich from the same fit (30 clusters in each case).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import ModelSpecError
from engagestats.models import gee
from engagestats.models._gee import SMALL_SAMPLE_CLUSTERS, resolve_se

REF_DIR = Path(__file__).parents[1] / "reference"
REF = json.loads((REF_DIR / "gee_small_sample" / "reference.json").read_text())
CASES = {
    "ohio30_exchangeable": ("resp ~ age + smoke", "gee_small_sample/ohio30.csv", "id"),
    "ohio30_independence": ("resp ~ age + smoke", "gee_small_sample/ohio30.csv", "id"),
    "dropout_exchangeable": (
        "dropout ~ autonomy + readiness + stage",
        "glmer/dropout.csv",
        "therapist_id",
    ),
}


def _fit(name, se):
    formula, file, groups = CASES[name]
    cov_struct = name.rsplit("_", 1)[1]
    return gee(formula, pd.read_csv(REF_DIR / file), groups=groups, cov_struct=cov_struct, se=se)


@pytest.mark.parametrize("name", list(CASES))
def test_bias_reduced_default_matches_hand_mancl_derouen(name):
    ref = REF[name]
    assert ref["n_clusters"] < SMALL_SAMPLE_CLUSTERS
    fit = _fit(name, "auto")
    assert fit.se_type == "bias_reduced"
    np.testing.assert_allclose(fit.fixed["estimate"], ref["coef(fit)"], rtol=1e-5)
    np.testing.assert_allclose(fit.fixed["se"], ref["sqrt(diag(V_MD))"], rtol=1e-5)
    np.testing.assert_allclose(fit.vcov.to_numpy(), np.array(ref["V_MD"]), rtol=1e-4, atol=1e-9)
    assert "Mancl-DeRouen" in fit.summary()
    robust = _fit(name, "robust")
    np.testing.assert_allclose(robust.fixed["se"], ref["sqrt(diag(fit$geese$vbeta))"], rtol=1e-5)
    # the correction inflates every SE (here by 3-9%) and leaves the estimates alone
    assert (fit.fixed["se"] > robust.fixed["se"]).all()
    np.testing.assert_allclose(fit.fixed["estimate"], robust.fixed["estimate"], rtol=1e-12)
    assert "robust (sandwich)" in robust.summary()


def test_auto_switches_at_forty_clusters():
    assert resolve_se("auto", 39) == "bias_reduced"
    assert resolve_se("auto", 40) == "robust"
    assert resolve_se("robust", 10) == "robust"
    assert resolve_se("bias_reduced", 400) == "bias_reduced"
    with pytest.raises(ModelSpecError, match="se must be one of"):
        resolve_se("hc3", 10)


def test_many_clusters_keep_the_plain_sandwich():
    rng = np.random.default_rng(4)
    d = pd.DataFrame({"g": np.repeat(np.arange(45), 4), "x": rng.normal(size=180)})
    d["y"] = (rng.random(180) < 1 / (1 + np.exp(-0.5 * d["x"]))).astype(int)
    assert gee("y ~ x", d, groups="g").se_type == "robust"
