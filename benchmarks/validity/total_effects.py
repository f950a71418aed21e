"""Validity benchmark: total effects of intake motivation and readiness (issue 15).

The primary motivation and readiness estimates of the library are total
effects: the growth model with intake covariates only
(``analyses.endtoend.total_model``, used by ``analyse_motivation`` and
``analyse_readiness``). For each scenario it simulates ``--reps`` studies of
the design of ``run_validity.py`` and compares the level and slope effects of
``autonomous`` and ``readiness`` with the population total effects of the
generating model (``SimulationTruth.estimands``: ``*_total_level`` and
``*_total_slope``, a population projection that averages over the alliance and
its feedback on symptoms). Bias, empirical SE, 95% CI coverage and rejection
rate, each with its Monte-Carlo SE (Morris, White & Crowther 2019).

``python benchmarks/validity/total_effects.py --reps 200`` writes
``results/total_effects.{csv,md}``. Replication r of scenario k uses seed
``SEED_BASE + 10_000 k + r``: no selection.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

import engagestats as es
from engagestats.analyses.endtoend import total_model
from engagestats.simulate import SimulationParams

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_validity import DESIGN, OUT, _markdown, _quiet, summarise

SEED_BASE = 510_000
#: Linear-trajectory scenarios first; ``log_linear`` is misspecified for a linear growth model,
#: so its "truth" is a linear projection (reported, not a target).
GRID = ["routine_care", "classic", "mnar_dropout", "null_reciprocal", "log_linear"]
TERMS = {
    "autonomous": "autonomous_total_level",
    "readiness": "readiness_total_level",
    "time:autonomous": "autonomous_total_slope",
    "time:readiness": "readiness_total_slope",
}


def one_replication(scenario: str, rep: int) -> list[dict]:
    seed = SEED_BASE + 10_000 * GRID.index(scenario) + rep
    study, truth = es.simulate_study(
        **DESIGN, seed=seed, params=SimulationParams.scenario(scenario), return_truth=True
    )
    true = truth.estimands.set_index("estimand")["value"]
    base = {"analysis": "total_effects", "scenario": scenario, "rep": rep, "seed": seed}
    with warnings.catch_warnings():
        _quiet()
        try:
            fixed = total_model(study).fit.fixed
        except es.EngageStatsError as exc:  # a failed fit is counted, not dropped
            return [{**base, "term": "fit_failed", "error": str(exc)}]
    return [
        {
            **base,
            "term": term,
            "true": true[estimand],
            **fixed.loc[term, ["estimate", "ci_low", "ci_high", "p"]].to_dict(),
        }
        for term, estimand in TERMS.items()
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--scenarios", nargs="*", default=None, choices=GRID)
    args = ap.parse_args(argv)
    rows: list[dict] = []
    start = time.time()
    for scenario in args.scenarios or GRID:
        for r in range(args.reps):
            rows.extend(one_replication(scenario, r))
        raw = pd.DataFrame(rows)
        table = summarise(raw)
        args.out.mkdir(parents=True, exist_ok=True)
        raw.to_csv(args.out / "total_effects_replications.csv", index=False)
        table.to_csv(args.out / "total_effects.csv", index=False)
        (args.out / "total_effects.md").write_text(_markdown(table.dropna(axis=1, how="all")))
        print(f"{scenario}: {args.reps} replications, {time.time() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
