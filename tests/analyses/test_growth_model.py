"""growth_model: formula building, coding, exclusions, effects, trajectories, tables."""

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import growth_formula, growth_model


def test_formula_has_every_part():
    f = growth_formula(
        "y",
        predictors=["a"],
        time_varying=["w"],
        moderators=["m"],
        therapist=None,
        random_slope=False,
        lag=2,
    )
    assert f == (
        "y ~ time + a + w_between + w_within_lag2 + time:a + time:w_between + m + time:m"
        " + a:m + w_between:m + time:a:m + time:w_between:m + (1 | client_id)"
    )


def test_exclusions_account_for_every_session_row(small_study):
    m = growth_model(
        small_study,
        predictors={"autonomous": "srq_autonomous"},
        time_varying={"alliance": "wai_sr_sum"},
    )
    assert m.fit.nobs + m.exclusions["n_rows"].sum() == len(small_study.sessions)
    assert m.fit.n_dropped == 0
    assert m.exclusions.columns.tolist() == ["reason", "n_rows", "n_clients"]
    missed = int((small_study.sessions["attended"] == 0).sum())
    assert (
        m.exclusions.set_index("reason").loc["missed session (no questionnaires)", "n_rows"]
        == missed
    )


def test_first_lag_drop_excludes_first_sessions(small_study):
    m = growth_model(
        small_study,
        time_varying={"alliance": "wai_sr_sum"},
        first_lag="drop",
        therapist=None,
        random_slope=False,
    )
    reasons = m.exclusions.set_index("reason")["n_rows"]
    first = [r for r in reasons.index if "first session" in r]
    assert len(first) == 1
    assert 0.9 * small_study.n_clients <= reasons[first[0]] <= small_study.n_clients
    assert (m.data.groupby("client_id")["time"].min() >= 1).all()


def test_coding_centres_and_lags(small_study):
    m = growth_model(
        small_study,
        predictors={"autonomous": "srq_autonomous"},
        time_varying={"alliance": "wai_sr_sum"},
    )
    d = m.data
    per_client = d.drop_duplicates("client_id")
    # centred at the mean over clients of the fitting panel (before exclusions)
    assert abs(per_client["autonomous"].mean()) < 0.05
    c = d[d["client_id"] == d["client_id"].iloc[0]].sort_values("time")
    within = c["wai_sr_sum"] - (c["alliance_between"] + m.spec.centres["alliance_between"])
    np.testing.assert_allclose(c["alliance_within_lag"].iloc[1:], within.iloc[:-1], atol=1e-9)
    assert c["alliance_within_lag"].iloc[0] == 0.0
    assert c["time"].iloc[0] == 0


def test_missing_column_is_reported(small_study):
    with pytest.raises(es.DataValidationError, match="nope"):
        growth_model(small_study, predictors=["nope"])


def test_dataframe_input_matches_study_input(small_study):
    a = growth_model(small_study, predictors={"autonomous": "srq_autonomous"})
    from engagestats.analyses._panel import score_study

    panel = score_study(small_study).panel(attended_only=True)
    b = growth_model(panel, predictors={"autonomous": "srq_autonomous"})
    np.testing.assert_allclose(b.fit.fixed["estimate"], a.fit.fixed["estimate"], rtol=1e-6)


def test_effects_interpretation_direction(sample_model):
    e = sample_model.effects().set_index("term")
    assert e.loc["time", "estimate"] < 0
    assert "improved" in e.loc["time", "interpretation"]
    assert "faster" in e.loc["time:autonomous", "interpretation"]
    sd = sample_model.spec.sds["autonomous"]
    per_sd = abs(e.loc["time:autonomous", "estimate"]) * sd
    assert f"{per_sd:.2f}" in e.loc["time:autonomous", "interpretation"]
    assert e.loc["autonomous", "ci_low"] < e.loc["autonomous", "estimate"]


def test_effects_ci_level(sample_model):
    e90 = sample_model.effects(ci=0.90).set_index("term")
    e95 = sample_model.effects().set_index("term")
    assert (e90["ci_high"] - e90["ci_low"] < e95["ci_high"] - e95["ci_low"]).all()


def test_trajectories_match_manual_prediction(sample_model):
    tr = sample_model.trajectories(by="autonomous", times=[0, 10])
    assert tr.columns.tolist() == ["autonomous", "time", "estimate", "se", "ci_low", "ci_high"]
    b = sample_model.fit.fixed["estimate"]
    sd = sample_model.spec.sds["autonomous"]
    hi = tr[(tr["autonomous"] == "+1 SD") & (tr["time"] == 10)].iloc[0]
    expected = (
        b["(Intercept)"] + 10 * b["time"] + sd * (b["autonomous"] + 10 * b["time:autonomous"])
    )
    np.testing.assert_allclose(hi["estimate"], expected, rtol=1e-10)
    V = sample_model.fit.vcov
    x = pd.Series(0.0, index=V.index)
    x[["(Intercept)", "time", "autonomous", "time:autonomous"]] = [1, 10, sd, 10 * sd]
    np.testing.assert_allclose(hi["se"], np.sqrt(x @ V @ x), rtol=1e-10)


def test_categorical_predictor_trajectories(small_study):
    study = small_study
    clients = study.clients.copy()
    clients["group"] = np.where(np.arange(len(clients)) % 2 == 0, "a", "b")
    from dataclasses import replace

    m = growth_model(replace(study, clients=clients), predictors=["group"])
    assert "time:groupb" in m.fit.fixed.index
    tr = m.trajectories(by="group", times=[0, 3])
    assert list(tr["group"].cat.categories) == ["a", "b"]
    b = m.fit.fixed["estimate"]
    got = tr[(tr["group"] == "b") & (tr["time"] == 3)]["estimate"].item()
    np.testing.assert_allclose(
        got, b["(Intercept)"] + b["groupb"] + 3 * (b["time"] + b["time:groupb"]), rtol=1e-10
    )
    # averaged over groups by their share of clients when not given
    avg = m.trajectories(times=[0])["estimate"].item()
    np.testing.assert_allclose(avg, b["(Intercept)"] + 0.5 * b["groupb"], rtol=1e-10)


def test_table_formats(sample_model):
    t = sample_model.table()
    assert t.columns.tolist() == [
        "section",
        "term",
        "estimate",
        "se",
        "df",
        "t",
        "p",
        "ci_low",
        "ci_high",
    ]
    n = t[t["section"] == "N"].set_index("term")["estimate"]
    assert n["observations"] == sample_model.fit.nobs
    assert {"R2 marginal", "R2 conditional"} <= set(t["term"])
    assert sample_model.table(format="markdown").count("\n") > 20
    assert "\\begin{tabular}" in sample_model.table(format="latex")
    assert sample_model.table(format="html").startswith("<table>")
    assert sample_model.formula in sample_model.summary()
    assert "time:autonomous" in sample_model._repr_html_()
    with pytest.raises(es.ModelSpecError):
        sample_model.table(format="pdf")


def test_percent_confidence_levels_are_rejected(sample_model):
    from engagestats.errors import ModelSpecError

    for call in (
        lambda: sample_model.effects(ci=95),
        lambda: sample_model.trajectories(ci=95),
        lambda: sample_model.fit.contrast(np.eye(len(sample_model.fit.fixed))[:1], level=95),
    ):
        with pytest.raises(ModelSpecError, match="between 0 and 1"):
            call()


def test_unsupported_growth_options_are_refused(small_study):
    from engagestats.errors import ModelSpecError

    with pytest.raises(ModelSpecError, match="time_method"):
        growth_model(small_study, time_method="log")
    with pytest.raises(ModelSpecError, match="categorical"):
        growth_model(
            small_study,
            predictors={"autonomous": "srq_autonomous"},
            moderators={"ctrl": "srq_controlled"},
        )
    with pytest.raises(ModelSpecError, match="higher_is_worse"):
        growth_model(
            small_study.panel(attended_only=True).assign(mystery_score=1.0), outcome="mystery_score"
        )


def test_within_interpretation_follows_the_lag(small_study):
    same = growth_model(small_study, time_varying={"alliance": "wai_sr_sum"}, lag=0)
    eff = same.effects().set_index("term")
    assert "same session" in eff.loc["alliance_within", "effect"]
    assert eff.loc["alliance_within", "interpretation"].startswith("in a session with")
