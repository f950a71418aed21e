"""The bundled sample's seed is the first one from ``SAMPLE_SEED_BASE`` that meets the criterion.

A single sample is one draw: even a calibrated pipeline leaves one of the nine 95%
CIs uncovered in about a third of samples (``test_pipeline_calibration.py``). The
teaching sample is meant to show what it was built to show, so its seed was
chosen by a rule fixed in advance and disclosed in ``simulate.SAMPLE_SEED``:
the first seed, counting up from ``SAMPLE_SEED_BASE``, whose sample meets
:func:`qualifies`. This test re-applies the rule to every seed up to the chosen one:
a change to the simulator or the pipeline that turns the chosen seed's sample into a
miss (or an earlier seed's into a hit) makes it fail until the seed is chosen again
by the same rule (run ``python -m tests.analyses.test_sample_seed``). A changed
sample that still qualifies is caught by ``tests/test_sample_regeneration.py``.
"""

from __future__ import annotations

import sys
import warnings

import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses import analyse_dropout
from engagestats.analyses.endtoend import adjusted_model
from engagestats.simulate import SAMPLE_SEED, SAMPLE_SEED_BASE, SAMPLE_SETTINGS


def recovery(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recovery table of the shared growth model and the dropout odds ratios of a sample."""
    settings = {**SAMPLE_SETTINGS, "seed": seed}
    study, truth = es.simulate_study(**settings, return_truth=True)
    table = truth.recovery(adjusted_model(study).fit.fixed)
    with warnings.catch_warnings():
        # a boundary (singular) therapist variance in the dropout GLMM is reported, not an error
        warnings.simplefilter("ignore", es.SingularFitWarning)
        dropout = analyse_dropout(study)
    ors = pd.concat(
        [
            dropout.tables[key].set_index("term").loc[["autonomous"], ["odds_ratio"]]
            for key in ("odds_ratios", "odds_ratios_glmm")
        ]
    )
    return table, ors


def qualifies(seed: int) -> bool:
    """Every CI covers its true value with the right sign; autonomy lowers dropout (both models)."""
    table, ors = recovery(seed)
    recovered = table["covered"].all() and table["right_sign"].all()
    return bool(recovered and (ors["odds_ratio"] < 1).all())


@pytest.mark.parametrize("seed", range(SAMPLE_SEED_BASE, SAMPLE_SEED + 1))
def test_sample_seed_is_the_first_that_qualifies(seed):
    assert qualifies(seed) == (seed == SAMPLE_SEED)


if __name__ == "__main__":  # pragma: no cover - the search that chose SAMPLE_SEED
    n_seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    for s in range(SAMPLE_SEED_BASE, SAMPLE_SEED_BASE + n_seeds):
        t, o = recovery(s)
        missed = t.loc[~(t["covered"] & t["right_sign"]), "term"].tolist()
        ok = not missed and (o["odds_ratio"] < 1).all()
        print(s, "qualifies" if ok else f"misses {missed}, OR {o['odds_ratio'].round(3).tolist()}")
