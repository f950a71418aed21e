"""Boundary optima of glmm are verified before ``converged=True`` (issue 19, GLMM part)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import ConvergenceWarning, ModelSpecError, SingularFitWarning
from engagestats.models import _glmm_engine, _response, glmm
from engagestats.models._glmm_family import Family
from engagestats.models._glmm_laplace import Laplace

from .test_glmm_families import CBPP, fitted, load


def _objective(formula: str, data: pd.DataFrame) -> tuple[_glmm_engine._Objective, Laplace]:
    fam = Family("binomial", "logit")
    inputs = _response.glmm_inputs(formula, data, fam)
    lap = Laplace(inputs.design, fam, inputs.y, inputs.pw, inputs.offset)
    return _glmm_engine._Objective(lap, None), lap


def test_a_false_boundary_optimum_is_left_for_the_better_interior_one():
    # start at theta = 0 (a stationary point in beta): the restart from inside finds lme4's optimum
    obj, lap = _objective(CBPP, load("cbpp"))
    beta = _glmm_engine.glm_start(lap.y, lap.X, pw=lap.pw)
    x0 = np.concatenate([[0.0], beta])
    f0 = obj(x0)
    x, fx, info = _glmm_engine._boundary_check(obj, x0, f0, lap.lower)
    assert info["restarted"]
    assert info["kept"] == "restart"
    assert info["slopes"][0] < 0  # the one-sided derivative into the interior shows it
    assert fx < f0 - 1.0
    assert x[0] == pytest.approx(fitted("cbpp_logit").theta.iloc[0], rel=1e-4)


BOUNDARY = Path(__file__).resolve().parents[1] / "reference" / "glmm_boundary"
BOUNDARY_REF = json.loads((BOUNDARY / "boundary.json").read_text())


@pytest.mark.parametrize("seed", [4, 5, 6, 9])
def test_boundary_designs_against_glmer(seed):
    # no group effect in the DGP: glmer ends at theta = 0 for seeds 4, 5 and inside for 6, 9;
    # for 6 and 9 the first L-BFGS-B pass stops at 0 and only the restart from inside finds
    # glmer's (better) interior optimum
    d = pd.read_csv(BOUNDARY / "boundary.csv").query("seed == @seed")
    ref = BOUNDARY_REF[str(seed)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = glmm("y ~ x + (1 | g)", d)
    singular = any(issubclass(w.category, SingularFitWarning) for w in caught)
    assert singular == ref["isSingular(fit)"]
    assert fit.converged
    assert fit.loglik == pytest.approx(ref["as.numeric(logLik(fit))"], abs=1e-6)
    assert fit.theta.iloc[0] == pytest.approx(ref["getME(fit, 'theta')"], abs=1e-4)
    np.testing.assert_allclose(fit.fixed["estimate"], ref["fixef(fit)"], rtol=1e-4, atol=1e-5)
    info = fit._fit.info["boundary"]
    assert info["restarted"]
    assert info["kept"] == ("original" if singular else "restart")
    assert info["boundary_ok"]


def test_a_boundary_point_whose_slope_goes_inside_is_not_converged(monkeypatch):
    # if the restart could not leave the boundary, the negative slope alone blocks converged=True
    obj, lap = _objective(CBPP, load("cbpp"))
    beta = _glmm_engine.glm_start(lap.y, lap.X, pw=lap.pw)
    x0 = np.concatenate([[0.0], beta])

    def stuck(obj_, x, lower):
        return type("Opt", (), {"x": x.copy() * 0 + x0, "success": True, "nit": 0})()

    monkeypatch.setattr(_glmm_engine, "_minimise", stuck)
    _, _, info = _glmm_engine._boundary_check(obj, x0, obj(x0), lap.lower)
    assert info["kept"] == "original"
    assert not info["boundary_ok"]


def test_repeated_random_term_is_refused():
    with pytest.raises(ModelSpecError, match="appears twice"):
        glmm("cbind(incidence, size - incidence) ~ period + (1 | herd) + (1 | herd)", load("cbpp"))


def test_no_within_group_variation_is_not_converged_and_named():
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(30), 8)
    d = pd.DataFrame({"g": g, "x": rng.normal(size=g.size)})
    d["y"] = (rng.random(30) < 0.5)[g].astype(int)  # a group-level outcome analysed per row
    with pytest.warns(ConvergenceWarning, match="does not vary within any level of 'g'"):
        fit = glmm("y ~ x + (1 | g)", d)
    assert not fit.converged
