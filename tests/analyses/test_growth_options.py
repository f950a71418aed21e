"""growth_model's controls of the within-client effect: prior outcome, detrending, early mean."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import growth_model

TV = {"alliance": "wai_sr_sum"}
#: The defaults before issue 12: person-mean deviations, no prior outcome, first lag 0.
PLAIN = {"prior_outcome": "none", "detrend": False, "first_lag": "zero"}


def process_panel(
    rng: np.random.Generator,
    *,
    n_clients: int = 100,
    n_sessions: int = 10,
    reciprocal: bool = False,
    trends: bool = False,
    effect: float = 0.0,
) -> pd.DataFrame:
    """Alliance (WAI-SR sum) and PHQ-9 sessions with a chosen alliance -> next PHQ-9 effect.

    ``reciprocal``: PHQ-9 residuals are AR(1) (rho = 0.5) and this session's residual
    lowers this session's alliance (symptoms -> alliance). ``trends``: clients' alliance
    slopes co-vary with their symptom slopes (r = -0.8). ``effect``: PHQ-9 at a session
    rises by ``effect`` per point of the previous alliance's deviation from the client's
    own alliance line.
    """
    n, T = n_clients, n_sessions
    a = rng.normal(15.0, 4.0, n)
    z = rng.normal(size=n)
    s = -0.6 + 0.3 * z
    h = 0.4 * (-0.8 * z + 0.6 * rng.normal(size=n)) if trends else np.zeros(n)
    m = rng.normal(45.0, 5.0, n)
    rho = 0.5 if reciprocal else 0.0
    e = np.zeros((n, T))
    e[:, 0] = rng.normal(0, 3.0, n)
    for t in range(1, T):
        e[:, t] = rho * e[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(0, 3.0, n)
    u = rng.normal(0, 3.0, (n, T))
    x = m[:, None] + h[:, None] * np.arange(T) + u - (0.6 * e if reciprocal else 0.0)
    y = a[:, None] + s[:, None] * np.arange(T) + e
    y[:, 1:] += effect * u[:, :-1]
    return pd.DataFrame(
        {
            "client_id": np.repeat([f"C{i:04d}" for i in range(n)], T),
            "session": np.tile(np.arange(1, T + 1), n),
            "wai_sr_sum": x.ravel(),
            "phq9_total": y.ravel(),
        }
    )


def within_estimate(data: pd.DataFrame, **kwargs) -> pd.Series:
    m = growth_model(data, time_varying=TV, therapist=None, **kwargs)
    return m.fit.fixed.loc["alliance_within_lag"]


def test_detrend_removes_trend_confounding():
    # a large null sample: the old default's within estimate is pulled away from 0 by the
    # co-varying trends; the detrended one is not (|z| < 3)
    data = process_panel(np.random.default_rng(2), n_clients=600, n_sessions=20, trends=True)
    old = within_estimate(data, **PLAIN)
    new = within_estimate(data, prior_outcome="none", detrend=True)
    assert abs(old["t"]) > 4
    assert abs(new["t"]) < 3


def test_prior_outcome_removes_reciprocal_ar1_confounding():
    data = process_panel(np.random.default_rng(2), n_clients=600, n_sessions=20, reciprocal=True)
    old = within_estimate(data, **PLAIN)
    new = within_estimate(data)  # the default: prior_outcome="within", detrend=True
    assert within_estimate(data, prior_outcome="within", detrend=True).equals(new)
    assert abs(old["t"]) > 4
    assert abs(new["t"]) < 3
    # the uncentred prior outcome, with the random intercept, over-corrects (dynamic panel bias)
    assert within_estimate(data, prior_outcome="lagged", detrend=False)["t"] > 4


def test_true_effect_recovered_with_controls():
    data = process_panel(np.random.default_rng(3), n_clients=400, n_sessions=20, effect=-0.3)
    est = within_estimate(data)  # the default
    assert est["ci_low"] < -0.3 < est["ci_high"]
    assert abs(est["estimate"] + 0.3) < 0.03  # bias within 10% of the effect


def test_prior_outcome_terms_and_exclusions():
    data = process_panel(np.random.default_rng(4), n_clients=30, n_sessions=12)
    data.loc[5, "phq9_total"] = np.nan  # client 0, session 6: its row and the next lose out
    m = growth_model(data, time_varying=TV, therapist=None, prior_outcome="within", detrend=False)
    assert "phq9_total_prior_within" in m.formula
    excl = m.exclusions.set_index("reason")["n_rows"]
    assert excl["missing outcome 'phq9_total'"] == 1
    # the first sessions (first_lag="drop") under the lag; the session after the missing one
    assert excl["no previous session for lagged 'wai_sr_sum' (client's first session)"] == 30
    assert excl["no previous outcome 'phq9_total' for the prior-outcome term"] == 1
    assert m.fit.nobs + excl.sum() == len(data)
    zero = growth_model(data, time_varying=TV, therapist=None, detrend=False, first_lag="zero")
    excl = zero.exclusions.set_index("reason")["n_rows"]
    assert excl["no previous outcome 'phq9_total' for the prior-outcome term"] == 30 + 1
    # the prior term is the previous outcome minus the client's mean outcome
    c0 = data[data["client_id"] == "C0000"]
    row = m.data[(m.data["client_id"] == "C0000") & (m.data["session"] == 3)].iloc[0]
    expected = c0["phq9_total"].iloc[1] - c0["phq9_total"].mean()
    assert row["phq9_total_prior_within"] == pytest.approx(expected)
    m.trajectories()  # the prior term is set to its centre
    lagged = growth_model(
        data, time_varying=TV, therapist=None, prior_outcome="lagged", detrend=False
    )
    assert lagged.data["phq9_total_prior"].mean() == pytest.approx(0.0, abs=1e-9)


def test_detrended_prior_outcome_is_previous_residual_from_own_line():
    data = process_panel(np.random.default_rng(8), n_clients=20, n_sessions=12)
    m = growth_model(data, time_varying=TV, therapist=None)  # the default
    assert m.spec.prior_outcome == "within"
    assert m.spec.detrend
    c0 = data[data["client_id"] == "C0000"]
    line = np.polyval(np.polyfit(c0["session"], c0["phq9_total"], 1), c0["session"])
    resid = (c0["phq9_total"] - line).to_numpy()
    got = m.data.loc[m.data["client_id"] == "C0000", "phq9_total_prior_within"].to_numpy()
    np.testing.assert_allclose(got, resid[:-1], atol=1e-9)


def test_short_series_warns_below_the_benchmarked_length():
    from engagestats.analyses.growth import SHORT_SERIES

    # 6 sessions: the first has no previous one, so 5 analysed per client (< SHORT_SERIES)
    data = process_panel(np.random.default_rng(5), n_clients=40, n_sessions=SHORT_SERIES)
    for prior in ("within", "lagged"):
        with pytest.warns(es.DataWarning, match="short series"):
            growth_model(data, time_varying=TV, therapist=None, prior_outcome=prior)
    # one session more: the median reaches SHORT_SERIES, no warning (pytest: errors)
    data = process_panel(np.random.default_rng(5), n_clients=40, n_sessions=SHORT_SERIES + 1)
    growth_model(data, time_varying=TV, therapist=None)
    # and none without a prior outcome
    short = process_panel(np.random.default_rng(5), n_clients=40, n_sessions=4)
    growth_model(short, time_varying=TV, therapist=None, prior_outcome="none", random_slope=False)


def test_early_between_is_mean_of_first_sessions():
    data = process_panel(np.random.default_rng(6), n_clients=30, n_sessions=8)
    data.loc[1, "wai_sr_sum"] = np.nan  # client 0's early mean uses sessions 1 and 3
    m = growth_model(data, time_varying=TV, therapist=None, between="early")
    early = data[data["session"] <= 3].groupby("client_id")["wai_sr_sum"].mean()
    got = m.data.drop_duplicates("client_id").set_index("client_id")["alliance_between"]
    np.testing.assert_allclose(got, early.loc[got.index] - early.mean(), atol=1e-10)
    whole = growth_model(data, time_varying=TV, therapist=None)
    # the within part is unchanged: deviation from the all-session mean
    np.testing.assert_allclose(m.data["alliance_within_lag"], whole.data["alliance_within_lag"])
    k2 = growth_model(data, time_varying=TV, therapist=None, between="early", early_sessions=2)
    assert not np.allclose(k2.data["alliance_between"], m.data["alliance_between"])


def test_bad_options():
    data = process_panel(np.random.default_rng(7), n_clients=10, n_sessions=5)
    with pytest.raises(es.DataValidationError):
        growth_model(data, time_varying=TV, therapist=None, prior_outcome="yes")
    with pytest.raises(es.DataValidationError):
        growth_model(data, time_varying=TV, therapist=None, between="late")
    with pytest.raises(es.DataValidationError):
        growth_model(data, time_varying=TV, therapist=None, between="early", early_sessions=0)
