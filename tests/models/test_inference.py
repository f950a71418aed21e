"""Satterthwaite df, contrasts and F tests (engagestats.models.inference)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engagestats.errors import ModelSpecError
from engagestats.models import _numerics, inference, lmm


def test_hessian_matches_analytic():
    def f(x):
        return x[0] ** 2 * x[1] + np.exp(x[1]) + np.sin(x[0] * x[2])

    x = np.array([0.7, -0.3, 1.2])
    s = np.sin(x[0] * x[2])
    expected = np.array(
        [
            [2 * x[1] - x[2] ** 2 * s, 2 * x[0], np.cos(x[0] * x[2]) - x[0] * x[2] * s],
            [2 * x[0], np.exp(x[1]), 0.0],
            [np.cos(x[0] * x[2]) - x[0] * x[2] * s, 0.0, -(x[0] ** 2) * s],
        ]
    )
    np.testing.assert_allclose(_numerics.richardson_hessian(f, x), expected, rtol=1e-7, atol=1e-9)


def test_jacobian_matches_analytic_including_zero_coordinate():
    def f(x):
        return np.array([x[0] * x[1], np.log1p(x[0] ** 2), x[1] ** 3])

    x = np.array([0.0, 2.0])  # x[0] == 0 uses the absolute step eps
    expected = np.array([[x[1], x[0]], [2 * x[0] / (1 + x[0] ** 2), 0.0], [0.0, 3 * x[1] ** 2]])
    np.testing.assert_allclose(_numerics.richardson_jacobian(f, x), expected, rtol=1e-9, atol=1e-10)


def test_fstat_ddf_rules():
    assert inference._fstat_ddf(np.array([7.5])) == 7.5
    assert inference._fstat_ddf(np.array([10.0, 10.0])) == 10.0
    assert inference._fstat_ddf(np.array([1.5, 30.0])) == 2.0
    nu = np.array([10.0, 20.0])
    e = np.sum(nu / (nu - 2))
    assert inference._fstat_ddf(nu) == pytest.approx(2 * e / (e - 2), rel=1e-15)


@pytest.fixture(scope="module")
def balanced() -> pd.DataFrame:
    """Balanced one-way layout: 12 groups x 6 observations, a within-group covariate."""
    rng = np.random.default_rng(20261121)
    a, n = 12, 6
    g = np.repeat(np.arange(a), n)
    x = np.tile(np.arange(n, dtype=float), a) - 2.5
    y = 3.0 + 0.4 * x + rng.normal(0, 1.5, a)[g] + rng.normal(0, 1.0, a * n)
    return pd.DataFrame({"g": [f"g{i:02d}" for i in g], "x": x, "y": y})


def test_satterthwaite_df_balanced_anova(balanced):
    """In a balanced one-way model the exact df are a - 1 and a (n - 1) - 1 (REML)."""
    fit = lmm("y ~ x + (1 | g)", balanced)
    np.testing.assert_allclose(fit.fixed.loc["(Intercept)", "df"], 11.0, rtol=1e-5)
    np.testing.assert_allclose(fit.fixed.loc["x", "df"], 12 * 5 - 1, rtol=1e-5)
    # The intercept's SE is the SE of the grand mean from the group means (MS_A / (a n)).
    means = balanced.groupby("g")["y"].mean()
    np.testing.assert_allclose(
        fit.fixed.loc["(Intercept)", "se"], means.std(ddof=1) / np.sqrt(12), rtol=1e-5
    )


def test_joint_test_of_one_row_is_squared_t(balanced):
    fit = lmm("y ~ x + (1 | g)", balanced)
    row = fit.contrast([0.0, 1.0])
    joint = fit.contrast([0.0, 1.0], joint=True)
    assert joint["f"].iloc[0] == pytest.approx(row["t"].iloc[0] ** 2, rel=1e-12)
    assert joint["den_df"].iloc[0] == pytest.approx(row["df"].iloc[0], rel=1e-12)
    assert joint["p"].iloc[0] == pytest.approx(row["p"].iloc[0], rel=1e-8)
    # A redundant second row does not change the rank-1 test.
    redundant = fit.contrast([[0.0, 1.0], [0.0, 2.0]], joint=True)
    assert redundant["num_df"].iloc[0] == 1
    assert redundant["f"].iloc[0] == pytest.approx(joint["f"].iloc[0], rel=1e-10)


def test_contrast_table_with_infinite_df_is_a_z_test():
    sat = inference.Satterthwaite(
        beta=np.array([1.0, 2.0]),
        vcov_beta=np.diag([0.25, 1.0]),
        varpar=np.array([1.0, 1.0]),
        vcov_varpar=np.zeros((2, 2)),
        jac=np.zeros((2, 2, 2)),
        sigma=1.0,
    )
    table = inference.contrast_table(sat, np.eye(2), names=["a", "b"], df_inf=True)
    np.testing.assert_allclose(table["t"], [2.0, 2.0])
    np.testing.assert_allclose(table["p"], 2 * stats.norm.sf(2.0), rtol=1e-12)
    np.testing.assert_allclose(table["ci_low"], [1 - 1.959964 * 0.5, 2 - 1.959964], rtol=1e-6)
    joint = inference.f_test(sat, np.eye(2), df_inf=True)
    assert joint["f"].iloc[0] == pytest.approx(4.0, rel=1e-12)
    assert joint["p"].iloc[0] == pytest.approx(stats.chi2.sf(8.0, 2), rel=1e-12)


def test_rank_zero_contrast_raises():
    sat = inference.Satterthwaite(
        beta=np.array([1.0]),
        vcov_beta=np.array([[1.0]]),
        varpar=np.array([1.0]),
        vcov_varpar=np.zeros((1, 1)),
        jac=np.zeros((1, 1, 1)),
        sigma=1.0,
    )
    with pytest.raises(ModelSpecError, match="rank 0"):
        inference.f_test(sat, [[0.0]])
    with pytest.raises(ModelSpecError, match="1 columns"):
        inference.contrast_table(sat, np.zeros((0, 1)))


def test_joint_f_test_is_scale_free():
    """The rank of L V L' is judged relative to its largest eigenvalue (as lmerTest's
    contestMD), so an outcome on a small scale keeps every direction of the test. (With an
    absolute cut-off of sqrt(eps), the 1e-3 scale lost both directions: vcov ~ 3e-9.) At a
    1e-6 scale the Satterthwaite df break down, as in lmerTest: numDeriv's absolute step
    near zero is larger than sigma."""
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"g": np.repeat(np.arange(20), 6), "x": np.tile(np.arange(6.0), 20)})
    d["z"] = rng.normal(size=len(d))
    d["y"] = 1 + 0.3 * d["x"] - 0.2 * d["z"] + rng.normal(size=20)[d["g"]] + rng.normal(size=120)
    L = [[0, 1, 0], [0, 0, 1]]
    base = lmm("y ~ x + z + (1 | g)", d).contrast(L, joint=True)
    tiny = lmm("y ~ x + z + (1 | g)", d.assign(y=d["y"] * 1e-3)).contrast(L, joint=True)
    assert tiny["num_df"].item() == base["num_df"].item() == 2
    np.testing.assert_allclose(tiny[["f", "den_df", "p"]], base[["f", "den_df", "p"]], rtol=1e-4)
