"""engagestats.impute: two-level imputation, delta adjustment, imputations from R's mice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import Imputations, impute
from engagestats.errors import DataValidationError
from engagestats.models import lmm, pool

POOL_REF = Path(__file__).resolve().parents[1] / "reference" / "pool"


@pytest.fixture(scope="module")
def sample():
    return es.load_sample()


@pytest.fixture(scope="module")
def two_level():
    """Known two-level data: random intercepts and slopes, 30% of outcomes MCAR-deleted."""
    rng = np.random.default_rng(5)
    n_c, n_t = 150, 8
    client = np.repeat(np.arange(n_c), n_t)
    t = np.tile(np.arange(n_t, dtype=float), n_c)
    x = rng.normal(size=n_c)[client]
    b0 = rng.normal(scale=3.0, size=n_c)[client]
    b1 = rng.normal(scale=0.5, size=n_c)[client]
    y = 15 + b0 + (-0.6 + 0.3 * x + b1) * t + 1.0 * x + rng.normal(scale=2.0, size=client.size)
    full = pd.DataFrame(
        {"client_id": client, "therapist_id": client % 15, "session": t, "x": x, "y": y}
    )
    gone = rng.random(client.size) < 0.3
    return full, full.assign(y=np.where(gone, np.nan, y)), gone


def test_imputes_every_missing_outcome_and_keeps_observed(two_level):
    full, obs, gone = two_level
    imps = impute(obs, m=5, seed=2, outcome="y", predictors=["x"])
    assert imps.m == 5
    for d in imps.datasets:
        assert not d["y"].isna().any()
        np.testing.assert_array_equal(d.loc[~gone, "y"], full.loc[~gone, "y"])
        np.testing.assert_array_equal(d["y_imputed"], gone)
    # different imputations differ; the same seed reproduces them
    assert not np.allclose(imps.datasets[0]["y"], imps.datasets[1]["y"])
    again = impute(obs, m=5, seed=2, outcome="y", predictors=["x"])
    pd.testing.assert_frame_equal(imps.datasets[3], again.datasets[3])


def test_imputations_are_proper_draws_not_predictions(two_level):
    # the imputed values must scatter like the deleted ones (a conditional-mean
    # imputation would shrink their spread around the client trajectories)
    full, obs, gone = two_level
    imps = impute(obs, m=10, seed=3, outcome="y", predictors=["x"])
    true = full.loc[gone, "y"].to_numpy()
    imp = np.concatenate([d.loc[gone, "y"].to_numpy() for d in imps.datasets])
    assert abs(imp.mean() - true.mean()) < 0.35  # se of the difference ~0.17
    # MCAR: the deleted values have the distribution of all values (var 24.2 here; the
    # 360 deleted ones happen to have 21.8); a conditional-mean imputation gives ~18
    assert 0.93 < imp.var() / full["y"].var() < 1.07
    resid = np.concatenate([d.loc[gone, "y"].to_numpy() - true for d in imps.datasets])
    # imputed and true value are independent draws given the data: residual variance
    # 2 sigma^2 (= 8) plus the conditional variance of the client trajectory
    assert 2 * np.sqrt(2) < resid.std() < 3.8


def test_pooled_slope_interaction_recovers_the_truth(two_level):
    _, obs, _ = two_level
    imps = impute(obs, m=10, seed=4, outcome="y", predictors=["x"])
    fits = imps.fit(lambda d: lmm("y ~ session * x + (1 + session | client_id)", d))
    table = pool(fits)
    for term, truth in (("session", -0.6), ("session:x", 0.3), ("x", 1.0)):
        lo, hi = table.loc[term, ["ci_low", "ci_high"]]
        assert lo < truth < hi, term
    assert (table["fmi"] > 0).all()
    assert (table["fmi"] < 0.6).all()


def test_delta_shifts_exactly_the_imputed_values_of_dropouts(sample):
    base = impute(sample, m=2, seed=9)
    shifted = impute(sample, m=2, seed=9, delta=2.5)
    d0, d1 = base.datasets[1], shifted.datasets[1]
    diff = (d1["phq9_total"] - d0["phq9_total"]).fillna(0.0)
    expect = np.where(d0["phq9_total_imputed"] & (d0["end_reason"] == "dropout"), 2.5, 0.0)
    np.testing.assert_allclose(diff, expect, atol=1e-12)
    assert shifted.delta == 2.5
    assert "MNAR sensitivity" in shifted.summary()


def test_extend_dropouts_adds_the_planned_sessions(sample):
    imps = impute(sample, m=2, seed=1, extend_dropouts=True)
    d = imps.datasets[0]
    clients = sample.clients.set_index("client_id")
    last = sample.sessions.groupby("client_id")["session"].max()
    drop = clients.index[clients["end_reason"] == "dropout"]
    expected = int(sum(max(clients.at[c, "planned_sessions"] - last[c], 0) for c in drop))
    assert int(d["post_dropout"].sum()) == expected
    counted = imps.missing.set_index("what").loc["added after dropout", "n_rows"]
    assert counted == expected
    assert set(d.loc[d["post_dropout"], "client_id"]) <= set(drop)
    # post-dropout rows carry the client's intake columns and, where those are known,
    # an imputed outcome
    added = d[d["post_dropout"]]
    intake = d[~d["post_dropout"]].groupby("client_id")["urica_readiness"].first()
    np.testing.assert_array_equal(added["urica_readiness"], added["client_id"].map(intake))
    assert added["attended"].isna().all()
    known = added[["srq_autonomous", "urica_readiness"]].notna().all(axis=1)
    np.testing.assert_array_equal(added["phq9_total_imputed"], known)
    assert known.sum() > 0.9 * len(added)


def test_rows_with_missing_predictors_are_left_missing_and_counted(two_level):
    _, obs, gone = two_level
    d = obs.copy()
    d.loc[d["client_id"] == 0, "x"] = np.nan
    imps = impute(d, m=2, seed=1, outcome="y", predictors=["x"])
    n_left = int((gone & (d["client_id"] == 0).to_numpy()).sum())
    row = imps.missing.set_index("what").loc["left missing (predictor missing)"]
    assert row["n_rows"] == n_left
    assert row["n_clients"] == 1
    assert int(imps.datasets[0]["y"].isna().sum()) == n_left


def test_mice_imputations_round_trip_to_mice_pool():
    # the R recipe of docs/methods/mediation-and-imputation.md: complete(imp, "long") as CSV
    long = pd.read_csv(POOL_REF / "imputed.csv").sort_values([".imp", "school", "pupil"])
    imps = Imputations.from_long(long, outcome="popular")
    assert imps.m == 5
    fits = imps.fit(lambda d: lmm("popular ~ sex + texp + (1 | school)", d))
    ref = pd.read_csv(POOL_REF / "pooled.csv")
    ref = ref[(ref["model"] == "lmer") & (ref["source"] == "mice_default")].set_index("term")
    got = pool(fits, dfcom="residual")
    np.testing.assert_allclose(got["estimate"], ref["estimate"], rtol=1e-6)
    np.testing.assert_allclose(got["df"], ref["df"], rtol=1e-5)
    back = imps.long()
    assert sorted(back[".imp"].unique()) == [1, 2, 3, 4, 5]


def test_bad_input_raises_typed_errors(two_level, sample):
    _, obs, _ = two_level
    with pytest.raises(DataValidationError, match="m"):
        impute(obs, m=1, outcome="y", predictors=["x"])
    with pytest.raises(DataValidationError, match="nope"):
        impute(obs, outcome="y", predictors=["nope"])
    with pytest.raises(DataValidationError, match="end_reason"):
        impute(obs, outcome="y", predictors=["x"], delta=1.0)
    with pytest.raises(DataValidationError, match="numeric"):
        impute(obs.assign(x=obs["x"].astype(str)), outcome="y", predictors=["x"])
    with pytest.raises(DataValidationError, match="missing values"):
        Imputations.from_long(pd.DataFrame({".imp": [1, 2], "y": [1.0, np.nan]}), outcome="y")


def test_repr_and_summary(sample):
    imps = impute(sample, m=2, seed=1)
    assert "two-level" in imps.summary()
    assert "<table" in imps._repr_html_()
    assert repr(imps) == "<Imputations m = 2 of 'phq9_total', delta = 0>"


def test_mi_coverage_benchmark_smoke():
    # one replication of benchmarks/validity/mi_coverage.py (the full run is 200 reps)
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "validity" / "mi_coverage.py"
    spec = importlib.util.spec_from_file_location("mi_coverage", script)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.M = 3
    raw = pd.DataFrame(bench.one_replication(0))
    assert set(raw["method"]) == {"complete", "available", "mi"}
    assert 0.1 < raw["missing_share"].iloc[0] < 0.4
    table = bench.summarise(raw)
    assert len(table) == 3 * len(bench.TRUTH)
    mi = raw[raw["method"] == "mi"]
    assert (mi["fmi"] > 0).all()
    assert (mi["df"] < 1e4).all()
