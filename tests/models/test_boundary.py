"""Boundary optima and degenerate models in the LMM engine (issue 19)."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.errors import ModelSpecError
from engagestats.models import lmm
from engagestats.models._boundary import PROBE_TOL, boundary_probes, verify_boundary
from engagestats.models._lambda import theta_layout
from engagestats.models.design import build_design
from engagestats.models.engine import fit, make_pls, profiled_deviance

REF = Path(__file__).parents[1] / "reference" / "lme4_diff"
sys.path.insert(0, str(REF))
from make_designs import designs, make_data  # noqa: E402

RESULTS = json.loads((REF / "results.json").read_text())
SPECS = {s["id"]: s for s in designs()}


def _quiet_fit(design):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(design)


def test_probes_flip_the_column_below_a_zero_diagonal():
    design = build_design(SPECS["d204"]["formula"], make_data(SPECS["d204"]))
    _, lower, _ = theta_layout(design.terms)
    theta = np.array([0.0, -0.21, 2.7e-5])
    probes = boundary_probes(theta, lower, design.terms)
    # two zero diagonals (1 and 3), and both together; 4 steps; two signs where
    # the column below is non-zero (element 1 only, entry 2 is theta[1])
    assert len(probes) == 4 * 2 + 4 * 1 + 4 * 2
    assert any(p[1] == 0.21 and p[0] > 0 for p in probes)
    assert all(p[2] >= 2.7e-5 for p in probes)
    assert boundary_probes(np.array([0.5, 0.1, 0.3]), lower, design.terms) == []


@pytest.mark.parametrize("design_id", ["d204", "d018", "d152"])
def test_stuck_boundary_point_is_refuted_and_left(design_id):
    # the boundary point the old engine reported as converged (lme4's logLik is
    # 3.44, 0.118 and 0.0023 higher): without a working restart it is not verified,
    # with one the optimum reaches lme4's
    spec = SPECS[design_id]
    design = build_design(spec["formula"], make_data(spec))
    pls = make_pls(design)
    _, lower, _ = theta_layout(design.terms)
    old = {
        "d204": [0.0, -0.2128531812296774, 2.668624452845999e-05],
        "d018": [0.0, 0.10979095307826629, 0.21888033715735467, 0.0],
        "d152": [0.0, 0.0],
    }[design_id]
    theta = np.array(old)

    def f(t):
        return profiled_deviance(pls(t), design.n, design.p)

    _, _, _, info = verify_boundary(
        f, lambda z: (z, None), theta, f(theta), None, lower, design.terms
    )
    assert info["improved"] > 0  # even the best probe beats the stuck point
    res = _quiet_fit(design)
    ll_lme4 = max(RESULTS[design_id]["default"]["logLik"], RESULTS[design_id]["tight"]["logLik"])
    assert res.converged
    assert -0.5 * res.deviance >= ll_lme4 - 1e-6
    assert -0.5 * res.deviance > -0.5 * f(theta) + 1e-3
    assert res.optimizer_info["boundary_restarts"] >= 1


def test_genuine_boundary_minimum_is_kept_without_restart():
    rng = np.random.default_rng(2)  # a sample whose REML optimum is theta = 0
    g = np.repeat(np.arange(30), 4)
    d = pd.DataFrame({"g": g, "y": rng.normal(size=g.size)})  # no group variance
    res = _quiet_fit(build_design("y ~ 1 + (1 | g)", d))
    assert res.theta[0] == 0.0
    assert res.converged
    assert res.optimizer_info["boundary_restarts"] == 0


def test_verified_false_when_a_probe_is_lower():
    spec = SPECS["d204"]
    design = build_design(spec["formula"], make_data(spec))
    pls = make_pls(design)
    _, lower, _ = theta_layout(design.terms)
    theta = np.array([0.0, -0.2128531812296774, 2.668624452845999e-05])

    def f(t):
        return profiled_deviance(pls(t), design.n, design.p)

    out = verify_boundary(
        f, lambda z: (theta, None), theta, f(theta), None, lower, design.terms
    )  # an optimiser that always returns the stuck point
    assert out[2] is None
    assert out[1] < f(theta) - PROBE_TOL  # the probe itself is kept


def _group_constant(noise: float) -> pd.DataFrame:
    rng = np.random.default_rng(19)
    g = np.repeat(np.arange(12), rng.integers(2, 7, 12))
    y = 20 + 5 * rng.normal(size=12)[g] + noise * rng.normal(size=g.size)
    return pd.DataFrame({"g": g, "y": y, "t": np.arange(g.size) % 5})


@pytest.mark.parametrize("noise", [0.0, 1e-6])
def test_no_within_group_variation_is_a_typed_error(noise):
    # the old engine: converged=True, intercept 22.65 (noise 0) or 20.3 (noise 1e-6)
    with pytest.raises(ModelSpecError, match=r"no residual variation.*'g'"):
        lmm("y ~ 1 + (1 | g)", _group_constant(noise))


def test_within_group_variation_of_normal_size_fits():
    d = _group_constant(1e-2)
    res = _quiet_fit(build_design("y ~ 1 + (1 | g)", d))
    means = d.groupby("g")["y"].mean()
    assert res.converged
    np.testing.assert_allclose(res.beta[0], means.mean(), rtol=1e-6)


def test_constant_outcome_is_a_typed_error():
    # the old engine: TypeError: 'NoneType' object is not subscriptable
    d = _group_constant(0.0).assign(y=3.0)
    with pytest.raises(ModelSpecError, match="outcome 'y' is constant"):
        lmm("y ~ 1 + (1 | g)", d)


@pytest.mark.parametrize("formula", ["y ~ 1 + (1 | g) + (1 | g)", "y ~ t + (1 | g) + (1 + t | g)"])
def test_duplicate_random_terms_raise(formula):
    d = _group_constant(1.0)
    with pytest.raises(ModelSpecError, match="random terms 1 and 2 both give 'g'"):
        lmm(formula, d)


def test_intercept_and_slope_in_separate_terms_are_not_duplicates():
    d = _group_constant(1.0)
    d["y"] = d["y"] + 0.3 * d["t"] * np.random.default_rng(2).normal(size=12)[d["g"]]
    res = _quiet_fit(build_design("y ~ t + (1 | g) + (0 + t | g)", d))
    assert len(res.design.terms) == 2


def test_client_level_score_in_the_growth_shape_is_a_typed_error():
    rng = np.random.default_rng(7)
    client = np.repeat(np.arange(24), 6)
    d = pd.DataFrame(
        {
            "client": client,
            "therapist": client % 4,
            "t": np.tile(np.arange(6.0), 24),
            "y": rng.normal(size=24)[client],  # a client-level score, one per session row
        }
    )
    with pytest.raises(ModelSpecError, match="no residual variation"):
        lmm("y ~ t + (1 | therapist) + (1 + t | client)", d)
