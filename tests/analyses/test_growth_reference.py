"""growth_model against lme4 + lmerTest (tests/reference/growth/growth.R)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import growth_model

REF = Path(__file__).parents[1] / "reference" / "growth"
SE = 'summary(fit)$coefficients[, "Std. Error"]'
DF = 'summary(fit)$coefficients[, "df"]'


@pytest.fixture(scope="module")
def model():
    study = es.simulate_study(n_therapists=12, clients_per_therapist=8, max_sessions=14, seed=11)
    return growth_model(
        study,
        predictors={"autonomous": "srq_autonomous", "readiness": "urica_readiness"},
        time_varying={"alliance": "wai_sr_sum"},
        moderators=["format"],
    )


@pytest.fixture(scope="module")
def ref():
    return pd.read_csv(REF / "fixed.csv").set_index("term"), json.loads(
        (REF / "moderation.json").read_text()
    )


def test_panel_is_the_committed_fixture(model):
    panel = pd.read_csv(REF / "panel.csv")
    assert (REF / "formula.txt").read_text().strip() == model.formula
    mine = model.data[panel.columns].reset_index(drop=True)
    mine["format"] = mine["format"].astype(str)
    panel["format"] = panel["format"].astype(str)
    pd.testing.assert_frame_equal(mine, panel, check_dtype=False, rtol=1e-12)


def test_fixed_effects_match_lmer(model, ref):
    fixed, _ = ref
    ours = model.fit.fixed.loc[fixed.index]
    np.testing.assert_allclose(ours["estimate"], fixed["fixef(fit)"], rtol=1e-4)
    np.testing.assert_allclose(ours["se"], fixed[SE], rtol=1e-4)
    np.testing.assert_allclose(ours["df"], fixed[DF], rtol=1e-3)


def test_moderation_matches_contest(model, ref):
    _, js = ref
    mod = model.moderation()
    test = mod["tests"].set_index(["moderator", "predictor"]).loc[("format", "autonomous")]
    np.testing.assert_allclose(test["f"], js["contest(mod, L, joint = TRUE)$F value"], rtol=1e-3)
    np.testing.assert_allclose(test["den_df"], js["contest(mod, L, joint = TRUE)$DenDF"], rtol=1e-3)
    np.testing.assert_allclose(test["p"], js["contest(mod, L, joint = TRUE)$Pr(>F)"], rtol=1e-4)
    slopes = mod["simple_slopes"]
    s = slopes[slopes["predictor"] == "autonomous"].set_index("level").loc[["group", "individual"]]
    np.testing.assert_allclose(
        s["estimate"], js["contest(mod, simple, joint = FALSE)$Estimate"], rtol=1e-4
    )
    np.testing.assert_allclose(
        s["se"], js["contest(mod, simple, joint = FALSE)$Std. Error"], rtol=1e-4
    )
    np.testing.assert_allclose(s["df"], js["contest(mod, simple, joint = FALSE)$df"], rtol=1e-3)
    assert set(mod["tests"]["predictor"]) == {"autonomous", "readiness", "alliance_between"}


def test_moderation_needs_moderators(sample_model):
    with pytest.raises(es.ModelSpecError, match="no moderators"):
        sample_model.moderation()
