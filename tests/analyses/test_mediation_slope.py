"""mediation(outcome="slope") against lmer (tests/reference/mediation/reference_slope.R).

The growth-slope design: the outcome is the PHQ-9 change per session over the sessions after
the early window. a, b, c' and c, their SEs and Satterthwaite df are compared with
lmerTest to rtol 1e-5 (df 1e-4); the Monte-Carlo interval (10^6 draws here and in R, two
generators) within 5 Monte-Carlo standard errors of the difference of two quantiles.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import engagestats as es
from engagestats.analyses import MediationResult, mediation
from engagestats.errors import DataValidationError, ModelSpecError

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "mediation"
REF = json.loads((REF_DIR / "reference_slope.json").read_text())
SESSIONS = pd.read_csv(REF_DIR / "sessions.csv")
N_MC = 1_000_000


@pytest.fixture(scope="module")
def sample():
    return es.load_sample()


@pytest.fixture(scope="module")
def slope(sample) -> MediationResult:
    return mediation(sample, outcome="slope", n_draws=N_MC, seed=5)


def row(res: MediationResult, effect: str) -> pd.Series:
    return res.effects.set_index("effect").loc[effect]


@pytest.mark.parametrize(
    ("effect", "ref"), [("a_path", "a"), ("b_path", "b"), ("direct", "cp"), ("total", "c")]
)
def test_paths_match_lmer(slope, effect, ref):
    got, want = row(slope, effect), REF[ref]
    np.testing.assert_allclose(got.estimate, want["estimate"], rtol=1e-5, err_msg=want["call"])
    np.testing.assert_allclose(got.se, want["se"], rtol=1e-5, err_msg=want["call"])
    np.testing.assert_allclose(got.df, want["df"], rtol=1e-4, err_msg=want["call"])


def test_growth_model_matches_lmer_in_every_term(slope):
    ref = REF["outcome_fixed"]
    table = slope.paths["outcome"]
    assert table.index.tolist() == ref["term"]
    np.testing.assert_allclose(table["estimate"], ref["estimate"], rtol=1e-5)
    np.testing.assert_allclose(table["se"], ref["se"], rtol=1e-5)
    vc = slope.fits["outcome"].varcorr
    np.testing.assert_allclose(vc["vcov"], REF["outcome_varcorr"]["vcov"], rtol=1e-4)


def test_indirect_is_the_product_and_its_mc_interval_matches_r(slope):
    ind = row(slope, "indirect")
    np.testing.assert_allclose(ind.estimate, REF["a"]["estimate"] * REF["b"]["estimate"], rtol=2e-5)
    mc = REF["mc"]
    assert mc["n_draws"] == N_MC
    # MC SE of a 2.5% / 97.5% quantile: sqrt(p(1 - p) / n) / density; the density of a*b at
    # its tails is approximated by a normal with R's draw SD. Two independent runs: x sqrt(2).
    sd = mc["sd_indirect"]
    q_se = np.sqrt(0.025 * 0.975 / N_MC) / (stats.norm.pdf(1.96) / sd)
    tol = 5 * np.sqrt(2) * q_se
    assert tol < 1e-4  # ~4e-5: the comparison is sharp
    np.testing.assert_allclose([ind.ci_low, ind.ci_high], mc["indirect"], atol=tol)
    prop = row(slope, "proportion_mediated")
    np.testing.assert_allclose([prop.ci_low, prop.ci_high], mc["proportion"], atol=2e-3)
    assert ind.ci_method == f"Monte Carlo ({N_MC} draws)"


def test_sessions_are_those_after_the_window(slope):
    assert len(slope.data) == REF["n_clients"]
    assert len(slope.sessions) == REF["n_sessions"]
    got = slope.sessions.sort_values(["client_id", "session"]).reset_index(drop=True)
    want = SESSIONS.sort_values(["client_id", "session"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)
    assert (slope.sessions["session"] > 3).all()
    np.testing.assert_array_equal(slope.sessions["time_post"], slope.sessions["session"] - 4)
    assert (
        slope.exclusions.set_index("reason").loc[
            "no scored 'phq9_total' after session 3", "n_clients"
        ]
        + len(slope.data)
        == 330
    )


def test_session_level_dataframe_gives_the_study_result(slope):
    frame = SESSIONS.drop(columns="time_post")
    res = mediation(frame, outcome="slope", n_draws=2000, seed=5)
    pd.testing.assert_frame_equal(res.paths["outcome"], slope.paths["outcome"], rtol=1e-8)
    pd.testing.assert_frame_equal(res.paths["mediator"], slope.paths["mediator"], rtol=1e-8)


def test_estimand_and_interpretation_name_the_slope(slope):
    assert "change in phq9_total per session" in slope.estimand
    assert "time_post = session - 4" in slope.estimand
    text = slope.interpretation()
    assert "with the change in phq9_total per session after session 3 via early_alliance" in text
    for word in ("cause", "leads to", "because", "impact", "effect of", "drives"):
        assert word not in text.lower()
    assert "2814 sessions" in slope.summary()
    assert any("singular" in n for n in slope.notes)  # mediator model, as in R
    assert REF["singular"]["mediator"]
    assert not REF["singular"]["outcome"]


def test_known_slope_mediation_is_recovered():
    # a = 0.8 (mediator per unit x), b = -0.15 (PHQ-9 change per session per unit mediator),
    # c' = -0.1: the indirect slope association is -0.12
    rng = np.random.default_rng(8)
    n_t, per, k, n_s = 25, 12, 3, 10
    n_c = n_t * per
    ther = np.repeat(np.arange(n_t), per)
    x = rng.normal(size=n_c)
    m = 0.8 * x + rng.normal(scale=0.3, size=n_t)[ther] + rng.normal(size=n_c)
    c = rng.normal(size=n_c)
    r0, r1 = rng.normal(scale=2.0, size=n_c), rng.normal(scale=0.1, size=n_c)
    rows = []
    for i in range(n_c):
        for s in range(k + 1, k + 1 + n_s):
            t = s - (k + 1)
            slope_i = -0.5 - 0.1 * x[i] - 0.15 * m[i] + 0.05 * c[i] + r1[i]
            y = 15 + r0[i] + 0.5 * c[i] + slope_i * t + rng.normal(scale=1.5)
            rows.append((f"c{i}", f"t{ther[i]}", s, y, x[i], m[i], c[i]))
    d = pd.DataFrame(rows, columns=["client_id", "therapist_id", "session", "y", "x", "m", "c"])
    res = mediation(
        d, outcome="slope", slope_of="y", exposure="x", mediator="m", covariates=["c"], seed=1
    )
    ind, direct = row(res, "indirect"), row(res, "direct")
    assert ind.ci_low < -0.12 < ind.ci_high
    assert ind.ci_high < -0.06
    assert direct.ci_low < -0.1 < direct.ci_high


def test_slope_design_errors(sample):
    with pytest.raises(ModelSpecError, match="method='lmm'"):
        mediation(sample, outcome="slope", method="ols")
    bad = SESSIONS.drop(columns="time_post").copy()
    bad.loc[bad.index[1], "early_alliance"] = 1.0  # varies within client C0001
    with pytest.raises(DataValidationError, match="constant"):
        mediation(bad, outcome="slope", n_draws=500)
    with pytest.raises(DataValidationError, match="time_post"):
        mediation(
            SESSIONS.drop(columns="time_post").rename(columns={"phq9_first": "time_post"}),
            outcome="slope",
            covariates=["time_post"],
        )
    with pytest.raises(DataValidationError, match="gad"):
        mediation(SESSIONS.drop(columns="time_post"), outcome="slope", slope_of="gad7_total")
