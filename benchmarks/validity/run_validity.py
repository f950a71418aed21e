"""Validity benchmark: the library's recommended analyses against known generating scenarios.

For every scenario in ``SCENARIOS`` (``SimulationParams.scenario``) it simulates
``--reps`` studies of a small design, runs

* ``growth``: the default covariate-adjusted growth model
  (``analyses.endtoend.adjusted_model``): the lagged within-client alliance
  term and the level effects (``autonomous``, ``readiness``,
  ``alliance_between``), against the generating values;
* ``therapist_share``: ``lmm("phq9_last ~ phq9_first + (1 | therapist_id)")``
  on each client's first and last observed PHQ-9 total, its therapist ICC
  against ``SimulationTruth.estimands["therapist_share_adjusted"]``;
* ``dropout``: the GEE dropout model (``analyses.binary_model``,
  ``method="gee"``), log-odds of autonomy and readiness, against the
  population-averaged values of the generating model;

and writes one table per analysis: bias, empirical SE, 95% CI coverage,
rejection rate at alpha .05 (the false-positive rate when the true value is 0,
power otherwise), each with its Monte-Carlo SE (Morris, White & Crowther 2019,
Stat Med 38:2074-2102).

Run ``make validate`` (all cells, 200 replications) or
``python benchmarks/validity/run_validity.py --reps 3`` for a smoke run.
Replication r of scenario k uses seed ``SEED_BASE + 10_000 k + r``: no selection.
"""

from __future__ import annotations

import argparse
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

import engagestats as es
from engagestats.analyses import binary_model
from engagestats.analyses.endtoend import adjusted_model
from engagestats.simulate import SimulationParams

SEED_BASE = 110_000
DESIGN = {"n_therapists": 20, "clients_per_therapist": 8, "max_sessions": 12}
#: Scenario order of a run (the null scenarios of the lagged alliance term first).
GRID = [
    "null_reciprocal",
    "null_ar1",
    "null_trends",
    "null_routine",
    "routine_care",
    "no_therapist_slope",
    "mnar_dropout",
    "classic",
    "log_linear",
]
GROWTH_TERMS = {
    "alliance_within_lag": "alliance_within_effect",
    "autonomous": "autonomous_level",
    "readiness": "readiness_level",
    "alliance_between": "alliance_between_level",
}
DROPOUT_TERMS = {
    "autonomous": "dropout_log_odds_autonomous",
    "readiness": "dropout_log_odds_readiness",
}
OUT = Path(__file__).resolve().parent / "results"


def _quiet() -> None:
    for w in (es.SingularFitWarning, es.ConvergenceWarning, RuntimeWarning, es.EngageStatsWarning):
        warnings.simplefilter("ignore", w)


def one_replication(scenario: str, rep: int) -> list[dict]:
    """Every analysis on one simulated study: rows of (analysis, term, true, estimate, CI, p)."""
    k = GRID.index(scenario)
    seed = SEED_BASE + 10_000 * k + rep
    study, truth = es.simulate_study(
        **DESIGN, seed=seed, params=SimulationParams.scenario(scenario), return_truth=True
    )
    true = truth.estimands.set_index("estimand")["value"]
    rows: list[dict] = []
    base = {"scenario": scenario, "rep": rep, "seed": seed}
    with warnings.catch_warnings():
        _quiet()
        try:
            fixed = adjusted_model(study).fit.fixed
            for term, estimand in GROWTH_TERMS.items():
                r = fixed.loc[term]
                rows.append(
                    {
                        **base,
                        "analysis": "growth",
                        "term": term,
                        "true": true[estimand],
                        "estimate": r["estimate"],
                        "ci_low": r["ci_low"],
                        "ci_high": r["ci_high"],
                        "p": r["p"],
                    }
                )
        except es.EngageStatsError as exc:  # a failed fit is counted, not dropped
            rows.append({**base, "analysis": "growth", "term": "fit_failed", "error": str(exc)})
        panel = _first_last(study)
        try:
            icc = es.lmm("phq9_last ~ phq9_first + (1 | therapist_id)", panel).icc()
            share = float(icc.loc["therapist_id", "icc_adjusted"])
        except es.EngageStatsError:
            share = np.nan
        rows.append(
            {
                **base,
                "analysis": "therapist_share",
                "term": "therapist_share_adjusted",
                "true": true["therapist_share_adjusted"],
                "estimate": share,
            }
        )
        try:
            gee = binary_model(study, method="gee").odds_ratios.set_index("term")
            for term, estimand in DROPOUT_TERMS.items():
                r = gee.loc[term]
                rows.append(
                    {
                        **base,
                        "analysis": "dropout",
                        "term": term,
                        "true": true[estimand],
                        "estimate": r["estimate"],
                        "ci_low": r["ci_low"],
                        "ci_high": r["ci_high"],
                        "p": r["p"],
                    }
                )
        except es.EngageStatsError as exc:
            rows.append({**base, "analysis": "dropout", "term": "fit_failed", "error": str(exc)})
    return rows


def _first_last(study: es.Study) -> pd.DataFrame:
    from engagestats.analyses._panel import scored_study

    s = scored_study(study, ["phq9_total"]).sessions
    s = s[s["attended"] == 1].dropna(subset=["phq9_total"]).sort_values(["client_id", "session"])
    g = s.groupby("client_id")["phq9_total"]
    d = pd.DataFrame({"phq9_first": g.first(), "phq9_last": g.last(), "n": g.size()})
    d = d[d["n"] >= 2].join(study.clients.set_index("client_id")["therapist_id"])
    return d.reset_index()


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    """Performance measures per analysis, scenario and term, with Monte-Carlo SEs."""
    out = []
    ok = raw[raw["term"] != "fit_failed"]
    for (analysis, scenario, term), g in ok.groupby(["analysis", "scenario", "term"], sort=False):
        est = g["estimate"].dropna()
        n = len(est)
        true = float(g["true"].iloc[0])
        emp_se = float(est.std(ddof=1))
        row = {
            "analysis": analysis,
            "scenario": scenario,
            "term": term,
            "true": true,
            "n_reps": n,
            "n_failed": int(
                (
                    (raw["analysis"] == analysis)
                    & (raw["scenario"] == scenario)
                    & (raw["term"] == "fit_failed")
                ).sum()
                + g["estimate"].isna().sum()
            ),
            "mean_estimate": float(est.mean()),
            "bias": float(est.mean() - true),
            "bias_mcse": emp_se / np.sqrt(n),
            "emp_se": emp_se,
        }
        if "ci_low" in g and g["ci_low"].notna().any():
            cover = ((g["ci_low"] <= true) & (true <= g["ci_high"])).to_numpy(dtype=float)
            reject = (g["p"] < 0.05).to_numpy(dtype=float)
            row["coverage"] = cover.mean()
            row["coverage_mcse"] = np.sqrt(cover.mean() * (1 - cover.mean()) / n)
            row["rejects"] = "false positive" if true == 0 else "power"
            row["reject_rate"] = reject.mean()
            row["reject_mcse"] = np.sqrt(reject.mean() * (1 - reject.mean()) / n)
        out.append(row)
    return pd.DataFrame(out)


def _markdown(table: pd.DataFrame) -> str:
    cols = [c for c in table.columns if c not in ("analysis",)]
    fmt = table[cols].copy()
    for c in fmt.columns:
        if fmt[c].dtype.kind == "f":
            fmt[c] = fmt[c].map(lambda x: "" if pd.isna(x) else f"{x:.3f}")
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    return head + "".join("| " + " | ".join(map(str, r)) + " |\n" for r in fmt.to_numpy())


def _write(raw: pd.DataFrame, out: Path) -> pd.DataFrame:
    table = summarise(raw)
    out.mkdir(parents=True, exist_ok=True)
    raw.to_csv(out / "replications.csv", index=False)
    for analysis, t in table.groupby("analysis", sort=False):
        t.to_csv(out / f"{analysis}.csv", index=False)
        (out / f"{analysis}.md").write_text(_markdown(t.dropna(axis=1, how="all")))
    return table


def run(reps: int, jobs: int, out: Path, scenarios: list[str] | None = None) -> pd.DataFrame:
    """Run the grid scenario by scenario; the tables are rewritten after each scenario."""
    grid = scenarios or GRID
    start = time.time()
    rows: list[dict] = []
    pool = ProcessPoolExecutor(jobs) if jobs > 1 else None
    try:
        for scenario in grid:
            if pool is not None:
                chunks = list(pool.map(one_replication, [scenario] * reps, range(reps)))
            else:
                chunks = [one_replication(scenario, r) for r in range(reps)]
            rows.extend(row for chunk in chunks for row in chunk)
            table = _write(pd.DataFrame(rows), out)
            print(f"{scenario}: {reps} replications, {time.time() - start:.0f} s", flush=True)
    finally:
        if pool is not None:
            pool.shutdown()
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--scenarios", nargs="*", default=None, choices=GRID)
    args = ap.parse_args(argv)
    run(args.reps, args.jobs, args.out, args.scenarios)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
