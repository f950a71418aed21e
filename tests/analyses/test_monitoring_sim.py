"""Progress-monitoring bands and a simulation study of the lagged alliance estimate."""

import warnings

import numpy as np
import pytest

import engagestats as es
from engagestats.analyses import expected_change, growth_model, off_track


def test_band_coverage_for_new_clients(sample_model):
    # new clients from the same generating model, independent of the fitting sample
    new = es.simulate_study(n_therapists=30, clients_per_therapist=11, max_sessions=20, seed=77)
    flags = off_track(sample_model, new)
    scored = flags[flags["status"] != "no score"]
    inside = (scored["observed"] >= scored["pi_low"]) & (scored["observed"] <= scored["pi_high"])
    # ~3700 sessions of 330 clients: the clustered Monte-Carlo SE of the share is about 0.01,
    # so 0.93-0.97 is the nominal 0.95 +- 2 SE
    assert 0.93 <= inside.mean() <= 0.97
    assert scored["off_track"].mean() < 0.05


def test_expected_change_matches_formula(sample_model):
    band = expected_change(sample_model, intake={"autonomous": 6.0}, times=[0, 5])
    fit = sample_model.fit
    vc = fit.varcorr
    var = vc[vc["var2"].isna() & (vc["var1"] == "(Intercept)")]
    var_re = float(var["vcov"].sum())
    assert band["sd_prediction"].iloc[0] ** 2 == pytest.approx(
        var_re + fit.sigma**2 + band["se_mean"].iloc[0] ** 2, rel=1e-10
    )
    assert (band["sd_prediction"] > band["se_mean"]).all()


@pytest.mark.slow
def test_lagged_alliance_unbiased_with_nominal_coverage():
    """The issue's simulation study: bias within 2 Monte-Carlo SEs, coverage 92-98%.

    400 replications, because the coverage window must be wide compared with the
    Monte-Carlo error of a coverage share: with 100 replications its SD is 2.2 points, so
    a perfectly calibrated CI would fall outside 92-98% in about one run in six; with 400
    (SD 1.1 points) in fewer than one in a hundred. About 2 minutes on one core.

    Under ``SimulationParams.classic()``: the claim is that the estimate is unbiased
    (within 10% of the effect, issue 12's criterion) when the model matches the
    generating process. Under the routine-care defaults
    (reciprocal symptom -> alliance path, AR(1) residuals) it is not, by design of
    issue 11; that failure is measured in ``benchmarks/validity`` (docs/validity.md).
    """
    true = -0.08
    est, cover = [], []
    for seed in range(1000, 1400):
        study = es.simulate_study(
            n_therapists=8,
            clients_per_therapist=6,
            max_sessions=16,
            seed=seed,
            params=es.SimulationParams.classic(),
        )
        with warnings.catch_warnings():
            # small studies: boundary fits of the therapist variance are expected and harmless
            warnings.simplefilter("ignore", es.SingularFitWarning)
            warnings.simplefilter("ignore", es.ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            m = growth_model(
                study,
                predictors={"autonomous": "srq_autonomous", "readiness": "urica_readiness"},
                time_varying={"alliance": "wai_sr_sum"},
            )
            row = m.fit.fixed.loc["alliance_within_lag"]
        est.append(row["estimate"])
        cover.append(row["ci_low"] <= true <= row["ci_high"])
    est = np.asarray(est)
    # The default specification (issue 12) controls the prior outcome, centred on each
    # client's own line: with 16 sessions its Nickell bias pulls the within estimate a
    # little towards zero (-0.074 here, 2 MCSE). The criterion is issue 12's: bias within
    # 10% of the effect, with nominal coverage.
    assert abs(est.mean() - true) < 0.1 * abs(true)
    assert 0.92 <= np.mean(cover) <= 0.98
