"""End-to-end analyses on the sample study recover the generating effects."""

import numpy as np
import pytest

import engagestats as es
from engagestats.analyses import (
    AnalysisResult,
    analyse_alliance,
    analyse_dropout,
    analyse_motivation,
    analyse_readiness,
)
from engagestats.analyses._tables import policy_text


@pytest.fixture(scope="module")
def results(sample_with_truth):
    study, _ = sample_with_truth
    return {
        "motivation": analyse_motivation(study),
        "readiness": analyse_readiness(study),
        "alliance": analyse_alliance(study),
    }


@pytest.mark.parametrize("name", ["motivation", "readiness", "alliance"])
def test_recovers_every_generated_effect(results, sample_with_truth, name):
    # the criterion, literally: every generating effect's sign is recovered and its
    # 95% CI covers the true value, in the model of the generating form (the alliance-adjusted
    # one; how the sample's seed relates to this: test_sample_seed.py; calibration across
    # replications: test_pipeline_calibration.py)
    _, truth = sample_with_truth
    table = truth.recovery(results[name].models["adjusted"].fit.fixed)
    assert len(table) == 9
    assert table["covered"].all(), table.loc[~table["covered"]].to_string()
    assert table["right_sign"].all(), table.loc[~table["right_sign"]].to_string()


@pytest.mark.parametrize(
    ("name", "focal"), [("motivation", "autonomous"), ("readiness", "readiness")]
)
def test_total_effects_are_primary_and_cover_the_truth(results, sample_with_truth, name, focal):
    # The primary model holds intake covariates only. In the simulator the latent alliance is
    # independent of the intake scores, so the total effects equal the generating values.
    _, truth = sample_with_truth
    res = results[name]
    assert res.model is res.models["total"]
    assert not any("alliance" in t for t in res.model.fit.fixed.index)
    eff = res.tables["effects"].set_index("term")
    true = truth.fixed_effects.set_index("term")["estimate"]
    for term in (focal, f"time:{focal}"):
        assert eff.loc[term, "ci_low"] <= true[term] <= eff.loc[term, "ci_high"]
        assert eff.loc[term, "estimand"].endswith(
            "total effect given " + ("readiness" if focal == "autonomous" else "autonomous")
        )
    direct = res.tables["direct_effects"].set_index("term")
    assert direct["estimand"].str.contains("controlled direct effect").all()
    dec = res.tables["decomposition"].set_index("term")
    assert dec.loc[focal, "total_estimate"] == eff.loc[focal, "estimate"]
    assert dec.loc[focal, "direct_estimate"] == direct.loc[focal, "estimate"]
    assert dec.loc[focal, "difference"] == pytest.approx(
        eff.loc[focal, "estimate"] - direct.loc[focal, "estimate"], rel=1e-12
    )


@pytest.mark.parametrize(
    ("name", "terms"),
    [
        ("motivation", ["autonomous", "time:autonomous"]),
        ("readiness", ["readiness", "time:readiness"]),
        ("alliance", ["alliance_between", "time:alliance_between", "alliance_within_lag"]),
    ],
)
def test_focal_tables_and_figure_data(results, name, terms):
    res = results[name]
    assert res.tables["effects"]["term"].tolist() == terms
    assert res.tables["effects"]["interpretation"].str.len().min() > 30
    traj = res.figure_data["trajectories"]
    assert traj.columns[1:].tolist() == ["time", "estimate", "se", "ci_low", "ci_high"]
    assert (traj["ci_low"] < traj["estimate"]).all()


def test_categorical_models(results):
    by_type = results["motivation"].figure_data["trajectories_by_motivation_type"]
    assert by_type["motivation_type"].nunique() >= 2
    by_stage = results["readiness"].tables["effects_by_stage"]
    assert by_stage["term"].str.startswith("time:stage").any()


def test_dropout(sample_with_truth):
    study, truth = sample_with_truth
    res = analyse_dropout(study)
    for key in ("odds_ratios", "odds_ratios_glmm"):
        row = res.tables[key].set_index("term").loc["autonomous"]
        # more autonomous clients drop out less (generating log-odds -0.3 per point per session)
        assert row["odds_ratio"] < 1
        assert row["or_ci_low"] < row["odds_ratio"] < row["or_ci_high"]
    rate = res.tables["dropout_rate"]["dropout_rate"].item()
    np.testing.assert_allclose(rate, truth.clients["dropout"].mean(), atol=0.02)


def test_readiness_profiles_are_the_stage_levels_and_dropout_states_its_se(
    results, sample_with_truth
):
    counts = results["readiness"].tables["stage_counts"]
    assert counts["stage"].tolist()[:3] == ["least_ready", "middle_ready", "most_ready"]
    by_stage = results["readiness"].tables["effects_by_stage"]
    assert {"time:stagemiddle_ready", "time:stagemost_ready"} <= set(by_stage["term"])
    study, _ = sample_with_truth
    notes = analyse_dropout(study).notes
    assert (
        notes[0]
        == "gee: Mancl-DeRouen bias-reduced sandwich standard errors (30 therapist clusters)"
    )


def test_lopsided_readiness_stage_goes_to_notes():
    import engagestats as es

    res = analyse_readiness(es.simulate_study(n_therapists=8, clients_per_therapist=8, seed=1))
    assert any(n.startswith("stage: readiness_stage") for n in res.notes)


def test_alliance_estimands_say_between_or_within(results):
    eff = results["alliance"].tables["effects"].set_index("term")["estimand"]
    assert eff["alliance_within_lag"].startswith("within client, prospective association")
    assert "1 session(s) earlier" in eff["alliance_within_lag"]
    assert eff["alliance_between"].startswith("between clients, intake level: client mean")
    assert eff["time:alliance_between"].startswith("between clients, rate of change")
    assert "partly a consequence of change" in eff["alliance_between"]


@pytest.mark.parametrize("policy", [None, es.scoring.PRORATE_80, es.scoring.BUILTIN_RULES])
def test_summary_states_the_policy_in_the_shared_words(sample_model, policy):
    # AnalysisResult.summary() states the policy as every other table does (policy_text),
    # also when there is none: "Scores as given in the data", not wording of its own
    res = AnalysisResult(name="motivation", model=sample_model, scoring_policy=policy)
    line = res.summary().splitlines()[1]
    assert line == policy_text(policy)
    if policy is None:
        assert line == "Scores as given in the data (not scored by engagestats)."
    else:
        assert line == policy.describe()
    # the repr names the policy, or says the scores were taken as given
    expected = "none (scores as given)" if policy is None else repr(policy.name)
    assert repr(res).endswith(f"scoring policy {expected})")
