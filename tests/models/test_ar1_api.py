"""lmm(..., correlation=): the likelihood against a dense computation, the API and its errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import linalg

from engagestats.errors import DataValidationError, DataWarning, ModelSpecError
from engagestats.models import CorrelatedLmmResult, compare, lmm
from engagestats.models._ar1 import residual_structure, whiten
from engagestats.models.design import build_design
from engagestats.models.engine import fit as engine_fit


def _simulate(seed: int, phi: float, *, irregular: bool, slope_sd: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(30):
        m = int(rng.integers(4, 9))
        t = np.sort(rng.choice(np.arange(1, 15), m, replace=False)).astype(float)
        if irregular:
            t = t + rng.uniform(-0.3, 0.3, m)
        R = phi ** np.abs(t[:, None] - t[None, :])
        e = rng.multivariate_normal(np.zeros(m), 4.0 * R)
        b0, b1 = rng.normal(0, 2.0), rng.normal(0, slope_sd) if slope_sd else 0.0
        y = 10 + (0.5 + b1) * t + b0 + e
        rows.extend({"g": f"c{g:02d}", "t": t[j], "y": y[j]} for j in range(m))
    return pd.DataFrame(rows)


def _dense_deviance(fit, d: pd.DataFrame, *, slope: bool) -> tuple[float, np.ndarray]:
    """-2 (REML) log-likelihood and conditional SDs from V = Z G Z' + sigma^2 R."""
    y = d["y"].to_numpy()
    X = np.column_stack([np.ones(len(d)), d["t"]])
    codes = pd.factorize(d["g"], sort=True)[0]
    vc = fit.varcorr
    k = 2 if slope else 1
    if slope:
        v0, v1, c01 = vc["vcov"].iloc[:3]
        G1 = np.array([[v0, c01], [c01, v1]])
    else:
        G1 = np.array([[vc["vcov"].iloc[0]]])
    G = np.size(G1, 0)
    nlev = codes.max() + 1
    Z = np.zeros((len(d), nlev * k))
    for i, c in enumerate(codes):
        Z[i, c * k] = 1.0
        if slope:
            Z[i, c * k + 1] = d["t"].iloc[i]
    Gfull = linalg.block_diag(*[G1] * nlev)
    t = d["t"].to_numpy()
    same = codes[:, None] == codes[None, :]
    R = np.where(same, fit.phi ** np.abs(t[:, None] - t[None, :]), 0.0)
    V = Z @ Gfull @ Z.T + fit.sigma**2 * R
    Vi = np.linalg.inv(V)
    XtViX = X.T @ Vi @ X
    beta = np.linalg.solve(XtViX, X.T @ Vi @ y)
    r = y - X @ beta
    n, p = X.shape
    dev = np.linalg.slogdet(V)[1] + r @ Vi @ r + n * np.log(2 * np.pi)
    if fit.reml:
        dev += np.linalg.slogdet(XtViX)[1] - p * np.log(2 * np.pi)
    Ri = np.linalg.inv(fit.sigma**2 * R)
    cond = np.linalg.inv(Z.T @ Ri @ Z + np.linalg.inv(Gfull))
    assert G == k
    return float(dev), np.sqrt(np.diag(cond))


@pytest.mark.parametrize(
    ("kind", "phi", "reml", "slope"),
    [("car1", 0.6, True, True), ("car1", 0.6, False, False), ("ar1", -0.4, True, False)],
)
def test_deviance_equals_the_dense_marginal_likelihood(kind, phi, reml, slope):
    d = _simulate(8, phi, irregular=kind == "car1", slope_sd=0.5 if slope else 0.0)
    if kind == "ar1":
        d["t"] = d["t"].round()
    formula = "y ~ t + (t | g)" if slope else "y ~ t + (1 | g)"
    fit = lmm(formula, d, reml=reml, correlation=kind, time="t")
    assert fit.converged
    if kind == "ar1":
        assert fit.phi < 0  # the search covers negative lag-1 correlations
    dense, cond_sd = _dense_deviance(fit, d, slope=slope)
    np.testing.assert_allclose(fit.deviance, dense, rtol=1e-9)
    # ranef(cond_sd=True): conditional SDs given the correlated residuals
    re = fit.ranef(cond_sd=True)
    terms = ["(Intercept)", "t"] if slope else ["(Intercept)"]
    got = re.pivot(index="level", columns="term", values="cond_sd").sort_index()[terms]
    np.testing.assert_allclose(got.to_numpy().ravel(), cond_sd, rtol=1e-6)
    # the optimum in phi: the deviance profiled over theta is higher at phi -/+ 0.01
    design = build_design(formula, d)
    spec = residual_structure(design, d, correlation=kind, time="t")
    for step in (-0.01, 0.01):
        white, logdet = whiten(design, spec, fit.phi + step)
        assert engine_fit(white, reml=reml).deviance + logdet > fit.deviance


def test_row_order_does_not_matter_with_a_time_column():
    d = _simulate(3, 0.5, irregular=True)
    a = lmm("y ~ t + (1 | g)", d, correlation="car1", time="t")
    b = lmm("y ~ t + (1 | g)", d.sample(frac=1.0, random_state=1), correlation="car1", time="t")
    assert b.phi == pytest.approx(a.phi, rel=1e-6)
    assert b.loglik == pytest.approx(a.loglik, rel=1e-10)
    pd.testing.assert_series_equal(b.fitted().sort_index(), a.fitted().sort_index(), rtol=1e-6)


def test_result_api():
    d = _simulate(5, 0.5, irregular=False)
    fit = lmm("y ~ t + (1 | g)", d, correlation="ar1", time="t")
    assert isinstance(fit, CorrelatedLmmResult)
    assert fit.correlation.to_dict() == {
        "kind": "ar1",
        "group": "g",
        "time": "t",
        "phi": fit.phi,
        "n_groups": 30,
    }
    assert fit.n_params == 5  # 2 fixed, 1 theta, sigma, phi
    text = fit.summary()
    assert "containment df" in text
    assert f"phi = {fit.phi:.4f}" in text
    assert "Satterthwaite" not in text
    assert "Satterthwaite" not in fit._repr_html_()
    assert "phi" in repr(fit)
    ml = fit.refit_ml()
    assert isinstance(ml, CorrelatedLmmResult)
    assert not ml.reml
    direct = lmm("y ~ t + (1 | g)", d, correlation="ar1", time="t", reml=False)
    assert ml.loglik == pytest.approx(direct.loglik, rel=1e-10)
    # containment df: t varies within g: N - groups - 1; the intercept gets the same
    assert fit.fixed["df"].tolist() == [len(d) - 30 - 1] * 2
    row = fit.contrast([[0.0, 2.0]])
    assert row["df"].iloc[0] == len(d) - 31
    assert row["se"].iloc[0] == pytest.approx(2 * fit.fixed["se"].iloc[1])
    with pytest.raises(ModelSpecError, match="containment"):
        fit.fixed_effects(ddf="kenward-roger")
    with pytest.raises(ModelSpecError, match="joint"):
        fit.contrast([[0.0, 1.0]], joint=True)
    with pytest.raises(ModelSpecError, match="compare"):
        fit.anova()
    m0 = lmm("y ~ t + (1 | g)", d)
    out = compare(m0, fit)
    assert out["df"].iloc[1] == 1
    assert out.index[1] == "y ~ t + (1 | g), ar1(t | g)"


def test_between_group_term_gets_the_outer_df():
    d = _simulate(5, 0.5, irregular=False)
    d["arm"] = (d["g"].str[-1].astype(int) % 2).astype(float)
    fit = lmm("y ~ t * arm + (1 | g)", d, correlation="ar1", time="t")
    # nlme: arm is constant within g: groups - 1 - 1; t, t:arm and the intercept: N - 30 - 2
    assert fit.fixed["df"].tolist() == [len(d) - 32, len(d) - 32, 28, len(d) - 32]


def test_errors_are_typed_and_say_what_is_wrong():
    d = _simulate(2, 0.5, irregular=True)
    f = "y ~ t + (1 | g)"
    with pytest.raises(ModelSpecError, match="correlation must be one of"):
        lmm(f, d, correlation="ar2")
    with pytest.raises(ModelSpecError, match="give correlation="):
        lmm(f, d, time="t")
    with pytest.raises(ModelSpecError, match="needs time="):
        lmm(f, d, correlation="car1")
    with pytest.raises(ModelSpecError, match="engine='engagestats'"):
        lmm(f, d, correlation="ar1", engine="statsmodels")
    with pytest.raises(DataValidationError, match="integer time") as err:
        lmm(f, d, correlation="ar1", time="t")
    assert err.value.problems["column"].iloc[0] == "t"
    with pytest.raises(DataValidationError, match=r"when"):
        lmm(f, d, correlation="car1", time="when")
    dup = d.copy()
    dup.loc[dup.index[1], "t"] = dup["t"].iloc[0]
    with pytest.raises(DataValidationError, match="repeated time") as err:
        lmm(f, dup, correlation="car1", time="t")
    assert err.value.problems["row"].iloc[0] == dup.index[1]
    gap = d.assign(when=d["t"])  # a time column outside the formula, with a missing value
    gap.loc[gap.index[3], "when"] = np.nan
    with pytest.raises(DataValidationError, match="not dropped silently") as err:
        lmm(f, gap, correlation="car1", time="when")
    assert err.value.problems["row"].tolist() == [gap.index[3]]
    # the correlation group must sit inside every grouping factor
    d["site"] = np.where(d.index % 2 == 0, "a", "b")
    with pytest.raises(ModelSpecError, match="not nested"):
        lmm(f, d, correlation="car1", time="t", group="site")
    # crossed grouping factors
    d["rater"] = [f"r{i % 3}" for i in range(len(d))]
    with pytest.raises(ModelSpecError, match=r"crossed|not nested"):
        lmm("y ~ t + (1 | g) + (1 | rater)", d, correlation="car1", time="t")


def test_dropped_rows_without_time_warn_that_gaps_are_closed():
    d = _simulate(5, 0.5, irregular=False)
    d.loc[d.index[2], "y"] = np.nan
    with pytest.warns(DataWarning, match="consecutive occasions"):
        fit = lmm("y ~ t + (1 | g)", d, correlation="ar1")
    assert fit.n_dropped == 1
    with_time = lmm("y ~ t + (1 | g)", d, correlation="ar1", time="t")  # no warning
    assert with_time.n_dropped == 1
    assert with_time.phi != pytest.approx(fit.phi, rel=1e-6)
