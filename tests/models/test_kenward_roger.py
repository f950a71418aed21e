"""Kenward-Roger inference against pbkrtest / lmerTest (tests/reference/kr) and a dense rebuild."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engagestats.errors import ModelSpecError
from engagestats.models import _kenward_roger, lmm
from engagestats.models.stats import covariance_blocks

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "kr"
with (REF_DIR / "kr.json").open() as fh:
    REF = json.load(fh)

SUMMARY = 'summary(fit, ddf = "Kenward-Roger")$coefficients'
VCOV_ADJ = "as.matrix(vcovAdj(fit))"
W_KEY = 'attr(vcovAdj(fit), "W")'
JOINT_RHS = 'contest(fit, L, rhs = rhs, ddf = "Kenward-Roger", joint = TRUE)'
JOINT_0 = 'contest(fit, L, ddf = "Kenward-Roger", joint = TRUE)'
ROWS = 'contest1D(fit, L[i, ], rhs = rhs[i], ddf = "Kenward-Roger") for each row i'
KRMODCOMP = "KRmodcomp(fit, L)$test"
GROUP_COLS = {"Subject": str, "client": str, "therapist": str}

# Our REML optimum agrees with lme4's (bobyqa, rhoend = 1e-10) to ~4e-6 in theta, and
# everything Kenward-Roger computes is a smooth function of the variance components: the
# agreement below is ~1e-7 relative, so rtol 1e-5 leaves a margin without hiding errors.
# p values get 1e-4: a relative error e in t moves p by about t * e * |d log p / dt|.
RTOL = 1e-5
RTOL_P = 1e-4


@functools.cache
def fitted(name: str):
    model = REF["models"][name]
    data = pd.read_csv(REF_DIR / model["data"], dtype=GROUP_COLS)
    return lmm(model["formula"], data)


@pytest.fixture(scope="module", params=sorted(REF["models"]))
def case(request):
    return fitted(request.param), REF["models"][request.param]


def test_versions_recorded():
    assert set(REF["versions"]) == {"R", "lme4", "lmerTest", "pbkrtest"}


def test_same_fit_as_lme4(case):
    fit, ref = case
    np.testing.assert_allclose(fit.theta.to_numpy(), ref['getME(fit, "theta")'], rtol=1e-5)
    np.testing.assert_allclose(fit.vcov.to_numpy(), ref["vcov(fit)"], rtol=RTOL)


def test_vcov_adj(case):
    fit, ref = case
    kr = fit._kr
    np.testing.assert_allclose(kr.vcov_beta, ref[VCOV_ADJ], rtol=RTOL)
    np.testing.assert_allclose(kr.vcov_unadjusted, ref["vcov(fit)"], rtol=RTOL)
    # W has entries near zero (covariances of nearly independent components): absolute
    # tolerance on the scale of W, relative elsewhere.
    W = np.asarray(ref[W_KEY])
    np.testing.assert_allclose(kr.W, W, rtol=1e-4, atol=1e-5 * np.abs(W).max())


def test_fixed_effects_table(case):
    fit, ref = case
    got = fit.fixed_effects(ddf="kenward-roger")
    want = ref[SUMMARY]
    assert got.index.tolist() == want["term"]
    assert got.columns.tolist() == ["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]
    np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=RTOL)
    for col in ("se", "df", "t"):
        np.testing.assert_allclose(got[col], want[col], rtol=RTOL, err_msg=col)
    np.testing.assert_allclose(got["p"], want["p"], rtol=RTOL_P)


def test_fixed_effects_ci_uses_kr_df(case):
    fit, ref = case
    got = fit.fixed_effects(ddf="kenward-roger", level=0.9)
    want = ref[SUMMARY]
    half = stats.t.ppf(0.95, np.asarray(want["df"])) * np.asarray(want["se"])
    np.testing.assert_allclose(got["ci_low"], np.asarray(want["estimate"]) - half, rtol=RTOL)
    np.testing.assert_allclose(got["ci_high"], np.asarray(want["estimate"]) + half, rtol=RTOL)


def test_contrast_rows(case):
    fit, ref = case
    got = fit.contrast(ref["L"], rhs=np.asarray(ref["rhs"]), ddf="kenward-roger")
    want = ref[ROWS]
    for col in ("estimate", "se", "df", "t"):
        np.testing.assert_allclose(got[col], want[col], rtol=RTOL, err_msg=col)
    np.testing.assert_allclose(got["p"], want["p"], rtol=RTOL_P)


@pytest.mark.parametrize("key", [JOINT_RHS, JOINT_0])
def test_contrast_joint(case, key):
    fit, ref = case
    rhs = np.asarray(ref["rhs"]) if key == JOINT_RHS else 0.0
    got = fit.contrast(ref["L"], rhs=rhs, joint=True, ddf="kenward-roger")
    want = ref[key]
    assert got.columns.tolist() == ["sum_sq", "mean_sq", "num_df", "den_df", "f", "p"]
    assert got["num_df"].item() == want["num_df"]
    for col in ("sum_sq", "mean_sq", "den_df", "f"):
        np.testing.assert_allclose(got[col].item(), want[col], rtol=RTOL, err_msg=col)
    np.testing.assert_allclose(got["p"].item(), want["p"], rtol=RTOL_P)


def test_scale_factor_matches_krmodcomp(case):
    fit, ref = case
    q, m, scale = fit._kr.adjust(np.asarray(ref["L"], dtype=float))
    want = ref[KRMODCOMP]
    assert q == want["ndf"]
    np.testing.assert_allclose([m, scale], [want["ddf"], want["F.scaling"]], rtol=RTOL)


def test_balanced_sleepstudy_gives_classical_df():
    # Balanced random-slope design: Kenward-Roger recovers the exact df (18 subjects - 1)
    # and leaves vcov unchanged (pbkrtest gives the same).
    fit = fitted("sleepstudy")
    got = fit.fixed_effects(ddf="kenward-roger")
    np.testing.assert_allclose(got["df"], 17.0, rtol=1e-9)
    np.testing.assert_allclose(fit._kr.vcov_beta, fit.vcov.to_numpy(), rtol=1e-9)


# ------------------------------------------------- dense rebuild of pbkrtest (n x n)


def _dense_vcov_adj(fit) -> tuple[np.ndarray, np.ndarray]:
    """pbkrtest's vcovAdj16_internal, written out with dense n x n matrices."""
    design, f = fit._fit.design, fit._fit
    n = design.n
    G, gamma = [], []
    for term, cov in zip(design.terms, covariance_blocks(f), strict=True):
        for c in range(term.k):
            for r in range(c, term.k):
                zr = np.zeros((n, term.n_levels))
                zc = np.zeros((n, term.n_levels))
                zr[np.arange(n), term.codes] = term.Z[:, r]
                zc[np.arange(n), term.codes] = term.Z[:, c]
                G.append(zr @ zr.T if r == c else zr @ zc.T + zc @ zr.T)
                gamma.append(cov[r, c])
    G.append(np.eye(n))
    gamma.append(f.sigma**2)
    V = sum(g * m for g, m in zip(gamma, G, strict=True))
    S = np.linalg.inv(V)
    X = design.X
    phi = np.linalg.inv(X.T @ S @ X)
    T = S @ X
    H = [g @ S for g in G]
    OX = [h @ X for h in H]
    P = [-(o.T @ T) for o in OX]
    r = len(G)
    Q = {(i, j): OX[i].T @ S @ OX[j] for i in range(r) for j in range(r)}
    ie2 = np.array(
        [
            [
                np.sum(H[i].T * H[j])
                - 2 * np.sum(phi * Q[i, j])
                + np.sum((phi @ P[i]) * (P[j] @ phi))
                for j in range(r)
            ]
            for i in range(r)
        ]
    )
    W = 2 * np.linalg.inv(ie2)
    U = sum(W[i, j] * (Q[i, j] - P[i] @ phi @ P[j]) for i in range(r) for j in range(r))
    return phi + 2 * phi @ U @ phi, W


@pytest.fixture(scope="module")
def crossed_fit():
    rng = np.random.default_rng(7)
    n = 90
    d = pd.DataFrame(
        {
            "a": rng.integers(0, 8, n).astype(str),
            "b": rng.integers(0, 5, n).astype(str),
            "x": rng.normal(size=n),
        }
    )
    d["y"] = (
        1.0
        + 0.5 * d["x"]
        + rng.normal(0, 1.0, 8)[d["a"].astype(int)]
        + rng.normal(0, 0.5, 8)[d["a"].astype(int)] * d["x"]
        + rng.normal(0, 0.8, 5)[d["b"].astype(int)]
        + rng.normal(0, 1.0, n)
    )
    return lmm("y ~ x + (1 + x | a) + (1 | b)", d)


def test_matches_dense_rebuild(crossed_fit):
    fit = crossed_fit
    phi_a, W = _dense_vcov_adj(fit)
    kr = _kenward_roger.kenward_roger(fit._fit)
    np.testing.assert_allclose(kr.vcov_beta, phi_a, rtol=1e-8)
    np.testing.assert_allclose(kr.W, W, rtol=1e-7, atol=1e-10 * np.abs(W).max())
    # ...and the adjustment is not the identity on this unbalanced crossed design
    assert np.max(np.abs(kr.vcov_beta / kr.vcov_unadjusted - 1)) > 1e-3


# ------------------------------------------------------------------------ errors


def test_ml_fit_refused():
    fit = lmm(REF["models"]["sleepstudy"]["formula"], _sleep(), reml=False)
    with pytest.raises(ModelSpecError, match="REML"):
        fit.fixed_effects(ddf="kenward-roger")
    with pytest.raises(ModelSpecError, match="REML"):
        fit.contrast([0, 1], ddf="kenward-roger")


def _sleep() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / REF["models"]["sleepstudy"]["data"], dtype=GROUP_COLS)


def test_unknown_ddf():
    with pytest.raises(ModelSpecError, match="ddf must be one of"):
        fitted("sleepstudy").fixed_effects(ddf="between-within")


def test_ddf_spelling_is_forgiving():
    fit = fitted("threelevel_small")
    a = fit.fixed_effects(ddf="Kenward-Roger")
    b = fit.fixed_effects(ddf="kenward_roger")
    pd.testing.assert_frame_equal(a, b)


def test_satterthwaite_default_unchanged():
    fit = fitted("threelevel_small")
    pd.testing.assert_frame_equal(fit.fixed_effects(), fit.fixed)
    L = np.asarray(REF["models"]["threelevel_small"]["L"])
    pd.testing.assert_frame_equal(fit.contrast(L, ddf="satterthwaite"), fit.contrast(L))
    assert not np.allclose(
        fit.contrast(L, ddf="kenward-roger")["df"], fit.contrast(L)["df"], rtol=1e-3
    )


def test_rank_deficient_joint_refused():
    fit = fitted("threelevel_small")
    L = [[0, 1, 0, 0], [0, 2, 0, 0]]
    with pytest.raises(ModelSpecError, match="full row rank"):
        fit.contrast(L, joint=True, ddf="kenward-roger")


def test_zero_contrast_row_refused():
    fit = fitted("threelevel_small")
    for ddf in ("kenward-roger", "satterthwaite"):
        with pytest.raises(ModelSpecError, match=r"row\(s\) \[1\]"):
            fit.contrast([[0, 0, 0, 0], [0, 1, 0, 0]], ddf=ddf)


def test_statsmodels_engine_refused():
    d = pd.read_csv(REF_DIR / "threelevel_small.csv", dtype=GROUP_COLS)
    fit = lmm("phq ~ session + (1 | client)", d, engine="statsmodels")
    with pytest.raises(ModelSpecError, match="statsmodels"):
        fit.fixed_effects(ddf="kenward-roger")


def test_too_many_random_effects(monkeypatch):
    monkeypatch.setattr(_kenward_roger, "MAX_RANDOM_EFFECTS", 10)
    with pytest.raises(ModelSpecError, match="satterthwaite"):
        _kenward_roger.kenward_roger(fitted("sleepstudy")._fit)
