"""Benchmark :func:`engagestats.models.glmm` against lme4's ``glmer`` (time ratios).

Models (as in ``tests/reference/speed/timings.R``, lme4 timings in ``timings.json``):

* VerbAgg, binary, crossed: ``r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)``
  (7,584 rows; the same CSV lme4 read);
* simulated attendance (binary) and session counts (Poisson),
  ``~ session_c + (1 | client) + (1 | therapist)``, 100 therapists x 20 clients x 12
  sessions (24,000 rows), the DGP of ``timings.R`` simulated with numpy's RNG.

Run ``python benchmarks/bench_glmm.py`` (``--runs 3`` for best-of-3; ``--rerun-r`` to time
lme4 again on this machine on the same simulated CSV with ``time_model.R``). lme4's
times are ``system.time`` of the ``glmer`` call; ours cover the ``glmm`` call (formula to
fitted model, including the Hessian for the SEs, as glmer's). statsmodels has no
maximum-likelihood GLMM (only variational Bayes), so it is not a peer here.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SPEED = ROOT / "tests" / "reference" / "speed"
VERBAGG = ROOT / "tests" / "reference" / "glmm_families" / "verbagg.csv"
SIM_RHS = "session_c + (1 | client) + (1 | therapist)"


def simulate(seed: int = 20240614) -> pd.DataFrame:
    """The design of ``timings.R``: therapist N(0, 0.5^2), client N(0, 1) intercepts."""
    rng = np.random.default_rng(seed)
    therapist = np.repeat(np.arange(100), 20 * 12)
    client = np.repeat(np.arange(2000), 12)
    session = np.tile(np.arange(12), 2000)
    session_c = (session - 5.5) / 10
    u_t = rng.normal(0, 0.5, 100)[therapist]
    u_c = rng.normal(0, 1.0, 2000)[client]
    attended = rng.random(client.size) < 1 / (1 + np.exp(-(1.2 - 0.8 * session_c + u_t + u_c)))
    count = rng.poisson(np.exp(0.3 + 0.5 * session_c + u_t + 0.6 * u_c))
    return pd.DataFrame(
        {
            "client": [f"c{i}" for i in client],
            "therapist": [f"t{i}" for i in therapist],
            "session_c": session_c,
            "attended": attended.astype(int),
            "count": count,
        }
    )


def _time(fn, runs: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(runs):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _time_r(csv: Path, formula: str, family: str, factors: str) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    cmd = ["Rscript", str(SPEED / "time_model.R"), str(csv), formula, family, factors]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    found = re.search(r"best ([0-9.]+)", res.stdout)
    if found:
        return float(found.group(1))
    print(res.stdout[-500:], res.stderr[-500:], file=sys.stderr)
    return None


def main(argv: list[str] | None = None) -> None:
    from engagestats.models import glmm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--rerun-r", action="store_true", help="time lme4 here on the same CSV")
    args = ap.parse_args(argv)
    ref = json.loads((SPEED / "timings.json").read_text())["timings"]
    verbagg = pd.read_csv(VERBAGG, dtype={"id": str, "item": str})
    sim = simulate()
    cases = [
        (
            "verbagg_binary",
            lambda: glmm("r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)", verbagg),
            ("r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)", "binomial"),
        ),
        (
            "attendance_binary",
            lambda: glmm(f"attended ~ {SIM_RHS}", sim),
            (f"attended ~ {SIM_RHS}", "binomial"),
        ),
        (
            "session_counts_poisson",
            lambda: glmm(f"count ~ {SIM_RHS}", sim, family="poisson"),
            (f"count ~ {SIM_RHS}", "poisson"),
        ),
    ]
    print(f"{'model':<24} {'glmm (s)':>9} {'lme4 (s)':>9} {'ratio':>7}  {'evals':>6}  notes")
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "sim.csv"
        sim.to_csv(csv, index=False)
        for name, fn, r_spec in cases:
            ours, fit = _time(fn, args.runs)
            theirs = ref[name]["best elapsed seconds"]
            note = "lme4 from timings.json"
            if args.rerun_r and r_spec is not None:
                if name == "verbagg_binary":
                    spec = (VERBAGG, "id,item,r2,Gender,btype,situ")
                else:
                    spec = (csv, "client,therapist")
                rerun = _time_r(spec[0], r_spec[0], r_spec[1], spec[1])
                if rerun is not None:
                    theirs, note = rerun, "lme4 re-timed on the same CSV"
            if name == "verbagg_binary":
                diff = abs(fit.loglik - ref[name]["as.numeric(logLik(fit))"])
                note += f"; |logLik - lme4| = {diff:.1e}"
            print(
                f"{name:<24} {ours:9.2f} {theirs:9.2f} {ours / theirs:7.2f}  "
                f"{fit._fit.info['n_evals']:6d}  {note}"
            )


if __name__ == "__main__":
    main()
