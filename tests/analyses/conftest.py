"""Shared fixtures: the sample study, its truth, and the adjusted growth model."""

import pytest

import engagestats as es
from engagestats.analyses import growth_model
from engagestats.simulate import SAMPLE_SETTINGS

PREDICTORS = {"autonomous": "srq_autonomous", "readiness": "urica_readiness"}
TIME_VARYING = {"alliance": "wai_sr_sum"}


@pytest.fixture(scope="session")
def sample_with_truth():
    return es.simulate_study(**SAMPLE_SETTINGS, return_truth=True)


@pytest.fixture(scope="session")
def sample_model(sample_with_truth):
    study, _ = sample_with_truth
    return growth_model(study, predictors=PREDICTORS, time_varying=TIME_VARYING)


@pytest.fixture(scope="session")
def small_study():
    # seed 6: with the defaults of session 2, seed 5 gives a boundary (zero) client-slope
    # variance, whose SingularFitWarning would fail the tests that fit it
    return es.simulate_study(n_therapists=8, clients_per_therapist=8, max_sessions=12, seed=6)
