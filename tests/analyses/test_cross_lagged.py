"""cross_lagged (LCM-SR by default, RI-CLPM) against lavaan, and its data rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import CrossLaggedResult, cross_lagged

REF = Path(__file__).resolve().parents[1] / "reference" / "cross_lagged"


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(REF / "panel.csv")


@pytest.mark.parametrize(
    ("occasion", "trends", "suffix"),
    [("session", False, ""), ("attended", False, "_attended"), ("session", True, "_trends")],
)
def test_matches_lavaan(panel, occasion, trends, suffix):
    # lavaan(model, data = wide, missing = "ml", information = "observed") in riclpm.R
    ref = pd.read_csv(REF / f"estimates{suffix}.csv").set_index("key")
    info = json.loads((REF / f"fit{suffix}.json").read_text())
    m = cross_lagged(panel, occasion=occasion, waves=6, trends=trends)
    got = m.parameters.set_index("lavaan")
    assert m.n_params == info["npar"] == len(ref)
    assert m.n_clients == info["n"]
    np.testing.assert_allclose(m.loglik, info["logl"], rtol=1e-8)
    np.testing.assert_allclose(got.loc[ref.index, "estimate"], ref["est"], rtol=1e-4)
    np.testing.assert_allclose(got.loc[ref.index, "se"], ref["se"], rtol=1e-3)
    np.testing.assert_allclose(got.loc[ref.index, "p"], ref["pvalue"], rtol=1e-3, atol=1e-8)
    np.testing.assert_allclose(got.loc[ref.index, "ci_low"], ref["ci.lower"], rtol=1e-3)
    np.testing.assert_allclose(got.loc[ref.index, "ci_high"], ref["ci.upper"], rtol=1e-3)


def test_default_is_the_lcm_sr(panel):
    # the default (trends=True) is the lavaan LCM-SR of riclpm.R (estimates_trends.csv)
    ref = pd.read_csv(REF / "estimates_trends.csv").set_index("key")
    m = cross_lagged(panel, waves=6)
    assert m.trends
    assert m.n_params == len(ref)
    np.testing.assert_allclose(m.paths["estimate"].iloc[:2], ref.loc[["d", "b"], "est"], 1e-4)
    assert m.summary().startswith("Latent curve model with structured residuals (LCM-SR)")
    assert "LCM-SR" in m._repr_html_()
    assert all("own trend line" in t for t in m.interpretation())
    ri = cross_lagged(panel, waves=6, trends=False)
    assert not ri.trends
    assert ri.summary().startswith("Random-intercept cross-lagged panel model (RI-CLPM)")
    assert all("own typical level" in t for t in ri.interpretation())


def test_trends_need_four_occasions(panel):
    with pytest.raises(es.ModelSpecError, match=r"at least 4 occasions.*trends=False"):
        cross_lagged(panel, waves=3)
    assert cross_lagged(panel, waves=3, trends=False).n_waves == 3
    assert cross_lagged(panel, waves=4).n_waves == 4


def test_paths_table_and_estimands(panel):
    m = cross_lagged(panel, waves=6, trends=False)
    assert isinstance(m, CrossLaggedResult)
    assert list(m.paths.columns) == [
        "path", "estimand", "estimate", "se", "z", "p", "ci_low", "ci_high"
    ]  # fmt: skip
    assert m.paths["path"].tolist()[:2] == ["alliance -> phq9_total", "phq9_total -> alliance"]
    assert m.paths["estimand"].str.startswith("within-person").all()
    ref = pd.read_csv(REF / "estimates.csv").set_index("key")
    # alliance -> next PHQ-9 is lavaan's d (wy_t ~ d*wx_{t-1}); PHQ-9 -> next alliance is b
    np.testing.assert_allclose(m.paths["estimate"].iloc[:2], ref.loc[["d", "b"], "est"], 1e-4)
    text = m.summary()
    assert "alliance -> phq9_total" in text
    assert "160" in text
    for word in ("causes", "leads to", "drives", "because"):
        assert word not in text
    assert "<table" in m._repr_html_()


def test_rows_without_values_are_counted(panel):
    extra = pd.DataFrame(
        {
            "client_id": ["C001", "C002", "C003"],
            "session": [7, 2.0, 9],
            "wai_sr_sum": [40.0, np.nan, 41.0],
            "phq9_total": [10.0, np.nan, 9.0],
        }
    )
    data = pd.concat([panel.astype({"session": float}), extra], ignore_index=True)
    data = data.drop_duplicates(["client_id", "session"], keep="first")
    data = pd.concat([data, extra.iloc[[1]].assign(session=20.0)], ignore_index=True)
    m = cross_lagged(data, waves=6)
    excl = m.exclusions.set_index("reason")
    assert (
        excl.loc["both 'wai_sr_sum' and 'phq9_total' missing (missing at its occasion)"]["n_rows"]
        == 1
    )
    assert excl.loc["occasion after the last one analysed (waves=6)", "n_rows"] == 2
    assert m.coverage["n_wai_sr_sum"].sum() == panel["wai_sr_sum"].notna().sum()


def test_default_waves_stop_before_sparse_occasion(panel):
    late = panel[panel["session"] <= 2].head(5).assign(session=lambda d: d["session"] + 6)
    m = cross_lagged(pd.concat([panel, late], ignore_index=True))
    assert m.n_waves == 6  # occasions 7-8 have fewer than 10 clients
    assert m.exclusions["n_rows"].sum() == len(late)


def test_study_input_counts_missed_sessions():
    study = es.simulate_study(n_therapists=4, clients_per_therapist=10, seed=3)
    m = cross_lagged(study, waves=5)
    assert m.exclusions["reason"].iloc[0].startswith("missed session")
    assert m.n_clients == study.clients.shape[0]
    assert np.isfinite(m.paths["se"]).all()


def test_bad_input(panel):
    with pytest.raises(es.DataValidationError, match="positive integers"):
        cross_lagged(panel.assign(session=panel["session"] + 0.5))
    with pytest.raises(es.DataValidationError, match="share a client and occasion"):
        cross_lagged(pd.concat([panel, panel.head(1)]))
    with pytest.raises(es.DataValidationError, match="gad7_total"):
        cross_lagged(panel, outcome="gad7_total")
    with pytest.raises(es.DataValidationError):
        cross_lagged(panel, occasion="visit")
    with pytest.raises(es.ModelSpecError, match="at least 2 occasions"):
        cross_lagged(panel[panel["session"] == 1])
