"""The routine-care generating mechanisms, the scenarios and the population truths."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import ModelSpecError
from engagestats.simulate import SCENARIOS, SimulationParams, simulate_study
from engagestats.simulate._population import _observed_share, _therapist_share, population_truths
from engagestats.simulate._process import ar1

P = SimulationParams()


def _sim(params: SimulationParams, seed: int = 3, n_t: int = 60, k: int = 10):
    return simulate_study(
        n_therapists=n_t, clients_per_therapist=k, seed=seed, params=params, return_truth=True
    )


def _lag1(values: pd.Series, client: pd.Series) -> float:
    lag = values.groupby(client).shift()
    ok = lag.notna()
    return float(np.corrcoef(values[ok], lag[ok])[0, 1])


def test_ar1_is_stationary_with_the_requested_autocorrelation():
    x = ar1(np.random.default_rng(1), 20_000, 6, sd=2.0, rho=0.4)
    assert x.std(axis=0) == pytest.approx(np.full(6, 2.0), rel=0.03)
    assert np.corrcoef(x[:, 3], x[:, 4])[0, 1] == pytest.approx(0.4, abs=0.03)
    assert np.corrcoef(x[:, 2], x[:, 4])[0, 1] == pytest.approx(0.16, abs=0.03)


@pytest.mark.parametrize("rho", [0.0, 0.4])
def test_latent_residuals_have_the_generating_autocorrelation(rho):
    _, truth = _sim(dataclasses.replace(P, residual_ar=rho))
    s = truth.sessions
    # consecutive session rows; pooled over ~7000 pairs the SE is about 0.012
    assert _lag1(s["residual"], s["client_id"]) == pytest.approx(rho, abs=0.05)


def test_therapists_differ_in_change():
    _, truth = _sim(P, n_t=200, k=2)
    by_t = truth.clients.groupby("therapist_id")["therapist_slope"].first()
    assert by_t.std() == pytest.approx(P.sd_therapist_slope, rel=0.15)
    _, flat = _sim(SimulationParams.classic(), n_t=20, k=2)
    assert (flat.clients["therapist_slope"] == 0).all()


def test_alliance_responds_to_the_symptoms_at_the_same_session():
    def within_corr(params):
        _, truth = _sim(params)
        s = truth.sessions
        a = s["alliance_latent"] - s.groupby("client_id")["alliance_latent"].transform("mean")
        return float(np.corrcoef(a, s["residual"])[0, 1])

    base = {"rupture_rate": 0.0, "alliance_sd_trend": 0.0}
    on = within_corr(dataclasses.replace(P, **base))
    off = within_corr(dataclasses.replace(P, alliance_symptom=0.0, **base))
    assert on < -0.05  # higher symptoms, lower alliance at that session
    assert abs(off) < 0.03


def test_client_alliance_trends_vary():
    def trend_sd(sd):
        _, truth = _sim(dataclasses.replace(P, alliance_symptom=0.0, alliance_sd_trend=sd))
        s = truth.sessions
        slopes = s.groupby("client_id").apply(
            lambda g: (
                np.polyfit(g["session"], g["alliance_latent"], 1)[0] / 12 if len(g) > 4 else np.nan
            ),
            include_groups=False,
        )
        return float(slopes.std())

    # the between-client SD of the fitted alliance slopes adds the trend SD in quadrature
    extra = trend_sd(0.04) ** 2 - trend_sd(0.0) ** 2
    assert np.sqrt(extra) == pytest.approx(0.04, rel=0.25)


def test_dropout_depends_on_the_alliance_and_on_readiness():
    share = population_truths(P, 20).set_index("estimand")["value"]
    assert share["dropout_log_odds_readiness"] < -0.1
    # the alliance path: clients who drop out had a lower observed alliance
    study, _truth = _sim(dataclasses.replace(P, dropout_alliance=-0.15, dropout_improvement=0.0))
    s = study.sessions.merge(study.clients[["client_id", "end_reason"]], on="client_id")
    wai = s.filter(like="wai_").mean(axis=1) * 12
    first = wai[s["session"] == 1].groupby(s["end_reason"]).mean()
    assert first["dropout"] < first["completed"] - 1.0


def test_mnar_dropout_depends_on_the_unobserved_next_score():
    def worsening_of_dropouts(mnar):
        _, truth = _sim(dataclasses.replace(P, dropout_mnar=mnar), n_t=100)
        c = truth.clients
        return c.loc[c["dropout"], "client_slope"].mean() - c["client_slope"].mean()

    # with MNAR dropout, dropouts are those whose symptoms (here: slopes) go worse
    assert worsening_of_dropouts(0.3) > worsening_of_dropouts(0.0) + 0.03


def test_log_linear_trajectory_changes_fastest_early():
    _, truth = _sim(SimulationParams.scenario("log_linear"), n_t=80)
    mean = truth.sessions.groupby("session")["phq9_latent"].mean()
    early, late = mean[1] - mean[4], mean[9] - mean[12]
    assert early > 2 * late > 0


def test_classic_switches_every_new_mechanism_off():
    c = SimulationParams.classic()
    assert c.sd_therapist_slope == c.residual_ar == c.alliance_symptom == 0.0
    assert c.rupture_rate == c.dropout_alliance == c.dropout_readiness == 0.0
    assert c.trajectory == "linear"
    assert c.time == -0.35


def test_scenarios_and_their_null_effects():
    for name in SCENARIOS:
        p = SimulationParams.scenario(name)
        assert (p.alliance_within_lag == 0.0) == name.startswith("null_")
    assert SimulationParams.scenario("null_ar1").alliance_symptom == 0.0
    assert SimulationParams.scenario("null_reciprocal").residual_ar == 0.0
    with pytest.raises(ModelSpecError, match="unknown scenario"):
        SimulationParams.scenario("nope")


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("trajectory", "cubic", "trajectory"),
        ("residual_ar", 1.0, "residual_ar"),
        ("rupture_rate", 2.0, "rupture_rate"),
    ],
)
def test_invalid_parameters_are_refused(field, value, match):
    with pytest.raises(ModelSpecError, match=match):
        dataclasses.replace(P, **{field: value})


def test_truth_reports_every_estimand():
    _, truth = _sim(SimulationParams.scenario("null_routine"), n_t=4, k=2)
    est = truth.estimands.set_index("estimand")
    assert est.loc["alliance_within_effect", "value"] == 0.0
    assert set(est["source"]) == {"parameter", "population"}
    assert est.loc["therapist_share_adjusted", "value"] == pytest.approx(0.05, abs=0.01)
    # without the therapist slope only the intercept is left, most of it adjusted away
    flat = population_truths(dataclasses.replace(P, sd_therapist_slope=0.0), 20)
    assert flat.set_index("estimand").loc["therapist_share_adjusted", "value"] < 0.02


def _synthetic_population(level: float, n: int = 4000, seed: int = 3) -> tuple:
    """Latent = observed PHQ-9 totals from additive therapist effects (no item noise)."""
    rng = np.random.default_rng(seed)
    planned = rng.integers(6, 13, size=n)
    f = planned - 1.0
    u = rng.normal(0, P.sd_therapist, n)
    v = rng.normal(0, P.sd_therapist_slope, n)
    lat = np.empty((n, 12))
    lat[:, 0] = level + u + rng.normal(0, 1.5, n)
    end = level - 0.4 * f + u + v * f + 0.3 * (lat[:, 0] - level) + rng.normal(0, 1.5, n)
    lat[np.arange(n), planned - 1] = end
    full = {"phq_latent": lat, "phq_observed": np.clip(lat, 0, 27), "planned": planned}
    return full, u, v, f


def test_observed_share_is_the_latent_formula_inside_the_range():
    # with every score inside 0-27 h(u, v) is linear and the quadrature is exact: the
    # observed-score share equals the closed form with the observed-score b
    full, u, v, f = _synthetic_population(level=14.0)
    lat = full["phq_latent"]
    pre, post = lat[:, 0], lat[np.arange(len(f)), full["planned"] - 1]
    assert lat[:, 0].min() > 0
    assert 0 < post.min() < post.max() < 27
    coef = np.polyfit(pre, post, 1)
    res = post - np.polyval(coef, pre)
    assert _observed_share(P, full, u, v, f) == pytest.approx(
        _therapist_share(P, float(coef[0]), f, res), rel=1e-4
    )  # not exact: the outermost quadrature nodes (about 7 SD) reach the floor


def test_observed_share_shrinks_at_the_floor():
    # many clients end below 0: the floor compresses the therapist differences
    full, u, v, f = _synthetic_population(level=4.0)
    post = full["phq_latent"][np.arange(len(f)), full["planned"] - 1]
    assert (post < 0).mean() > 0.3
    obs = full["phq_observed"]
    pre_o, post_o = obs[:, 0], obs[np.arange(len(f)), full["planned"] - 1]
    coef = np.polyfit(pre_o, post_o, 1)
    res = post_o - np.polyval(coef, pre_o)
    assert _observed_share(P, full, u, v, f) < 0.8 * _therapist_share(P, float(coef[0]), f, res)


def test_population_observed_share_is_below_the_latent_one():
    est = population_truths(P, 20).set_index("estimand")["value"]
    # the calibrated default: 5.4% latent, 4.9% observed (the floor; see docs/validity.md)
    assert est["therapist_share_adjusted_observed"] == pytest.approx(0.0488, abs=0.001)
    assert est["therapist_share_adjusted_observed"] < est["therapist_share_adjusted"]


def test_population_share_matches_a_direct_anova_estimate():
    """The analytic therapist part over the Monte-Carlo variance agrees with a raw ANOVA."""
    params = dataclasses.replace(P, sd_therapist_slope=0.2)
    share = population_truths(params, 20).set_index("estimand").loc["therapist_share_adjusted"]
    _, truth = _sim(params, n_t=400, k=25, seed=9)
    c = truth.clients
    # latent PHQ-9 at session 1 and at the last attended row (completers: the planned end)
    s = truth.sessions.merge(c[["client_id", "therapist_id", "dropout"]], on="client_id")
    s = s[~s["dropout"]]
    g = s.groupby("client_id")
    d = pd.DataFrame(
        {
            "pre": g["phq9_latent"].first(),
            "post": g["phq9_latent"].last(),
            "t": g["therapist_id"].first(),
        }
    )
    b = np.polyfit(d["pre"], d["post"], 1)
    d["res"] = d["post"] - np.polyval(b, d["pre"])
    grp = d.groupby("t")["res"]
    k = grp.size().mean()
    msb = (grp.size() * (grp.mean() - d["res"].mean()) ** 2).sum() / (grp.ngroups - 1)
    msw = ((d["res"] - grp.transform("mean")) ** 2).sum() / (len(d) - grp.ngroups)
    anova = (msb - msw) / (msb + (k - 1) * msw)
    assert anova == pytest.approx(share["value"], abs=0.03)


def test_total_effects_equal_the_parameters_without_a_post_intake_path():
    # Without the symptom -> alliance path and the lagged alliance effect nothing after intake
    # depends on the intake scores, so the population total effects are the generating values
    # (up to the control-variate Monte-Carlo error); with them (the defaults) the feedback moves
    # the slope effects by under 2%.
    quiet = dataclasses.replace(P, alliance_symptom=0.0, alliance_within_lag=0.0)
    est = population_truths(quiet, 20).set_index("estimand")["value"]
    assert est["autonomous_total_level"] == pytest.approx(quiet.autonomous, abs=1e-9)
    assert est["readiness_total_level"] == pytest.approx(quiet.readiness, abs=1e-9)
    assert est["autonomous_total_slope"] == pytest.approx(quiet.time_autonomous, abs=1e-9)
    assert est["readiness_total_slope"] == pytest.approx(quiet.time_readiness, abs=1e-9)
    full = population_truths(P, 20).set_index("estimand")["value"]
    assert full["autonomous_total_slope"] == pytest.approx(P.time_autonomous, rel=0.02)
    assert full["autonomous_total_slope"] != pytest.approx(P.time_autonomous, abs=1e-6)
