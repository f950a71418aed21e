"""The whole analysis pipeline is calibrated at the bundled sample's size.

One sample is one draw: even a perfect pipeline leaves some 95% CI uncovered in
about a quarter of samples of nine effects. This test replicates the sample's
design (30 therapists x 11 clients, the default generating parameters) 60 times
and fits the adjusted growth model that ``analyse_motivation``,
``analyse_readiness`` and ``analyse_alliance`` share, from simulated items
through scoring, within/between splitting, lagging and the LMM.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses.endtoend import adjusted_model

N_REPS = 60


@pytest.fixture(scope="module")
def replications():
    rows = []
    for seed in range(100, 100 + N_REPS):
        study, truth = es.simulate_study(
            n_therapists=30, clients_per_therapist=11, seed=seed, return_truth=True
        )
        with warnings.catch_warnings():
            # small simulated studies occasionally give a boundary therapist variance
            warnings.simplefilter("ignore", es.SingularFitWarning)
            fixed = adjusted_model(study).fit.fixed
        for term, true in truth.fixed_effects.set_index("term")["estimate"].items():
            r = fixed.loc[term]
            rows.append((seed, term, true, r["estimate"], r["ci_low"] <= true <= r["ci_high"]))
    return pd.DataFrame(rows, columns=["seed", "term", "true", "estimate", "covered"])


def test_every_effect_is_unbiased(replications):
    g = replications.groupby("term")
    mcse = g["estimate"].std() / np.sqrt(g.size())
    bias = g["estimate"].mean() - g["true"].first()
    # 3 Monte-Carlo SEs: the largest of nine |z| values exceeds 3 with probability ~2.4%
    assert (bias.abs() <= 3 * mcse).all(), (bias / mcse).round(2).to_dict()


def test_every_effect_has_nominal_coverage(replications):
    coverage = replications.groupby("term")["covered"].mean()
    # with true coverage .95 and 60 replications, a share below .85 is 3.6 binomial SDs away
    assert (coverage >= 0.85).all(), coverage.to_dict()
    assert 0.92 <= coverage.mean() <= 0.98
