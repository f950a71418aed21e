"""Tests for engagestats.engagement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engagestats.engagement import dropout_definition, end_reason_counts, engagement
from engagestats.errors import DataValidationError, DataWarning
from engagestats.study import Study


@pytest.fixture
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    sessions = pd.DataFrame(
        {
            "client_id": ["a"] * 6 + ["b"] * 2 + ["c"],
            "session": [1, 2, 3, 4, 5, 6, 1, 2, 1],
            "date": [
                "2024-01-01",
                "2024-01-08",
                "2024-01-15",
                "2024-01-22",
                "2024-01-29",
                "2024-02-26",
                "2024-03-01",
                "2024-03-08",
                "2024-04-01",
            ],
            "attended": [1, 1, 0, 1, 1, 0, 1, 1, 0],
            "homework": [1, 0, None, 1, None, None, None, None, None],
            "phq9_total": [20, 18, None, 12, 10, None, 9, None, None],
        }
    )
    clients = pd.DataFrame(
        {
            "client_id": ["a", "b", "c", "d"],
            "planned_sessions": [6, 12, 8, 10],
            "end_reason": ["completed", None, "dropout", None],
        }
    )
    return sessions, clients


def test_counts_rates_and_dates(tables):
    sessions, clients = tables
    out = engagement(sessions, clients=clients).set_index("client_id")
    assert out.index.tolist() == ["a", "b", "c", "d"]
    assert out["sessions_offered"].tolist() == [6, 2, 1, 0]
    assert out["sessions_attended"].tolist() == [4, 2, 0, 0]
    np.testing.assert_allclose(out["attendance_rate"], [4 / 6, 1.0, 0.0, np.nan], rtol=1e-12)
    assert out.loc["a", "homework_set"] == 3
    assert out.loc["a", "homework_completed"] == 2
    assert out.loc["a", "homework_rate"] == pytest.approx(2 / 3, rel=1e-12)
    assert np.isnan(out.loc["b", "homework_rate"])
    # first to last attended: 2024-01-01 .. 2024-01-29 (the missed 02-26 session does not count)
    assert out.loc["a", "weeks_in_treatment"] == pytest.approx(4.0, rel=1e-12)
    assert out.loc["b", "weeks_in_treatment"] == pytest.approx(1.0, rel=1e-12)
    assert out["reason"].tolist()[2:] == ["no attended sessions", "no sessions"]
    assert pd.isna(out.loc["a", "reason"])


def test_scores_and_early_change(tables):
    sessions, clients = tables
    out = engagement(sessions, clients=clients).set_index("client_id")
    # the default score is phq9_total: the same as naming it
    explicit = engagement(sessions, clients=clients, score="phq9_total").set_index("client_id")
    pd.testing.assert_frame_equal(out, explicit)
    assert out.loc["a", "first_scored_session"] == 1
    assert out.loc["a", "last_scored_session"] == 5
    assert (out.loc["a", "score_first"], out.loc["a", "score_last"]) == (20, 10)
    assert out.loc["a", "early_change"] == -8  # session 4 (12) - session 1 (20)
    assert np.isnan(out.loc["b", "early_change"])  # only the first score in the window
    k2 = engagement(sessions, clients=clients, early_change_session=2).set_index("client_id")
    assert k2.loc["a", "early_change"] == -2


def test_dropout_definitions(tables):
    sessions, clients = tables
    default = engagement(sessions, clients=clients)
    # a completed; b has no end_reason and attended 2 < 12; c says dropout; d 0 < 10
    assert default["dropout"].tolist() == [False, True, True, True]
    assert dropout_definition().startswith("planned_end")
    by_n = engagement(sessions, clients=clients, dropout="min_sessions", min_sessions=3)
    assert by_n["dropout"].tolist() == [False, True, True, True]
    assert "fewer than 3" in dropout_definition("min_sessions", min_sessions=3)
    assert "0.5 x planned" in dropout_definition("min_dose", min_dose=0.5)
    dose = engagement(sessions, clients=clients, dropout="min_dose", min_dose=0.5)
    assert dose["dropout"].tolist() == [False, True, True, True]
    dose2 = engagement(sessions, clients=clients, dropout="min_dose", min_dose=0.7)
    assert dose2["dropout"].tolist()[0] is True  # 4 < 0.7 * 6


def test_dropout_unknown_without_client_info(tables):
    sessions, _ = tables
    out = engagement(sessions)
    assert out["client_id"].tolist() == ["a", "b", "c"]
    assert out["dropout"].isna().all()


def test_study_input(tables):
    sessions, clients = tables
    study = Study(
        therapists=pd.DataFrame({"therapist_id": ["T"]}),
        clients=clients.assign(therapist_id="T"),
        sessions=sessions,
    )
    pd.testing.assert_frame_equal(engagement(study), engagement(sessions, clients=clients))


def test_no_score_column(tables):
    sessions, clients = tables
    out = engagement(sessions.drop(columns="phq9_total"), clients=clients)
    for col in ("early_change", "score_first", "score_last", "first_scored_session"):
        assert out[col].isna().all()


def test_bad_input(tables):
    sessions, clients = tables
    for kwargs, column in (
        ({"dropout": "whenever"}, "dropout"),
        ({"dropout": "min_sessions"}, "min_sessions"),
        ({"dropout": "min_dose", "min_dose": 2}, "min_dose"),
        ({"early_change_session": 0}, "early_change_session"),
    ):
        with pytest.raises(DataValidationError) as err:
            engagement(sessions, clients=clients, **kwargs)
        assert err.value.problems[["file", "column"]].iloc[0].tolist() == ["argument", column]
    with pytest.raises(TypeError, match="a Study or a sessions DataFrame"):
        engagement(sessions.to_dict())
    with pytest.deprecated_call(match="study_or_sessions= is deprecated"):
        old = engagement(study_or_sessions=sessions, clients=clients)
    pd.testing.assert_frame_equal(old, engagement(sessions, clients=clients))
    with pytest.raises(DataValidationError, match="unknown clients"):
        engagement(sessions, clients=clients.iloc[:2])
    with pytest.raises(DataValidationError):
        engagement(sessions.drop(columns="session"))
    with pytest.raises(TypeError):
        engagement([1, 2, 3])


def test_unknown_attendance_is_an_error_not_a_missed_session():
    sessions = pd.DataFrame(
        {"client_id": ["a", "a", "a"], "session": [1, 2, 3], "attended": [1, None, 1]}
    )
    with pytest.raises(DataValidationError) as err:
        engagement(sessions)
    assert err.value.problems["row"].tolist() == [1]
    assert err.value.problems["column"].tolist() == ["attended"]


def test_uncoded_end_reasons_are_kept_counted_and_explained(tables):
    # the old rule counted 'referred_on' silently as "not a dropout"
    sessions, clients = tables
    clients = clients.assign(end_reason=["completed", "referred_on", "dropout", "ongoing"])
    with pytest.warns(DataWarning, match=r"2 clients have an end_reason.*'referred_on' \(1\)"):
        out = engagement(sessions, clients=clients)
    assert out["end_reason"].tolist() == ["completed", "referred_on", "dropout", "ongoing"]
    assert out["dropout"].tolist()[0] is False
    assert out["dropout"].tolist()[2] is True
    assert out["dropout"].isna().tolist() == [False, True, False, True]
    assert out["reason"].iloc[1] == "end_reason 'referred_on' is not coded as dropout or not"
    # d has no sessions: both reasons are given
    assert (
        out["reason"].iloc[3] == "no sessions; end_reason 'ongoing' is not coded as dropout or not"
    )
    coded = engagement(
        sessions,
        clients=clients,
        dropout_coding={"dropout": True, "completed": False, "referred_on": False, "ongoing": True},
    )
    assert coded["dropout"].tolist() == [False, False, True, True]
    with pytest.raises(DataValidationError, match="dropout_coding"):
        engagement(sessions, clients=clients, dropout_coding={"dropout": "yes"})


def test_end_reason_counts_add_up(tables):
    _, clients = tables
    clients = pd.concat([clients, clients.assign(client_id=list("efgh"))], ignore_index=True)
    clients.loc[5, "end_reason"] = "moved"
    out = end_reason_counts(clients)
    assert out["n_clients"].sum() == len(clients)
    assert set(out["end_reason"].tolist()[:2]) == {"completed", "dropout"}  # 2 each
    assert out["end_reason"].iloc[2] == "moved"
    by = out.set_index(out["end_reason"].fillna("<missing>"))
    assert by.loc["completed", "n_clients"] == 2
    assert by.loc["moved", "coded_by"] == "not coded"
    assert pd.isna(by.loc["moved", "dropout"])
    assert by.loc["<missing>", "n_clients"] == 3
    assert by.loc["<missing>", "coded_by"] == "attended < planned_sessions"
    assert pd.isna(out["end_reason"].iloc[-1])  # missing listed last
    none = end_reason_counts(clients.drop(columns="end_reason"))
    assert none["n_clients"].tolist() == [len(clients)]
