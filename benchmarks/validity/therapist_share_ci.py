"""Validity benchmark: do the bootstrap CIs of the therapist share cover the truth?

Run: ``nice .venv/bin/python benchmarks/validity/therapist_share_ci.py --reps 100
--n-boot 200 --workers 2`` (about 40 minutes on 2 cores). Writes
``benchmarks/validity/results/therapist_share_ci_replications.csv`` (one row per
replication and estimator) and ``therapist_share_ci.{csv,md}`` (the table).

Design, seeds and truth are those of ``therapist_share.py`` (40 therapists x 8 clients,
up to 20 sessions; scenarios ``default`` and ``no_therapist_slope``; replication r of
scenario k uses seed ``SEED_BASE + 10_000 k + r``, so the point estimates are the
committed ones of ``results/therapist_effects.csv``, which :func:`main` checks). Each
replication fits ``growth_model(study, therapist_slope=True)`` and computes
:func:`engagestats.therapist_effects` with ``ci="bootstrap"`` (parametric-bootstrap
percentile intervals, ``n_boot`` refits, bootstrap seed ``r``) at the planned end times,
the estimator that met the bias criterion (``growth_planned``). In ``no_therapist_slope``
the intercept-only model (``growth_model(study)``, ``growth_planned_no_slope``), which
``therapist_effects`` reports beside it, is bootstrapped too. The truth is
``therapist_share_adjusted_observed`` (the observed-score share).

Reported per scenario and estimator: coverage of the 95% interval with its Monte-Carlo
SE ``sqrt(c (1 - c) / n)``, the shares of intervals entirely below and entirely above
the truth, the mean and median width, the share of intervals whose lower end is below
0.001 (at the boundary), and the mean number of failed (dropped) and singular refits.
``n_boot`` = 200 (the function's default is 500) keeps the run to the time budget; the
percentile limits then carry more bootstrap error (Efron & Tibshirani 1993, ch. 19,
suggest at least 1000 refits for percentile intervals), so the coverage measured is that
of 200-refit intervals.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import therapist_share as ts  # the point-estimate benchmark: same design, seeds, truth

from engagestats.analyses import growth_model, therapist_effects

OUT = ts.OUT
GRID = ts.GRID


def _interval(te, base: dict, estimator: str) -> dict:
    row = te.shares.set_index("estimand").loc["end_adjusted"]
    comp = te.components.iloc[0]
    return {
        **base,
        "estimator": estimator,
        "estimate": float(row["estimate"]),
        "ci_low": float(row["ci_low"]),
        "ci_high": float(row["ci_high"]),
        "n_boot": int(comp["n_boot"]),
        "n_failed": int(comp["n_failed"]),
        "n_singular": int(comp["n_singular"]),
    }


def one_replication(scenario: str, rep: int, n_boot: int) -> list[dict]:
    """The bootstrap intervals of one simulated study (``therapist_share.py``'s seed)."""
    study, truth, seed = ts.simulate(scenario, rep)
    est_truth = truth.estimands.set_index("estimand")["value"]
    base = {
        "scenario": scenario,
        "rep": rep,
        "seed": seed,
        "true": float(est_truth["therapist_share_adjusted_observed"]),
    }
    planned = study.clients.set_index("client_id")["planned_sessions"] - 1.0
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # boundary fits of the refits; counted, not hidden
        model = growth_model(study, therapist_slope=True)
        te = therapist_effects(model, end_time=planned, n_boot=n_boot, seed=rep)
        rows.append(_interval(te, base, "growth_planned"))
        if scenario == "no_therapist_slope":
            plain = growth_model(study)
            te = therapist_effects(plain, end_time=planned, n_boot=n_boot, seed=rep)
            rows.append(_interval(te, base, "growth_planned_no_slope"))
    return rows


def summarise(reps: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (scenario, estimator), g in reps.groupby(["scenario", "estimator"], sort=False):
        n = len(g)
        below = g["ci_high"] < g["true"]
        above = g["ci_low"] > g["true"]
        cover = float((~below & ~above).mean())
        width = g["ci_high"] - g["ci_low"]
        out.append(
            {
                "scenario": scenario,
                "estimator": estimator,
                "true": float(g["true"].iloc[0]),
                "n_reps": n,
                "mean_estimate": float(g["estimate"].mean()),
                "coverage": cover,
                "coverage_mcse": float(np.sqrt(cover * (1 - cover) / n)),
                "ci_below_truth": float(below.mean()),
                "ci_above_truth": float(above.mean()),
                "mean_width": float(width.mean()),
                "median_width": float(width.median()),
                "lower_at_boundary": float((g["ci_low"] < 0.001).mean()),
                "mean_failed_refits": float(g["n_failed"].mean()),
                "mean_singular_refits": float(g["n_singular"].mean()),
            }
        )
    return pd.DataFrame(out)


def check_point_estimates(reps: pd.DataFrame) -> float:
    """Largest difference from the committed point estimates (same seeds); should be 0."""
    committed = pd.read_csv(OUT / "therapist_effects.csv")
    keys = ["scenario", "rep", "estimator"]
    merged = reps.merge(committed[[*keys, "estimate"]], on=keys, suffixes=("", "_committed"))
    if len(merged) != len(reps):
        raise SystemExit("some replications have no committed point estimate")
    return float((merged["estimate"] - merged["estimate_committed"]).abs().max())


def _job(args: tuple[str, int, int]) -> list[dict]:
    return one_replication(*args)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    jobs = [(s, r, args.n_boot) for s in GRID for r in range(args.reps)]
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            rows = [row for part in pool.map(_job, jobs) for row in part]
    else:
        rows = [row for job in jobs for row in _job(job)]
    reps = pd.DataFrame(rows)
    table = summarise(reps)
    diff = check_point_estimates(reps)
    minutes = (time.perf_counter() - start) / 60
    args.out.mkdir(parents=True, exist_ok=True)
    reps.to_csv(args.out / "therapist_share_ci_replications.csv", index=False)
    table.to_csv(args.out / "therapist_share_ci.csv", index=False)
    text = (
        f"95% parametric-bootstrap percentile CIs of the therapist share of intake-adjusted "
        f"end-of-treatment PHQ-9 variance (`therapist_effects`, {args.n_boot} refits), "
        f"{ts.DESIGN['n_therapists']} therapists x {ts.DESIGN['clients_per_therapist']} "
        f"clients, planned end times, {args.reps} replications per scenario "
        f"({minutes:.1f} min, {args.workers} worker(s)); truth: the observed-score share. "
        f"Point estimates equal the committed ones of `therapist_effects.csv` (largest "
        f"difference {diff:.1g}). Written by benchmarks/validity/therapist_share_ci.py.\n\n"
        + ts.markdown(table)
    )
    (args.out / "therapist_share_ci.md").write_text(text)
    print(text)
    return table


if __name__ == "__main__":
    main()
