"""growth_model: formula building, coding, exclusions, effects, trajectories, tables."""

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import growth_formula, growth_model

#: The coding before issue 12 (person-mean deviations, no prior outcome, first lag 0): the
#: tests of that coding pass it explicitly; the default coding has its own hand-built test.
PLAIN = {"prior_outcome": "none", "detrend": False, "first_lag": "zero"}


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
        **PLAIN,
    )
    d = m.data
    per_client = d.drop_duplicates("client_id")
    # centred at the mean over the analysed clients (after the exclusions), each once
    np.testing.assert_allclose(per_client["autonomous"].mean(), 0.0, atol=1e-10)
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
    from engagestats.scoring import PRORATE_80

    panel = PRORATE_80.score(small_study).panel(attended_only=True)
    b = growth_model(panel, predictors={"autonomous": "srq_autonomous"})
    np.testing.assert_allclose(b.fit.fixed["estimate"], a.fit.fixed["estimate"], rtol=1e-6)


def test_a_scored_study_is_not_scored_again(small_study):
    """Scores already present are used as they are, whatever rule produced them."""
    from engagestats.scoring import BUILTIN_RULES

    strict = BUILTIN_RULES.score(small_study)  # all items needed: more missing outcomes
    m = growth_model(strict, predictors={"autonomous": "srq_autonomous"})
    prorated = growth_model(small_study, predictors={"autonomous": "srq_autonomous"})
    n_missing = strict.sessions.loc[strict.sessions["attended"] == 1, "phq9_total"].isna().sum()
    reason = "missing outcome 'phq9_total'"
    assert m.exclusions.set_index("reason").loc[reason, "n_rows"] == n_missing
    assert m.fit.nobs < prorated.fit.nobs


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
    e90 = sample_model.effects(level=0.90).set_index("term")
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
    for call in (
        lambda: sample_model.effects(level=95),
        lambda: sample_model.trajectories(level=95),
    ):
        with pytest.raises(es.DataValidationError, match="between 0 and 1") as err:
            call()
        assert err.value.problems[["file", "column"]].iloc[0].tolist() == ["argument", "level"]
    with pytest.raises(es.ModelSpecError, match="between 0 and 1"):  # models' own check
        sample_model.fit.contrast(np.eye(len(sample_model.fit.fixed))[:1], level=95)


def test_unsupported_growth_options_are_refused(small_study):
    from engagestats.errors import ModelSpecError

    with pytest.raises(ModelSpecError, match="time_method"):
        growth_model(small_study, time_method="weeks")
    with pytest.raises(ModelSpecError, match="knots"):
        growth_model(small_study, time_method="log", knots=[4])
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


def test_outcome_direction_comes_from_the_instrument():
    from engagestats.analyses.growth import outcome_direction
    from engagestats.instruments import available, resolve

    for name in available():
        inst = resolve(name)
        column = f"{name}_{inst.primary}"
        assert outcome_direction(column) == (inst.direction == "higher_is_worse"), column
    assert outcome_direction("wai_sr_sum") is False  # the longest instrument name wins
    assert outcome_direction("srq_rai") is False  # the packaged example
    for unknown in ("bdi_total", "oq45_total", "wai_total"):  # not instruments any more
        assert outcome_direction(unknown) is None


def test_within_interpretation_follows_the_lag(small_study):
    same = growth_model(small_study, time_varying={"alliance": "wai_sr_sum"}, lag=0)
    eff = same.effects().set_index("term")
    assert "same session" in eff.loc["alliance_within", "effect"]
    assert eff.loc["alliance_within", "interpretation"].startswith("in a session with")


# ---------------------------------------------------------------- coding on analysed rows
def _panel(n_clients=40, n_sessions=6, seed=1):
    """A complete long panel: intake ``x``, time-varying ``w``, modality, outcome."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_clients):
        x = rng.normal(50, 10)
        mod = ["cbt", "pdt"][i % 2]
        u0, u1 = rng.normal(0, 2), rng.normal(0, 0.3)
        wbar = rng.normal(40, 5)
        for s in range(1, n_sessions + 1):
            w = wbar + rng.normal(0, 3)
            y = 15 + u0 + (u1 - 0.5 - 0.02 * (x - 50)) * (s - 1) - 0.1 * (w - 40)
            y += rng.normal(0, 1.5)
            rows.append(
                {
                    "client_id": f"C{i:03d}",
                    "therapist_id": f"T{i % 5}",
                    "session": s,
                    "x": x,
                    "w": w,
                    "modality": mod,
                    "phq9_total": y,
                }
            )
    return pd.DataFrame(rows)


def test_centres_come_from_the_analysed_clients_only():
    p = _panel()
    # six more clients with extreme predictor values and no outcome at all: excluded
    extra = _panel(n_clients=6, seed=2)
    extra["client_id"] = "X" + extra["client_id"]
    extra["x"] = 500.0
    extra["w"] = 300.0
    extra["phq9_total"] = np.nan
    # an analysed client with one session whose outcome is missing but whose w is observed
    c0 = p["client_id"] == "C000"
    p.loc[c0 & (p["session"] == 3), "phq9_total"] = np.nan
    data = pd.concat([p, extra], ignore_index=True)
    m = growth_model(
        data, predictors=["x"], time_varying={"alliance": "w"}, therapist=None, **PLAIN
    )

    analysed = p.drop_duplicates("client_id")
    np.testing.assert_allclose(m.spec.centres["x"], analysed["x"].mean(), rtol=1e-12)
    np.testing.assert_allclose(m.spec.sds["x"], analysed["x"].std(ddof=1), rtol=1e-12)
    # person mean over every observed w of the client (outcome missing or not)
    person = p.groupby("client_id")["w"].mean()
    np.testing.assert_allclose(m.spec.centres["alliance_between"], person.mean(), rtol=1e-12)
    np.testing.assert_allclose(m.spec.sds["alliance_between"], person.std(ddof=1), rtol=1e-12)
    got = m.data.drop_duplicates("client_id").set_index("client_id")["alliance_between"]
    np.testing.assert_allclose(got, (person - person.mean()).loc[got.index], atol=1e-10)
    np.testing.assert_allclose(m.data.drop_duplicates("client_id")["x"].mean(), 0.0, atol=1e-10)
    np.testing.assert_allclose(
        m.spec.sds["alliance_within_lag"], m.data["alliance_within_lag"].std(ddof=1), rtol=1e-12
    )
    reasons = m.exclusions.set_index("reason")
    assert reasons.loc["missing outcome 'phq9_total'", "n_rows"] == len(extra) + 1
    assert reasons.loc["missing outcome 'phq9_total'", "n_clients"] == 7
    assert m.fit.nobs + m.exclusions["n_rows"].sum() == len(data)


def test_lag_does_not_skip_a_session_with_a_missing_outcome():
    p = _panel(n_clients=20)
    c0 = p["client_id"] == "C000"
    p.loc[c0 & (p["session"] == 3), "phq9_total"] = np.nan
    m = growth_model(p, time_varying={"alliance": "w"}, therapist=None, **PLAIN)
    w = p.loc[c0].set_index("session")["w"]
    row4 = m.data[(m.data["client_id"] == "C000") & (m.data["session"] == 4)].iloc[0]
    # the within part at session 4 is the deviation at session 3 (outcome missing, w observed)
    np.testing.assert_allclose(row4["alliance_within_lag"], w[3] - w.mean(), rtol=1e-12)
    assert 3 not in m.data.loc[m.data["client_id"] == "C000", "session"].tolist()


def test_a_level_with_only_excluded_rows_is_dropped():
    p = _panel()
    art = p["client_id"].isin(["C000", "C001", "C002"])
    p.loc[art, "modality"] = "art_therapy"  # sorts first: would be the reference level
    p.loc[art, "phq9_total"] = np.nan
    m = growth_model(p, predictors=["x"], moderators=["modality"], therapist=None)
    assert m.spec.levels["modality"] == ["cbt", "pdt"]
    assert "time:modalitypdt" in m.fit.fixed.index
    assert not any("art" in t for t in m.fit.fixed.index)
    kept = p.loc[~art].drop_duplicates("client_id")["modality"].value_counts(normalize=True)
    np.testing.assert_allclose(
        [m.spec.shares["modality"][lv] for lv in ["cbt", "pdt"]], kept[["cbt", "pdt"]], rtol=1e-12
    )
    np.testing.assert_allclose(m.spec.centres["x"], p.loc[~art, "x"].unique().mean(), rtol=1e-12)
    reasons = m.exclusions.set_index("reason")
    assert reasons.loc["missing outcome 'phq9_total'"].tolist() == [int(art.sum()), 3]
    assert len(m.exclusions) == 1  # dropping the level itself loses no further rows
    assert m.moderation()["tests"]["moderator"].unique().tolist() == ["modality"]


def test_a_declared_level_lost_to_exclusions_warns():
    p = _panel()
    art = p["client_id"].isin(["C000", "C001", "C002"])
    p.loc[art, "modality"] = "art_therapy"
    p.loc[art, "phq9_total"] = np.nan
    p["modality"] = pd.Categorical(p["modality"], categories=["art_therapy", "cbt", "pdt"])
    with pytest.warns(es.DataWarning, match=r"'art_therapy'.*'modality'.*reference level is 'cbt'"):
        m = growth_model(p, predictors=["x"], moderators=["modality"], therapist=None)
    assert m.spec.levels["modality"] == ["cbt", "pdt"]


def test_a_single_analysed_level_warns_and_the_others_are_fitted():
    p = _panel()
    pdt = p["modality"] == "pdt"
    p.loc[pdt, "phq9_total"] = np.nan
    with pytest.warns(es.DataWarning, match="'modality'.*single level"):
        m = growth_model(p, predictors=["x"], moderators=["modality"], therapist=None)
    assert m.spec.levels["modality"] == ["cbt"]
    assert m.fit.fixed.index.tolist() == ["(Intercept)", "time", "x", "time:x"]
    assert m.exclusions["n_rows"].tolist() == [int(pdt.sum())]
    np.testing.assert_allclose(m.spec.centres["x"], p.loc[~pdt, "x"].unique().mean(), rtol=1e-12)


def test_new_data_use_the_stored_constants():
    from engagestats.analyses import off_track
    from engagestats.analyses._panel import apply_spec

    p = _panel()
    art = p["client_id"].isin(["C000", "C001"])
    p.loc[art, ["modality", "x"]] = ["art_therapy", 900.0]
    p.loc[art, "phq9_total"] = np.nan
    m = growth_model(p, predictors=["x"], moderators=["modality"], therapist=None)
    new = _panel(n_clients=4, seed=9)
    new["client_id"] = "N" + new["client_id"]
    new.loc[new["client_id"] == "NC000", "modality"] = "art_therapy"
    from copy import deepcopy

    frame, _ = apply_spec(new, deepcopy(m.spec), fit=False)
    np.testing.assert_allclose(frame["x"], new["x"] - m.spec.centres["x"], rtol=1e-12)
    assert frame.loc[new["client_id"] == "NC000", "modality"].isna().all()
    flags = off_track(m, new)
    assert (flags.loc[flags["client_id"] == "NC000", "status"] == "no score").all()
    assert flags.loc[flags["client_id"] != "NC000", "expected"].notna().all()
    # trajectories at a data-scale x use the analysed centre
    b = m.fit.fixed["estimate"]
    tr = m.trajectories(by="modality", times=[2], at={"x": 60.0}).set_index("modality")
    xc = 60.0 - p.loc[~art, "x"].unique().mean()
    expected = b["(Intercept)"] + 2 * b["time"] + xc * (b["x"] + 2 * b["time:x"])
    np.testing.assert_allclose(tr.loc["cbt", "estimate"], expected, rtol=1e-10)


def test_no_exclusions_matches_a_direct_lmm_fit():
    p = _panel(seed=3)
    m = growth_model(
        p, predictors=["x"], time_varying={"alliance": "w"}, moderators=["modality"], **PLAIN
    )
    assert len(m.exclusions) == 0
    d = p.sort_values(["client_id", "session"]).copy()
    d["time"] = d["session"] - d.groupby("client_id")["session"].transform("min")
    d["x"] = d["x"] - d.drop_duplicates("client_id")["x"].mean()
    pm = d.groupby("client_id")["w"].transform("mean")
    d["alliance_between"] = pm - d.groupby("client_id")["w"].mean().mean()
    d["alliance_within_lag"] = (d["w"] - pm).groupby(d["client_id"]).shift(1).fillna(0.0)
    formula = (
        "phq9_total ~ time + x + alliance_between + alliance_within_lag + time:x"
        " + time:alliance_between + modality + time:modality + x:modality"
        " + alliance_between:modality + time:x:modality + time:alliance_between:modality"
        " + (1 | therapist_id) + (1 + time | client_id)"
    )
    assert m.formula == formula
    direct = es.lmm(formula, d)
    np.testing.assert_allclose(
        m.fit.fixed["estimate"], direct.fixed.loc[m.fit.fixed.index, "estimate"], rtol=1e-8
    )
    np.testing.assert_allclose(
        m.fit.fixed["se"], direct.fixed.loc[m.fit.fixed.index, "se"], rtol=1e-8
    )


def _own_line_residuals(values: pd.Series, time: pd.Series, client: pd.Series) -> pd.Series:
    """Each value's residual from its client's least-squares line in time (np.polyfit)."""
    out = pd.Series(np.nan, index=values.index)
    for idx in values.groupby(client).groups.values():
        b = np.polyfit(time[idx], values[idx], 1)
        out[idx] = values[idx] - np.polyval(b, time[idx])
    return out


def test_default_coding_matches_a_hand_built_lmm_fit():
    """The default (issue 12): lagged residuals of w and of the outcome from each client's own
    line, the first session of each client dropped and counted, built here by hand."""
    p = _panel(n_clients=40, n_sessions=8, seed=3)
    m = growth_model(p, predictors=["x"], time_varying={"alliance": "w"})
    d = p.sort_values(["client_id", "session"]).copy()
    d["time"] = d["session"] - d.groupby("client_id")["session"].transform("min")
    d["_pm"] = d.groupby("client_id")["w"].transform("mean")
    by = d["client_id"]
    d["alliance_within_lag"] = _own_line_residuals(d["w"], d["time"], by).groupby(by).shift(1)
    d["phq9_total_prior_within"] = (
        _own_line_residuals(d["phq9_total"], d["time"], by).groupby(by).shift(1)
    )
    d = d[d["time"] > 0].copy()  # the first session: no previous session (dropped)
    d["x"] = d["x"] - d.drop_duplicates("client_id")["x"].mean()
    # the person mean uses every session of the client (the first one too)
    d["alliance_between"] = d["_pm"] - d.drop_duplicates("client_id")["_pm"].mean()
    formula = (
        "phq9_total ~ time + x + alliance_between + alliance_within_lag"
        " + phq9_total_prior_within + time:x + time:alliance_between"
        " + (1 | therapist_id) + (1 + time | client_id)"
    )
    assert m.formula == formula
    excl = m.exclusions.set_index("reason")["n_rows"]
    assert excl.to_dict() == {"no previous session for lagged 'w' (client's first session)": 40}
    assert m.fit.nobs == len(d) == 40 * 7
    cols = ["time", "x", "alliance_between", "alliance_within_lag", "phq9_total_prior_within"]
    mine = m.data.sort_values(["client_id", "session"])[cols].to_numpy()
    np.testing.assert_allclose(mine, d[cols].to_numpy(), atol=1e-10)
    direct = es.lmm(formula, d)  # same design: agreement to the optimiser's tolerance
    np.testing.assert_allclose(
        m.fit.fixed["estimate"], direct.fixed.loc[m.fit.fixed.index, "estimate"], rtol=1e-6
    )
    np.testing.assert_allclose(
        m.fit.fixed["se"], direct.fixed.loc[m.fit.fixed.index, "se"], rtol=1e-6
    )
    eff = m.effects().set_index("term").loc["alliance_within_lag"]
    assert (
        eff["effect"] == "alliance within client, previous session, given the previous phq9_total"
    )
    text = eff["interpretation"]
    assert "own trend line" in text
    assert "at the same previous phq9_total" in text
    assert "not evidence of cause" in text


def test_default_without_time_varying_predictors_has_no_prior_outcome(small_study):
    m = growth_model(small_study, predictors={"autonomous": "srq_autonomous"})
    assert "prior" not in m.formula
    assert not any("previous" in r for r in m.exclusions["reason"])


def test_prediction_at_a_level_not_in_the_model_names_the_level():
    """A level whose rows were all excluded (or a typo) is refused by name, without a pandas
    warning first (which pytest would turn into an error)."""
    p = _panel()
    art = p["client_id"].isin(["C000", "C001"])
    p.loc[art, "modality"] = "art_therapy"
    p.loc[art, "phq9_total"] = np.nan
    m = growth_model(p, predictors=["x"], moderators=["modality"], therapist=None)
    assert m.spec.levels["modality"] == ["cbt", "pdt"]
    for level in ("art_therapy", "CBT"):
        with pytest.raises(es.ModelSpecError, match=f"{level!r} is not a level of 'modality'"):
            m.trajectories(times=[2], at={"modality": level})
    assert len(m.trajectories(times=[2], at={"modality": "pdt"})) == 1


def test_kenward_roger_runs_through_every_summary(small_study):
    """ddf="kenward-roger" makes effects, table, trajectories and moderation use the KR
    adjusted covariance and df of the fit (each checked against LmmResult's KR output)."""
    kw = {"predictors": {"autonomous": "srq_autonomous"}, "moderators": ["format"]}
    sat = growth_model(small_study, **kw)
    kr = growth_model(small_study, **kw, ddf="kenward-roger")
    assert (sat.ddf, kr.ddf) == ("satterthwaite", "kenward-roger")
    ref = kr.fit.fixed_effects(ddf="kenward-roger")
    eff = kr.effects().set_index("term")
    np.testing.assert_allclose(eff["se"], ref.loc[eff.index, "se"], rtol=1e-10)
    np.testing.assert_allclose(eff["df"], ref.loc[eff.index, "df"], rtol=1e-10)
    # with 8 therapists the adjustment is visible: different df from Satterthwaite
    assert not np.allclose(eff["df"], sat.effects().set_index("term")["df"], rtol=1e-3)
    fixed = kr.table().query("section == 'fixed effects'").set_index("term")
    np.testing.assert_allclose(fixed["df"], ref.loc[fixed.index, "df"], rtol=1e-10)
    traj = kr.trajectories(times=[0, 4])
    X = kr._design_rows(kr._at(None), np.array([0.0, 4.0]))  # the rows trajectories() tests
    want = kr.fit.contrast(X, ddf="kenward-roger")
    np.testing.assert_allclose(traj[["se", "ci_low"]], want[["se", "ci_low"]], rtol=1e-10)
    assert not np.allclose(traj["se"], sat.trajectories(times=[0, 4])["se"], rtol=1e-4)
    test = kr.moderation()["tests"].iloc[0]
    joint = kr.fit.contrast(
        np.eye(len(ref))[[list(ref.index).index("time:autonomous:formatindividual")]],
        joint=True,
        ddf="kenward-roger",
    ).iloc[0]
    np.testing.assert_allclose([test["f"], test["den_df"]], [joint["f"], joint["den_df"]])


def test_kenward_roger_needs_reml_and_a_known_ddf(small_study):
    with pytest.raises(es.ModelSpecError, match="REML"):
        growth_model(small_study, reml=False, ddf="kenward-roger")
    with pytest.raises(es.ModelSpecError, match="ddf must be one of"):
        growth_model(small_study, ddf="containment")


#: Words that claim a cause (the disclaimers "not evidence/proof of cause" are removed first).
CAUSAL = (
    r"\b(causes?|caused|causal(ly)?|leads? to|led to|drives?|driven|results? in|produces?"
    r"|because)\b"
)


def test_automated_interpretations_use_no_causal_words(sample_model):
    import re

    texts = list(sample_model.effects()["interpretation"])
    texts += list(sample_model.effects()["effect"])
    within = sample_model.effects().set_index("term").loc["alliance_within_lag", "interpretation"]
    assert "association" in within
    for text in texts:
        clean = re.sub(r"not (evidence|proof) of cause", "", text)
        assert not re.search(CAUSAL, clean, flags=re.I), text


def test_cross_lagged_interpretations_use_no_causal_words(sample_with_truth):
    import re

    study, _ = sample_with_truth
    for text in es.cross_lagged(study, waves=5).interpretation():
        assert "association" in text
        clean = re.sub(r"not (evidence|proof) of cause", "", text)
        assert not re.search(CAUSAL, clean, flags=re.I), text
