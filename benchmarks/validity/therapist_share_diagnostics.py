"""Why are some therapist-share estimates biased? Diagnostics of the two therapist-share tables.

Run: ``nice .venv/bin/python benchmarks/validity/therapist_share_diagnostics.py --reps 200``
(a few minutes). Writes ``results/therapist_share_diagnostics.md`` and ``.csv``.

Three checks, on the same simulated studies (same seeds) as the tables they explain:

* ``truth``: the Monte-Carlo error of the true value itself.
  ``SimulationTruth.estimands["therapist_share_adjusted"]`` is computed on one 500 x 40
  population study (seed 11); it is recomputed here with seeds 12-16.
* ``ancova`` (``run_validity.py``, 20 therapists x 8 clients, ANCOVA of last on first observed
  PHQ-9): the REML estimate of the committed run (``results/replications.csv``) against two
  estimators that cannot be pulled up by the boundary at 0, on the same studies: the one-way
  ANOVA (method-of-moments) share of the residuals of last on first, which is negative when
  the between-therapist mean square is below the within one, and the REML share's median; and
  against the value the ANCOVA estimator targets on *observed* scores (last observed session,
  not the planned one), the REML share of one 500 x 40 study (``observed_target``).
* ``growth`` (``therapist_share.py``, 40 therapists x 8 clients, ``no_therapist_slope``, true
  slope SD 0): the share of ``growth_model(therapist_slope=True)`` split into its intercept
  part and the part the fitted slope variance adds (``t_mean^2`` times the slope variance and
  the covariance term), on the observed and the latent PHQ-9, and the therapist-intercept-only
  model on the latent PHQ-9.

Replication r of scenario k uses the seed of the table it explains: no selection.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

import engagestats as es
from engagestats.analyses import growth_model
from engagestats.analyses._therapist_variance import components, shares
from engagestats.analyses.therapist_effects import _end_times
from engagestats.simulate import _population

HERE = Path(__file__).resolve().parent
OUT = HERE / "results"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


rv = _load("run_validity")
ts = _load("therapist_share")
SMALL = ["classic", "no_therapist_slope", "log_linear", "routine_care"]


def truth_error(scenarios: list[str], max_sessions: int, seeds=range(12, 17)) -> list[dict]:
    """The true share recomputed on population studies with other seeds."""
    rows = []
    for scenario in scenarios:
        p = rv._params(scenario) if scenario != "default" else es.SimulationParams()
        values = []
        for seed in seeds:
            with mock.patch.object(_population, "POPULATION_SEED", seed):
                pop = _population.population_truths.__wrapped__(p, max_sessions)
            values.append(float(pop.set_index("estimand").loc["therapist_share_adjusted", "value"]))
        committed = float(
            _population.population_truths(p, max_sessions)
            .set_index("estimand")
            .loc["therapist_share_adjusted", "value"]
        )
        rows.append(
            {
                "check": "truth",
                "scenario": scenario,
                "max_sessions": max_sessions,
                "committed_true": committed,
                "sd_over_seeds": float(np.std(values, ddof=1)),
                "values_seeds_12_16": " ".join(f"{v:.4f}" for v in values),
            }
        )
    return rows


def anova_share(d: pd.DataFrame) -> float:
    """One-way ANOVA (moment) share of the therapist variance of the residuals of last on first."""
    X = np.column_stack([np.ones(len(d)), d["phq9_first"].to_numpy(float)])
    y = d["phq9_last"].to_numpy(float)
    res = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    g = pd.Series(res).groupby(d["therapist_id"].to_numpy())
    n_j, m_j = g.size().to_numpy(float), g.mean().to_numpy()
    big_n, k = n_j.sum(), len(n_j)
    msb = float((n_j * (m_j - res.mean()) ** 2).sum() / (k - 1))
    msw = float(((res - g.transform("mean").to_numpy()) ** 2).sum() / (big_n - k))
    n0 = (big_n - (n_j**2).sum() / big_n) / (k - 1)
    s2b = (msb - msw) / n0
    return s2b / (s2b + msw)


def ancova(scenarios: list[str], reps: int) -> list[dict]:
    committed = pd.read_csv(OUT / "replications.csv")
    committed = committed[committed["analysis"] == "therapist_share"]
    rows = []
    for scenario in scenarios:
        k = rv.GRID.index(scenario)
        anova = []
        for r in range(reps):
            study = es.simulate_study(
                **rv.DESIGN, seed=rv.SEED_BASE + 10_000 * k + r, params=rv._params(scenario)
            )
            anova.append(anova_share(rv._first_last(study)))
        reml = committed.loc[committed["scenario"] == scenario].sort_values("rep")["estimate"]
        reml = reml.to_numpy()[:reps]
        true = float(committed.loc[committed["scenario"] == scenario, "true"].iloc[0])
        pop = es.simulate_study(
            n_therapists=500,
            clients_per_therapist=40,
            max_sessions=rv.DESIGN["max_sessions"],
            seed=11,
            params=rv._params(scenario),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            icc = es.lmm("phq9_last ~ phq9_first + (1 | therapist_id)", rv._first_last(pop)).icc()
        target = float(icc.loc["therapist_id", "icc_adjusted"])
        anova = np.asarray(anova)
        for name, est in (("reml", reml), ("anova_moment", anova)):
            n = len(est)
            rows.append(
                {
                    "check": "ancova_20_therapists",
                    "scenario": scenario,
                    "estimator": name,
                    "true": true,
                    "observed_target": target,
                    "n_reps": n,
                    "mean": float(est.mean()),
                    "median": float(np.median(est)),
                    "share_at_or_below_0": float((est <= 1e-8).mean()),
                    "bias": float(est.mean() - true),
                    "bias_mcse": float(est.std(ddof=1) / np.sqrt(n)),
                    "bias_vs_observed_target": float(est.mean() - target),
                }
            )
    return rows


def _split(model, end) -> tuple[float, float, float]:
    """Share, its therapist-intercept part ``(1 - b)^2 var_u / var_res``, fitted slope SD."""
    c = components(model.fit._fit, therapist="therapist_id", client="client_id")
    s = shares(c, end)
    intercept = (1.0 - s["b_pre"]) ** 2 * c.therapist[0, 0] / s["var_residual_end"]
    return s["end_adjusted"], float(intercept), float(np.sqrt(c.therapist[1, 1]))


def growth(reps: int) -> list[dict]:
    scenario = "no_therapist_slope"
    k = ts.GRID.index(scenario)
    rows = []
    for r in range(reps):
        study, truth = es.simulate_study(
            **ts.DESIGN,
            seed=ts.SEED_BASE + 10_000 * k + r,
            params=ts._params(scenario),
            return_truth=True,
        )
        true = float(truth.estimands.set_index("estimand").loc["therapist_share_adjusted", "value"])
        planned = study.clients.set_index("client_id")["planned_sessions"] - 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = growth_model(study, therapist_slope=True)
            latent = model.data.drop(columns="phq9_total").merge(
                truth.sessions[["client_id", "session", "phq9_latent"]],
                on=["client_id", "session"],
            )
            latent = latent.rename(columns={"phq9_latent": "phq9_total"})
            cols = ["client_id", "therapist_id", "session", "phq9_total"]
            lmodel = growth_model(latent[cols], therapist_slope=True)
            lplain = growth_model(latent[cols])
        end = _end_times(model, planned)
        for name, m in (("observed", model), ("latent", lmodel)):
            full, intercept, slope_sd = _split(m, end)
            rows.append(
                {
                    "check": "growth_40_therapists",
                    "scenario": scenario,
                    "rep": r,
                    "true": true,
                    "scores": name,
                    "share": full,
                    "intercept_part": intercept,
                    "slope_sd": slope_sd,
                }
            )
        plain = shares(
            components(lplain.fit._fit, therapist="therapist_id", client="client_id"),
            _end_times(lplain, planned),
        )["end_adjusted"]
        rows.append(
            {
                "check": "growth_40_therapists",
                "scenario": scenario,
                "rep": r,
                "true": true,
                "scores": "latent_no_slope_model",
                "share": plain,
                "intercept_part": plain,
                "slope_sd": 0.0,
            }
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--growth-reps", type=int, default=200)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    start = time.time()
    t_rows = truth_error(SMALL, rv.DESIGN["max_sessions"]) + truth_error(
        ["default", "no_therapist_slope"], ts.DESIGN["max_sessions"]
    )
    a_rows = ancova(SMALL, args.reps)
    g = pd.DataFrame(growth(args.growth_reps))
    g.to_csv(args.out / "therapist_share_diagnostics_growth.csv", index=False)
    g_rows = []
    for scores, d in g.groupby("scores", sort=False):
        n = len(d)
        for col in ("share", "intercept_part"):
            est = d[col]
            g_rows.append(
                {
                    "check": "growth_40_therapists",
                    "scenario": "no_therapist_slope",
                    "estimator": f"{scores}: {col}",
                    "true": float(d["true"].iloc[0]),
                    "n_reps": n,
                    "mean": float(est.mean()),
                    "median": float(est.median()),
                    "bias": float(est.mean() - d["true"].iloc[0]),
                    "bias_mcse": float(est.std(ddof=1) / np.sqrt(n)),
                    "mean_slope_sd": float(d["slope_sd"].mean()),
                    "share_slope_sd_0": float((d["slope_sd"] < 1e-6).mean()),
                }
            )
    minutes = (time.time() - start) / 60
    parts = []
    for title, rows in (
        ("Monte-Carlo error of the true value", t_rows),
        ("ANCOVA share, 20 therapists (run_validity.py)", a_rows),
        ("Growth-model share, 40 therapists, no true therapist slope", g_rows),
    ):
        t = pd.DataFrame(rows)
        t.to_csv(args.out / f"therapist_share_diagnostics_{rows[0]['check']}.csv", index=False)
        parts.append(f"#### {title}\n\n" + ts.markdown(t.drop(columns="check")))
    text = (
        f"Written by benchmarks/validity/therapist_share_diagnostics.py ({args.reps} ANCOVA "
        f"and {args.growth_reps} growth replications per cell, {minutes:.1f} min).\n\n"
        + "\n".join(parts)
    )
    (args.out / "therapist_share_diagnostics.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
