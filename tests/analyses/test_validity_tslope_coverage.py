"""Smoke run of the therapist-slope coverage benchmark (``benchmarks/validity/tslope_coverage.py``).

Two replications of a few variants on a small design: checks the summary's columns, that every
variant of a replication uses the replication's seed (paired with ``mi_coverage.py``), and that
the ``base`` fit of replication 0 on the full design reproduces the committed ``complete`` row
of ``results/mi_tslope_replications.csv``. The committed table (docs/validity.md) comes from the
full run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "validity"
SCRIPT = BENCH / "tslope_coverage.py"

COLUMNS = [
    "variant",
    "term",
    "true",
    "n_reps",
    "bias",
    "bias_mcse",
    "emp_se",
    "emp_se_mcse",
    "mean_se",
    "se_ratio",
    "coverage",
    "coverage_mcse",
    "mean_df",
    "coverage_diff",
    "coverage_diff_mcse",
]


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location("tslope_coverage", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("tslope_coverage", None)
    sys.modules.pop("mi_coverage", None)


def test_smoke_run_writes_paired_tables(bench, monkeypatch, tmp_path):
    monkeypatch.setattr(
        bench, "DESIGN", {"n_therapists": 6, "clients_per_therapist": 4, "max_sessions": 8}
    )
    variants = ["kenward_roger", "latent_outcome", "no_therapist_slope", "oracle_latent"]
    bench.main(["--reps", "2", "--out", str(tmp_path), "--variants", *variants])
    table = pd.read_csv(tmp_path / "tslope_coverage.csv")
    assert table.columns.tolist() == COLUMNS
    assert set(table["variant"]) == {"base", *variants}  # base is always added
    fitted = table[table["variant"] != "oracle_latent"]
    assert set(fitted["term"]) == {*bench.TRUTH, "var_therapist_slope"}
    oracle = table[table["variant"] == "oracle_latent"]
    assert set(oracle["term"]) == set(bench.TRUTH)  # known variances: no variance row
    assert np.isinf(oracle["mean_df"]).all()
    assert (table["n_reps"] == 2).all()
    t = table.set_index(["variant", "term"])
    assert np.isnan(t.loc[("base", "time:autonomous"), "coverage_diff"])  # base: no diff
    assert t.loc[("no_therapist_slope", "var_therapist_slope"), "true"] == 0.0
    assert t.loc[("base", "var_therapist_slope"), "true"] == pytest.approx(bench.SLOPE_SD**2)
    assert (tmp_path / "tslope_coverage.md").read_text().startswith("\n2 replications")
    raw = pd.read_csv(tmp_path / "tslope_coverage_replications.csv")
    # paired: one seed per replication, shared by every variant, as in mi_coverage.py
    seeds = raw.groupby("rep")["seed"].unique()
    assert all(len(s) == 1 for s in seeds)
    assert [int(s[0]) for s in seeds] == [bench.SEED_BASE + r for r in seeds.index]
    # same data for base, kenward_roger and latent_outcome: equal estimates for base and KR,
    # KR SEs at least the Satterthwaite ones, a different outcome for the latent fit
    one = raw[(raw["rep"] == 0) & (raw["term"] == "time:autonomous")].set_index("variant")
    assert one.loc["kenward_roger", "estimate"] == pytest.approx(one.loc["base", "estimate"])
    assert one.loc["kenward_roger", "se"] >= one.loc["base", "se"]
    assert one.loc["latent_outcome", "estimate"] != pytest.approx(one.loc["base", "estimate"])
    # GLS with the generating covariance is close to, not equal to, the REML fit of the latent
    oracle_est, latent_est = (
        one.loc["oracle_latent", "estimate"],
        one.loc["latent_outcome", "estimate"],
    )
    assert oracle_est != latent_est
    assert oracle_est == pytest.approx(latent_est, abs=2 * one.loc["latent_outcome", "se"])
    # resuming at replication 1 reproduces the table (same seeds, replication 0 read back)
    bench.main(["--reps", "2", "--out", str(tmp_path), "--variants", *variants, "--start", "1"])
    again = pd.read_csv(tmp_path / "tslope_coverage.csv")
    pd.testing.assert_frame_equal(again, table)


def test_base_reproduces_the_mi_coverage_complete_fit(bench):
    """Replication 0 of ``base`` is the ``complete`` fit of ``mi_coverage.py``'s replication 0."""
    rows = pd.DataFrame(bench.one_replication(0, ["base"])).set_index("term")
    committed = pd.read_csv(BENCH / "results" / "mi_tslope_replications.csv")
    ref = committed[(committed["rep"] == 0) & (committed["method"] == "complete")]
    ref = ref.set_index("term")
    for term in (*bench.TRUTH, "var_therapist_slope"):
        assert rows.loc[term, "estimate"] == pytest.approx(ref.loc[term, "estimate"], rel=1e-6)
    for term in bench.TRUTH:
        assert rows.loc[term, "se"] == pytest.approx(ref.loc[term, "se"], rel=1e-6)
        assert rows.loc[term, "df"] == pytest.approx(ref.loc[term, "df"], rel=1e-4)
