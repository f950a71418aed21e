"""Smoke test of the mediation validity benchmark (``benchmarks/validity/mediation_validity.py``).

The committed table (docs/validity.md, "Mediation") comes from the full run; here the core
runs on a tiny setting, and the truths are checked against what the page says they are:
the closed-form paths (end outcome b = b_level + 4.5 b_slope, indirect = a b, total =
c' + a b, the confounded cell's limit) and the pseudo-truth of a simulator cell (mean
estimates over population studies, indirect = mean a x mean b).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "validity" / "mediation_validity.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("mediation_validity", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # the dataclasses of the script look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def _truth(bench, cell: str) -> pd.DataFrame:
    return bench.closed_form_truth(bench.CELLS[cell][1]).set_index(["outcome", "effect"])


def test_closed_form_truth_is_the_documented_one(bench):
    t = _truth(bench, "cf_effect")
    assert bench.TBAR == 4.5  # mean time_post of the last of 2..9 post-window sessions
    assert t.loc[("slope", "b_path"), "true"] == pytest.approx(-0.03)
    assert t.loc[("slope", "direct"), "true"] == pytest.approx(-0.05)
    assert t.loc[("end", "b_path"), "true"] == pytest.approx(-0.05 + 4.5 * -0.03)
    assert t.loc[("end", "direct"), "true"] == pytest.approx(-0.30 + 4.5 * -0.05)
    for o in bench.OUTCOMES:
        a, b, cp = (t.loc[(o, e), "true"] for e in ("a_path", "b_path", "direct"))
        assert a == 1.5
        assert t.loc[(o, "indirect"), "true"] == pytest.approx(a * b)
        assert t.loc[(o, "total"), "true"] == pytest.approx(cp + a * b)
    assert (t["limit"] == t["true"]).all()  # sequential ignorability holds: no shift
    assert (_truth(bench, "cf_null_a").xs("indirect", level="effect")["true"] == 0).all()
    assert (_truth(bench, "cf_null_b").xs("b_path", level="effect")["true"] == 0).all()
    # the unmeasured confounder shifts b by confound_slope * kappa (times TBAR at the end)
    c = _truth(bench, "cf_confounded")
    kappa = 3.0 / (3.0**2 + bench.M_SD**2)
    shift = {"slope": -0.15 * kappa, "end": -0.15 * 4.5 * kappa}
    for o, s in shift.items():
        assert c.loc[(o, "b_path"), "limit"] - c.loc[(o, "b_path"), "true"] == pytest.approx(s)
        assert c.loc[(o, "direct"), "limit"] - c.loc[(o, "direct"), "true"] == pytest.approx(
            -1.5 * s
        )
        assert c.loc[(o, "total"), "limit"] == c.loc[(o, "total"), "true"]


@pytest.mark.parametrize("cell", ["cf_effect", "cf_confounded"])
def test_closed_form_data_have_the_stated_paths(bench, cell):
    """Least squares on a large closed-form sample lands on the stated limits (end outcome)."""
    paths = bench.CELLS[cell][1]
    clients, sessions = bench.closed_form_data(np.random.default_rng(3), paths, 2500, 8)
    assert len(clients) == 20_000
    n_post = sessions.groupby("client_id").size()
    assert n_post.between(2, 9).all()
    assert (sessions.groupby("client_id")["session"].min() == bench.K + 1).all()
    x = clients[["srq_autonomous", "early_alliance", "phq9_first"]].to_numpy()
    one = np.ones((len(x), 1))
    a = np.linalg.lstsq(np.hstack([one, x[:, [0, 2]]]), x[:, 1], rcond=None)[0][1]
    coef = np.linalg.lstsq(np.hstack([one, x]), clients["phq9_last"].to_numpy(), rcond=None)[0]
    t = _truth(bench, cell)
    assert a == pytest.approx(t.loc[("end", "a_path"), "limit"], abs=0.15)  # SE about 0.045
    assert coef[2] == pytest.approx(t.loc[("end", "b_path"), "limit"], abs=0.02)  # SE 0.005
    assert coef[1] == pytest.approx(t.loc[("end", "direct"), "limit"], abs=0.12)  # SE 0.03


def test_tiny_run_writes_the_table(bench, tmp_path):
    table = bench.run(2, ["cf_null_a"], tmp_path, n_draws=500)
    assert list(table[["outcome", "effect"]].itertuples(index=False, name=None)) == [
        (o, e) for o in bench.OUTCOMES for e in bench.EFFECTS
    ]
    assert (table["n_reps"] == 2).all()
    assert (table["si"] == "met").all()
    got = table.set_index(["outcome", "effect"])
    assert got.loc[("slope", "indirect"), "rejects"] == "false positive"
    assert got.loc[("slope", "b_path"), "rejects"] == "power"
    for col in ("bias", "bias_mcse", "coverage", "coverage_mcse", "reject_rate", "mean_se"):
        assert table[col].notna().all(), col
    raw = pd.read_csv(tmp_path / "mediation_replications.csv")
    assert raw["seed"].nunique() == 2  # one data set per replication, both outcomes on it
    assert (tmp_path / "mediation.md").read_text().startswith("| cell | outcome | effect |")


def test_simulator_pseudo_truth(bench):
    from engagestats.simulate import SimulationParams

    truth = bench.simulator_truth("sim_classic", SimulationParams.classic(), 8, 2, n_draws=200)
    t = truth.set_index(["outcome", "effect"])
    for o in bench.OUTCOMES:
        a, b = t.loc[(o, "a_path"), "true"], t.loc[(o, "b_path"), "true"]
        assert t.loc[(o, "indirect"), "true"] == pytest.approx(a * b)
        sa, sb = t.loc[(o, "a_path"), "truth_mcse"], t.loc[(o, "b_path"), "truth_mcse"]
        assert t.loc[(o, "indirect"), "truth_mcse"] == pytest.approx(np.hypot(b * sa, a * sb))
    assert (truth["truth_seeds"] == 2).all()
    assert (truth["limit"] == truth["true"]).all()
