"""Smoke run of the validity benchmark (``benchmarks/validity``; ``make validate`` runs it all).

Two replications of three scenarios: checks that every analysis runs on every
kind of scenario and that the summary holds the performance measures with their
Monte-Carlo SEs. The committed table (docs/validity.md) comes from the full run.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "validity" / "run_validity.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("run_validity", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grid_is_every_scenario(bench):
    from engagestats.simulate import SCENARIOS

    assert sorted(bench.GRID) == sorted(["classic", *SCENARIOS, *bench.EXTRA, *bench.LONG])
    assert len(set(bench.GRID)) == len(bench.GRID)  # one seed block per scenario


def test_smoke_run_writes_one_table_per_analysis(bench, tmp_path):
    table = bench.run(
        2, 1, tmp_path, ["classic", "null_ar1", "mnar_dropout", "long_effect"], cl_reps=1
    )
    for analysis in ("growth", "growth_before", "cross_lagged", "therapist_share", "dropout"):
        assert (tmp_path / f"{analysis}.csv").exists()
        assert (tmp_path / f"{analysis}.md").read_text().startswith("| scenario |")
    growth = table[table["analysis"] == "growth"].set_index(["scenario", "term"])
    assert growth.loc[("null_ar1", "alliance_within_lag"), "true"] == 0.0
    assert growth.loc[("null_ar1", "alliance_within_lag"), "rejects"] == "false positive"
    assert growth.loc[("classic", "alliance_within_lag"), "rejects"] == "power"
    assert (growth["n_reps"] == 2).all()
    for col in ("bias", "bias_mcse", "coverage", "coverage_mcse", "reject_rate", "reject_mcse"):
        assert growth[col].notna().all(), col
    raw = pd.read_csv(tmp_path / "replications.csv")
    assert raw["seed"].nunique() == 8  # one study per scenario and replication, no reuse
    # the long cell runs the alliance analyses only, against its own true effect
    long = raw[raw["scenario"] == "long_effect"]
    assert set(long["analysis"]) == {"growth", "growth_before", "cross_lagged"}
    assert (long["true"] == -0.3).all()
    assert (raw.loc[raw["analysis"] == "cross_lagged", "rep"] == 0).all()  # cl_reps=1
    # the before/after table: every estimator of the within-client effect, per scenario
    alliance = pd.read_csv(tmp_path / "alliance.csv")
    got = alliance.loc[alliance["scenario"] == "null_ar1", "estimator"].tolist()
    assert got == list(bench.ESTIMATORS.values())


def test_summary_measures_on_known_replications(bench):
    raw = pd.DataFrame(
        {
            "analysis": "growth",
            "scenario": "s",
            "term": "x",
            "true": 0.0,
            "estimate": [0.1, -0.1, 0.3, 0.1],
            "ci_low": [-0.1, -0.2, 0.1, 0.0],
            "ci_high": [0.2, 0.1, 0.5, 0.2],
            "p": [0.3, 0.4, 0.01, 0.2],
        }
    )
    row = bench.summarise(raw).iloc[0]
    assert row["bias"] == pytest.approx(0.1)
    assert row["bias_mcse"] == pytest.approx(raw["estimate"].std() / 2)
    assert row["coverage"] == 0.75  # the third CI excludes 0
    assert row["reject_rate"] == 0.25
    assert row["reject_mcse"] == pytest.approx((0.25 * 0.75 / 4) ** 0.5)


def test_merge_adds_replications_without_replacing_the_cell(bench, tmp_path):
    # a committed 3-replication cell and another cell; a later run adds reps 2..4 (rep 2
    # repeated): the merge keeps reps 0-1 and the other cell, while a run replaces the cell
    def rows(scenario, reps, estimate):
        return pd.DataFrame(
            {
                "scenario": scenario,
                "rep": list(reps),
                "seed": list(reps),
                "analysis": "growth",
                "term": "alliance_within_lag",
                "true": 0.0,
                "estimate": estimate,
                "ci_low": -1.0,
                "ci_high": 1.0,
                "p": 0.5,
            }
        )

    committed = pd.concat([rows("null_ar1", range(3), 0.1), rows("null_trends", range(4), 0.2)])
    committed.to_csv(tmp_path / "replications.csv", index=False)
    bench._write(rows("null_ar1", range(2, 5), 0.3), tmp_path, by=("analysis", "scenario", "rep"))
    raw = pd.read_csv(tmp_path / "replications.csv")
    ar1 = raw[raw["scenario"] == "null_ar1"].set_index("rep")["estimate"]
    assert ar1.to_dict() == {0: 0.1, 1: 0.1, 2: 0.3, 3: 0.3, 4: 0.3}
    assert (raw["scenario"] == "null_trends").sum() == 4
    bench._write(rows("null_ar1", range(2), 0.4), tmp_path)  # a run: the cell is replaced
    raw = pd.read_csv(tmp_path / "replications.csv")
    assert raw.loc[raw["scenario"] == "null_ar1", "rep"].tolist() == [0, 1]
    assert (raw["scenario"] == "null_trends").sum() == 4
