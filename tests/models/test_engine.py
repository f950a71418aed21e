"""Tests of the profiled-deviance engine: brute force, both paths, lme4 optima, warnings."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import ConvergenceWarning, ModelSpecError, SingularFitWarning
from engagestats.models._lambda import term_lambda, theta_layout
from engagestats.models.design import build_design
from engagestats.models.engine import fit, make_pls, profiled_deviance

REF = Path(__file__).parents[1] / "reference" / "lme4"
FORMULA_3L = "y ~ time * x + (1 + time | client) + (1 | therapist)"


def simulate(rng, n_ther=8, per_ther=6, n_sess=6, ther_sd=0.7, crossed=False) -> pd.DataFrame:
    n_cli = n_ther * per_ther
    ther_of = np.repeat(np.arange(n_ther), per_ther)
    client = np.repeat(np.arange(n_cli), n_sess)
    time = np.tile(np.arange(n_sess, dtype=float), n_cli)
    ther = ther_of[client] if not crossed else rng.integers(0, n_ther, client.size)
    u = rng.multivariate_normal([0, 0], [[1.0, -0.1], [-0.1, 0.09]], n_cli)
    x = rng.normal(size=n_cli)
    y = (
        5
        - 0.3 * time
        + 0.4 * x[client]
        + u[client, 0]
        + u[client, 1] * time
        + rng.normal(0, ther_sd, n_ther)[ther]
        + rng.normal(size=client.size)
    )
    return pd.DataFrame({"y": y, "time": time, "x": x[client], "client": client, "therapist": ther})


def brute_force(design, theta, reml):
    """Deviance, beta, vcov factor and modes from the dense marginal covariance."""
    n, p = design.n, design.p
    slices, _, _ = theta_layout(design.terms)
    Zs, lams = [], []
    for term, sl in zip(design.terms, slices, strict=True):
        Z = np.zeros((n, term.n_levels * term.k))
        for j in range(term.k):
            Z[np.arange(n), term.codes * term.k + j] = term.Z[:, j]
        Zs.append(Z)
        lams.append(np.kron(np.eye(term.n_levels), term_lambda(theta[sl], term.k)))
    Z = np.hstack(Zs)
    lam = np.zeros((Z.shape[1],) * 2)
    pos = 0
    for blk in lams:
        lam[pos : pos + blk.shape[0], pos : pos + blk.shape[0]] = blk
        pos += blk.shape[0]
    V0 = Z @ lam @ lam.T @ Z.T + np.eye(n)  # V / sigma^2
    Vi = np.linalg.inv(V0)
    XtViX = design.X.T @ Vi @ design.X
    beta = np.linalg.solve(XtViX, design.X.T @ Vi @ design.y)
    r = design.y - design.X @ beta
    q = float(r @ Vi @ r)
    ld = np.linalg.slogdet(V0)[1]
    if reml:
        dev = ld + np.linalg.slogdet(XtViX)[1] + (n - p) * (1 + np.log(2 * np.pi * q / (n - p)))
    else:
        dev = ld + n * (1 + np.log(2 * np.pi * q / n))
    b = lam @ lam.T @ Z.T @ Vi @ r
    return dev, beta, np.linalg.inv(XtViX), b


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("crossed", [False, True])
def test_deviance_matches_brute_force(rng, reml, crossed):
    d = simulate(rng, n_ther=4, per_ther=4, n_sess=5, crossed=crossed)
    des = build_design(FORMULA_3L, d)
    theta = np.array([0.8, -0.15, 0.35, 0.6])
    dev0, beta0, inv0, b0 = brute_force(des, theta, reml)
    methods = ["general"] if crossed else ["nested", "general"]
    for method in methods:
        pls = make_pls(des, method=method)
        assert pls.solver.path == method
        state = pls(theta)
        np.testing.assert_allclose(
            profiled_deviance(state, des.n, des.p, reml=reml), dev0, rtol=1e-11
        )
        np.testing.assert_allclose(state.beta, beta0, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(state.RXinv_RXinvT, inv0, rtol=1e-8, atol=1e-13)
        b = np.concatenate([m.ravel() for m in pls.solver.modes(theta)])
        np.testing.assert_allclose(b, b0, rtol=1e-8, atol=1e-10)


def test_deviance_brute_force_three_grouping_levels(rng):
    d = simulate(rng, n_ther=6, per_ther=4, n_sess=4)
    d["site"] = d["therapist"] // 2
    des = build_design("y ~ time + (1 + time | client) + (1 | site/therapist)", d)
    assert [t.group for t in des.terms] == ["client", "therapist:site", "site"]
    theta = np.array([0.9, 0.1, 0.3, 0.5, 0.7])
    pls = make_pls(des, method="nested")
    dev0, beta0, _, b0 = brute_force(des, theta, True)
    state = pls(theta)
    np.testing.assert_allclose(profiled_deviance(state, des.n, des.p), dev0, rtol=1e-11)
    np.testing.assert_allclose(state.beta, beta0, rtol=1e-9)
    b = np.concatenate([m.ravel() for m in pls.solver.modes(theta)])
    np.testing.assert_allclose(b, b0, rtol=1e-8, atol=1e-10)


def test_theta_zero_gives_ols(rng):
    d = simulate(rng, n_ther=4, per_ther=4, n_sess=5)
    des = build_design(FORMULA_3L, d)
    state = make_pls(des)(np.zeros(4))
    beta, rss = np.linalg.lstsq(des.X, des.y, rcond=None)[:2]
    np.testing.assert_allclose(state.beta, beta, rtol=1e-10)
    np.testing.assert_allclose(state.pwrss, rss[0], rtol=1e-10)
    assert state.ldL2 == pytest.approx(0.0, abs=1e-12)


def test_paths_agree_on_fit(rng):
    d = simulate(rng)
    des = build_design(FORMULA_3L, d)
    a = fit(des, method="nested")
    b = fit(des, method="general")
    assert a.optimizer_info["path"] == "nested"
    assert b.optimizer_info["path"] == "general"
    assert a.converged
    assert b.converged
    np.testing.assert_allclose(a.deviance, b.deviance, rtol=1e-10)
    np.testing.assert_allclose(a.theta, b.theta, atol=1e-5)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-6)
    # at a common theta the two paths agree to rounding
    sa, sb = a.pls(a.theta), b.pls(a.theta)
    np.testing.assert_allclose(sa.pwrss, sb.pwrss, rtol=1e-11)
    np.testing.assert_allclose(sa.beta, sb.beta, rtol=1e-10)
    for ba, bb in zip(a.pls.solver.modes(a.theta), b.pls.solver.modes(a.theta), strict=True):
        np.testing.assert_allclose(ba, bb, rtol=1e-8, atol=1e-10)


def test_auto_picks_general_for_crossed(rng):
    des = build_design(FORMULA_3L, simulate(rng, crossed=True))
    assert make_pls(des).solver.path == "general"
    with pytest.raises(ModelSpecError, match="not nested"):
        make_pls(des, method="nested")


def _ref(model, reml):
    ref = json.loads((REF / "reference.json").read_text())["models"][model]
    key = f"lmer(formula, data, REML = {'TRUE' if reml else 'FALSE'}, control = ctl)"
    data = pd.read_csv(REF / ref["data"])
    if "Subject" in data:
        data["Subject"] = data["Subject"].astype(str)
    return ref["formula"], data, ref[key]


@pytest.mark.parametrize(
    ("model", "reml"),
    [
        ("sleep_corr", True),
        ("sleep_corr", False),
        ("threelevel_nested", True),
        ("threelevel_nested", False),
        ("threelevel_crossed", True),
        ("sleep_uncorr", True),
    ],
)
def test_optimum_matches_lme4(model, reml):
    formula, data, r = _ref(model, reml)
    res = fit(build_design(formula, data), reml=reml)
    assert res.converged
    crit = r["REMLcrit(fit)"] if reml else r["deviance(fit, REML = FALSE)"]
    np.testing.assert_allclose(res.deviance, crit, rtol=1e-8)  # REMLcrit(fit) / deviance(fit)
    np.testing.assert_allclose(res.theta, r["getME(fit, 'theta')"]["values"], atol=2e-5)
    np.testing.assert_allclose(res.beta, r["fixef(fit)"]["values"], rtol=1e-6)  # fixef(fit)
    np.testing.assert_allclose(res.sigma, r["sigma(fit)"], rtol=1e-6)  # sigma(fit)
    np.testing.assert_allclose(res.vcov_beta, r["as.matrix(vcov(fit))"], rtol=1e-4)


def test_sleepstudy_known_values():
    data = pd.read_csv(REF / "sleepstudy.csv")
    res = fit(build_design("Reaction ~ Days + (Days | Subject)", data))
    # lme4: REMLcrit(fm1) = 1743.6283; getME(fm1, "theta") = 0.96674 0.01516 0.23090
    assert res.deviance == pytest.approx(1743.6283, abs=1e-4)
    np.testing.assert_allclose(res.theta, [0.96674, 0.01516, 0.23090], atol=1e-5)
    # ranef(fm1)$Subject["308", ] = 2.258565 9.198975
    np.testing.assert_allclose(res.b[0][0], [2.258565, 9.198975], atol=1e-4)


def test_singular_fit_warns_and_names_term(rng):
    d = simulate(rng, ther_sd=0.0)
    d["y"] = d["y"] - d.groupby("therapist")["y"].transform("mean")  # no therapist variance
    with pytest.warns(SingularFitWarning, match="'therapist'"):
        res = fit(build_design(FORMULA_3L, d))
    assert res.optimizer_info["singular"]
    assert res.optimizer_info["singular_terms"] == ["therapist"]
    assert res.theta[3] < 1e-4
    assert res.converged


def test_non_convergence_is_reported(rng):
    des = build_design(FORMULA_3L, simulate(rng))
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = fit(des, maxiter=2)
    assert not res.converged


def test_nelder_mead_reaches_same_optimum(rng):
    des = build_design(FORMULA_3L, simulate(rng))
    a = fit(des)
    b = fit(des, optimizer="nelder-mead")
    np.testing.assert_allclose(b.deviance, a.deviance, rtol=1e-9)


def test_bad_arguments(rng):
    des = build_design(FORMULA_3L, simulate(rng))
    with pytest.raises(ModelSpecError, match="start must have 4"):
        fit(des, start=[1.0, 0.0])
    with pytest.raises(ValueError, match="optimizer"):
        fit(des, optimizer="bobyqa")
    with pytest.raises(ValueError, match="method"):
        make_pls(des, method="dense")


GRAD_CASES = [
    (FORMULA_3L, [0.8, -0.15, 0.35, 0.6]),
    ("y ~ time + (1 + time | client) + (1 | site/therapist)", [0.9, 0.1, 0.3, 0.5, 0.7]),
    (
        "y ~ time + x + (1 + time + x2 | client) + (1 + time | therapist)",
        [0.9, 0.1, -0.2, 0.3, 0.05, 0.4, 0.5, -0.1, 0.3],
    ),
    ("y ~ time + (1 | client)", [0.7]),
    ("y ~ time + (1 + time || client) + (1 | therapist)", [0.7, 0.2, 0.4]),
    ("y ~ time + (1 | client) + (1 + time | therapist)", [0.7, 0.0, 0.1, 0.0]),
]


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize(("formula", "theta"), GRAD_CASES)
def test_analytic_gradient_matches_finite_differences(rng, formula, theta, reml):
    d = simulate(rng, n_ther=5, per_ther=4, n_sess=5)
    d["site"] = d["therapist"] // 2
    d["x2"] = rng.normal(size=len(d))
    des = build_design(formula, d)
    pls = make_pls(des, method="nested")
    theta = np.array(theta)

    def f(t):
        return profiled_deviance(pls(t), des.n, des.p, reml=reml)

    f(theta)
    g = pls.solver.gradient(theta, reml=reml, n=des.n)
    # independent reference: Richardson-extrapolated central differences of the deviance
    h = 1e-4
    fd = []
    for e in np.eye(theta.size):
        d1 = (f(theta + h * e) - f(theta - h * e)) / (2 * h)
        d2 = (f(theta + 2 * h * e) - f(theta - 2 * h * e)) / (4 * h)
        fd.append((4 * d1 - d2) / 3)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)


def test_gradient_vanishes_at_optimum_and_few_evaluations(rng):
    des = build_design(FORMULA_3L, simulate(rng))
    res = fit(des)
    assert res.converged
    np.testing.assert_allclose(res.optimizer_info["gradient"], 0.0, atol=1e-4)
    assert res.n_evals < 80  # finite-difference gradients needed about 170


def test_escapes_stationary_point_at_zero_slope_variance(rng):
    # the deviance is even in the slope's diagonal element of Lambda, so its
    # analytic derivative at 0 vanishes even though 0 is not the minimum
    des = build_design(FORMULA_3L, simulate(rng))
    ref = fit(des, method="general")
    res = fit(des, start=[1.0, 0.0, 0.0, 1.0])
    assert res.converged
    np.testing.assert_allclose(res.deviance, ref.deviance, rtol=1e-10)
    assert res.theta[2] > 0.1


@pytest.mark.parametrize("k", [2, 6])  # the unrolled path (k <= 4) and numpy's
def test_batched_cholesky_refuses_a_non_positive_definite_block_without_warning(k):
    # A block that is not numerically positive definite must be refused like numpy's
    # cholesky (LinAlgError -> the PLS step reports "not positive definite"), not turned
    # into NaN with a RuntimeWarning from sqrt.
    from engagestats.models._nested import _chol

    good = np.eye(k)[None] * 2.0
    bad = np.eye(k)[None].copy()
    bad[0, 1, 1] = -1e-12
    np.testing.assert_allclose(_chol(good), np.sqrt(2.0) * np.eye(k)[None])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(np.linalg.LinAlgError):
            _chol(np.concatenate([good, bad]))
