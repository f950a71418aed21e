"""Validity benchmark: the library's recommended analyses against known generating scenarios.

For every scenario in ``SCENARIOS`` (``SimulationParams.scenario``) it simulates
``--reps`` studies of a small design, runs

* ``growth``: the default covariate-adjusted growth model
  (``analyses.endtoend.adjusted_model``): the lagged within-client alliance
  term and the level effects (``autonomous``, ``readiness``,
  ``alliance_between``), against the generating values;
* ``growth_before``: the same model under the defaults before issue 12
  (``prior_outcome="none", detrend=False, first_lag="zero"``: the lagged
  person-mean-centred alliance, no prior outcome), for the before/after table;
* ``cross_lagged``: the alliance -> next PHQ-9 path of :func:`engagestats.cross_lagged`,
  the RI-CLPM (``trends=False``) and the latent curve model with structured residuals
  (``trends=True``), on the first ``--cl-reps`` replications (they take seconds each);
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

The ``long_*`` cells (``LONG``) are longer series from a simpler generator,
``process_panel`` of ``tests/analyses/test_growth_options.py`` (100 clients x 20 sessions,
every session observed; stronger reciprocal and AR(1) paths, co-varying trends), where the
inflation of the naive estimate shows: only the within-client alliance analyses run there.

Run ``make validate`` (all cells, 200 replications) or
``python benchmarks/validity/run_validity.py --reps 3`` for a smoke run;
``--analyses`` runs some analyses only (their rows replace those of the same analysis
and scenario in ``results/replications.csv``; the others are kept). To add replications to
a cell, run them into another directory and merge them (only the same replications are
replaced)::

    python benchmarks/validity/run_validity.py --scenarios long_null_both \
        --analyses cross_lagged --reps 100 --first-rep 81 --out /tmp/extra
    python benchmarks/validity/run_validity.py --merge /tmp/extra/replications.csv
Replication r of scenario k uses seed ``SEED_BASE + 10_000 k + r``: no selection.
"""

from __future__ import annotations

import argparse
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import engagestats as es
from engagestats.analyses import binary_model, growth_model
from engagestats.analyses._panel import ADJUSTED_PREDICTORS, ADJUSTED_TIME_VARYING, scored_study
from engagestats.analyses.endtoend import adjusted_model
from engagestats.simulate import SCENARIOS, SimulationParams

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
    "null_reciprocal_ar1",
    "long_null_reciprocal_ar1",
    "long_null_trends",
    "long_null_both",
    "long_effect",
]
#: Scenarios of this benchmark that ``SimulationParams.scenario`` does not name.
EXTRA: dict[str, dict[str, Any]] = {
    # the symptom -> alliance path and AR(1) residuals together, no alliance trends/ruptures
    "null_reciprocal_ar1": {**SCENARIOS["null_reciprocal"], "residual_ar": 0.4},
}
#: Longer-series cells: ``process_panel`` keyword arguments (true within effect ``effect``).
LONG: dict[str, dict[str, Any]] = {
    "long_null_reciprocal_ar1": {"reciprocal": True},
    "long_null_trends": {"trends": True},
    "long_null_both": {"reciprocal": True, "trends": True},
    "long_effect": {"effect": -0.3},
}
LONG_DESIGN = {"n_clients": 100, "n_sessions": 20}
ANALYSES = ("growth", "growth_before", "cross_lagged", "therapist_share", "dropout")
#: growth_model options of the defaults before issue 12.
BEFORE: dict[str, Any] = {"prior_outcome": "none", "detrend": False, "first_lag": "zero"}
#: Replications (the first ones) on which cross_lagged runs.
CL_REPS = 100
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


def _params(scenario: str) -> SimulationParams:
    if scenario in EXTRA:
        return replace(SimulationParams(), **EXTRA[scenario])
    return SimulationParams.scenario(scenario)


def _growth_rows(analysis: str, fit, base: dict, true: dict, terms: dict) -> list[dict]:
    """Rows of the ``terms`` (model term -> true value) of a fitted growth model."""
    try:
        fixed = fit().fit.fixed
    except es.EngageStatsError as exc:  # a failed fit is counted, not dropped
        return [{**base, "analysis": analysis, "term": "fit_failed", "error": str(exc)}]
    return [
        {
            **base,
            "analysis": analysis,
            "term": term,
            "true": value,
            "estimate": fixed.loc[term, "estimate"],
            "ci_low": fixed.loc[term, "ci_low"],
            "ci_high": fixed.loc[term, "ci_high"],
            "p": fixed.loc[term, "p"],
        }
        for term, value in terms.items()
    ]


def _cross_lagged_rows(data, base: dict, true: float) -> list[dict]:
    rows = []
    for term, trends in (("riclpm", False), ("lcm_sr", True)):
        try:
            p = es.cross_lagged(data, trends=trends).paths.iloc[0]
            row = {k: p[k] for k in ("estimate", "ci_low", "ci_high", "p")}
        except es.EngageStatsError as exc:
            row = {"error": str(exc)}
        rows.append({**base, "analysis": "cross_lagged", "term": term, "true": true, **row})
    return rows


def one_replication(
    scenario: str, rep: int, analyses: tuple[str, ...] = ANALYSES, cl_reps: int = CL_REPS
) -> list[dict]:
    """Every analysis on one simulated study: rows of (analysis, term, true, estimate, CI, p)."""
    k = GRID.index(scenario)
    seed = SEED_BASE + 10_000 * k + rep
    base = {"scenario": scenario, "rep": rep, "seed": seed}
    if scenario in LONG:
        return _long_replication(scenario, rep, seed, base, analyses, cl_reps)
    study, truth = es.simulate_study(
        **DESIGN, seed=seed, params=_params(scenario), return_truth=True
    )
    true = truth.estimands.set_index("estimand")["value"]
    terms = {term: true[estimand] for term, estimand in GROWTH_TERMS.items()}
    rows: list[dict] = []
    with warnings.catch_warnings():
        _quiet()
        if "growth" in analyses:
            rows += _growth_rows("growth", lambda: adjusted_model(study), base, true, terms)
        if "growth_before" in analyses:
            scored = scored_study(
                study, ["phq9_total", *ADJUSTED_PREDICTORS.values(), "wai_sr_sum"]
            )
            before = lambda: growth_model(  # noqa: E731
                scored,
                predictors=ADJUSTED_PREDICTORS,
                time_varying=ADJUSTED_TIME_VARYING,
                **BEFORE,
            )
            rows += _growth_rows("growth_before", before, base, true, terms)
        if "cross_lagged" in analyses and rep < cl_reps:
            rows += _cross_lagged_rows(study, base, float(true["alliance_within_effect"]))
        if "therapist_share" in analyses:
            rows += _therapist_share_rows(study, base, true)
        if "dropout" in analyses:
            rows += _dropout_rows(study, base, true)
    return rows


def _long_replication(
    scenario: str, rep: int, seed: int, base: dict, analyses: tuple[str, ...], cl_reps: int
) -> list[dict]:
    kw = LONG[scenario]
    effect = float(kw.get("effect", 0.0))
    data = process_panel(np.random.default_rng(seed), **LONG_DESIGN, **kw)
    terms = {"alliance_within_lag": effect}
    tv = {"alliance": "wai_sr_sum"}
    rows: list[dict] = []
    with warnings.catch_warnings():
        _quiet()
        if "growth" in analyses:
            fit = lambda: growth_model(data, time_varying=tv, therapist=None)  # noqa: E731
            rows += _growth_rows("growth", fit, base, {}, terms)
        if "growth_before" in analyses:
            old = lambda: growth_model(data, time_varying=tv, therapist=None, **BEFORE)  # noqa: E731
            rows += _growth_rows("growth_before", old, base, {}, terms)
        if "cross_lagged" in analyses and rep < cl_reps:
            rows += _cross_lagged_rows(data, base, effect)
    return rows


def process_panel(rng: np.random.Generator, **kwargs) -> pd.DataFrame:
    """The longer-series generator of ``tests/analyses/test_growth_options.py``."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "tests" / "analyses" / "test_growth_options.py"
    spec = importlib.util.spec_from_file_location("_growth_options", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.process_panel(rng, **kwargs)


def _therapist_share_rows(study: es.Study, base: dict, true) -> list[dict]:
    panel = _first_last(study)
    try:
        icc = es.lmm("phq9_last ~ phq9_first + (1 | therapist_id)", panel).icc()
        share = float(icc.loc["therapist_id", "icc_adjusted"])
    except es.EngageStatsError:
        share = np.nan
    return [
        {
            **base,
            "analysis": "therapist_share",
            "term": "therapist_share_adjusted",
            "true": true["therapist_share_adjusted"],
            "estimate": share,
        }
    ]


def _dropout_rows(study: es.Study, base: dict, true) -> list[dict]:
    try:
        gee = binary_model(study, method="gee").odds_ratios.set_index("term")
    except es.EngageStatsError as exc:
        return [{**base, "analysis": "dropout", "term": "fit_failed", "error": str(exc)}]
    return [
        {
            **base,
            "analysis": "dropout",
            "term": term,
            "true": true[estimand],
            "estimate": gee.loc[term, "estimate"],
            "ci_low": gee.loc[term, "ci_low"],
            "ci_high": gee.loc[term, "ci_high"],
            "p": gee.loc[term, "p"],
        }
        for term, estimand in DROPOUT_TERMS.items()
    ]


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
            # a fit with an estimate but no SE (information matrix not positive definite) has
            # no interval and no test: counted in n_no_se, left out of coverage and rejection
            has_se = g["estimate"].notna() & g[["ci_low", "ci_high", "p"]].notna().all(axis=1)
            gs = g[has_se]
            m = len(gs)
            cover = ((gs["ci_low"] <= true) & (true <= gs["ci_high"])).to_numpy(dtype=float)
            reject = (gs["p"] < 0.05).to_numpy(dtype=float)
            row["n_no_se"] = int((g["estimate"].notna() & ~has_se).sum())
            row["coverage"] = cover.mean()
            row["coverage_mcse"] = np.sqrt(cover.mean() * (1 - cover.mean()) / m)
            row["rejects"] = "false positive" if true == 0 else "power"
            row["reject_rate"] = reject.mean()
            row["reject_mcse"] = np.sqrt(reject.mean() * (1 - reject.mean()) / m)
        out.append(row)
    return pd.DataFrame(out)


def _markdown(table: pd.DataFrame) -> str:
    cols = [c for c in table.columns if c not in ("analysis",)]
    fmt = table[cols].copy()
    for c in fmt.columns:
        if fmt[c].dtype.kind == "f" and c.startswith("n_"):  # counts (float when NaN elsewhere)
            fmt[c] = fmt[c].map(lambda x: "" if pd.isna(x) else f"{x:.0f}")
        elif fmt[c].dtype.kind == "f":
            fmt[c] = fmt[c].map(lambda x: "" if pd.isna(x) else f"{x:.3f}")
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    return head + "".join("| " + " | ".join(map(str, r)) + " |\n" for r in fmt.to_numpy())


def _write(
    raw: pd.DataFrame, out: Path, by: tuple[str, ...] = ("analysis", "scenario")
) -> pd.DataFrame:
    """Write the replications and the tables.

    Rows already in ``out/replications.csv`` are kept unless ``raw`` has rows with the same
    ``by`` key: by (analysis, scenario) cell for a run (a re-run replaces the cell), by
    (analysis, scenario, rep) for ``--merge`` (a merge adds replications to a cell and
    replaces only the replications it has).
    """
    out.mkdir(parents=True, exist_ok=True)
    path = out / "replications.csv"
    if path.exists():
        old = pd.read_csv(path)
        done = set(zip(*(raw[c] for c in by), strict=True))
        cell = pd.Series(list(zip(*(old[c] for c in by), strict=True)), index=old.index)
        raw = pd.concat([old[~cell.isin(done)], raw], ignore_index=True)
    order = {s: i for i, s in enumerate(GRID)}
    raw = raw.sort_values(
        ["scenario", "rep"],
        key=lambda c: c.map(order) if c.name == "scenario" else c,
        kind="stable",
    )
    table = summarise(raw)
    raw.to_csv(path, index=False)
    for analysis, t in table.groupby("analysis", sort=False):
        t.to_csv(out / f"{analysis}.csv", index=False)
        (out / f"{analysis}.md").write_text(_markdown(t.dropna(axis=1, how="all")))
    alliance = alliance_table(table)
    alliance.to_csv(out / "alliance.csv", index=False)
    (out / "alliance.md").write_text(_markdown(alliance))
    return table


#: Estimators of the within-client alliance -> next outcome effect in the before/after table.
ESTIMATORS = {
    ("growth_before", "alliance_within_lag"): "growth_model before issue 12 (lagged, mean-centred)",
    ("growth", "alliance_within_lag"): "growth_model default (detrended, prior outcome)",
    ("cross_lagged", "riclpm"): "cross_lagged (RI-CLPM)",
    ("cross_lagged", "lcm_sr"): "cross_lagged trends=True (LCM-SR)",
}


#: Scenarios of the before/after table, in its order.
ALLIANCE_ORDER = [
    "null_reciprocal",
    "null_ar1",
    "null_reciprocal_ar1",
    "null_trends",
    "null_routine",
    "routine_care",
    *LONG,
]


def alliance_table(table: pd.DataFrame) -> pd.DataFrame:
    """The within-client alliance estimators side by side, scenario by scenario."""
    keys = pd.Series(list(zip(table["analysis"], table["term"], strict=True)), index=table.index)
    t = table[keys.isin(list(ESTIMATORS))].copy()
    t["estimator"] = [ESTIMATORS[k] for k in zip(t["analysis"], t["term"], strict=True)]
    t["_s"] = t["scenario"].map({s: i for i, s in enumerate(ALLIANCE_ORDER)})
    t["_e"] = t["estimator"].map({e: i for i, e in enumerate(ESTIMATORS.values())})
    t = t[
        t["scenario"].isin([*[s for s in GRID if s.startswith(("null", "long"))], "routine_care"])
    ]
    cols = ["scenario", "estimator", "true", "n_reps", "n_failed", "n_no_se", "mean_estimate"]
    cols += ["bias"]
    cols += ["bias_mcse", "coverage", "coverage_mcse", "rejects", "reject_rate", "reject_mcse"]
    return t.sort_values(["_s", "_e"])[cols].reset_index(drop=True)


def run(
    reps: int,
    jobs: int,
    out: Path,
    scenarios: list[str] | None = None,
    analyses: tuple[str, ...] = ANALYSES,
    cl_reps: int = CL_REPS,
    checkpoint: int = 0,
    first_rep: int = 0,
) -> pd.DataFrame:
    """Run the grid scenario by scenario; the tables are rewritten after each scenario.

    Replications ``first_rep`` .. ``reps - 1`` run (same seeds as in a full run); to add
    replications to a committed cell, run them into another ``out`` and ``--merge`` them.

    With ``checkpoint`` > 0 (one process only) they are also rewritten after every
    ``checkpoint`` replications, so a run stopped part-way leaves the cell's first
    replications (a multiple of ``checkpoint``) in the results.
    """
    grid = scenarios or GRID
    start = time.time()
    rows: list[dict] = []
    pool = ProcessPoolExecutor(jobs) if jobs > 1 else None
    one = partial(one_replication, analyses=tuple(analyses), cl_reps=cl_reps)
    try:
        for scenario in grid:
            if pool is not None:
                todo = range(first_rep, reps)
                chunks = list(pool.map(one, [scenario] * len(todo), todo))
            else:
                chunks = []
                for r in range(first_rep, reps):
                    chunks.append(one(scenario, r))
                    if checkpoint > 0 and (r + 1) % checkpoint == 0 and r + 1 < reps:
                        _write(pd.DataFrame([*rows, *(x for c in chunks for x in c)]), out)
                        print(
                            f"{scenario}: {r + 1} of {reps}, {time.time() - start:.0f} s",
                            flush=True,
                        )
            rows.extend(row for chunk in chunks for row in chunk)
            table = _write(pd.DataFrame(rows), out)
            print(
                f"{scenario}: replications {first_rep}..{reps - 1}, {time.time() - start:.0f} s",
                flush=True,
            )
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
    ap.add_argument("--analyses", nargs="*", default=list(ANALYSES), choices=ANALYSES)
    ap.add_argument("--cl-reps", type=int, default=CL_REPS)
    ap.add_argument(
        "--first-rep",
        type=int,
        default=0,
        help="run replications FIRST_REP..REPS-1 only (to extend a cell: into another --out)",
    )
    ap.add_argument(
        "--checkpoint",
        type=int,
        default=0,
        help="with --jobs 1, also rewrite the results after every CHECKPOINT replications",
    )
    ap.add_argument(
        "--merge",
        type=Path,
        default=None,
        help="add the replications of another run's replications.csv (replacing only the same "
        "(analysis, scenario, rep)) and rewrite the tables",
    )
    args = ap.parse_args(argv)
    if args.merge is not None:
        _write(pd.read_csv(args.merge), args.out, by=("analysis", "scenario", "rep"))
        return 0
    run(
        args.reps,
        args.jobs,
        args.out,
        args.scenarios,
        tuple(args.analyses),
        args.cl_reps,
        args.checkpoint,
        args.first_rep,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
