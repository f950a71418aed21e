"""Scoring policies and ensure_scores: one stated rule, and score only what is missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engagestats.scoring.scorer as scorer
from engagestats import instruments
from engagestats.errors import DataValidationError, InstrumentError
from engagestats.scoring import (
    BUILTIN_RULES,
    PRORATE_80,
    ScoringPolicy,
    ensure_scores,
    score,
    scoring_summary,
)
from engagestats.study import Study


def _study() -> Study:
    clients = pd.DataFrame({"client_id": ["C1", "C2"], "therapist_id": ["T1", "T1"]})
    for i in range(1, 16):
        clients[f"srq_{i}"] = [4.0, 5.0]
    sessions = pd.DataFrame({"client_id": ["C1", "C1", "C2"], "session": [1, 2, 1]})
    for i in range(1, 10):
        sessions[f"phq9_{i}"] = [1.0, 2.0, 3.0]
    sessions.loc[0, "phq9_9"] = np.nan  # 8 of 9 answered: prorated at 80%, not built-in
    for i in range(1, 8):
        sessions[f"gad7_{i}"] = [1.0, 1.0, 1.0]
    return Study(pd.DataFrame({"therapist_id": ["T1"]}), clients, sessions)


@pytest.fixture
def counted(monkeypatch):
    calls: list[str] = []
    original = scorer._score_frame

    def wrapper(data, inst, *args, **kwargs):
        calls.append(inst.name)
        return original(data, inst, *args, **kwargs)

    monkeypatch.setattr(scorer, "_score_frame", wrapper)
    return calls


def test_the_two_policies_differ_only_in_proration():
    assert PRORATE_80.instrument("phq9").min_required == {"total": 8}
    assert BUILTIN_RULES.instrument("phq9").min_required == {"total": 9}
    assert PRORATE_80.instrument("phq9").cutoff == instruments.get("phq9").cutoff
    # instruments the policy does not name keep their built-in rules
    assert PRORATE_80.instrument("k10").min_required == instruments.get("k10").min_required
    assert PRORATE_80.instrument("srq").name == "srq"  # the example, resolved by name
    assert PRORATE_80.instrument("gas", 5).n_items == 5  # GAS adapts to the goals present


def test_policy_scores_registered_blocks_then_examples():
    study = _study()
    assert [i.name for i in PRORATE_80.instruments(study)] == ["phq9", "gad7", "srq"]
    assert [i.name for i in ScoringPolicy("none", examples=()).instruments(study)] == [
        "phq9",
        "gad7",
    ]
    scored = PRORATE_80.score(study)
    assert scored.sessions["phq9_total"].tolist() == pytest.approx([9 * 8 / 8, 18.0, 27.0])
    assert BUILTIN_RULES.score(study).sessions["phq9_total"].isna().tolist() == [
        True,
        False,
        False,
    ]


def test_describe_states_the_rule():
    text = PRORATE_80.describe()
    assert "'prorate_80'" in text
    assert "gad7, phq9, srq, urica and wai_sr are scored when at least 80%" in text
    assert "built-in rule" in BUILTIN_RULES.describe()
    counts = ScoringPolicy("two", min_answered={"phq9": 7}).describe()
    assert "phq9 is scored when at least 7 items of each (sub)scale are answered" in counts


def test_ensure_scores_leaves_present_scores_alone(counted):
    strict = BUILTIN_RULES.score(_study())
    assert strict.scoring_policy is BUILTIN_RULES
    counted.clear()
    same = ensure_scores(strict, ["phq9_total", "gad7_total"])
    assert same is strict  # nothing missing: nothing scored
    assert counted == []
    # one policy per study: another policy for a Study is refused, not mixed in
    with pytest.raises(DataValidationError, match="one policy per study"):
        ensure_scores(strict, ["phq9_total"], policy=PRORATE_80)


def test_ensure_scores_scores_only_the_missing_instruments(counted):
    study = _study()
    out = ensure_scores(study, ["phq9_total", "client_id"], policy=PRORATE_80)
    assert counted == ["phq9"]
    assert "gad7_total" not in out.sessions.columns
    assert out.sessions.loc[0, "phq9_total"] == pytest.approx(9.0)  # prorated 8 of 9
    assert [(r.table, r.instrument) for r in out.scoring] == [("sessions", "phq9")]
    again = ensure_scores(out, ["phq9_total", "srq_rai"], policy=PRORATE_80)
    assert counted == ["phq9", "srq"]
    assert scoring_summary(again)["instrument"].unique().tolist() == ["srq", "phq9"]  # by table


def test_ensure_scores_on_a_frame_adds_only_the_columns_asked():
    sessions = _study().sessions
    out = ensure_scores(sessions, ["phq9_total"], table="sessions")
    assert out.columns.tolist() == [*sessions.columns, "phq9_total"]
    assert np.isnan(out.loc[0, "phq9_total"])  # built-in: all nine items needed


def test_ensure_scores_names_what_cannot_be_scored():
    with pytest.raises(DataValidationError, match="Score columns are missing") as err:
        ensure_scores(_study().sessions, ["k10_total", "phq9_sum"], table="sessions")
    p = err.value.problems
    assert p["file"].tolist() == ["sessions", "sessions"]
    assert p["column"].tolist() == ["k10_total", "phq9_sum"]
    assert p["problem"].tolist() == [
        "score column missing and no item columns to score it from",
        "instrument 'phq9' does not produce this score",
    ]
    # errors="ignore" leaves them for the caller's own column check
    out = ensure_scores(_study(), ["k10_total"], errors="ignore")
    assert "k10_total" not in out.sessions.columns
    frame = ensure_scores(_study().sessions, ["phq9_sum", "phq9_total"], errors="ignore")
    assert "phq9_total" in frame.columns
    assert "phq9_sum" not in frame.columns


def test_ensure_scores_unknown_questionnaire():
    frame = pd.DataFrame({"bdi_1": [1], "bdi_2": [2]})
    with pytest.raises(InstrumentError, match="unknown instrument 'bdi'"):
        ensure_scores(frame, ["bdi_total"])
    assert ensure_scores(frame, ["bdi_total"], errors="ignore") is frame


def test_score_of_a_study_matches_ensure_scores():
    study = _study()
    a = score(study, [PRORATE_80.instrument("phq9")])
    b = ensure_scores(study, ["phq9_total"], policy=PRORATE_80)
    pd.testing.assert_frame_equal(a.sessions, b.sessions)
