"""Behaviour of engagestats.models.glmm and .gee: errors, warnings, prediction, GEE cross-checks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import integrate
from scipy.special import expit

from engagestats.errors import (
    ConvergenceWarning,
    DataValidationError,
    ModelSpecError,
    SingularFitWarning,
)
from engagestats.models import GeeResult, GlmmResult, _agq, _glmm_engine, gee, glmm


def simulate(seed: int = 11, *, n_groups: int = 25, size: int = 14, sd: float = 1.0):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), size)
    d = pd.DataFrame(
        {
            "therapist": [f"T{i:02d}" for i in g],
            "autonomy": rng.normal(size=g.size),
            "stage": rng.choice(["action", "contemplation", "precontemplation"], size=g.size),
        }
    )
    eta = -0.4 - 0.7 * d["autonomy"] + 0.5 * (d["stage"] == "precontemplation")
    eta = eta + rng.normal(0.0, sd, n_groups)[g]
    d["dropout"] = (rng.random(g.size) < expit(eta)).astype(int)
    return d


FORMULA = "dropout ~ autonomy + stage + (1 | therapist)"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulate()


@pytest.fixture(scope="module")
def fit(data) -> GlmmResult:
    return glmm(FORMULA, data)


# ------------------------------------------------------------------ errors
def test_non_binary_response_lists_every_bad_row(data):
    bad = data.assign(dropout=data["dropout"].astype(float))
    bad.loc[[3, 10], "dropout"] = [2.0, 0.5]
    with pytest.raises(DataValidationError) as err:
        glmm(FORMULA, bad)
    assert err.value.problems["row"].tolist() == [3, 10]
    assert err.value.problems["value"].tolist() == ["2", "0.5"]
    assert set(err.value.problems["column"]) == {"dropout"}


def test_text_response_is_coded_as_a_sorted_factor(data, fit):
    # glmer codes a factor's first level 0; strings sort "no" < "yes"
    text = glmm(FORMULA, data.assign(dropout=np.where(data["dropout"] == 1, "yes", "no")))
    np.testing.assert_allclose(text.fixed["estimate"], fit.fixed["estimate"], rtol=1e-8)
    assert text.response_coding.startswith("'no' = 0, 'yes' = 1")
    with pytest.raises(ModelSpecError, match="4 levels"):
        glmm(FORMULA, data.assign(dropout=np.where(data["dropout"] == 1, "yes", data["stage"])))


@pytest.mark.parametrize(
    ("formula", "nagq", "match"),
    [
        ("dropout ~ autonomy + (1 + autonomy | therapist)", 10, "single scalar random"),
        ("dropout ~ autonomy + (1 | therapist) + (1 | stage)", 5, "single scalar random"),
        ("dropout ~ autonomy", 1, "no random-effects term"),
        ("dropout ~ autonomy + motivation + (1 | therapist)", 1, "motivation"),
        ("dropout ~ autonomy + (1 | counsellor)", 1, "counsellor"),
    ],
)
def test_unsupported_models_and_unknown_columns(data, formula, nagq, match):
    with pytest.raises(ModelSpecError, match=match):
        glmm(formula, data, nagq=nagq)


@pytest.mark.parametrize("nagq", [0, -1, 2.5, True, 101])
def test_bad_nagq(data, nagq):
    with pytest.raises(ModelSpecError, match="nagq"):
        glmm(FORMULA, data, nagq=nagq)


def test_bad_family_and_data(data):
    with pytest.raises(ModelSpecError, match="family"):
        glmm(FORMULA, data, family="gaussian")
    with pytest.raises(ModelSpecError, match="link"):
        glmm(FORMULA, data, link="log")
    with pytest.raises(ModelSpecError, match="DataFrame"):
        glmm(FORMULA, data.to_dict())


# --------------------------------------------------------------- behaviour
def test_boolean_response_and_missing_rows_are_counted(data, fit):
    d = data.assign(dropout=data["dropout"].astype(bool))
    same = glmm(FORMULA, d)
    np.testing.assert_allclose(same.fixed["estimate"], fit.fixed["estimate"], rtol=1e-8)
    holes = data.assign(dropout=data["dropout"].astype("boolean"))
    holes.loc[[0, 5, 7], "dropout"] = pd.NA
    holes.loc[9, "autonomy"] = np.nan
    fewer = glmm(FORMULA, holes)
    assert fewer.n_dropped == 4
    assert fewer.nobs == len(data) - 4
    assert 9 not in fewer.predict().index


def test_new_groups_get_the_population_prediction(fit, data):
    new = data.iloc[[0, 1]].assign(therapist=["T00", "NOBODY"])
    with_re = fit.predict(new, type="link")
    population = fit.predict(new, type="link", include_random=False)
    b = fit.ranef().set_index("level").loc["T00", "estimate"]
    np.testing.assert_allclose(with_re.iloc[0], population.iloc[0] + b, rtol=1e-12)
    assert with_re.iloc[1] == pytest.approx(population.iloc[1], rel=1e-12)
    np.testing.assert_allclose(fit.predict(new), expit(with_re), rtol=1e-12)
    assert with_re.index.tolist() == new.index.tolist()


def test_predict_errors(fit, data):
    with pytest.raises(ModelSpecError, match="type"):
        fit.predict(type="probability")
    with pytest.raises(ModelSpecError):
        fit.predict(data.drop(columns="therapist"))
    with pytest.raises(ModelSpecError):
        fit.predict(data.drop(columns="autonomy"))


def test_fitted_is_the_conditional_prediction(fit, data):
    b = fit.ranef().set_index("level")["estimate"]
    eta = fit.predict(type="link", include_random=False) + b.loc[data["therapist"]].to_numpy()
    np.testing.assert_allclose(fit.fitted(), expit(eta), rtol=1e-12)


def test_singular_fit_warns_and_reduces_to_logistic_regression():
    """Every therapist has the same clients and outcomes: no between-therapist variance."""
    base = simulate(5, n_groups=1, size=24, sd=0.0).drop(columns="therapist")
    d = pd.concat([base.assign(therapist=f"T{i}") for i in range(12)], ignore_index=True)
    with pytest.warns(SingularFitWarning, match="singular"):
        fit = glmm(FORMULA, d)
    assert fit.theta.iloc[0] < 1e-4
    X = pd.get_dummies(d[["autonomy", "stage"]], drop_first=True, dtype=float)
    logit = sm.Logit(d["dropout"], sm.add_constant(X)).fit(disp=0)
    np.testing.assert_allclose(fit.fixed["estimate"], logit.params, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fit.fixed["se"], logit.bse, rtol=1e-3)
    np.testing.assert_allclose(fit.loglik, logit.llf, rtol=1e-8)


def test_convergence_warning_when_the_gradient_check_fails(data, monkeypatch):
    monkeypatch.setattr(_glmm_engine, "GRAD_TOL", 0.0)
    with pytest.warns(ConvergenceWarning, match="scaled gradient"):
        fit = glmm(FORMULA, data)
    assert not fit.converged
    assert "not converged" in fit.summary()


def test_display(fit):
    text = fit.summary()
    assert "Laplace Approximation" in text
    assert "subject-specific" in text
    assert "stageprecontemplation" in text
    assert "therapist" in repr(fit)
    assert "<table" in fit._repr_html_()
    assert fit.fixed.columns.tolist() == [
        "estimate", "se", "z", "p", "ci_low", "ci_high", "odds_ratio", "or_ci_low", "or_ci_high",
    ]  # fmt: skip


# ---------------------------------------------------------- approximation
def test_agq_deviance_converges_to_the_exact_integral(data):
    """At fixed parameters, 30-node AGQ equals the marginal likelihood by adaptive quad."""
    from engagestats.models.design import build_design

    des = build_design(FORMULA, data)
    codes = des.terms[0].codes
    beta = np.array([-0.3, -0.6, 0.1, 0.4])
    theta = 1.3
    z, w = _agq.gh_rule(30)
    prob = _agq.Problem(des.y, des.X, codes, des.terms[0].n_levels, z, w)
    dev, _ = _agq.deviance(prob, np.concatenate([[theta], beta]))
    offset = des.X @ beta
    exact = 0.0
    for i in range(prob.n_groups):
        y, off = des.y[codes == i], offset[codes == i]

        def f(u, y=y, off=off):
            p = expit(off + theta * u)
            return np.prod(np.where(y == 1, p, 1 - p)) * np.exp(-(u**2) / 2) / np.sqrt(2 * np.pi)

        val, _ = integrate.quad(f, -12, 12, epsabs=0, epsrel=1e-12, limit=200)
        exact += -2 * np.log(val)
    np.testing.assert_allclose(dev, exact, rtol=1e-9)
    laplace = _agq.Problem(des.y, des.X, codes, des.terms[0].n_levels, *_agq.gh_rule(1))
    dev1, _ = _agq.deviance(laplace, np.concatenate([[theta], beta]))
    assert abs(dev1 - exact) > 1e-3  # the Laplace approximation is only approximate


def test_laplace_gradient_matches_finite_differences(data):
    from engagestats.models.design import build_design

    des = build_design(FORMULA, data)
    prob = _agq.Problem(des.y, des.X, des.terms[0].codes, des.terms[0].n_levels, *_agq.gh_rule(1))
    x = np.array([0.8, -0.3, -0.6, 0.1, 0.4])
    _, m = _agq.deviance(prob, x)
    grad = _agq.laplace_gradient(prob, x, m)
    h = 1e-5
    fd = [
        (_agq.deviance(prob, x + h * e)[0] - _agq.deviance(prob, x - h * e)[0]) / (2 * h)
        for e in np.eye(x.size)
    ]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6)


def test_modes_survive_extreme_groups():
    """All-ones and all-zeros groups have modes far out; damped Newton still converges."""
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(20), 8)
    y = rng.integers(0, 2, g.size).astype(float)
    y[g == 0], y[g == 1] = 1.0, 0.0
    prob = _agq.Problem(y, np.ones((g.size, 1)), g, 20, *_agq.gh_rule(1))
    m = _agq.modes(prob, np.array([0.0]), 6.0)
    grad = 6.0 * prob.gsum(m.mu - y) + m.u
    assert np.max(np.abs(grad)) < 1e-8
    assert m.u[0] > 0 > m.u[1]


# --------------------------------------------------------------------- GEE
def test_gee_independence_equals_logistic_glm_with_cluster_robust_se(data):
    fit = gee(
        "dropout ~ autonomy + stage",
        data,
        groups="therapist",
        cov_struct="independence",
        se="robust",  # the plain sandwich; 25 clusters would select Mancl-DeRouen by default
    )
    assert isinstance(fit, GeeResult)
    X = sm.add_constant(pd.get_dummies(data[["autonomy", "stage"]], drop_first=True, dtype=float))
    groups = pd.factorize(data["therapist"])[0]
    glm = sm.GLM(data["dropout"], X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False}
    )
    np.testing.assert_allclose(fit.fixed["estimate"], glm.params, rtol=1e-8)
    np.testing.assert_allclose(fit.fixed["se"], glm.bse, rtol=1e-6)
    np.testing.assert_allclose(fit.fixed["odds_ratio"], np.exp(glm.params), rtol=1e-8)
    assert fit.fixed.index.tolist() == [
        "(Intercept)", "autonomy", "stagecontemplation", "stageprecontemplation",
    ]  # fmt: skip


def test_gee_population_averaged_effects_are_attenuated(data, fit):
    pa = gee("dropout ~ autonomy + stage", data, groups="therapist")
    assert 0.0 < pa.working_correlation < 0.5
    assert abs(pa.fixed.loc["autonomy", "estimate"]) < abs(fit.fixed.loc["autonomy", "estimate"])
    assert pa.nobs == len(data)
    assert pa.ngroups == {"therapist": 25}
    text = pa.summary()
    assert "exchangeable working correlation" in text
    assert "population-averaged" in text
    assert "<table" in pa._repr_html_()
    assert "dropout ~ autonomy + stage" in repr(pa)


def test_gee_errors_and_dropped_rows(data):
    with pytest.raises(ModelSpecError, match="random terms"):
        gee(FORMULA, data, groups="therapist")
    with pytest.raises(ModelSpecError, match="cov_struct"):
        gee("dropout ~ autonomy", data, groups="therapist", cov_struct="ar1")
    with pytest.raises(ModelSpecError, match="counsellor"):
        gee("dropout ~ autonomy", data, groups="counsellor")
    with pytest.raises(ModelSpecError, match="groups"):
        gee("dropout ~ autonomy", data, groups="therapist id")
    with pytest.raises(DataValidationError):
        gee("dropout ~ autonomy", data.assign(dropout=data["dropout"] * 3), groups="therapist")
    holes = data.astype({"therapist": object})
    holes.loc[[1, 2], "therapist"] = None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = gee("dropout ~ autonomy", holes, groups="therapist")
    assert fit.n_dropped == 2
    assert "2 rows with missing values dropped" in fit.summary()


def test_constant_response_is_rejected(data):
    with pytest.raises(ModelSpecError, match="both outcomes"):
        glmm(FORMULA, data.assign(dropout=0))
    with pytest.raises(ModelSpecError, match="both outcomes"):
        gee("dropout ~ autonomy", data.assign(dropout=1), groups="therapist")


def test_complete_separation_gives_infinite_odds_ratio_without_numpy_warnings(data):
    separated = data.assign(dropout=(data["autonomy"] > 0).astype(int))
    with pytest.warns(ConvergenceWarning, match="not identifiable"):
        fit = glmm(FORMULA, separated)
    assert not fit.converged  # a flat likelihood is no optimum, whatever the gradient says
    row = fit.fixed.loc["autonomy"]
    assert row["estimate"] > 20
    assert row["or_ci_high"] == np.inf
    assert row["p"] > 0.5
