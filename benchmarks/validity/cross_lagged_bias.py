"""Diagnostic: where the bias of ``cross_lagged`` under ``routine_care`` comes from.

Under ``routine_care`` (true within-client alliance -> next PHQ-9 effect -0.08) both the
RI-CLPM and the LCM-SR of :func:`engagestats.cross_lagged` estimate about -0.092
(``results/cross_lagged.md``). Two features of the generator (``simulate._process``) differ
from the models' lag structure:

* ``no_missed``: the PHQ-9 at session t responds to the alliance observed at the *previous
  attended* session, which after a missed session is session t-2 or earlier, while the
  models (``occasion="session"``) regress it on the (missing, FIML-imputed) session t-1;
  this variant sets ``miss_rate`` to (almost) 0, so every lag spans one session (dropout still
  ends series);
* ``no_residual_ar``: the PHQ-9 residuals are AR(1) (``residual_ar=0.4``) around a
  response to the lag-1 alliance, so the symptom equation has a lag-2 alliance term,
  ``-residual_ar * alliance_within_lag`` (+0.032), that neither model has; this variant
  sets ``residual_ar=0``.

Each variant re-simulates the same seeds as ``routine_care`` in ``run_validity.py``
(replication r: seed ``SEED_BASE + 10_000 k + r``) with one parameter changed; the random
draws are the same (the parameters change no draw count), so the paired difference from the
committed ``routine_care`` estimates isolates the mechanism with a small Monte-Carlo SE.

``python benchmarks/validity/cross_lagged_bias.py --reps 100`` (the committed run: 100
replications of each variant, every committed ``routine_care`` seed) writes
``results/cross_lagged_bias_replications.csv`` and ``results/cross_lagged_bias.md``; the
rows already there are kept except those of the same (variant, rep), so
``--reps 60 --first-rep 20`` adds replications 20..59 to the committed ones.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

import engagestats as es
from engagestats.simulate import SimulationParams

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("run_validity", HERE / "run_validity.py")
rv = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(rv)  # type: ignore[union-attr]

SCENARIO = "routine_care"
VARIANTS: dict[str, dict] = {
    "no_missed": {"miss_rate": 1e-12},
    "no_residual_ar": {"residual_ar": 0.0},
    "no_missed_no_residual_ar": {"miss_rate": 1e-12, "residual_ar": 0.0},
}


def variant_rows(variant: str, rep: int) -> list[dict]:
    seed = rv.SEED_BASE + 10_000 * rv.GRID.index(SCENARIO) + rep
    params = replace(SimulationParams.scenario(SCENARIO), **VARIANTS.get(variant, {}))
    study, truth = es.simulate_study(**rv.DESIGN, seed=seed, params=params, return_truth=True)
    true = float(truth.estimands.set_index("estimand")["value"]["alliance_within_effect"])
    base = {"scenario": SCENARIO, "variant": variant, "rep": rep, "seed": seed}
    with warnings.catch_warnings():
        rv._quiet()
        return rv._cross_lagged_rows(study, base, true)


def summarise(raw: pd.DataFrame, committed: pd.DataFrame) -> pd.DataFrame:
    """Bias per variant and term, and its paired difference from the committed estimates."""
    ref = committed.set_index(["term", "seed"])["estimate"]
    out = []
    for (variant, term), g in raw.groupby(["variant", "term"], sort=False):
        g = g.dropna(subset=["estimate"])
        n = len(g)
        true = float(g["true"].iloc[0])
        paired = ref.loc[[(term, s) for s in g["seed"]]].to_numpy()
        diff = g["estimate"].to_numpy() - paired
        cover = ((g["ci_low"] <= true) & (true <= g["ci_high"])).mean()
        out.append(
            {
                "variant": variant,
                "term": term,
                "true": true,
                "n_reps": n,
                "bias": g["estimate"].mean() - true,
                "bias_mcse": g["estimate"].std(ddof=1) / np.sqrt(n),
                "bias_routine_care_same_seeds": paired.mean() - true,
                "change_vs_routine_care": diff.mean(),
                "change_mcse": diff.std(ddof=1) / np.sqrt(n),
                "coverage": cover,
                "coverage_mcse": np.sqrt(cover * (1 - cover) / n),
            }
        )
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--first-rep", type=int, default=0, help="run replications FIRST_REP..REPS-1")
    ap.add_argument("--check-reps", type=int, default=1, help="committed reps re-run as a check")
    args = ap.parse_args(argv)
    out = HERE / "results"
    committed = pd.read_csv(out / "replications.csv")
    committed = committed[
        (committed["analysis"] == "cross_lagged") & (committed["scenario"] == SCENARIO)
    ]
    path = out / "cross_lagged_bias_replications.csv"
    kept = pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["variant", "rep"])
    rows: list[dict] = []
    start = time.time()
    # the committed estimates must be reproduced by the current code (else no pairing)
    for rep in range(args.check_reps):
        for r in variant_rows("routine_care", rep):
            old = committed.set_index(["term", "seed"]).loc[(r["term"], r["seed"]), "estimate"]
            same = np.isclose(r["estimate"], old, rtol=0, atol=1e-6)
            print(f"rep {rep} {r['term']}: {r['estimate']:.6f}, committed {old:.6f}, {same=}")
    print(f"check done ({time.time() - start:.0f} s)", flush=True)
    for variant in args.variants:
        for rep in range(args.first_rep, args.reps):
            rows += variant_rows(variant, rep)
            if (rep + 1) % 10 == 0 or rep + 1 == args.reps:
                new = pd.DataFrame(rows)
                done = set(zip(new["variant"], new["rep"], strict=True))
                key = pd.Series(list(zip(kept["variant"], kept["rep"], strict=True)))
                raw = pd.concat([kept[~key.isin(done).to_numpy()], new], ignore_index=True)
                order = {v: i for i, v in enumerate(VARIANTS)}
                raw = raw.sort_values(
                    ["variant", "rep"],
                    key=lambda c: c.map(order) if c.name == "variant" else c,
                    kind="stable",
                )
                raw.to_csv(path, index=False)
                table = summarise(raw, committed)
                (out / "cross_lagged_bias.md").write_text(rv._markdown(table))
                print(f"{variant}: {rep + 1} reps, {time.time() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
