"""Smoke test of benchmarks/bench_glmm.py (the full timing run is ``make bench``)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from engagestats.models import glmm

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_glmm", ROOT / "benchmarks" / "bench_glmm.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_simulated_design_is_the_one_lme4_was_timed_on(bench):
    sim = bench.simulate()
    timings = json.loads((bench.SPEED / "timings.json").read_text())["timings"]
    assert len(sim) == 24_000
    assert sim["client"].nunique() == timings["attendance_binary"]["ngrps(fit)"]["client"]
    assert sim["therapist"].nunique() == timings["attendance_binary"]["ngrps(fit)"]["therapist"]
    assert sim["session_c"].min() == pytest.approx(-0.55)
    assert sim["session_c"].max() == pytest.approx(0.55)


def test_small_slice_fits_and_recovers_the_dgp_signs(bench):
    sim = bench.simulate()
    part = sim[sim["therapist"].isin([f"t{i}" for i in range(10)])]
    att = glmm(f"attended ~ {bench.SIM_RHS}", part)
    cnt = glmm(f"count ~ {bench.SIM_RHS}", part, family="poisson")
    assert att.converged
    assert cnt.converged
    assert att.fixed.loc["session_c", "estimate"] < 0  # DGP -0.8
    assert cnt.fixed.loc["session_c", "estimate"] > 0  # DGP 0.5
