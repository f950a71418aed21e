"""Validity benchmark: is the therapist-share estimate unbiased at 40 therapists?

Run: ``nice .venv/bin/python benchmarks/validity/therapist_share.py --reps 200``
(a quarter of an hour). Writes ``benchmarks/validity/results/therapist_effects.csv``
(one row per replication and estimator) and ``therapist_effects.md`` (the tables).

Design. Each replication simulates a study with :func:`engagestats.simulate_study`
(40 therapists x 8 clients, up to 20 sessions, the calibrated default parameters,
and the ``no_therapist_slope`` scenario), fits
``growth_model(study, therapist_slope=True)`` and computes
:func:`engagestats.therapist_effects` (``ci="none"``) with two end times:

* ``planned``: each client's planned last session (``planned_sessions - 1``, a
  column of the clients table), the time point of the true value;
* ``last_observed``: the default, each client's last analysed session (earlier for
  dropouts);
* ``planned_no_slope``: ``planned`` with ``growth_model(study)`` (therapist intercept
  only);
* ``planned_latent`` (diagnostic): ``planned``, with the observed PHQ-9 total replaced
  by the latent one at the same sessions, which separates the estimator's own bias
  from the gap between the latent estimand and observed scores (item-level
  measurement error attenuates the intake adjustment).

For comparison the two-level ANCOVA of Saxon & Barkham (2012),
``lmm("phq9_last ~ phq9_first + (1 | therapist_id)")`` on each client's first and
last observed PHQ-9 total, is run on the same studies.

True values (column ``truth``): estimators on observed totals are compared with
``SimulationTruth.estimands["therapist_share_adjusted_observed"]`` (the therapist
share of the variance of the *observed* PHQ-9 total at the planned last session,
adjusted linearly for the observed total at session 1: what a study of observed
scores estimates), the latent diagnostic with ``therapist_share_adjusted`` (the same
on the latent PHQ-9). The scale's floor makes the two differ (``simulate._population``).
Bias, empirical SE and the Monte-Carlo SE of the bias (``emp_se / sqrt(n)``; Morris,
White & Crowther 2019) are reported; the criterion is ``|bias| < 2 MCSE``. Column
``slope_lrt_reject``: the share of studies in which ``therapist_effects``' boundary
LRT of the therapist slope rejects at 5%. A second table gives the Monte-Carlo error
of the true values (population seeds 12-16). Replication r of scenario k uses seed
``SEED_BASE + 10_000 k + r``: no selection.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

import engagestats as es
from engagestats.analyses import growth_model, therapist_effects
from engagestats.simulate import SimulationParams, _population

SEED_BASE = 150_000
DESIGN = {"n_therapists": 40, "clients_per_therapist": 8, "max_sessions": 20}
GRID = ["default", "no_therapist_slope"]
OUT = Path(__file__).resolve().parent / "results"


def _params(scenario: str) -> SimulationParams:
    return SimulationParams() if scenario == "default" else SimulationParams.scenario(scenario)


def _first_last(study: es.Study) -> pd.DataFrame:
    """Each client's first and last observed PHQ-9 total (as run_validity.py)."""
    from engagestats.analyses._panel import scored_study

    s = scored_study(study, ["phq9_total"]).sessions
    s = s[s["attended"] == 1].dropna(subset=["phq9_total"]).sort_values(["client_id", "session"])
    g = s.groupby("client_id")["phq9_total"]
    d = pd.DataFrame({"phq9_first": g.first(), "phq9_last": g.last(), "n": g.size()})
    d = d[d["n"] >= 2].join(study.clients.set_index("client_id")["therapist_id"])
    return d.reset_index()


def simulate(scenario: str, rep: int) -> tuple[es.Study, object, int]:
    """Replication ``rep`` of ``scenario``: its study, truth and seed (no selection)."""
    seed = SEED_BASE + 10_000 * GRID.index(scenario) + rep
    study, truth = es.simulate_study(
        **DESIGN, seed=seed, params=_params(scenario), return_truth=True
    )
    return study, truth, seed


def one_replication(scenario: str, rep: int) -> list[dict]:
    study, truth, seed = simulate(scenario, rep)
    est_truth = truth.estimands.set_index("estimand")["value"]
    base = {"scenario": scenario, "rep": rep, "seed": seed, "truth": "observed"}
    base["true"] = float(est_truth["therapist_share_adjusted_observed"])
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = growth_model(study, therapist_slope=True)
        planned = study.clients.set_index("client_id")["planned_sessions"] - 1.0
        for name, end in (("growth_planned", planned), ("growth_last_observed", None)):
            te = therapist_effects(model, end_time=end, ci="none")
            est = float(te.shares.set_index("estimand").loc["end_adjusted", "estimate"])
            p_slope = float(te.components["slope_lrt_p"].iloc[0])
            rows.append({**base, "estimator": name, "estimate": est, "slope_lrt_p": p_slope})
        # the model without a therapist slope: what misspecification costs, and whether the
        # boundary (a slope variance fitted when the true one is 0) biases the share
        plain = growth_model(study)
        te = therapist_effects(plain, end_time=planned, ci="none")
        est = float(te.shares.set_index("estimand").loc["end_adjusted", "estimate"])
        rows.append({**base, "estimator": "growth_planned_no_slope", "estimate": est})
        # diagnostic: the same model on the latent PHQ-9 (no item-level measurement error) at
        # the same analysed sessions, to separate estimator bias from the latent-vs-observed gap
        latent = model.data.drop(columns="phq9_total").merge(
            truth.sessions[["client_id", "session", "phq9_latent"]], on=["client_id", "session"]
        )
        latent = latent.rename(columns={"phq9_latent": "phq9_total"})
        cols = ["client_id", "therapist_id", "session", "phq9_total"]
        lmodel = growth_model(latent[cols], therapist_slope=True)
        te = therapist_effects(lmodel, end_time=planned, ci="none")
        est = float(te.shares.set_index("estimand").loc["end_adjusted", "estimate"])
        latent_base = {
            **base,
            "truth": "latent",
            "true": float(est_truth["therapist_share_adjusted"]),
        }
        p_slope = float(te.components["slope_lrt_p"].iloc[0])
        rows.append(
            {
                **latent_base,
                "estimator": "growth_planned_latent",
                "estimate": est,
                "slope_lrt_p": p_slope,
            }
        )
        icc = es.lmm("phq9_last ~ phq9_first + (1 | therapist_id)", _first_last(study)).icc()
        rows.append(
            {
                **base,
                "estimator": "ancova_first_last",
                "estimate": float(icc.loc["therapist_id", "icc_adjusted"]),
            }
        )
    return rows


def summarise(reps: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (scenario, estimator), g in reps.groupby(["scenario", "estimator"], sort=False):
        est = g["estimate"].dropna()
        n = len(est)
        emp_se = float(est.std(ddof=1))
        bias = float(est.mean() - g["true"].iloc[0])
        mcse = emp_se / np.sqrt(n)
        p_slope = g["slope_lrt_p"].dropna() if "slope_lrt_p" in g else pd.Series(dtype=float)
        out.append(
            {
                "scenario": scenario,
                "estimator": estimator,
                "truth": g["truth"].iloc[0],
                "true": g["true"].iloc[0],
                "n_reps": n,
                "n_failed": int(g["estimate"].isna().sum()),
                "mean_estimate": float(est.mean()),
                "bias": bias,
                "bias_mcse": mcse,
                "bias_over_mcse": bias / mcse,
                "emp_se": emp_se,
                "unbiased_2mcse": abs(bias) < 2 * mcse,
                "slope_lrt_reject": float((p_slope < 0.05).mean()) if len(p_slope) else np.nan,
            }
        )
    return pd.DataFrame(out)


def truth_error(seeds=range(12, 17)) -> pd.DataFrame:
    """Both true shares recomputed on population studies with other seeds."""
    rows = []
    for scenario in GRID:
        p = _params(scenario)
        committed = _population.population_truths(p, DESIGN["max_sessions"]).set_index("estimand")
        values: dict[str, list[float]] = {}
        for seed in seeds:
            with mock.patch.object(_population, "POPULATION_SEED", seed):
                pop = _population.population_truths.__wrapped__(p, DESIGN["max_sessions"])
            for name, v in pop.set_index("estimand")["value"].items():
                values.setdefault(str(name), []).append(float(v))
        for truth, name in (
            ("observed", "therapist_share_adjusted_observed"),
            ("latent", "therapist_share_adjusted"),
        ):
            rows.append(
                {
                    "scenario": scenario,
                    "truth": truth,
                    "committed_true": float(committed.loc[name, "value"]),
                    "sd_over_seeds": float(np.std(values[name], ddof=1)),
                    "values_seeds_12_16": " ".join(f"{v:.4f}" for v in values[name]),
                }
            )
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        cells = [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    args = parser.parse_args()
    start = time.time()
    rows = [r for s in GRID for rep in range(args.reps) for r in one_replication(s, rep)]
    reps = pd.DataFrame(rows)
    table = summarise(reps)
    OUT.mkdir(exist_ok=True)
    reps.to_csv(OUT / "therapist_effects.csv", index=False)
    errors = truth_error()
    minutes = (time.time() - start) / 60
    text = (
        f"Therapist share of end-of-treatment PHQ-9 variance adjusted for intake, "
        f"{DESIGN['n_therapists']} therapists x {DESIGN['clients_per_therapist']} clients, "
        f"{args.reps} replications per scenario ({minutes:.1f} min); "
        "written by benchmarks/validity/therapist_share.py.\n\n"
        + markdown(table)
        + "\nMonte-Carlo error of the true values (population studies with seeds 12-16; "
        "the committed value uses seed 11):\n\n" + markdown(errors)
    )
    (OUT / "therapist_effects.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
