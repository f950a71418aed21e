"""Every built-in instrument on hand-computed cases: minimum, maximum, reversal,
proration boundary, band edges, flags, cut-offs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import DataValidationError, InstrumentError
from engagestats.instruments import available, example_srq, gas, get
from engagestats.scoring import score


def frame(name: str, rows: list[list[float]]) -> pd.DataFrame:
    k = len(rows[0])
    return pd.DataFrame(rows, columns=[f"{name}_{i}" for i in range(1, k + 1)], dtype=float)


def test_registry():
    assert available() == ["core10", "gad7", "gas", "k10", "ors", "phq9", "srs", "urica", "wai_sr"]
    assert get("WAI-SR").name == "wai_sr"
    assert get("URICA-32").name == "urica"
    with pytest.raises(InstrumentError, match="available"):
        get("oq45")
    for name in available():
        inst = get(name)
        assert inst.source, name
        assert inst.is_case is not None


def test_phq9_min_max_bands_flag():
    rows = [[0] * 9, [3] * 9, [1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0, 0],
            [2, 2, 2, 2, 1, 0, 0, 0, 1], [2, 2, 2, 2, 2, 2, 2, 2, 3]]  # fmt: skip
    out = score(frame("phq9", rows), "phq9")
    assert out["phq9_total"].tolist() == [0, 27, 4, 5, 10, 19]
    assert out["phq9_band"].astype(str).tolist() == [
        "minimal", "severe", "minimal", "mild", "moderate", "moderately_severe"
    ]  # fmt: skip
    assert out["phq9_band"].cat.ordered
    assert out["phq9_item9_flag"].tolist() == [False, True, False, False, True, True]
    assert get("phq9").is_case(out["phq9_total"]).tolist() == [0, 1, 0, 0, 1, 1]
    assert get("phq9").reliable_change == 6


def test_phq9_no_proration_by_default_and_flag_missing():
    d = frame("phq9", [[1] * 9])
    d.loc[0, "phq9_9"] = np.nan
    out = score(d, "phq9")
    assert np.isnan(out["phq9_total"].iloc[0])
    assert out["phq9_item9_flag"].isna().iloc[0]
    assert score(d, get("phq9", min_answered=8))["phq9_total"].iloc[0] == 9


def test_gad7_bands_edges():
    rows = [[0] * 7, [3] * 7, [1, 1, 1, 1, 1, 0, 0], [2, 2, 2, 2, 2, 0, 0], [3, 3, 3, 3, 3, 0, 0]]
    out = score(frame("gad7", rows), "gad7")
    assert out["gad7_total"].tolist() == [0, 21, 5, 10, 15]
    assert out["gad7_band"].astype(str).tolist() == [
        "minimal", "severe", "mild", "moderate", "severe"
    ]  # fmt: skip
    assert get("gad7").is_case(np.array([7.0, 8.0])).tolist() == [False, True]


def test_wai_sr_subscale_means():
    row = list(range(1, 13))  # answer = item number, clipped to 1..5
    row = [min(v, 5) for v in row]
    out = score(frame("wai_sr", [row, [1] * 12, [5] * 12]), "wai_sr")
    # task 1,2,10,12 -> 1,2,5,5; bond 3,5,7,9 -> 3,5,5,5; goal 4,6,8,11 -> 4,5,5,5
    assert out.loc[0, ["wai_sr_task", "wai_sr_bond", "wai_sr_goal"]].tolist() == [
        13 / 4, 18 / 4, 19 / 4
    ]  # fmt: skip
    assert out.loc[0, "wai_sr_total"] == pytest.approx(sum(row) / 12, rel=1e-15)
    assert out.loc[1, "wai_sr_total"] == 1
    assert out.loc[2, "wai_sr_total"] == 5
    assert "wai_sr_band" not in out.columns


def test_urica_readiness_and_range():
    inst = get("urica")
    row = [3.0] * 32
    for i in (1, 5, 11, 13, 23, 26, 29):
        row[i - 1] = 1  # PC = 1
    for i in (2, 8, 12, 15, 19, 21, 24):
        row[i - 1] = 5  # C = 5
    row[3] = 1  # item 4 is unscored
    out = score(frame("urica", [row, [1] * 32, [5] * 32]), inst)
    assert out.loc[0, "urica_precontemplation"] == 1
    assert out.loc[0, "urica_contemplation"] == 5
    assert out.loc[0, "urica_readiness"] == 5 + 3 + 3 - 1
    # all 1s -> 1 + 1 + 1 - 1 = 2; extremes of the range are -2 and 14
    assert out.loc[1, "urica_readiness"] == 2
    assert out.loc[2, "urica_readiness"] == 10
    extreme = [5.0 if i in (1, 5, 11, 13, 23, 26, 29) else 1.0 for i in range(1, 33)]
    assert score(frame("urica", [extreme]), inst)["urica_readiness"].iloc[0] == -2
    assert inst.primary == "readiness"


def test_core10_reversal_proration_bands():
    inst = get("core10")
    lo = [0, 4, 4, 0, 0, 0, 0, 0, 0, 0]  # items 2, 3 reversed: lowest distress
    hi = [4, 0, 0, 4, 4, 4, 4, 4, 4, 4]
    one_missing = [1, 3, 3, 1, 1, 1, 1, 1, 1, np.nan]  # nine answers scoring 1 -> 10
    two_missing = [1, 3, 3, 1, 1, 1, 1, 1, np.nan, np.nan]
    edges = [[1, 4, 4, 1, 1, 1, 1, 1, 0, 0], [2, 4, 4, 2, 2, 1, 0, 0, 0, 0]]  # 5, 7+... below
    out = score(frame("core10", [lo, hi, one_missing, two_missing, *edges]), inst)
    tot = out["core10_total"].tolist()
    assert tot[:2] == [0, 40]
    assert tot[2] == pytest.approx(10.0, rel=1e-15)
    assert np.isnan(tot[3])
    assert out["core10_prorated"].tolist()[:4] == [False, False, True, False]
    assert tot[4:] == [6, 7]
    assert out["core10_band"].astype(str).tolist()[4:] == ["low", "low"]
    bands = inst.active_bands
    assert list(bands.assign(np.array([5, 6, 10, 11, 14, 15, 19, 20, 24, 25]))) == [
        "healthy", "low", "low", "mild", "mild", "moderate", "moderate",
        "moderate_to_severe", "moderate_to_severe", "severe",
    ]  # fmt: skip
    assert inst.is_case(np.array([10.0, 11.0])).tolist() == [False, True]


def test_k10_proration_rounding_and_band_sets():
    one_missing = [2, 2, 2, 2, 2, 2, 2, 3, 3, np.nan]  # sum 20 of 9 -> 22.22 -> 22
    two_missing = [2] * 8 + [np.nan, np.nan]
    half = [1, 1, 1, 1, 1, 1, 1, 1, 5, np.nan]  # 13 / 9 * 10 = 14.44 -> 14
    d = frame("k10", [[1] * 10, [5] * 10, one_missing, two_missing, half])
    out = score(d, "k10")
    tot = out["k10_total"].tolist()
    assert tot[:3] == [10, 50, 22]
    assert np.isnan(tot[3])
    assert tot[4] == 14
    bands = out["k10_band"].tolist()
    assert bands[:3] + bands[4:] == ["low", "very_high", "high", "low"]
    assert pd.isna(bands[3])
    cru = score(d, get("k10").with_bands("crufad"))
    assert cru["k10_band"].astype(str).tolist()[:3] == ["well", "severe", "mild"]
    assert list(get("k10").active_bands.assign(np.array([15, 16, 21, 22, 29, 30]))) == [
        "low", "moderate", "moderate", "high", "high", "very_high"
    ]  # fmt: skip


def test_ors_srs_fractional_answers_and_cutoffs():
    d = frame("ors", [[0, 0, 0, 0], [10, 10, 10, 10], [6.2, 6.3, 6.25, 6.25]])
    out = score(d, "ors")
    np.testing.assert_allclose(out["ors_total"], [0, 40, 25.0], rtol=1e-14)
    assert get("ors").is_case(out["ors_total"]).tolist() == [True, False, True]
    assert get("ors").reliable_change == 5
    with pytest.raises(DataValidationError, match="range"):
        score(frame("ors", [[10.5, 0, 0, 0]]), "ors")
    s = score(frame("srs", [[9, 9, 9, 9], [9, 9, 9, 9.1]]), "srs")["srs_total"]
    assert get("srs").is_case(s).tolist() == [True, False]


def test_gas_t_score():
    inst = gas(3)
    d = frame("gas", [[0, 0, 0], [-2, -2, -2], [2, 1, np.nan], [np.nan] * 3])
    out = score(d, inst)
    t = out["gas_t_score"].to_numpy()
    assert t[0] == 50
    # equal weights: T = 50 + 10 * sum x / sqrt(0.7 n + 0.3 n^2)
    assert t[1] == pytest.approx(50 + 10 * -6 / np.sqrt(0.7 * 3 + 0.3 * 9), rel=1e-14)
    assert t[2] == pytest.approx(50 + 10 * 3 / np.sqrt(0.7 * 2 + 0.3 * 4), rel=1e-14)
    assert np.isnan(t[3])
    d["gas_weight_1"], d["gas_weight_2"], d["gas_weight_3"] = 3.0, 1.0, 2.0
    w = score(d, gas(3, rho=0.5))["gas_t_score"].to_numpy()
    assert w[2] == pytest.approx(50 + 10 * (6 + 1) / np.sqrt(0.5 * 10 + 0.5 * 16), rel=1e-14)
    d.loc[0, "gas_weight_2"] = np.nan
    with pytest.raises(DataValidationError, match="weight"):
        score(d, inst)


def test_example_srq_is_marked_and_scores_rai():
    inst = example_srq()
    assert "EXAMPLE" in inst.source
    assert "srq" not in available()
    row = [7.0 if i in (1, 3, 6, 9, 11, 13) else 2.0 for i in range(1, 16)]
    out = score(frame("srq", [row]), inst)
    assert out.loc[0, "srq_autonomous"] == 7
    assert out.loc[0, "srq_controlled"] == 2
    assert out.loc[0, "srq_rai"] == 5
    assert out.loc[0, "srq_amotivation"] == 2


def test_user_changes_keep_validation():
    with pytest.raises(InstrumentError):
        get("phq9", min_answered=10)
    assert dataclasses.replace(get("gad7"), cutoff=10).cutoff == 10


def test_score_labels_come_from_the_instruments():
    from engagestats.instruments import score_label
    from engagestats.plots._model_common import label

    assert score_label("phq9_total") == "depression (PHQ-9 total)"
    assert score_label("wai_sr_bond") == "alliance: bond (WAI-SR)"
    assert score_label("srq_autonomous") is None  # the example defines none
    assert label("wai_sr_goal") == get("wai_sr").labels["goal"]
    assert label("srq_autonomous") == "srq autonomous"
    assert label("client_id") == "client"


def test_labels_must_name_scores():
    from engagestats.instruments import Instrument

    with pytest.raises(InstrumentError, match="labels name unknown scores"):
        Instrument("mood", items=3, response_range=(0, 3), labels={"sum": "mood"})
    inst = Instrument("mood", items=3, response_range=(0, 3), labels={"total": "mood (sum)"})
    assert inst.to_dict()["labels"] == {"total": "mood (sum)"}
