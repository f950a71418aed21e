"""Smoke run of the time-coding validity benchmark (``benchmarks/validity/time_codings.py``).

One replication of each cell on a small design and a small population: checks that every
coding runs, that each row is matched with the truth of its own estimand, and that the
summary holds the performance measures. The committed table (docs/validity.md) comes from the
full run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "validity" / "time_codings.py"


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("time_codings", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "POPULATION", (10, 10))
    monkeypatch.setattr(module, "TRUTH_SEEDS", (1, 2))
    monkeypatch.setattr(
        module, "DESIGN", {"n_therapists": 3, "clients_per_therapist": 4, "max_sessions": 12}
    )
    yield module
    sys.modules.pop("time_codings", None)


def test_smoke_run_writes_the_table(bench, tmp_path):
    bench.main(["--reps", "1", "--out", str(tmp_path)])
    table = pd.read_csv(tmp_path / "time_codings.csv")
    assert (tmp_path / "time_codings.md").read_text().startswith("\n1 replications per cell")
    cells = set(zip(table["scenario"], table["coding"], strict=True))
    assert cells == {(c, k) for c, (_, codings) in bench.CELLS.items() for k in codings}
    t = table.set_index(["scenario", "coding", "term"])
    # each coding's coefficients on its own terms; the change rows on every coding
    assert ("log_linear_aut0", "log", "log_time:readiness") in t.index
    assert ("log_linear_aut0", "piecewise", "time_p2:readiness") in t.index
    assert ("routine_care_aut0", "log", "change_to_11:readiness") in t.index
    # autonomy slope terms are 0 by construction (false-positive rows), readiness ones not
    auto = table[table["term"].str.endswith(":autonomous")]
    assert (auto["true"] == 0).all()
    assert (auto["rejects"] == "false positive").all()
    ready = table[table["term"].str.endswith(":readiness")]
    assert (ready["true"] < 0).all()
    assert (ready["rejects"] == "power").all()
    # the change estimands share one truth across codings (the coefficients do not)
    change = t.xs(("log_linear_aut0", "change_to_11:readiness"), level=("scenario", "term"))
    assert change["true"].nunique() == 1
    coef = table[(table["scenario"] == "log_linear_aut0") & table["term"].str.contains("readiness")]
    coef = coef[~coef["term"].str.startswith("change")]
    assert coef["true"].nunique() == len(coef)
    assert table.loc[table["matching"], "coding"].tolist().count("log") == 8
    raw = pd.read_csv(tmp_path / "time_codings_replications.csv")
    assert raw["seed"].nunique() == len(bench.CELLS)  # one study per cell, shared by codings


def test_change_contrast_is_the_coefficient_sum(bench):
    """Piecewise change to T = 11 with the knot at 4 is 4 b1 + 7 b2 (and its CI follows)."""
    rng = np.random.default_rng(3)
    rows = []
    for i in range(40):
        t = np.arange(8.0)
        slope = -1.0 + 0.2 * rng.normal()
        y = 15 + rng.normal() + slope * np.minimum(t, 4) - 0.3 * np.maximum(t - 4, 0)
        a, r = rng.normal(size=2)
        y = y + rng.normal(0, 1, t.size)
        rows.append(pd.DataFrame({"id": i, "t": t, "y": y, "autonomous": a, "readiness": r}))
    data = pd.concat(rows)
    data["time_p1"] = np.minimum(data["t"], 4)
    data["time_p2"] = np.maximum(data["t"] - 4, 0)
    import engagestats as es

    fit = es.lmm("y ~ (time_p1 + time_p2) * (autonomous + readiness) + (1 | id)", data)
    got = bench._contrasts(fit, "piecewise").loc["change_to_11"]
    b = fit.fixed["estimate"]
    assert got["estimate"] == pytest.approx(4 * b["time_p1"] + 7 * b["time_p2"])
    assert got["estimate"] == pytest.approx(-4 - 2.1, abs=0.6)
