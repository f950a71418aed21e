"""growth_model with column names that are not R-syntactic (issue 18): quoted, same fit."""

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import expected_change, growth_model
from engagestats.scoring import ensure_scores

ODD = {"autonomous": "my var", "readiness": "2nd", "format": "x-1"}


@pytest.fixture(scope="module")
def panels():
    study = es.simulate_study(n_therapists=8, clients_per_therapist=8, max_sessions=12, seed=6)
    study = ensure_scores(study, ["srq_autonomous", "urica_readiness", "phq9_total"])
    panel = study.panel(attended_only=True)
    clean = panel.assign(
        autonomous=panel["srq_autonomous"], readiness=panel["urica_readiness"], fmt=panel["format"]
    )[["therapist_id", "client_id", "session", "phq9_total", "autonomous", "readiness", "fmt"]]
    odd = clean.rename(columns={"autonomous": "my var", "readiness": "2nd", "fmt": "x-1"})
    return clean, odd


def _fit(panel, names, time_method="session"):
    return growth_model(
        panel,
        predictors=[names[0], names[1]],
        moderators=[names[2]],
        time_method=time_method,
        higher_is_worse=True,
    )


@pytest.mark.parametrize("time_method", ["session", "log"])
def test_odd_names_fit_like_clean_names(panels, time_method):
    clean, odd = panels
    a = _fit(clean, ["autonomous", "readiness", "fmt"], time_method)
    b = _fit(odd, ["my var", "2nd", "x-1"], time_method)
    for quoted in ("`my var`", "`2nd`", "`x-1`"):
        assert quoted in b.formula
    # the same model: same estimates, SEs and variance components, coefficient by coefficient
    np.testing.assert_allclose(b.fit.fixed.to_numpy(), a.fit.fixed.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(b.fit.varcorr["vcov"], a.fit.varcorr["vcov"], rtol=1e-6)
    # effects show plain column names, in the same rows
    ea, eb = a.effects(), b.effects()
    rename = {"autonomous": "my var", "readiness": "2nd", "fmt": "x-1"}
    expect = ea["term"].replace(
        {t: ":".join(rename.get(p, p) for p in t.split(":")) for t in ea["term"]}, regex=False
    )
    assert eb["term"].tolist() == expect.tolist()
    assert not eb["term"].str.contains("`").any()
    np.testing.assert_allclose(eb["estimate"], ea["estimate"], rtol=1e-8)
    # the table, moderation, trajectories and bands follow
    tb = b.table()
    assert not tb["term"].str.contains("`").any()
    assert {"time:my var", "log_time:my var"} & set(tb["term"])
    np.testing.assert_allclose(tb["estimate"], a.table()["estimate"], rtol=1e-6)
    ma, mb = a.moderation(), b.moderation()
    np.testing.assert_allclose(mb["tests"]["f"], ma["tests"]["f"], rtol=1e-6)
    np.testing.assert_allclose(
        mb["simple_slopes"]["estimate"], ma["simple_slopes"]["estimate"], rtol=1e-6
    )
    ta = a.trajectories(by="fmt", times=[0, 6])
    tb_ = b.trajectories(by="x-1", times=[0, 6])
    np.testing.assert_allclose(tb_["estimate"], ta["estimate"], rtol=1e-8)
    np.testing.assert_allclose(
        expected_change(b, intake={"my var": 5.0}, times=[0, 6])["pi_high"],
        expected_change(a, intake={"autonomous": 5.0}, times=[0, 6])["pi_high"],
        rtol=1e-8,
    )


def test_a_name_with_a_backtick_is_refused(panels):
    clean, _ = panels
    with pytest.raises(es.FormulaError, match="backtick"):
        growth_model(
            clean.rename(columns={"autonomous": "a`b"}), predictors=["a`b"], higher_is_worse=True
        )


def test_quoted_grouping_and_outcome_columns(panels):
    clean, _ = panels
    odd = clean.rename(columns={"client_id": "client id", "phq9_total": "phq 9"})
    m = growth_model(
        odd, outcome="phq 9", client="client id", predictors=["autonomous"], higher_is_worse=True
    )
    ref = growth_model(clean, predictors=["autonomous"], higher_is_worse=True)
    assert m.formula.startswith("`phq 9` ~")
    assert "| `client id`)" in m.formula
    np.testing.assert_allclose(m.fit.fixed.to_numpy(), ref.fit.fixed.to_numpy(), rtol=1e-8)
    assert isinstance(m.effects(), pd.DataFrame)
