"""impute(therapist_slope=True): the three-level draw (therapist random intercepts and slopes).

The draw given the parameters is checked against the exact conditional normal distribution
of the missing scores given the observed ones (joint covariance written out); a simulation
with a large therapist slope variance checks that the imputations carry it (and that the
two-level imputer, whose therapist term is a mean, does not).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import impute
from engagestats.analyses._impute_draw import fit_draw_model
from engagestats.errors import DataValidationError
from engagestats.models import lmm, pool


def _three_level(seed: int, n_t: int, per: int, n_s: int, sd_tslope: float, miss: float):
    rng = np.random.default_rng(seed)
    n_c = n_t * per
    ther = np.repeat(np.arange(n_t), per)
    client = np.repeat(np.arange(n_c), n_s)
    t = np.tile(np.arange(n_s, dtype=float), n_c)
    x = rng.normal(size=n_c)
    u0, u1 = rng.normal(scale=1.0, size=n_t), rng.normal(scale=sd_tslope, size=n_t)
    b0, b1 = rng.normal(scale=2.5, size=n_c), rng.normal(scale=0.3, size=n_c)
    tc = ther[client]
    y = (
        15
        + 1.0 * x[client]
        + u0[tc]
        + b0[client]
        + (-0.6 + 0.2 * x[client] + u1[tc] + b1[client]) * t
        + rng.normal(scale=1.5, size=client.size)
    )
    full = pd.DataFrame(
        {"client_id": client, "therapist_id": tc, "session": t, "x": x[client], "y": y}
    )
    # monotone MCAR dropout after session 1 for a share of clients, plus sporadic gaps
    drop_at = np.where(rng.random(n_c) < miss, rng.integers(2, n_s, size=n_c), n_s)
    gone = (t >= drop_at[client]) | ((rng.random(client.size) < 0.1) & (t > 0))
    return full, full.assign(y=np.where(gone, np.nan, y)), gone


def _joint_conditional(panel, model, beta, s2, G, T):
    """Exact mean and covariance of the missing y given the observed y and the parameters."""
    t = panel["session"].to_numpy(float)
    x = panel["x"].to_numpy(float)
    X = np.column_stack([np.ones_like(t), t, x, t * x])
    Z = np.column_stack([np.ones_like(t), t])
    c = panel["client_id"].to_numpy()
    h = panel["therapist_id"].to_numpy()
    same_c = (c[:, None] == c[None, :]).astype(float)
    same_h = (h[:, None] == h[None, :]).astype(float)
    S = s2 * np.eye(len(t)) + same_c * (Z @ G @ Z.T) + same_h * (Z @ T @ Z.T)
    mis = np.isnan(panel["y"].to_numpy())
    y = panel["y"].to_numpy()
    Soo, Smo = S[np.ix_(~mis, ~mis)], S[np.ix_(mis, ~mis)]
    w = np.linalg.solve(Soo, y[~mis] - X[~mis] @ beta)
    mean = X[mis] @ beta + Smo @ w
    cov = S[np.ix_(mis, mis)] - Smo @ np.linalg.solve(Soo, Smo.T)
    return mean, cov


def test_three_level_draw_is_the_exact_conditional_distribution():
    _, obs, _ = _three_level(seed=1, n_t=8, per=5, n_s=6, sd_tslope=0.3, miss=0.4)
    model = fit_draw_model(
        obs, "y", ["x"], "session", "client_id", "therapist_id", therapist_slope=True
    )
    assert model.level3 is not None
    beta, s2 = model.beta, 2.0
    G = np.array([[5.0, -0.2], [-0.2, 0.1]])
    T = np.array([[1.2, 0.15], [0.15, 0.09]])
    rng = np.random.default_rng(3)
    n = 20_000
    draws = np.array([model.conditional_draw(beta, s2, G, T, rng) for _ in range(n)])
    mean, cov = _joint_conditional(obs, model, beta, s2, G, T)
    sd = np.sqrt(np.diag(cov))
    # mean: 5 MC SEs per cell; covariance: 0.05 in correlation units per cell
    assert np.all(np.abs(draws.mean(0) - mean) < 5 * sd / np.sqrt(n))
    emp = np.cov(draws, rowvar=False)
    assert np.max(np.abs(emp - cov) / np.outer(sd, sd)) < 0.05
    np.testing.assert_allclose(np.diag(emp), np.diag(cov), rtol=0.06)
    # the two-level draw would miss the therapist covariance: it is not negligible here
    assert np.max(np.abs(cov - np.diag(np.diag(cov))) / np.outer(sd, sd)) > 0.2


def test_imputations_carry_the_therapist_slope_variance():
    full, obs, _ = _three_level(seed=2, n_t=20, per=8, n_s=8, sd_tslope=0.35, miss=0.6)
    formula = "y ~ session * x + (1 + session | client_id) + (1 + session | therapist_id)"

    def slope_var(fit) -> float:
        vc = fit.varcorr
        sel = (vc["group"] == "therapist_id") & (vc["var1"] == "session") & vc["var2"].isna()
        return float(vc.loc[sel, "vcov"].iloc[0])

    complete = slope_var(lmm(formula, full))
    three = impute(obs, m=5, seed=4, outcome="y", predictors=["x"], therapist_slope=True)
    two = impute(obs, m=5, seed=4, outcome="y", predictors=["x"])
    fits3 = three.fit(lambda d: lmm(formula, d))
    fits2 = two.fit(lambda d: lmm(formula, d))
    v3 = np.mean([slope_var(f) for f in fits3])
    v2 = np.mean([slope_var(f) for f in fits2])
    # 60% of clients drop out early: the two-level imputer pulls their slopes to the
    # overall mean and attenuates the therapist slope variance; the three-level one keeps it
    assert abs(v3 - complete) < 0.25 * complete
    assert v2 < 0.8 * complete
    assert "three-level" in three.method
    assert "(1 + session | therapist_id)" in three.method
    table = pool(fits3)
    lo, hi = table.loc["session:x", ["ci_low", "ci_high"]]
    assert lo < 0.2 < hi


def test_therapist_slope_on_the_sample_and_errors():
    imps = impute(es.load_sample(), m=2, seed=1, therapist_slope=True)
    d = imps.datasets[0]
    assert not d.loc[d["phq9_total_imputed"], "phq9_total"].isna().any()
    assert "therapist mean" not in imps.method
    # clients must be nested in therapists
    _, obs, _ = _three_level(seed=5, n_t=6, per=5, n_s=5, sd_tslope=0.2, miss=0.3)
    bad = obs.copy()
    bad.loc[bad.index[0], "therapist_id"] = 99
    with pytest.raises(DataValidationError, match="nested"):
        impute(bad, m=2, outcome="y", predictors=["x"], therapist_slope=True)


def test_mi_coverage_benchmark_therapist_slope_smoke():
    # one replication of benchmarks/validity/mi_coverage.py --therapist-slope 0.2
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "validity" / "mi_coverage.py"
    spec = importlib.util.spec_from_file_location("mi_coverage_tslope", script)
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.M = 2
    raw = pd.DataFrame(bench.one_replication(0, 0.2))
    assert set(raw["method"]) == {"complete", "available", "mi", "mi_2l"}
    var = raw[raw["term"] == "var_therapist_slope"]
    assert len(var) == 4
    np.testing.assert_allclose(var["true"], 0.04)
    assert (var["estimate"] >= 0).all()
    table = bench.summarise(raw)
    assert len(table) == 4 * (len(bench.TRUTH) + 1)
    assert table.loc[table["term"] == "var_therapist_slope", "coverage"].isna().all()
    assert "(1 + time | therapist_id)" in bench.FORMULA_TSLOPE
    # the default run is unchanged: its formula keeps the therapist intercept only
    assert "(1 | therapist_id)" in bench.FORMULA
