"""Smoke run of the therapist-share CI benchmark (``benchmarks/validity/therapist_share_ci.py``).

One replication per scenario with a few bootstrap refits on the benchmark's own design: the
point estimates must reproduce the committed ones of ``results/therapist_effects.csv`` (same
seeds), and the summary must count a covering, a low and a high interval correctly. The
committed table (docs/validity.md) comes from the full run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "validity"
SCRIPT = BENCH / "therapist_share_ci.py"


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location("therapist_share_ci", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("therapist_share_ci", None)
    sys.modules.pop("therapist_share", None)


def test_smoke_run_reproduces_committed_estimates(bench, tmp_path):
    table = bench.main(["--reps", "1", "--n-boot", "3", "--out", str(tmp_path)])
    reps = pd.read_csv(tmp_path / "therapist_share_ci_replications.csv")
    assert reps[["scenario", "estimator"]].values.tolist() == [
        ["default", "growth_planned"],
        ["no_therapist_slope", "growth_planned"],
        ["no_therapist_slope", "growth_planned_no_slope"],
    ]
    assert bench.check_point_estimates(reps) == 0.0
    assert (reps["n_boot"] + reps["n_failed"] == 3).all()
    assert (reps["ci_low"] <= reps["ci_high"]).all()
    assert table["n_reps"].tolist() == [1, 1, 1]
    assert "largest difference 0" in (tmp_path / "therapist_share_ci.md").read_text()


def test_summary_counts_misses_by_side(bench):
    reps = pd.DataFrame(
        {
            "scenario": "default",
            "estimator": "growth_planned",
            "true": 0.05,
            "estimate": [0.05, 0.01, 0.09, 0.04],
            "ci_low": [0.0, 0.0, 0.06, 0.0005],
            "ci_high": [0.10, 0.04, 0.12, 0.08],
            "n_failed": [0, 1, 0, 1],
            "n_singular": [2, 0, 0, 0],
        }
    )
    row = bench.summarise(reps).iloc[0]
    assert row["coverage"] == 0.5
    np.testing.assert_allclose(row["coverage_mcse"], np.sqrt(0.25 / 4))
    assert (row["ci_below_truth"], row["ci_above_truth"]) == (0.25, 0.25)
    np.testing.assert_allclose(row["mean_width"], (0.10 + 0.04 + 0.06 + 0.0795) / 4)
    assert row["lower_at_boundary"] == 0.75
    assert (row["mean_failed_refits"], row["mean_singular_refits"]) == (0.5, 0.5)


def test_point_estimate_check_fails_on_a_changed_estimate(bench):
    bad = 1e-3
    committed = pd.read_csv(bench.OUT / "therapist_effects.csv")
    row = committed[committed["estimator"] == "growth_planned"].head(1)
    reps = row[["scenario", "rep", "estimator", "estimate"]].assign(estimate=row["estimate"] + bad)
    np.testing.assert_allclose(bench.check_point_estimates(reps), bad, rtol=1e-9)
