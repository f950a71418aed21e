"""engagestats.scoring.score: psych reference, proration, invalid answers, Study."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import DataValidationError, InstrumentError
from engagestats.instruments import Instrument, get
from engagestats.scoring import ScoringReport, score, score_with_report, scoring_summary
from engagestats.study import Study

REF = Path(__file__).parents[1] / "reference" / "psych"

BFI = Instrument(
    "bfi",
    items=[f"A{i}" for i in range(1, 6)] + [f"N{i}" for i in range(1, 6)],
    response_range=(1, 6),
    subscales={"agree": ["A1", "A2", "A3", "A4", "A5"], "neuro": [6, 7, 8, 9, 10]},
    reverse=["A1"],
    aggregate="mean",
    min_answered=1,
)


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    return pd.read_csv(REF / "bfi_items.csv")


@pytest.fixture(scope="module")
def psych_scores() -> pd.DataFrame:
    return pd.read_csv(REF / "scores_bfi.csv")


def test_means_match_psych_scoreitems(bfi, psych_scores):
    out = score(bfi, BFI)
    # psych::scoreItems(keys, items, impute = "none", totals = FALSE)
    for s in ("agree", "neuro"):
        np.testing.assert_allclose(
            out[f"bfi_{s}"].to_numpy(), psych_scores[f"{s}_mean"].to_numpy(), rtol=1e-10
        )
    assert out["bfi_prorated"].sum() > 0  # the fixture has missing answers


def test_prorated_sums_match_psych(bfi, psych_scores):
    inst = Instrument(
        "bfi", items=BFI.items, response_range=(1, 6), subscales=BFI.subscales,
        reverse=["A1"], aggregate="sum", min_answered=1,
    )  # fmt: skip
    out = score(bfi, inst)
    for s in ("agree", "neuro"):
        # prorated sum = 5 x mean of the answered items (psych mean x n items)
        np.testing.assert_allclose(
            out[f"bfi_{s}"].to_numpy(), 5 * psych_scores[f"{s}_mean"].to_numpy(), rtol=1e-10
        )
        complete = bfi[list(inst.subscales[s])].notna().all(axis=1).to_numpy()
        # on complete rows the sum is psych's totals = TRUE score exactly
        np.testing.assert_array_equal(
            out[f"bfi_{s}"].to_numpy()[complete],
            psych_scores[f"{s}_sum_available"].to_numpy()[complete],
        )


def test_strict_rule_leaves_incomplete_rows_unscored(bfi):
    inst = Instrument("bfi", items=BFI.items, response_range=(1, 6), subscales=BFI.subscales)
    out, report = score_with_report(bfi, inst)
    incomplete = bfi[list(inst.subscales["agree"])].isna().any(axis=1)
    assert out.loc[incomplete, "bfi_agree"].isna().all()
    assert out.loc[~incomplete, "bfi_agree"].notna().all()
    rep = report.unscorable.set_index("score")
    assert rep.loc["agree", "n_too_few"] + rep.loc["agree", "n_empty"] == incomplete.sum()
    assert rep.loc["agree", "n_scored"] == (~incomplete).sum()


def test_proration_boundary_and_counts():
    inst = Instrument("q", items=4, response_range=(0, 3), min_answered=3)
    d = pd.DataFrame(
        {"q_1": [1, 1, 1, None], "q_2": [2, 2, None, None], "q_3": [3, None, None, None],
         "q_4": [0, 3, 3, None]},
        index=["a", "b", "c", "d"],
    )  # fmt: skip
    out, report = score_with_report(d, inst)
    pd.testing.assert_frame_equal(out, score(d, inst))
    np.testing.assert_allclose(out["q_total"].to_numpy(), [6, 8, np.nan, np.nan])
    assert out["q_prorated"].tolist() == [False, True, False, False]
    assert out["q_n_answered"].tolist() == [4, 3, 2, 0]
    rep = scoring_summary(report).iloc[0]
    assert (rep.n_scored, rep.n_prorated, rep.n_empty, rep.n_too_few) == (2, 1, 1, 1)


def test_missing_columns_are_named():
    d = pd.DataFrame({f"phq9_{i}": [0] for i in range(1, 8)})
    with pytest.raises(InstrumentError, match=r"phq9_8.*phq9_9"):
        score(d, "phq9")


def test_text_and_out_of_range_answers_raise_with_locations():
    d = pd.DataFrame({f"gad7_{i}": [1, 2, 0] for i in range(1, 8)}, index=[10, 11, 12])
    d = d.astype(object)
    d.loc[11, "gad7_3"] = "often"
    d.loc[12, "gad7_5"] = 4
    d.loc[10, "gad7_1"] = 1.5
    with pytest.raises(DataValidationError) as err:
        score(d, "gad7")
    p = err.value.problems.sort_values("row")
    assert p["row"].tolist() == [10, 11, 12]
    assert p["column"].tolist() == ["gad7_1", "gad7_3", "gad7_5"]
    assert p["value"].tolist() == ["1.5", "often", "4"]
    assert "whole" in p["problem"].iloc[0]
    assert "number" in p["problem"].iloc[1]
    assert "range" in p["problem"].iloc[2]


def test_invalid_nan_sets_missing_and_reports():
    d = pd.DataFrame({f"gad7_{i}": [1, 2] for i in range(1, 8)})
    d.loc[1, "gad7_2"] = 7
    out, report = score_with_report(d, get("gad7", min_answered=6), invalid="nan")
    assert out["gad7_total"].tolist() == [7.0, 14.0]  # 6 answers of 2, prorated x 7/6
    assert out["gad7_prorated"].tolist() == [False, True]
    inv = report.invalid
    assert inv[["row", "column", "value"]].values.tolist() == [[1, "gad7_2", "7"]]
    assert scoring_summary(report)["n_invalid"].iloc[0] == 1
    assert scoring_summary([report, report])["n_invalid"].tolist() == [1, 1]


def test_prefix_item_columns_and_keep_items():
    d = pd.DataFrame({f"pre_gad7_{i}": [1] for i in range(1, 8)})
    out = score(d, "gad7", prefix="pre_gad7", keep_items=True)
    assert out.columns[:7].tolist() == [f"pre_gad7_{i}" for i in range(1, 8)]
    assert out["pre_gad7_total"].iloc[0] == 7
    cols = [f"x{i}" for i in range(7)]
    d2 = pd.DataFrame({c: [3] for c in cols})
    assert score(d2, "gad7", item_columns=cols)["gad7_total"].iloc[0] == 21
    with pytest.raises(InstrumentError):
        score(d2, "gad7", item_columns=cols[:3])


def test_results_carry_no_attrs_and_concatenate():
    d = pd.DataFrame(
        {f"gad7_{i}": [1] for i in range(1, 8)} | {f"phq9_{i}": [2] for i in range(1, 10)}
    )
    both = pd.concat([score(d, "gad7"), score(d, "phq9")], axis=1)
    assert both["phq9_total"].iloc[0] == 18
    assert both.attrs == {}


def test_nullable_integer_columns():
    d = pd.DataFrame({f"gad7_{i}": pd.array([1, None], dtype="Int64") for i in range(1, 8)})
    out = score(d, "gad7")
    assert out["gad7_total"].iloc[0] == 7
    assert np.isnan(out["gad7_total"].iloc[1])


def _study() -> Study:
    rng = np.random.default_rng(2)
    clients = pd.DataFrame({"client_id": ["C1", "C2"], "therapist_id": ["T1", "T1"]})
    for i in range(1, 33):
        clients[f"urica_{i}"] = rng.integers(1, 6, 2)
    for i in range(1, 4):
        clients[f"gas_{i}"] = [1, np.nan]
        clients[f"gas_weight_{i}"] = [i, np.nan]
    clients["age"] = [30, 40]
    sessions = pd.DataFrame({"client_id": ["C1", "C1", "C2"], "session": [1, 2, 1]})
    for i in range(1, 10):
        sessions[f"phq9_{i}"] = [1, np.nan, 2]
    sessions["attended"] = [1, 0, 1]
    return Study(pd.DataFrame({"therapist_id": ["T1"]}), clients, sessions)


def test_study_scores_known_instruments_in_place():
    s = _study()
    out = score(s, None)
    assert isinstance(out, Study)
    assert out is not s
    cols = out.sessions.columns.tolist()
    assert cols.index("phq9_total") == cols.index("phq9_9") + 1
    assert cols[-1] == "attended"
    assert out.sessions["phq9_total"].tolist()[::2] == [9.0, 18.0]
    c = out.clients
    assert "urica_readiness" in c.columns
    assert "gas_t_score" in c.columns
    # all three goals +1 with weights 1, 2, 3, rho = .3
    t = 50 + 10 * 6 / np.sqrt(0.7 * 14 + 0.3 * 36)
    assert c["gas_t_score"].iloc[0] == pytest.approx(t, rel=1e-12)
    summary = scoring_summary(out)
    phq = summary[summary["instrument"] == "phq9"].iloc[0]
    assert (phq.table, phq.n_rows, phq.n_scored, phq.n_empty) == ("sessions", 3, 2, 1)
    assert [(r.table, r.instrument) for r in out.scoring] == [
        ("clients", "urica"),
        ("clients", "gas"),
        ("sessions", "phq9"),
    ]
    assert all(isinstance(r, ScoringReport) for r in out.scoring)
    assert out.clients.attrs == {}
    assert out.sessions.attrs == {}
    assert "urica_1" in s.clients.columns
    assert "urica_readiness" not in s.clients.columns
    assert s.scoring == ()


def test_rescoring_an_instrument_replaces_its_report():
    first = score(_study(), None)
    again = score(first, ["phq9"])
    names = [(r.table, r.instrument) for r in again.scoring]
    assert names == [("clients", "urica"), ("clients", "gas"), ("sessions", "phq9")]
    assert again.scoring[-1] is not first.scoring[-1]
    assert scoring_summary(again).equals(scoring_summary(first))


def test_scoring_summary_of_an_unscored_study_is_empty_and_typed():
    summary = scoring_summary(_study())
    assert summary.empty
    assert summary.columns.tolist()[:3] == ["table", "instrument", "score"]
    with pytest.raises(TypeError, match="scored Study or ScoringReport"):
        scoring_summary(pd.DataFrame())


def test_study_explicit_instruments_and_missing_items():
    s = _study()
    out = score(s, ["phq9"])
    assert "urica_readiness" not in out.clients.columns
    with pytest.raises(InstrumentError, match="gad7"):
        score(s, "gad7")
    broken = Study(s.therapists, s.clients, s.sessions.drop(columns="phq9_4"))
    with pytest.raises(InstrumentError, match="phq9_4"):
        score(broken, None)


def test_gas_with_some_weight_columns_missing_is_an_error():
    data = pd.DataFrame(
        {"gas_1": [2], "gas_2": [-2], "gas_3": [0], "gas_weight_1": [1], "gas_weight_2": [2]}
    )
    with pytest.raises(DataValidationError) as err:
        score(data, "gas")
    assert err.value.problems["column"].tolist() == ["gas_weight_3"]


def test_boolean_answers_are_invalid_not_scored_as_one_and_zero():
    data = pd.DataFrame({f"gad7_{i}": [True, False] for i in range(1, 8)})
    with pytest.raises(DataValidationError) as err:
        score(data, "gad7")
    assert len(err.value.problems) == 14
