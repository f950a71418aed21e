"""engagestats.mediation against lavaan, lm and lmer (tests/reference/mediation/reference.R).

Point estimates and SEs are compared tightly; the Monte-Carlo intervals loosely (R drew
1e6 draws with another generator; the interval ends have MC error ~1e-3 at 2e4 draws).
lavaan's ML standard errors divide the residual variance by n, OLS by n - k: the test
rescales by sqrt((n - k) / n) before comparing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import MediationResult, mediation
from engagestats.errors import DataValidationError

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "mediation"
REF = json.loads((REF_DIR / "reference.json").read_text())
CLIENTS = pd.read_csv(REF_DIR / "clients.csv")


@pytest.fixture(scope="module")
def ols() -> MediationResult:
    return mediation(CLIENTS, method="ols", n_draws=20_000, seed=7)


@pytest.fixture(scope="module")
def mixed() -> MediationResult:
    return mediation(CLIENTS, method="lmm", n_draws=20_000, seed=7)


def row(res: MediationResult, effect: str) -> pd.Series:
    return res.effects.set_index("effect").loc[effect]


def test_ols_matches_lavaan_estimates_and_ml_ses(ols):
    lav, n = REF["lavaan"], REF["n"]
    a, b, cp = row(ols, "a_path"), row(ols, "b_path"), row(ols, "direct")
    for got, ref in ((a, "a"), (b, "b"), (cp, "cp"), (row(ols, "indirect"), "ab")):
        np.testing.assert_allclose(got.estimate, lav[ref][0]["est"], rtol=1e-10)
    # total: separate regression, equal to lavaan's cp + a*b (exact for OLS on one sample)
    np.testing.assert_allclose(row(ols, "total").estimate, lav["total"][0]["est"], rtol=1e-10)
    ml = {  # OLS SE -> ML SE: mediator model k = 3, outcome model k = 4
        "a": a.se * np.sqrt((n - 3) / n),
        "b": b.se * np.sqrt((n - 4) / n),
        "cp": cp.se * np.sqrt((n - 4) / n),
    }
    for k, v in ml.items():
        np.testing.assert_allclose(v, lav[k][0]["se"], rtol=1e-6)
    sobel = np.sqrt(b.estimate**2 * ml["a"] ** 2 + a.estimate**2 * ml["b"] ** 2)
    np.testing.assert_allclose(sobel, lav["ab"][0]["se"], rtol=1e-6)


def test_ols_matches_lm(ols):
    ref = REF["ols"]
    np.testing.assert_allclose(
        row(ols, "total")[["ci_low", "ci_high"]].astype(float), ref["ci_c"], rtol=1e-8
    )
    np.testing.assert_allclose(
        row(ols, "direct")[["ci_low", "ci_high"]].astype(float), ref["ci_cp"], rtol=1e-8
    )
    np.testing.assert_allclose(row(ols, "total").se, ref["se_c"], rtol=1e-8)
    ind = row(ols, "indirect")
    np.testing.assert_allclose(ind.se, np.hypot(ref["b"] * ref["se_a"], ref["a"] * ref["se_b"]))


@pytest.mark.parametrize("which", ["ols", "lmm"])
def test_monte_carlo_intervals_match_r_loosely(which, ols, mixed):
    res, ref = (ols, REF["ols"]) if which == "ols" else (mixed, REF["lmm"])
    ind, prop = row(res, "indirect"), row(res, "proportion_mediated")
    # interval width ~0.23; 2e4 draws give quantile MC error ~0.002
    np.testing.assert_allclose([ind.ci_low, ind.ci_high], ref["mc"]["indirect"], atol=0.008)
    np.testing.assert_allclose([prop.ci_low, prop.ci_high], ref["mc"]["proportion"], atol=0.004)


def test_lmm_matches_lmer(mixed):
    ref = REF["lmm"]
    for eff, est, se in (
        ("a_path", "a", "se_a"),
        ("b_path", "b", "se_b"),
        ("direct", "cp", "se_cp"),
        ("total", "c", "se_c"),
    ):
        np.testing.assert_allclose(row(mixed, eff).estimate, ref[est], rtol=1e-6, err_msg=eff)
        np.testing.assert_allclose(row(mixed, eff).se, ref[se], rtol=1e-5, err_msg=eff)
    np.testing.assert_allclose(row(mixed, "direct").df, ref["df_cp"], rtol=1e-4)
    np.testing.assert_allclose(row(mixed, "total").df, ref["df_c"], rtol=1e-4)
    np.testing.assert_allclose(row(mixed, "indirect").estimate, ref["a"] * ref["b"], rtol=1e-6)
    # the mediator model's therapist variance is 0 here: reported, not hidden
    assert any("singular" in n for n in mixed.notes)


def test_monte_carlo_is_seeded_and_n_draws_is_used():
    r1 = mediation(CLIENTS, method="ols", n_draws=500, seed=3)
    r2 = mediation(CLIENTS, method="ols", n_draws=500, seed=3)
    r3 = mediation(CLIENTS, method="ols", n_draws=500, seed=4)
    pd.testing.assert_frame_equal(r1.effects, r2.effects)
    assert row(r1, "indirect").ci_low != row(r3, "indirect").ci_low
    assert row(r1, "indirect").ci_method == "Monte Carlo (500 draws)"


def test_monte_carlo_interval_covers_a_known_product():
    # a = 0.5, b = 0.4 by construction; the interval must sit around 0.2, not at 0
    rng = np.random.default_rng(11)
    n = 400
    x = rng.normal(size=n)
    c = rng.normal(size=n)
    m = 0.5 * x + 0.3 * c + rng.normal(size=n)
    y = 0.4 * m + 0.1 * x + 0.2 * c + rng.normal(size=n)
    d = pd.DataFrame({"x": x, "m": m, "y": y, "c": c})
    res = mediation(d, exposure="x", mediator="m", outcome="y", covariates=["c"], method="ols")
    ind = row(res, "indirect")
    assert ind.ci_low < 0.2 < ind.ci_high
    assert ind.ci_low > 0.08
    # exact OLS decomposition on one sample: total = direct + indirect
    np.testing.assert_allclose(
        row(res, "total").estimate, row(res, "direct").estimate + ind.estimate, rtol=1e-10
    )


def test_study_input_builds_the_client_table_and_counts_exclusions():
    res = mediation(es.load_sample(), n_draws=1000)
    assert len(res.data) == REF["n"]
    assert res.exclusions["n_clients"].sum() + len(res.data) == 330
    merged = res.data.merge(CLIENTS, on="client_id", suffixes=("", "_ref"))
    assert len(merged) == REF["n"]
    np.testing.assert_allclose(merged["early_alliance"], merged["early_alliance_ref"])
    # the outcome is measured after the early window that defines the mediator
    assert (res.data["phq9_last_session"] > 3).all()


def test_summary_states_estimand_and_caveat_without_causal_words(mixed):
    text = mixed.summary()
    assert "Imai, Keele & Tingley" in text
    assert "sequential ignorability" in text
    assert "Indirect association of srq_autonomous with phq9_last via early_alliance" in text
    assert "Estimand:" in text
    assert "within therapist" in mixed.estimand
    interp = mixed.interpretation().lower()
    for word in ("cause", "leads to", "because", "impact", "effect of", "drives", "influence"):
        assert word not in interp
    assert "<table" in mixed._repr_html_()
    assert re.search(r"indirect -?\d", repr(mixed))


def test_effects_table_is_tidy(mixed):
    eff = mixed.effects
    assert eff.columns.tolist() == [
        "effect",
        "estimate",
        "se",
        "df",
        "p",
        "ci_low",
        "ci_high",
        "ci_method",
    ]
    assert (eff["ci_low"] <= eff["ci_high"]).all()
    assert np.isnan(row(mixed, "indirect").p)  # no normal-theory p for a product


def test_bad_input_raises_typed_errors():
    with pytest.raises(DataValidationError, match="no_such"):
        mediation(CLIENTS, exposure="no_such", method="ols")
    with pytest.raises(DataValidationError, match="method"):
        mediation(CLIENTS, method="sem")
    with pytest.raises(DataValidationError, match="n_draws"):
        mediation(CLIENTS, n_draws=10)
    with pytest.raises(DataValidationError, match="different"):
        mediation(CLIENTS, covariates=["srq_autonomous"], method="ols")
    bad = CLIENTS.assign(group=np.where(CLIENTS["phq9_first"] > 10, "hi", "lo"))
    with pytest.raises(DataValidationError, match="numeric"):
        mediation(bad, covariates=["group"], method="ols")


def test_missing_values_are_excluded_and_counted():
    d = CLIENTS.copy()
    d.loc[:9, "early_alliance"] = np.nan
    d.loc[5:14, "phq9_first"] = np.nan
    res = mediation(d, method="ols", n_draws=500)
    ex = res.exclusions.set_index("reason")["n_clients"]
    assert ex["missing mediator 'early_alliance'"] == 10
    assert ex["missing covariate 'phq9_first'"] == 5  # rows 10-14; 5-9 already counted
    assert len(res.data) == REF["n"] - 15
