"""Tests of engagestats.simulate: structure, determinism, calibration, parameter recovery."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from engagestats import _simulate_items as items_mod
from engagestats.errors import ModelSpecError
from engagestats.simulate import (
    SAMPLE_SEED,
    SAMPLE_SETTINGS,
    SimulationParams,
    SimulationTruth,
    simulate_study,
)
from engagestats.study import Study

PHQ = [f"phq9_{i}" for i in range(1, 10)]
GAD = [f"gad7_{i}" for i in range(1, 8)]
WAI = [f"wai_sr_{i}" for i in range(1, 13)]
SRQ_AUT = [f"srq_{i}" for i in (1, 3, 6, 9, 11, 13)]
URICA = {
    "pc": [f"urica_{i}" for i in (1, 5, 11, 13, 23, 26, 29)],
    "c": [f"urica_{i}" for i in (2, 8, 12, 15, 19, 21, 24)],
    "a": [f"urica_{i}" for i in (3, 7, 10, 14, 17, 25, 30)],
    "m": [f"urica_{i}" for i in (6, 16, 18, 22, 27, 28, 32)],
}
CLIENT_COLUMNS = [
    "client_id",
    "therapist_id",
    "age",
    "gender",
    "format",
    "intake_date",
    "planned_sessions",
    "end_reason",
    *[f"srq_{i}" for i in range(1, 16)],
    *[f"urica_{i}" for i in range(1, 33)],
    *[f"gas_{i}" for i in range(1, 4)],
    *[f"gas_weight_{i}" for i in range(1, 4)],
]
SESSION_COLUMNS = ["client_id", "session", "date", "attended", "homework", *PHQ, *GAD, *WAI]


@pytest.fixture(scope="module")
def small() -> tuple[Study, SimulationTruth]:
    return simulate_study(n_therapists=6, clients_per_therapist=8, seed=11, return_truth=True)


@pytest.fixture(scope="module")
def large() -> tuple[Study, SimulationTruth]:
    """A large study (200 x 20 clients) for the calibration checks."""
    return simulate_study(n_therapists=200, clients_per_therapist=20, seed=7, return_truth=True)


def _observed_scores(study: Study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Observed scale scores, computed independently of the simulator's helpers."""
    cl = study.clients
    urica = {k: cl[v].mean(axis=1) for k, v in URICA.items()}
    clients = pd.DataFrame(
        {
            "client_id": cl["client_id"],
            "therapist_id": cl["therapist_id"],
            "srq_autonomous": cl[SRQ_AUT].mean(axis=1),
            "urica_readiness": urica["c"] + urica["a"] + urica["m"] - urica["pc"],
        }
    )
    ses = study.sessions.loc[study.sessions["attended"] == 1].copy()
    ses["phq9_total"] = ses[PHQ].mean(axis=1) * 9
    ses["gad7_total"] = ses[GAD].mean(axis=1) * 7
    ses["wai_sr_total"] = ses[WAI].mean(axis=1) * 12
    return clients, ses


# --------------------------------------------------------------------------- structure
def test_tables_follow_the_data_format(small):
    study, _ = small
    assert list(study.therapists.columns) == ["therapist_id", "modality", "years_experience"]
    assert list(study.clients.columns) == CLIENT_COLUMNS
    assert list(study.sessions.columns) == SESSION_COLUMNS
    assert study.therapists["therapist_id"].tolist()[:2] == ["T01", "T02"]
    assert study.clients["client_id"].iloc[0] == "C0001"
    assert set(study.therapists["modality"]) <= {
        "cbt",
        "psychodynamic",
        "integrative",
        "art_therapy",
    }
    assert set(study.clients["gender"]) <= {"woman", "man", "nonbinary"}
    assert set(study.clients["format"]) <= {"individual", "group"}
    assert set(study.clients["end_reason"]) <= {"completed", "dropout"}
    assert study.n_therapists == 6
    assert study.n_clients == 48
    assert study.source == "simulate_study(seed=11)"


def test_dtypes_match_the_io_contract(small):
    study, _ = small
    for table in (study.therapists, study.clients, study.sessions):
        for col in table.columns:
            dtype = table[col].dtype
            if col in {"therapist_id", "client_id", "modality", "gender", "format", "end_reason"}:
                assert dtype == np.dtype(object), col
                assert all(isinstance(v, str) for v in table[col]), col
            elif col in {"intake_date", "date"}:
                assert dtype == "datetime64[ns]", col
            elif col in {"years_experience", "age", "planned_sessions", "session", "attended"}:
                assert dtype == np.int64, col
            else:
                assert dtype == np.float64, col


def test_value_ranges(small):
    study, _ = small
    ranges = {"srq": (1, 7), "urica": (1, 5), "gas_weight": (1, 3), "gas": (-2, 2)}
    for prefix, (lo, hi) in ranges.items():
        cols = [c for c in study.clients.columns if c.rsplit("_", 1)[0] == prefix]
        vals = study.clients[cols].to_numpy().ravel()
        vals = vals[~np.isnan(vals)]
        assert vals.min() >= lo
        assert vals.max() <= hi
        assert np.all(vals == np.round(vals))
    for cols, (lo, hi) in ((PHQ, (0, 3)), (GAD, (0, 3)), (WAI, (1, 5))):
        vals = study.sessions[cols].to_numpy().ravel()
        vals = vals[~np.isnan(vals)]
        assert vals.min() >= lo
        assert vals.max() <= hi
        assert np.all(vals == np.round(vals))
    assert study.clients["age"].between(16, 99).all()
    assert study.therapists["years_experience"].between(0, 45).all()
    assert study.clients["planned_sessions"].between(1, 20).all()


def test_session_structure(small):
    study, _ = small
    ses = study.sessions
    g = ses.groupby("client_id", sort=False)
    # sessions count 1, 2, ... without gaps; dates strictly increase; session 1 attended
    assert (g["session"].transform(lambda s: np.arange(1, len(s) + 1)) == ses["session"]).all()
    assert (g["date"].diff().dropna() > pd.Timedelta(0)).all()
    assert (ses.loc[ses["session"] == 1, "attended"] == 1).all()
    first = ses.loc[ses["session"] == 1].set_index("client_id")["date"]
    intake = study.clients.set_index("client_id")["intake_date"]
    assert (first > intake.loc[first.index]).all()
    # missed sessions have no answers and no homework
    missed = ses["attended"] == 0
    assert missed.any()
    assert ses.loc[missed, [*PHQ, *GAD, *WAI, "homework"]].isna().all().all()
    assert set(ses["homework"].dropna()) == {0.0, 1.0}
    # completers end at their planned, attended last session; dropouts stop earlier
    last = g.tail(1).set_index("client_id")
    cl = study.clients.set_index("client_id").loc[last.index]
    completed = cl["end_reason"] == "completed"
    assert (last.loc[completed, "session"] == cl.loc[completed, "planned_sessions"]).all()
    assert (last.loc[completed, "attended"] == 1).all()
    attended_last = ses.loc[ses["attended"] == 1].groupby("client_id")["session"].max()
    dropped = cl.index[~completed]
    assert (attended_last.loc[dropped] < cl.loc[dropped, "planned_sessions"]).all()


def test_same_seed_same_study_other_seed_differs():
    a = simulate_study(n_therapists=3, clients_per_therapist=4, seed=5)
    b = simulate_study(n_therapists=3, clients_per_therapist=4, seed=5)
    c = simulate_study(n_therapists=3, clients_per_therapist=4, seed=6)
    assert a.equals(b)
    assert not a.equals(c)
    assert not a.sessions[PHQ].equals(c.sessions[PHQ].iloc[: len(a.sessions)])


def test_default_seed_is_the_sample_seed():
    assert SAMPLE_SETTINGS["seed"] == SAMPLE_SEED
    a = simulate_study(n_therapists=2, clients_per_therapist=2)
    b = simulate_study(n_therapists=2, clients_per_therapist=2, seed=SAMPLE_SEED)
    assert a.equals(b)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_therapists": 0},
        {"clients_per_therapist": 2.5},
        {"max_sessions": 1},
        {"max_sessions": 61},
    ],
)
def test_bad_sizes_raise(kwargs):
    with pytest.raises(ModelSpecError):
        simulate_study(**kwargs)


def test_params_must_be_simulation_params():
    with pytest.raises(ModelSpecError, match="SimulationParams"):
        simulate_study(params={"time": -1.0})


def test_params_change_the_data():
    flat = dataclasses.replace(SimulationParams(), time=0.0)
    _, truth = simulate_study(
        n_therapists=3, clients_per_therapist=3, params=flat, return_truth=True
    )
    assert truth.fixed_effects.set_index("term").loc["time", "estimate"] == 0.0
    assert truth.params.time == 0.0


# --------------------------------------------------------------------------- truth
def test_truth_tables(small):
    study, truth = small
    assert truth.fixed_effects["term"].tolist() == [
        "(Intercept)",
        "time",
        "autonomous",
        "readiness",
        "alliance_between",
        "alliance_within_lag",
        "time:autonomous",
        "time:readiness",
        "time:alliance_between",
    ]
    assert truth.params == SimulationParams()
    assert len(truth.clients) == study.n_clients
    assert truth.sessions[["client_id", "session"]].equals(study.sessions[["client_id", "session"]])
    dropout = study.clients["end_reason"].eq("dropout").to_numpy()
    assert np.array_equal(truth.clients["dropout"].to_numpy(), dropout)


def test_predictors_are_the_observed_scale_scores(small):
    """The generator's predictors equal the scores an analyst computes from the items."""
    study, truth = small
    obs, ses = _observed_scores(study)
    np.testing.assert_allclose(truth.clients["srq_autonomous"], obs["srq_autonomous"], rtol=1e-12)
    np.testing.assert_allclose(truth.clients["urica_readiness"], obs["urica_readiness"], rtol=1e-12)
    centred = obs["srq_autonomous"] - obs["srq_autonomous"].mean()
    np.testing.assert_allclose(truth.clients["autonomous"], centred, atol=1e-12)
    # lagged within alliance = previous attended wai_sr_total minus the true client mean
    prev = ses.groupby("client_id")["wai_sr_total"].shift(1)
    true_mean = ses["client_id"].map(truth.clients.set_index("client_id")["alliance_mean"])
    expected = (prev - true_mean).fillna(0.0)
    used = truth.sessions.loc[study.sessions["attended"].to_numpy() == 1, "alliance_within_lag"]
    np.testing.assert_allclose(used.to_numpy(), expected.to_numpy(), atol=1e-9)


# --------------------------------------------------------------------------- items
@pytest.mark.parametrize(("low", "high", "k"), [(0, 3, 9), (1, 5, 12), (1, 7, 6)])
def test_item_sums_are_unbiased_inside_the_range(rng, low, high, k):
    """E[sum] = k * latent item mean exactly wherever the latent total is in range."""
    means = np.linspace(low, high, 13)
    reps = 8_000
    weights = np.linspace(0.3, 1.5, k)
    out = items_mod.items_from_latent(rng, np.repeat(means, reps), weights, low=low, high=high)
    assert out.min() >= low
    assert out.max() <= high
    sums = out.sum(axis=1).reshape(len(means), reps).mean(axis=1)
    # the sum is k*low + N with N = T rounded stochastically: SD <= 0.5, so the
    # Monte Carlo SE of a mean sum is <= 0.5 / sqrt(reps) = 0.0056
    np.testing.assert_allclose(sums, k * means, atol=0.02)


def test_item_weights_order_the_items(rng):
    out = items_mod.items_from_latent(
        rng, np.full(5000, 1.0), items_mod.PHQ9_WEIGHTS, low=0, high=3
    )
    item_means = out.mean(axis=0)
    assert item_means[8] < 0.5 * item_means[3]  # item 9 (suicidal thoughts) endorsed least
    assert item_means.argmax() == 3


def test_skip_items_keeps_one_answer(rng):
    items = np.ones((2000, 3))
    skipped = items_mod.skip_items(rng, items, 0.9)
    assert (~np.isnan(skipped)).sum(axis=1).min() == 1


# --------------------------------------------------------------------------- calibration
def test_calibration_against_published_figures(large):
    """Realised figures in a study of 200 therapists x 20 clients, seed 7.

    Targets (tolerance): dropout 20% (+-4 points; Swift & Greenberg 2012);
    intake PHQ-9 mean 15.5 (+-0.5) and SD 5 (+-0.5); PHQ-9/GAD-7 r .72
    (+-.06); therapist ICC of intake PHQ-9 .05 (+-.025, one-way ANOVA
    estimator; Baldwin & Imel 2013); alliance-outcome r .28 (+-.05;
    Flückiger et al. 2018) and readiness-outcome r .20 (d = .41, +-.05;
    Krebs et al. 2018), both with residualised change (last PHQ-9 regressed
    on first, sign flipped so that positive = more improvement); 8% missed
    appointments (+-1.5 points); 2% skipped items (+-0.3 points).
    """
    study, _ = large
    obs, ses = _observed_scores(study)
    assert study.clients["end_reason"].eq("dropout").mean() == pytest.approx(0.20, abs=0.04)
    s1 = ses.loc[ses["session"] == 1]
    assert s1["phq9_total"].mean() == pytest.approx(15.5, abs=0.5)
    assert s1["phq9_total"].std() == pytest.approx(5.0, abs=0.5)
    assert np.corrcoef(s1["phq9_total"], s1["gad7_total"])[0, 1] == pytest.approx(0.72, abs=0.06)

    d = s1.merge(obs[["client_id", "therapist_id"]], on="client_id")
    grp = d.groupby("therapist_id")["phq9_total"]
    k = grp.size().mean()
    msb = (grp.size() * (grp.mean() - d["phq9_total"].mean()) ** 2).sum() / (grp.ngroups - 1)
    msw = ((d["phq9_total"] - grp.transform("mean")) ** 2).sum() / (len(d) - grp.ngroups)
    icc = (msb - msw) / (msb + (k - 1) * msw)
    assert icc == pytest.approx(0.05, abs=0.025)

    g = ses.groupby("client_id")
    first, last = g["phq9_total"].first(), g["phq9_total"].last()
    slope, intercept = np.polyfit(first, last, 1)
    improvement = -(last - (intercept + slope * first))
    alliance = g["wai_sr_total"].mean()
    readiness = obs.set_index("client_id")["urica_readiness"].loc[first.index]
    assert np.corrcoef(alliance, improvement)[0, 1] == pytest.approx(0.28, abs=0.05)
    assert np.corrcoef(readiness, improvement)[0, 1] == pytest.approx(0.20, abs=0.05)

    assert 1 - study.sessions["attended"].mean() == pytest.approx(0.08, abs=0.015)
    assert ses[PHQ].isna().to_numpy().mean() == pytest.approx(0.02, abs=0.003)


def test_dropout_depends_on_improvement(large):
    """Clients who improved less by session 4 drop out more often afterwards."""
    study, _ = large
    _, ses = _observed_scores(study)
    first = ses.loc[ses["session"] == 1].set_index("client_id")["phq9_total"]
    at4 = ses.loc[ses["session"] == 4].set_index("client_id")["phq9_total"]
    change = (first.loc[at4.index] - at4).rename("improvement")
    cl = study.clients.set_index("client_id").loc[change.index]
    low = cl.loc[change < change.median(), "end_reason"].eq("dropout").mean()
    high = cl.loc[change >= change.median(), "end_reason"].eq("dropout").mean()
    assert low > high + 0.03


# --------------------------------------------------------------------------- recovery
def _analysis_panel(study: Study) -> pd.DataFrame:
    """The panel an analyst would build from the observed data alone."""
    obs, ses = _observed_scores(study)
    obs["autonomous"] = obs["srq_autonomous"] - obs["srq_autonomous"].mean()
    obs["readiness"] = obs["urica_readiness"] - obs["urica_readiness"].mean()
    g = ses.groupby("client_id")["wai_sr_total"]
    client_mean = g.transform("mean")
    ses["alliance_within_lag"] = (g.shift(1) - client_mean).fillna(0.0)
    means = g.mean()
    ses["alliance_between"] = ses["client_id"].map(means - means.mean())
    ses["time10"] = (ses["session"] - 1) / 10.0
    return ses.merge(obs[["client_id", "autonomous", "readiness"]], on="client_id")


@pytest.mark.slow
def test_parameter_recovery_with_observed_scores():
    """A MixedLM on the observed scores recovers the true fixed effects.

    What is tested: 80 therapists x 25 clients (seed 1), attended sessions
    only. The outcome is the observed PHQ-9 sum (prorated over answered
    items, ``mean * 9``), the predictors are the observed SRQ autonomous
    mean and URICA readiness (centred at the client mean), the observed
    client mean of the WAI-SR total (centred; the generator used the true
    mean) and the observed previous-session WAI-SR total minus that observed
    client mean (0 at the first session). The model is statsmodels MixedLM,
    REML, ``phq9_total ~ time10 * (autonomous + readiness +
    alliance_between) + alliance_within_lag`` with a correlated random
    intercept and slope per client; time is scaled to 10 sessions for a
    well-conditioned fit, so the true ``time`` terms are multiplied by 10.
    The therapist intercept (5% of variance) is absorbed into the client
    intercept: statsmodels cannot fit crossed-in-nested correlated slopes,
    and a level-constant effect does not bias within-client estimates.
    Every true fixed effect must lie inside its 95% Wald CI. (Seeds 2-4 were
    also checked during development: all inside, largest |z| 1.8; ``time``
    is attenuated by about 2% through floor effects, z about 1.4.)
    """
    import statsmodels.formula.api as smf

    study, truth = simulate_study(
        n_therapists=80, clients_per_therapist=25, seed=1, return_truth=True
    )
    panel = _analysis_panel(study)
    formula = (
        "phq9_total ~ time10 * (autonomous + readiness + alliance_between) + alliance_within_lag"
    )
    model = smf.mixedlm(formula, panel, groups="client_id", re_formula="~time10")
    fit = model.fit(reml=True, method=["lbfgs"])
    assert fit.converged
    true = truth.fixed_effects.set_index("term")["estimate"]
    ci = fit.conf_int(alpha=0.05)
    for name in fit.fe_params.index:
        term = "(Intercept)" if name == "Intercept" else name.replace("time10", "time")
        value = true[term] * (10.0 if "time" in term else 1.0)
        low, high = ci.loc[name]
        assert low <= value <= high, f"{term}: true {value}, CI [{low:.4f}, {high:.4f}]"
    # the random-effect variances come back too (client intercept absorbs the therapist's)
    p = truth.params
    cov = fit.cov_re.to_numpy()
    assert cov[0, 0] == pytest.approx(p.sd_client_intercept**2 + p.sd_therapist**2, rel=0.15)
    assert cov[1, 1] == pytest.approx((10 * p.sd_client_slope) ** 2, rel=0.2)
