"""Expected recovery curves, progress alarms and their accuracy (issue 13)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.change.rates import wilson_interval

REF = Path(__file__).parents[1] / "reference" / "monitoring"
ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def past():
    return es.simulate_study(n_therapists=20, clients_per_therapist=15, seed=31)


@pytest.fixture(scope="module")
def new():
    return es.simulate_study(n_therapists=20, clients_per_therapist=15, seed=32)


@pytest.fixture(scope="module")
def curve(past):
    return es.expected_recovery(past)


# ------------------------------------------------------------ R references
@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        ("log", {}),
        ("log_linear_autonomous", {"time": "log_linear", "covariates": ["srq_autonomous"]}),
    ],
)
def test_curve_matches_r_lm_and_gamma_glm(model, kwargs):
    # tests/reference/monitoring/monitoring_reference.R: lm(phq9_total ~ c * log(k) ...) and
    # glm(resid^2 ~ log(k) + c, family = Gamma("log")) on panel.csv
    panel = pd.read_csv(REF / "panel.csv")
    if "covariates" in kwargs:
        panel = panel.rename(columns={"srq_autonomous": "srq_autonomous"})
        kwargs = {**kwargs, "covariates": {"autonomous": "srq_autonomous"}}
    fit = es.expected_recovery(panel, **kwargs)
    ref = pd.read_csv(REF / "curve_coefficients.csv")
    ref = ref[ref["model"] == model]
    got = fit.coefficients.set_index(["part", "term"])["estimate"]
    want = ref.set_index(["part", "term"])["estimate"]
    assert sorted(got.index) == sorted(want.index)
    np.testing.assert_allclose(got.loc[want.index], want, rtol=1e-7, atol=1e-9)


def test_alarm_cuts_match_r_quantiles():
    # quantile(resid(m) / sqrt(fitted(g)), 1 - tail, type = 7), cuts.csv
    fit = es.expected_recovery(pd.read_csv(REF / "panel.csv"))
    ref = pd.read_csv(REF / "cuts.csv")
    for row in ref.itertuples(index=False):
        assert fit.cut(row.tail) == pytest.approx(row.cut, rel=1e-7)


def test_wilson_intervals_match_r_prop_test():
    # prop.test(k, n, correct = FALSE, conf.level = level)$conf.int, wilson.csv
    ref = pd.read_csv(REF / "wilson.csv")
    for row in ref.itertuples(index=False):
        lo, hi = wilson_interval(row.k, row.n, level=row.level)
        assert float(lo) == pytest.approx(row.ci_low, abs=1e-10)
        assert float(hi) == pytest.approx(row.ci_high, abs=1e-10)


def _hand_alarms(flags_poor: list[tuple[bool, bool, int]]) -> pd.DataFrame:
    """An alarms table of clients with intake 20: (alarmed, poor outcome, count)."""
    rows = []
    i = 0
    for alarmed, poor, count in flags_poor:
        for _ in range(count):
            i += 1
            final = 18.0 if poor else 10.0  # threshold at sd=5, r=.8: 6.2 points
            cid = f"C{i:04d}"
            rows.append((cid, 1, 1.0, "intake", 20.0, 20.0, "intake", False))
            status = "not on track" if alarmed else "on track"
            rows.append((cid, 2, 2.0, "follow_up", 20.0, final, status, alarmed))
    cols = ["client_id", "session", "session_index", "role", "intake", "observed"]
    frame = pd.DataFrame(rows, columns=[*cols, "status", "alarm"])
    frame.attrs.update(client="client_id", session="session", higher_is_better=False)
    return frame


def test_accuracy_counts_and_wilson_cis_match_r():
    # 196 of 358 poor clients flagged, 179 of 224 improved clients not flagged
    alarms = _hand_alarms(
        [(True, True, 196), (False, True, 162), (True, False, 45), (False, False, 179)]
    )
    acc = es.monitoring_accuracy(alarms, reliability=0.8, sd=5.0)
    tab = acc.table.set_index("measure")
    ref = pd.read_csv(REF / "wilson.csv").iloc[:2]
    for measure, r in zip(["sensitivity", "specificity"], ref.itertuples(index=False), strict=True):
        assert (tab.loc[measure, "k"], tab.loc[measure, "n"]) == (r.k, r.n)
        assert tab.loc[measure, "ci_low"] == pytest.approx(r.ci_low, abs=1e-10)
        assert tab.loc[measure, "ci_high"] == pytest.approx(r.ci_high, abs=1e-10)
    assert tab.loc["ppv", "estimate"] == pytest.approx(196 / 241)
    assert tab.loc["npv", "estimate"] == pytest.approx(179 / 341)
    assert acc.counts.iloc[0].tolist() == [196, 45, 162, 179]


def test_deterioration_outcome_and_direction():
    alarms = _hand_alarms([(True, True, 3), (False, False, 3)])
    alarms.loc[alarms["session_index"] == 2, "observed"] = [27.0] * 3 + [20.0] * 3
    acc = es.monitoring_accuracy(alarms, reliability=0.8, sd=5.0, outcome="reliable_deterioration")
    tab = acc.table.set_index("measure")
    assert tab.loc["sensitivity", "estimate"] == 1.0
    assert tab.loc["specificity", "estimate"] == 1.0
    # on a higher-is-better score the same change is a reliable improvement
    alarms.attrs["higher_is_better"] = True
    acc = es.monitoring_accuracy(alarms, reliability=0.8, sd=5.0, outcome="reliable_deterioration")
    assert acc.table.set_index("measure").loc["outcome_rate", "k"] == 0


# ------------------------------------------------------------ the alarms
def test_traffic_light_levels_follow_the_bounds(curve, new):
    alarms = es.progress_alarms(curve, new, tail=0.10, at_risk_tail=0.25)
    f = alarms[alarms["role"] == "follow_up"]
    worse = f["observed"] > f["alarm_bound"]
    risk = (f["observed"] > f["at_risk_bound"]) & ~worse
    assert (f.loc[worse, "status"] == "not on track").all()
    assert (f.loc[risk, "status"] == "at risk").all()
    assert (f.loc[~worse & ~risk, "status"] == "on track").all()
    assert (f["alarm_bound"] > f["at_risk_bound"]).all()
    assert (f["at_risk_bound"] > f["expected"]).all()
    assert set(alarms.loc[alarms["role"] != "follow_up", "status"]) <= {
        "intake",
        "no score",
        "no intake",
        "beyond curve",
    }


def test_alarm_rate_matches_the_tail_for_clients_of_the_same_population(curve, new):
    # new clients come from the curve's population: every session is on track by construction,
    # so the one-sided alarm fires at the tail rate (about 3000 sessions of 300 clients; the
    # clustered SE of the share is about .008); and equally at every intake severity
    for tail in (0.10, 0.05):
        alarms = es.progress_alarms(curve, new, tail=tail, at_risk_tail=0.25)
        f = alarms[alarms["role"] == "follow_up"]
        assert abs(f["alarm"].mean() - tail) < 0.3 * tail
        quart = pd.qcut(f["intake"], 2, labels=False)
        by = f.groupby(quart)["alarm"].mean()
        assert (abs(by - tail) < 0.5 * tail).all()


def test_severe_intake_is_not_flagged_more(curve, new):
    alarms = es.progress_alarms(curve, new)
    fa = es.first_alarms(alarms)
    top = fa["intake"] >= fa["intake"].quantile(0.75)
    low = fa["intake"] <= fa["intake"].quantile(0.25)
    # issue 13 measured 41.9% (most severe quartile) vs 0.0% (least) with off_track
    assert fa.loc[top, "alarmed"].mean() <= fa.loc[low, "alarmed"].mean() + 0.05


def test_no_leakage_of_later_scores(curve, new):
    before = es.progress_alarms(curve, new)
    changed = new.sessions.copy()
    cid = before.loc[before["role"] == "follow_up", "client_id"].iloc[0]
    late = (changed["client_id"] == cid) & (changed["session"] > 4)
    items = [c for c in changed.columns if c.startswith("phq9_")]
    changed.loc[late, items] = 3.0  # worst answers at every later session
    after = es.progress_alarms(curve, es.Study(new.therapists, new.clients, changed))
    mine_b, mine_a = (x[x["client_id"] == cid] for x in (before, after))
    early = mine_b["session"] <= 4
    cols = ["expected", "alarm_bound", "at_risk_bound", "status", "alarm_so_far"]
    pd.testing.assert_frame_equal(
        mine_b.loc[early, cols].reset_index(drop=True),
        mine_a.loc[mine_a["session"] <= 4, cols].reset_index(drop=True),
    )
    # the curve itself depends on the intake only: equal to curve(intake=...)
    f = mine_a[mine_a["role"] == "follow_up"]
    band = curve.curve(intake=float(f["intake"].iloc[0]), sessions=f["session_index"])
    np.testing.assert_allclose(band["expected"], f["expected"])
    np.testing.assert_allclose(band["alarm_bound"], f["alarm_bound"])
    other_b = before[before["client_id"] != cid].reset_index(drop=True)
    other_a = after[after["client_id"] != cid].reset_index(drop=True)
    pd.testing.assert_frame_equal(other_b, other_a)


def test_first_alarms_and_cumulative_flag(curve, new):
    alarms = es.progress_alarms(curve, new)
    fa = es.first_alarms(alarms).set_index("client_id")
    hit = alarms[alarms["alarm"]]
    expected_first = hit.groupby("client_id")["session"].min()
    pd.testing.assert_series_equal(
        fa.loc[expected_first.index, "first_alarm_session"],
        expected_first,
        check_names=False,
        check_dtype=False,
    )
    assert not fa.loc[~fa.index.isin(expected_first.index), "alarmed"].any()
    so_far = alarms.groupby("client_id")["alarm"].cummax()
    assert (alarms["alarm_so_far"] == so_far).all()
    alarmed = fa[fa["alarmed"]]
    assert (alarmed["first_at_risk_session"] <= alarmed["first_alarm_session"]).all()
    assert fa["first_at_risk_session"].notna().sum() > len(alarmed) > 0


def test_accuracy_by_session_ends_at_the_overall_value(curve, new):
    alarms = es.progress_alarms(curve, new)
    overall = es.monitoring_accuracy(alarms, reliability=0.84)
    by = es.monitoring_accuracy(alarms, reliability=0.84, by_session=True)
    last = by.table[by.table["session_index"] == by.table["session_index"].max()]
    np.testing.assert_allclose(last["estimate"], overall.table["estimate"])
    sens = by.table[by.table["measure"] == "sensitivity"]["estimate"].to_numpy()
    assert (np.diff(sens) >= 0).all()  # alarms accumulate
    assert "MonitoringAccuracy" in repr(overall)
    assert "<pre>" in overall._repr_html_()


def test_higher_is_better_mirrors_the_alarm(curve, past, new):
    cols = ["client_id", "session", "phq9_total"]
    p_past = es.score(past).panel(attended_only=True)[cols]
    p_new = es.score(new).panel(attended_only=True)[cols]
    flipped = [p.assign(phq9_total=-p["phq9_total"]) for p in (p_past, p_new)]
    a = es.progress_alarms(es.expected_recovery(p_past), p_new)
    b = es.progress_alarms(es.expected_recovery(flipped[0], higher_is_better=True), flipped[1])
    assert (a["status"] == b["status"]).mean() > 0.999  # ties of empirical quantiles aside


# ------------------------------------------------------------ bad input, exclusions
def test_clients_without_intake_are_kept_and_counted(curve, new):
    panel = es.score(new).panel(attended_only=True)[["client_id", "session", "phq9_total"]]
    reason = "no intake score or intake covariate"
    before = es.monitoring_accuracy(es.progress_alarms(curve, panel), reliability=0.84).excluded
    n_before = int(before.set_index("reason")["n_clients"].get(reason, 0))
    gone = panel["client_id"].iloc[0]
    panel.loc[panel["client_id"] == gone, "phq9_total"] = np.nan
    alarms = es.progress_alarms(curve, panel)
    assert len(alarms) == len(panel)
    assert (alarms.loc[alarms["client_id"] == gone, "status"] == "no intake").all()
    acc = es.monitoring_accuracy(alarms, reliability=0.84)
    assert acc.excluded.set_index("reason").loc[reason, "n_clients"] == n_before + 1
    fit = es.expected_recovery(panel)
    assert "no intake score or intake covariate" in set(fit.excluded["reason"])


def test_bad_arguments_raise_typed_errors(curve, new, past):
    with pytest.raises(es.DataValidationError, match="tail"):
        es.progress_alarms(curve, new, tail=0.0)
    with pytest.raises(es.DataValidationError, match="at_risk_tail"):
        es.progress_alarms(curve, new, tail=0.2, at_risk_tail=0.1)
    with pytest.raises(es.DataValidationError, match="time"):
        es.expected_recovery(past, time="linear")
    with pytest.raises(es.DataValidationError, match="nope"):
        es.expected_recovery(past, outcome="nope")
    with pytest.raises(es.ModelSpecError, match="covariates"):
        curve.curve(intake=15.0, covariates={"x": 1.0})
    with pytest.raises(es.DataValidationError, match="outcome"):
        es.monitoring_accuracy(es.progress_alarms(curve, new), reliability=0.8, outcome="x")
    with pytest.raises(TypeError):
        es.progress_alarms("curve", new)


def test_small_reference_sample_warns():
    small = es.simulate_study(n_therapists=4, clients_per_therapist=5, seed=5)
    with pytest.warns(es.DataWarning, match="past clients"):
        es.expected_recovery(small)


def test_curve_summary_and_html(curve):
    text = curve.summary()
    assert "log_session:intake" in text
    assert f"past clients: {curve.n_clients}," in text
    assert curve.n_clients > 250  # of the 300 simulated past clients; the rest lack an intake
    assert curve._repr_html_().startswith("<pre>")


# ------------------------------------------------------------ the validity benchmark
def test_validity_benchmark_smoke(tmp_path):
    path = ROOT / "benchmarks" / "validity" / "monitoring_accuracy.py"
    spec = importlib.util.spec_from_file_location("monitoring_accuracy_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    tables = mod.run(2, n_therapists=15, clients_per_therapist=20)
    by_flag = tables["poor_outcome_by_flag"].set_index("tail")
    assert (by_flag["ratio"] > 1.2).all()
    calib = tables["calibration"]
    overall = calib[calib["sessions"] == "all"].set_index("tail")["alarm_rate"]
    assert abs(overall.loc[0.10] - 0.10) < 0.03
    text = mod.to_markdown(tables, n_reps=2, time="log")
    assert text.count("### ") == 4
    assert "| tail |" in text


# ------------------------------------------------------- one scoring policy (issue 15)
def test_alarms_refuse_a_study_under_another_policy_than_the_curve(curve, past, new):
    # the curve's past clients are scored under prorate_80; new clients under builtin would
    # be judged against a curve of other scores, silently
    other = new.with_policy(es.scoring.BUILTIN_RULES)
    assert curve.scoring_policy == es.scoring.PRORATE_80
    with pytest.raises(es.DataValidationError) as alarms_error:
        es.progress_alarms(curve, other)
    with pytest.raises(es.DataValidationError) as predict_error:
        curve.predict(other)
    for info, name in ((alarms_error, "progress_alarms"), (predict_error, "predict")):
        text = str(info.value)
        assert f"{name}: the curve was fitted on scores under scoring policy 'prorate_80'" in text
        assert "the study to monitor is scored under 'builtin'" in text
        assert "study.with_policy(...)" in text
    # the two ways out: the new clients under the curve's policy, or a curve under theirs
    back = es.progress_alarms(curve, other.with_policy(curve.scoring_policy))
    assert back.attrs["scoring_policy"] == es.scoring.PRORATE_80
    strict_curve = es.expected_recovery(past.with_policy(es.scoring.BUILTIN_RULES))
    strict = es.progress_alarms(strict_curve, other)
    assert strict.attrs["scoring_policy"] == es.scoring.BUILTIN_RULES


def test_a_dataframe_on_either_side_is_not_checked(past, new):
    # scores given as a table state no policy: nothing to compare
    table_curve = es.expected_recovery(es.score(past).panel(attended_only=True))
    assert table_curve.scoring_policy is None
    alarms = es.progress_alarms(table_curve, new.with_policy(es.scoring.BUILTIN_RULES))
    assert alarms.attrs["scoring_policy"] == es.scoring.BUILTIN_RULES


def test_off_track_refuses_a_study_under_another_policy(small_study):
    model = es.analyses.growth_model(small_study)
    other = es.simulate_study(n_therapists=2, clients_per_therapist=3, seed=9)
    assert len(es.analyses.off_track(model, other))
    with pytest.raises(es.DataValidationError, match="off_track: the growth model was fitted"):
        es.analyses.off_track(model, other.with_policy(es.scoring.BUILTIN_RULES))
