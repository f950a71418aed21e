"""Differential test of the LMM engine against lme4 (issue 19), CI subset.

The designs are regenerated from their seeds by
``tests/reference/lme4_diff/make_designs.py``; lme4's fits are in ``results.json``
(``Rscript fit_lme4.R``: ``lmer(formula, data, REML = TRUE)`` with the default
control, and tight ``bobyqa`` refits, ``rhoend = 1e-12``). The full set of 320
designs runs in ``benchmarks/differential/lme4_differential.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "reference" / "lme4_diff"))

from compare import LOGLIK_TOL, compare, load_results, specs_by_id

#: Designs fitted converged=True at a worse optimum before issue 19 (gaps 4e-5 to 3.4).
KNOWN_BAD = (
    "d018 d053 d062 d064 d071 d103 d109 d148 d152 d167 d195 d200 d201 d204 d218 d232 "
    "d271 d274 d278 d293 d307"
).split()
#: Designs where lme4's default fit stops short of its tight refit.
LME4_SHORT = ["d001", "d034", "d078", "d253", "d312"]
#: Ordinary designs of each family; d072 has two observations per group for
#: ``(1 + t || g)`` (y is fitted exactly by the group lines, yet sigma is identified).
ORDINARY = ["d000", "d003", "d004", "d072", "d105", "d212"]

RESULTS = load_results()
SPECS = specs_by_id()


@pytest.mark.parametrize("design_id", KNOWN_BAD + LME4_SHORT + ORDINARY)
def test_never_converged_below_lme4(design_id):
    row = compare(SPECS[design_id], RESULTS[design_id])
    assert row["error"] is None
    if row["converged"]:
        assert row["gap"] <= LOGLIK_TOL, row
    # as good as lme4's default fit, converged or not
    assert row["loglik_ours"] >= row["loglik_lme4"] - LOGLIK_TOL
    if row["converged"] and abs(row["gap"]) < 1e-6 and not row["lme4_stops_short"]:
        # the same optimum: fixed effects and standard errors agree
        se = np.asarray(row["se_lme4"])
        np.testing.assert_allclose(row["beta_ours"], row["beta_lme4"], atol=1e-3 * se.max())
        np.testing.assert_allclose(row["se_ours"], se, rtol=2e-3)


def test_unidentifiable_design_is_a_typed_error_as_in_lme4():
    # lme4: "number of observations (=36) <= number of random effects (=36)"
    assert "error" in RESULTS["d081"]["default"]["conditions"][0]
    row = compare(SPECS["d081"], RESULTS["d081"])
    assert row["error"].startswith("ModelSpecError")
