"""Issue 15: every result table states the study's one scoring policy (``attrs``).

Each function is run on the sample study under :data:`BUILTIN_RULES` (not the
default :data:`PRORATE_80`), so a table that records no policy, or the default
one instead of the study's, fails.
"""

import json

import pandas as pd
import pytest

import engagestats as es
from engagestats import analyses
from engagestats.change import instrument_change, talking_therapies_outcomes
from engagestats.errors import DataValidationError
from engagestats.scoring import BUILTIN_RULES, PRORATE_80, ScoringPolicy


def _named(table: pd.DataFrame, name: str = "builtin") -> None:
    policy = table.attrs.get("scoring_policy")
    assert policy is not None, f"no scoring policy recorded on a table with {list(table.columns)}"
    assert policy.name == name


@pytest.fixture(scope="module")
def study():
    return es.load_sample().with_policy(BUILTIN_RULES)


@pytest.fixture(scope="module")
def model(study):
    return analyses.growth_model(study, predictors={"fmt": "format"})


@pytest.fixture(scope="module")
def moderated(study):
    return analyses.growth_model(
        study, predictors={"autonomous": "srq_autonomous"}, moderators=["format"]
    )


def test_the_fixture_study_is_not_under_the_default(study):
    assert study.scoring_policy is BUILTIN_RULES
    assert BUILTIN_RULES != PRORATE_80


def test_instrument_change(study):
    _named(instrument_change(study, instrument="phq9"))


def test_instrument_change_of_a_table_states_the_rule_it_scored_with(study):
    _named(instrument_change(study.sessions, instrument="phq9"), "prorate_80")
    _named(instrument_change(study.sessions, instrument="phq9", policy=BUILTIN_RULES))


def test_talking_therapies_outcomes(study):
    _named(talking_therapies_outcomes(study))


def test_talking_therapies_scores_under_the_study_policy(study):
    # builtin needs every item: on the sample 309 clients have a change, 315 under 80% proration
    strict = talking_therapies_outcomes(study)
    lax = talking_therapies_outcomes(study.with_policy(PRORATE_80))
    assert strict["phq9_change"].notna().sum() == 309
    assert lax["phq9_change"].notna().sum() == 315
    _named(lax, "prorate_80")


def test_therapist_effects(model):
    res = analyses.therapist_effects(model, n_boot=3, seed=1)
    for table in (res.shares, res.therapists, res.components):
        _named(table)
    assert "'builtin'" in res.summary()
    assert "builtin" in res._repr_html_()


def test_effect_sizes(model):
    _named(analyses.effect_sizes(model, group="fmt", duration=8.0, n_boot=3).table)


def test_trajectories(model):
    _named(model.trajectories(by="fmt", times=[0, 4]))


def test_moderation(moderated):
    for table in moderated.moderation().values():
        _named(table)


def test_mediation(study):
    res = analyses.mediation(study, method="ols", n_draws=200)
    for table in (res.effects, res.exclusions, *res.paths.values()):
        _named(table)
    assert "'builtin'" in res.summary()


def test_cross_lagged(study):
    res = analyses.cross_lagged(study)
    for table in (res.paths, res.parameters, res.exclusions, res.coverage):
        _named(table)
    assert "'builtin'" in res.summary()


def test_monitoring(study, model):
    curve = es.expected_recovery(study)
    _named(curve.coefficients)
    _named(curve.curve(intake=15.0))
    alarms = es.progress_alarms(curve, study)
    _named(alarms)
    _named(analyses.first_alarms(alarms))
    _named(analyses.monitoring_accuracy(alarms, reliability=0.84).table)
    _named(analyses.expected_change(model, times=[0, 4]))
    _named(analyses.off_track(model, study))


def test_monitoring_of_a_table_records_no_policy(study):
    curve = es.expected_recovery(study)
    scored = es.score(study)
    alarms = es.progress_alarms(curve, scored.panel(attended_only=True))
    assert "scoring_policy" not in alarms.attrs


def test_impute(study):
    imp = analyses.impute(study, m=2, seed=1)
    _named(imp.missing)


# ------------------------------------------------------------ write_study / load_study


def test_write_study_records_a_builtin_policy_and_load_study_restores_it(study, tmp_path):
    es.write_study(study, tmp_path)
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert package["engagestats:scoringPolicy"] == "builtin"
    back = es.load_study(tmp_path)
    assert back.scoring_policy is BUILTIN_RULES
    assert back.equals(study)
    assert es.load_study(tmp_path, scoring_policy=PRORATE_80).scoring_policy is PRORATE_80


def test_a_user_policy_is_not_recorded(study, tmp_path):
    mine = ScoringPolicy("builtin", min_answered={"phq9": 7})  # a built-in name, other rules
    es.write_study(study.with_policy(mine), tmp_path)
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert "engagestats:scoringPolicy" not in package
    assert es.load_study(tmp_path).scoring_policy is PRORATE_80


def test_an_unknown_policy_name_in_the_package_is_refused(study, tmp_path):
    es.write_study(study, tmp_path)
    path = tmp_path / "datapackage.json"
    package = json.loads(path.read_text(encoding="utf-8"))
    package["engagestats:scoringPolicy"] = "strict"
    path.write_text(json.dumps(package), encoding="utf-8")
    with pytest.raises(DataValidationError, match="built-in scoring policy"):
        es.load_study(tmp_path)
