"""Tests for engagestats.change.talking_therapies: NHS Talking Therapies outcomes, change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engagestats.change.talking_therapies import instrument_change, talking_therapies_outcomes
from engagestats.errors import DataValidationError, EngageStatsError, InstrumentError
from engagestats.study import Study

OUTCOMES = [
    "caseness_start",
    "caseness_end",
    "recovery",
    "reliable_improvement",
    "reliable_deterioration",
    "reliable_recovery",
]


def two_sessions(phq: tuple[float, float], gad: tuple[float, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"client_id": ["c", "c"], "session": [1, 2], "phq9_total": phq, "gad7_total": gad}
    )


def one(phq, gad, **kw) -> pd.Series:
    return talking_therapies_outcomes(two_sessions(phq, gad), **kw).iloc[0]


# ----------------------------------------------------------------- caseness
@pytest.mark.parametrize(
    ("phq", "gad", "case"),
    [(9, 7, False), (10, 7, True), (9, 8, True), (10, 8, True), (0, 0, False)],
)
def test_caseness_boundaries(phq, gad, case):
    # caseness: PHQ-9 >= 10 (">9") or GAD-7 >= 8 (">7")
    row = one((phq, 0), (gad, 0))
    assert bool(row["caseness_start"]) is case
    if case:
        assert bool(row["recovery"]) is True
    else:
        assert row["recovery"] is pd.NA  # outside the recovery denominator
        assert row["reliable_recovery"] is pd.NA


@pytest.mark.parametrize(
    ("phq_end", "gad_end", "recovered"),
    [(9, 7, True), (10, 7, False), (9, 8, False)],
)
def test_recovery_needs_both_below_caseness(phq_end, gad_end, recovered):
    row = one((20, phq_end), (15, gad_end))
    assert bool(row["recovery"]) is recovered


# ----------------------------------------------------------- reliable change
@pytest.mark.parametrize(
    ("dphq", "dgad", "improved", "deteriorated"),
    [
        (-5, -3, False, False),
        (-6, -3, True, False),
        (-5, -4, True, False),
        (-6, -4, True, False),
        (5, 3, False, False),
        (6, 0, False, True),
        (0, 4, False, True),
    ],
)
def test_reliable_change_boundaries(dphq, dgad, improved, deteriorated):
    row = one((12, 12 + dphq), (10, 10 + dgad))
    assert bool(row["reliable_improvement"]) is improved
    assert bool(row["reliable_deterioration"]) is deteriorated
    assert row["phq9_change"] == dphq
    assert row["gad7_change"] == dgad


def test_deterioration_on_other_measure_blocks_improvement_by_default():
    # PHQ-9 improves by 8 while GAD-7 deteriorates by 4
    strict = one((18, 10), (6, 10))
    assert bool(strict["reliable_improvement"]) is False
    assert bool(strict["reliable_deterioration"]) is True
    assert bool(strict["reliable_recovery"]) is False
    loose = one((18, 10), (6, 10), require_no_deterioration=False)
    assert bool(loose["reliable_improvement"]) is True
    assert bool(loose["reliable_deterioration"]) is True
    # GAD-7 deteriorating by 3 (not reliable) does not block it
    assert bool(one((18, 10), (6, 9))["reliable_improvement"]) is True


def test_reliable_recovery_is_recovery_and_improvement():
    assert bool(one((12, 9), (8, 7))["reliable_recovery"]) is False  # recovered, not reliably
    assert bool(one((15, 9), (8, 7))["reliable_recovery"]) is True
    assert bool(one((15, 9), (8, 7))["recovery"]) is True


# ------------------------------------------------------- pairing and reasons
def test_first_and_last_paired_scores_and_reasons():
    long = pd.DataFrame(
        {
            "client_id": ["a"] * 4 + ["b", "b"] + ["d"],
            "session": [1, 2, 3, 4, 1, 2, 1],
            "phq9_total": [np.nan, 16, 12, 7, 14, np.nan, np.nan],
            "gad7_total": [9, 10, 8, np.nan, 9, 7, 5],
        }
    )
    out = talking_therapies_outcomes(long, clients=["a", "b", "c", "d"])
    assert out["client_id"].tolist() == ["a", "b", "c", "d"]
    a = out.iloc[0]
    assert (a["first_session"], a["last_session"], a["n_paired"]) == (2, 3, 2)
    assert (a["phq9_first"], a["phq9_last"], a["gad7_first"], a["gad7_last"]) == (16, 12, 10, 8)
    assert out["reason"].tolist()[1:] == [
        "fewer than two paired scores",
        "no paired scores",
        "no paired scores",
    ]
    assert pd.isna(out.loc[0, "reason"])
    for col in OUTCOMES[1:]:
        assert out.loc[1:, col].isna().all()
    assert bool(out.loc[1, "caseness_start"]) is True  # one paired score still says caseness


def test_outcome_dtypes_are_nullable_boolean():
    out = talking_therapies_outcomes(two_sessions((12, 4), (9, 2)))
    for col in OUTCOMES:
        assert out[col].dtype == "boolean"


def test_missing_columns_raise():
    with pytest.raises(DataValidationError):
        talking_therapies_outcomes(pd.DataFrame({"client_id": ["a"], "session": [1]}))


def test_study_input_keeps_clients_without_sessions():
    sessions = two_sessions((12, 4), (9, 2)).assign(attended=1)
    sessions.loc[len(sessions)] = ["c", 3, 1.0, 1.0, 0]  # a missed session, ignored
    study = Study(
        therapists=pd.DataFrame({"therapist_id": ["T1"]}),
        clients=pd.DataFrame({"client_id": ["c", "z"], "therapist_id": ["T1", "T1"]}),
        sessions=sessions,
    )
    out = talking_therapies_outcomes(study)
    assert out["client_id"].tolist() == ["c", "z"]
    assert out.loc[0, "last_session"] == 2
    assert out.loc[1, "reason"] == "no paired scores"


# --------------------------------------------------------- instrument_change
def test_instrument_change_explicit_threshold_inclusive():
    long = pd.DataFrame(
        {
            "client_id": ["a", "a", "b", "b", "c", "c", "d"],
            "session": [1, 3, 1, 2, 1, 2, 1],
            "phq9_total": [15, 9, 15, 10, 5, 11, 12],
        }
    )
    out = instrument_change(long, score="phq9_total", threshold=6, cutoff=10)
    assert out["reliable_change"].astype(object).tolist()[:3] == [
        "reliably_improved",
        "no_reliable_change",
        "reliably_deteriorated",
    ]
    assert out["category"].astype(object).tolist()[:3] == ["recovered", "unchanged", "harmed"]
    assert out.loc[3, "reason"] == "fewer than two scored sessions"
    assert pd.isna(out.loc[3, "category"])
    assert out["change"].tolist()[:3] == [-6, -5, 6]


def test_instrument_change_higher_is_better_ors_style():
    long = pd.DataFrame({"client_id": ["a", "a"], "session": [1, 2], "ors": [20.0, 26.0]})
    out = instrument_change(long, score="ors", threshold=5, cutoff=25, higher_is_better=True)
    assert out.loc[0, "category"] == "recovered"
    assert bool(out.loc[0, "case_pre"]) is True
    assert bool(out.loc[0, "case_post"]) is False


def test_instrument_change_bad_input():
    long = pd.DataFrame({"client_id": ["a"], "session": [1], "x": [1.0]})
    with pytest.raises(DataValidationError):
        instrument_change(long, score="x")  # no threshold
    with pytest.raises(DataValidationError):
        instrument_change(long, score="x", threshold=-1)
    with pytest.raises(DataValidationError):
        instrument_change(long, score="missing_total", threshold=5)
    with pytest.raises(EngageStatsError):
        instrument_change(long)


def test_instrument_change_unknown_instrument():
    long = pd.DataFrame({"client_id": ["a"], "session": [1], "x": [1.0]})
    with pytest.raises(InstrumentError):
        instrument_change(long, instrument="no_such_instrument")


# ------------------------------------------------- the bundled sample study
# One load for all client-level functions (load_sample() takes several seconds).
@pytest.fixture(scope="module")
def sample():
    from engagestats.datasets import load_sample

    return load_sample()


def test_sample_every_function_one_row_per_client(sample):
    from engagestats.classify import motivation_type, readiness_stage
    from engagestats.engagement import engagement

    ids = sample.clients["client_id"].tolist()
    tt = talking_therapies_outcomes(sample)
    results = {
        "talking_therapies": tt,
        "phq9": instrument_change(sample, instrument="phq9"),
        "gad7": instrument_change(sample, instrument="gad7"),
        "engagement": engagement(sample),
        "readiness": readiness_stage(sample),
        "motivation": motivation_type(sample),
    }
    for name, out in results.items():
        assert out["client_id"].tolist() == ids, name
    # clients without two paired scores are kept, with a reason
    short = tt["n_paired"] < 2
    assert tt.loc[short, "reason"].notna().all()
    assert tt.loc[~short, "reason"].isna().all()
    assert tt.loc[short, "reliable_improvement"].isna().all()
    eng = results["engagement"]
    assert eng["dropout"].notna().all()
    planned_dropout = sample.clients["end_reason"].eq("dropout").to_numpy()
    np.testing.assert_array_equal(eng["dropout"].to_numpy(dtype=bool), planned_dropout)


def test_sample_phq9_registry_defaults_match_explicit(sample):
    by_name = instrument_change(sample, instrument="phq9")
    explicit = instrument_change(sample, score="phq9_total", threshold=6, cutoff=10)
    pd.testing.assert_frame_equal(by_name, explicit, check_like=False)
    # the defaults are the registry's: another threshold classifies differently
    other = instrument_change(sample, score="phq9_total", threshold=5, cutoff=10)
    assert not other["reliable_change"].equals(by_name["reliable_change"])
    tt = talking_therapies_outcomes(sample)
    # independent recomputation of reliable deterioration from the paired change scores
    det = (tt["phq9_change"] >= 6) | (tt["gad7_change"] >= 4)
    valid = tt["n_paired"] >= 2
    np.testing.assert_array_equal(
        tt.loc[valid, "reliable_deterioration"].to_numpy(dtype=bool), det[valid].to_numpy()
    )


def test_instrument_change_accepts_registry_aliases():
    data = pd.DataFrame({"client_id": ["a", "a"], "session": [1, 2], "phq9_total": [15.0, 8.0]})
    by_alias = instrument_change(data, instrument="PHQ-9")
    by_name = instrument_change(data, instrument="phq9")
    pd.testing.assert_frame_equal(by_alias, by_name)


def test_rows_without_session_number_are_an_error_not_the_last_session():
    data = pd.DataFrame(
        {"client_id": ["a", "a", "a"], "session": [1, 2, None], "phq9_total": [15, 8, 20]}
    )
    with pytest.raises(DataValidationError) as err:
        instrument_change(data, instrument="phq9")
    assert err.value.problems["row"].tolist() == [2]
    assert err.value.problems["column"].tolist() == ["session"]


# ------------------------------------------------------- finished_treatment
def _ended_study(end_reason):
    sessions = pd.concat(
        [
            two_sessions((14, 6), (9, 5)).assign(client_id="a"),
            two_sessions((14, 6), (9, 5)).assign(client_id="b"),
        ],
        ignore_index=True,
    ).assign(attended=1)
    return Study(
        therapists=pd.DataFrame({"therapist_id": ["T1"]}),
        clients=pd.DataFrame(
            {"client_id": ["a", "b"], "therapist_id": ["T1", "T1"], "end_reason": end_reason}
        ),
        sessions=sessions,
    )


def test_finished_treatment_on_by_default_when_end_reason_is_known():
    # b's referral has not ended (no end_reason): outside the NHS denominator
    study = _ended_study(["completed", None])
    out = talking_therapies_outcomes(study)
    assert out["finished_treatment"].tolist() == [True, False]
    assert bool(out.loc[0, "recovery"]) is True
    assert out.loc[1, OUTCOMES[1:]].isna().all()
    assert out.loc[1, "caseness_start"]  # intake caseness is still known
    assert out.loc[1, "reason"] == "did not finish a course of treatment"
    off = talking_therapies_outcomes(study, finished_treatment=False)
    assert off["finished_treatment"].isna().all()
    assert bool(off.loc[1, "recovery"]) is True
    assert pd.isna(off.loc[1, "reason"])


def test_finished_treatment_needs_min_sessions_and_end_information():
    study = _ended_study(["completed", "dropout"])
    out = talking_therapies_outcomes(study)
    assert out["finished_treatment"].tolist() == [True, True]
    three = talking_therapies_outcomes(study, min_treatment_sessions=3)
    assert three["finished_treatment"].tolist() == [False, False]
    assert three["recovery"].isna().all()
    # a sessions table without end_reason: the rule cannot apply, so it is off by default
    table = study.sessions
    assert talking_therapies_outcomes(table)["finished_treatment"].isna().all()
    with pytest.raises(DataValidationError, match="end_reason"):
        talking_therapies_outcomes(table, finished_treatment=True)
    with_end = table.assign(end_reason=np.where(table["client_id"] == "a", "completed", None))
    out2 = talking_therapies_outcomes(with_end)
    assert out2["finished_treatment"].tolist() == [True, False]
    with pytest.raises(DataValidationError, match="min_treatment_sessions"):
        talking_therapies_outcomes(study, min_treatment_sessions=0)
