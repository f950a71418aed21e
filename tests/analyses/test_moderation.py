"""OutcomeModel.moderation() with two moderators against lme4 + lmerTest + emmeans.

References: tests/reference/moderation/moderation.R (fits panel.csv, written by make_data.py).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import growth_model

REF = Path(__file__).parents[1] / "reference" / "moderation"
PREDICTORS = {"autonomous": "srq_autonomous", "stage": "stage"}
KEY = ["moderator", "predictor", "level", "weights"]
CONTEST = "contest(fit, L, joint = FALSE)$"
EMM = "summary(pairs(emtrends(...), reverse = TRUE))$"
EMM_EST = (
    'summary(pairs(emtrends(fit, ~ predictor | m, var = "time", weights), reverse = TRUE))$estimate'
)
JOINT = "contest(fit, J, joint = TRUE)$"


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "data.csv")


@pytest.fixture(scope="module")
def model(data):
    return growth_model(data, predictors=PREDICTORS, moderators=["modality", "format"])


@pytest.fixture(scope="module")
def slopes(model):
    both = [model.moderation(weights=w)["simple_slopes"] for w in ("proportional", "equal")]
    return pd.concat(both, ignore_index=True).set_index(KEY)


@pytest.fixture(scope="module")
def ref():
    return pd.read_csv(REF / "slopes.csv").set_index(KEY)


def _refit(data, moderators, **refs):
    """growth_model with the given reference level of each categorical moderator."""
    d = data.copy()
    for col, first in refs.items():
        levels = sorted(d[col].unique())
        d[col] = pd.Categorical(d[col], categories=[first] + [lv for lv in levels if lv != first])
    return growth_model(d, predictors=PREDICTORS, moderators=moderators)


def test_fixture_is_the_model_frame(model):
    """panel.csv, the data R fits, is the model frame growth_model builds from data.csv."""
    assert (REF / "formula.txt").read_text().strip() == model.formula
    panel = pd.read_csv(REF / "panel.csv")
    mine = model.data[panel.columns].reset_index(drop=True)
    for col in ("stage", "modality", "format"):
        mine[col] = mine[col].astype(str)
    pd.testing.assert_frame_equal(mine, panel, check_dtype=False, rtol=1e-12)
    assert json.loads((REF / "versions.json").read_text())["isSingular(fit)"] is False


@pytest.mark.parametrize("weights", ["proportional", "equal"])
def test_simple_slopes_match_contest(slopes, ref, weights):
    r = ref.xs(weights, level="weights")
    mine = slopes.xs(weights, level="weights").loc[r.index]
    assert len(r) == 10
    np.testing.assert_allclose(mine["estimate"], r[CONTEST + "Estimate"], rtol=1e-5)
    np.testing.assert_allclose(mine["se"], r[CONTEST + '"Std. Error"'], rtol=1e-5)
    np.testing.assert_allclose(mine["df"], r[CONTEST + "df"], rtol=1e-4)
    assert (mine["averaged_over"] == r["averaged_over"]).all()


def test_simple_slopes_match_emtrends(slopes, ref):
    mine = slopes.loc[ref.index]
    np.testing.assert_allclose(mine["estimate"], ref[EMM_EST], rtol=1e-5)
    np.testing.assert_allclose(mine["se"], ref[EMM + "SE"], rtol=1e-5)
    np.testing.assert_allclose(mine["df"], ref[EMM + "df"], rtol=1e-4)


def test_weightings_differ_and_are_stated(model, slopes):
    """The two weightings give different slopes (the reference data are unbalanced)."""
    est = slopes["estimate"].unstack("weights")
    assert (np.abs(est["proportional"] - est["equal"]) > 1e-3).all()
    s = model.moderation()["simple_slopes"]
    assert s.columns.tolist()[:5] == ["moderator", "predictor", "level", "averaged_over", "weights"]
    assert set(s["weights"]) == {"proportional"}
    ci = s[["ci_low", "ci_high"]].to_numpy()
    assert (ci[:, 0] < s["estimate"]).all()
    assert (s["estimate"] < ci[:, 1]).all()


def test_f_tests_match_contest(model):
    """The joint F tests do not depend on the weighting, and match lmerTest."""
    ref = pd.read_csv(REF / "tests.csv").set_index(["moderator", "predictor"])
    for weights in ("proportional", "equal"):
        tests = model.moderation(weights=weights)["tests"].set_index(["moderator", "predictor"])
        mine = tests.loc[ref.index]
        np.testing.assert_array_equal(mine["num_df"], ref[JOINT + "NumDF"])
        np.testing.assert_allclose(mine["f"], ref[JOINT + '"F value"'], rtol=1e-5)
        np.testing.assert_allclose(mine["den_df"], ref[JOINT + "DenDF"], rtol=1e-4)
        np.testing.assert_allclose(mine["p"], ref[JOINT + '"Pr(>F)"'], rtol=1e-4)


def _weights(result: dict) -> dict:
    """The ``level_weights`` table of a moderation result as {moderator: {level: weight}}."""
    table = result["level_weights"]
    return {
        m: dict(zip(g["level"], g["weight"], strict=True)) for m, g in table.groupby("moderator")
    }


def test_two_moderators_average_of_cell_slopes(data, model):
    """Python only: a level's slope is the weighted mean of its cells' slopes, each the
    main slope of a refit with that cell's levels as the references."""
    cells = [
        _refit(data, ["modality", "format"], modality="integrative", format=f)
        for f in ("group", "individual")
    ]
    cell = np.array([c.fit.fixed.loc["time:autonomous", "estimate"] for c in cells])
    share = _weights(model.moderation())["format"]
    expected = {
        "equal": cell.mean(),
        "proportional": share["group"] * cell[0] + share["individual"] * cell[1],
    }
    for weights, value in expected.items():
        s = model.moderation(weights=weights)["simple_slopes"].set_index(KEY[:3])
        got = s.loc[("modality", "autonomous", "integrative"), "estimate"]
        np.testing.assert_allclose(got, value, rtol=1e-6)


def test_proportional_weights_are_analysed_client_shares(data):
    """Clients left out of the fit do not count in the weights (nor in spec.shares)."""
    d = data.copy()
    individual = d.loc[d["format"] == "individual", "client_id"].unique()[:10]
    d.loc[d["client_id"].isin(individual), "phq9_total"] = np.nan
    m = growth_model(d, predictors=PREDICTORS, moderators=["modality", "format"])
    assert m.exclusions["n_clients"].sum() == 10
    clients = m.data.drop_duplicates("client_id")
    w = _weights(m.moderation())
    for mod in ("modality", "format"):
        share = clients[mod].astype(str).value_counts(normalize=True)
        assert w[mod] == pytest.approx(share.to_dict(), rel=1e-12)
        assert m.spec.shares[mod] == pytest.approx(w[mod], rel=1e-12)
    assert w["format"]["group"] == pytest.approx(28 / 62, rel=1e-12)
    equal = _weights(m.moderation(weights="equal"))
    assert equal["modality"] == pytest.approx(dict.fromkeys(w["modality"], 1 / 3), rel=1e-12)


def test_single_moderator_matches_refit_with_level_as_reference(data):
    """Python only: with one moderator nothing is averaged; the slope at a level is the
    main time slope of a refit with that level as the reference."""
    m = _refit(data, ["modality"])
    result = m.moderation()
    prop = result["simple_slopes"]
    equal = m.moderation(weights="equal")["simple_slopes"]
    pd.testing.assert_frame_equal(prop, equal)
    assert set(prop["averaged_over"]) == {"none"}
    assert set(prop["weights"]) == {"none"}
    assert result["level_weights"].empty
    assert result["level_weights"].columns.tolist() == ["moderator", "level", "weight"]
    s = prop.set_index(["predictor", "level"])
    for level in ("integrative", "psychodynamic"):
        other = _refit(data, ["modality"], modality=level).fit.fixed
        for piece in ("autonomous", "stagecontemplation"):
            np.testing.assert_allclose(
                s.loc[(piece, level), ["estimate", "se"]].to_numpy(dtype=float),
                other.loc[f"time:{piece}", ["estimate", "se"]].to_numpy(dtype=float),
                rtol=1e-6,
            )


def test_bad_arguments(data, model):
    with pytest.raises(es.DataValidationError, match="weights must be") as err:
        model.moderation(weights="cells")
    assert err.value.problems[["file", "column", "value"]].iloc[0].tolist() == [
        "argument",
        "weights",
        "cells",
    ]
    with pytest.raises(es.ModelSpecError, match="no moderators"):
        growth_model(data, predictors=PREDICTORS).moderation()
    with pytest.raises(es.DataValidationError, match="level must be a confidence level"):
        model.moderation(level=1.5)


def test_moderator_with_a_single_analysed_level(data):
    """A moderator left with one level has nothing to test: skipped, or a clear error."""
    d = data.copy()
    d["site"] = "one"
    with pytest.warns(es.DataWarning):
        m = growth_model(d, predictors=PREDICTORS, moderators=["format", "site"])
    res = m.moderation()
    assert set(res["tests"]["moderator"]) == {"format"}
    assert set(res["simple_slopes"]["averaged_over"]) == {"none"}
    with pytest.warns(es.DataWarning):
        only = growth_model(d, predictors=PREDICTORS, moderators=["site"])
    with pytest.raises(es.ModelSpecError, match="single analysed level"):
        only.moderation()
