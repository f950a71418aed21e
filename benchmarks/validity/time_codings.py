"""Validity benchmark: growth-model time codings (``time_method``) against known truths (issue 15).

For a log-shaped and a linear generating trajectory it simulates ``--reps`` studies (the design
of ``run_validity.py``) and fits, to the same data, the total-effects growth model
(``analyses.endtoend.total_model``: intake autonomy and readiness, each interacting with
time, no post-intake variable) under each time coding of ``growth_model``:
``time_method="session"`` (``time``), ``"log"`` (``log_time`` = log(1 + t)) and
``"piecewise"`` with the default knot (4 sessions after the first: ``time_p1``, ``time_p2``;
on the log-shaped data only). ``t`` is sessions since the client's first.

Scenarios (``CELLS``): ``log_linear_aut0`` is ``SimulationParams.scenario("log_linear")`` and
``routine_care_aut0`` the defaults (linear), both with ``time_autonomous = 0``, so that in
each study the autonomy slope terms have a true value of 0 (false-positive rate) and the
readiness slope terms keep their generating value -0.075 per unit of the generating time
metric (power). With ``time_autonomous = 0`` the latent PHQ-9 depends on autonomy only
through its level (the alliance and its feedback do not depend on it), so every
autonomy-by-time estimand is 0 by construction.

Estimands (``true``), all total effects (they average over the alliance and its feedback):

* coefficient rows (``<time term>:readiness``, ...): the population least-squares projection
  of the latent PHQ-9 at every planned session on the coding's time terms, the intake scores
  and their products (as ``SimulationTruth.estimands["readiness_total_slope"]``, on the
  coding's own terms): for the matching coding the generating value up to the alliance
  feedback, for a misspecified one the best approximation on its own scale (pseudo-true);
* change rows (``change_to_T:readiness``, ``change_to_T``): the expected change of the latent
  PHQ-9 from the first session to ``T`` sessions after it, per point of the intake score
  (population regression of the latent change on the intake scores), or for the average
  client; the same estimand whatever the coding, so their bias is the cost of a coding that
  does not match the trajectory. A fit's estimate is the linear combination of its
  coefficients at ``T`` (``LmmResult.contrast``, Satterthwaite).

Population values: the mean over ``TRUTH_SEEDS`` population studies of 500 therapists x 40
clients (``simulate._tables.generate``, as ``simulate._population``), with the control variate
of ``simulate._population._total_effects``; ``true_mcse`` is their SD / sqrt(number of
seeds). Written to ``results/time_codings_truth.csv``.

``python benchmarks/validity/time_codings.py --reps 200`` writes
``results/time_codings.{csv,md}`` and ``results/time_codings_replications.csv`` (rewritten every
5 replications; ``--deadline HH:MM`` (UTC) starts no replication after that time, so a run on
shared cores stops with consistent tables). Replication r of cell k uses seed
``SEED_BASE + 10_000 k + r``: no selection; replications run cell after cell within r.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

import engagestats as es
from engagestats.analyses import growth_model
from engagestats.analyses._panel import ADJUSTED_PREDICTORS, scored_study
from engagestats.analyses._time_scale import TimeScale
from engagestats.analyses.endtoend import _SCORES
from engagestats.simulate import SimulationParams
from engagestats.simulate._process import time_metric
from engagestats.simulate._tables import generate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_validity import DESIGN, OUT, _markdown, _quiet, summarise

SEED_BASE = 710_000
#: Cell -> (generating parameters, codings fitted).
CELLS: dict[str, tuple[SimulationParams, tuple[str, ...]]] = {
    "log_linear_aut0": (
        replace(SimulationParams.scenario("log_linear"), time_autonomous=0.0),
        ("log", "session", "piecewise"),
    ),
    "routine_care_aut0": (
        replace(SimulationParams.scenario("routine_care"), time_autonomous=0.0),
        ("session", "log"),
    ),
}
#: The coding each cell's trajectory matches (the others are misspecified).
MATCHING = {"log_linear_aut0": "log", "routine_care_aut0": "session"}
#: Sessions after the first at which the change estimands are taken (the default knot, the end).
CHANGE_AT = (4, 11)
PREDICTORS = ("autonomous", "readiness")
TRUTH_SEEDS = (11, 12, 13, 14)
POPULATION = (500, 40)


def scale(coding: str) -> TimeScale:
    """The ``TimeScale`` of a coding (piecewise: the default knot)."""
    return TimeScale.build(coding, None)


def _basis(coding: str, t: np.ndarray) -> np.ndarray:
    coded = scale(coding).code(t)
    return np.column_stack([coded[name] for name in scale(coding).terms])


def population_values(p: SimulationParams, codings: tuple[str, ...], seed: int) -> dict[str, float]:
    """Estimand -> value on one population study (``"<coding>|<term>"`` for coefficients)."""
    n_t, n_c = POPULATION
    _, latent = generate(np.random.default_rng(seed), p, n_t, n_c, DESIGN["max_sessions"])
    c, full = latent["clients"], latent["full"]
    y = full["phq_latent"].copy()
    n, s = y.shape
    tm = time_metric(p, np.arange(s, dtype=float))[None, :]
    names = (
        "therapist_intercept",
        "therapist_slope",
        "client_intercept",
        "client_slope",
        "alliance_between",
        *PREDICTORS,
    )
    col = {k: c[k].to_numpy(dtype=float)[:, None] for k in names}
    # control variate: generating parts independent of the intake scores by construction
    y -= col["therapist_intercept"] + col["client_intercept"]
    y -= p.alliance_between * col["alliance_between"]
    y -= (col["therapist_slope"] + col["client_slope"]) * tm
    y -= p.time_alliance_between * col["alliance_between"] * tm
    y -= full["residual"]
    ar = np.column_stack([col["autonomous"][:, 0], col["readiness"][:, 0]])
    out: dict[str, float] = {}
    t = np.broadcast_to(np.arange(s, dtype=float), (n, s))
    keep = t < np.asarray(full["planned"])[:, None]
    rows = np.nonzero(keep)[0]
    for coding in codings:
        B = _basis(coding, t[keep])
        X = [np.ones(len(rows)), *B.T, *ar[rows].T]
        names = []
        for v in PREDICTORS:
            for j, term in enumerate(scale(coding).terms):
                X.append(B[:, j] * ar[rows, PREDICTORS.index(v)])
                names.append(f"{term}:{v}")
        coef = np.linalg.lstsq(np.column_stack(X), y[keep], rcond=None)[0]
        for name, value in zip(names, coef[-len(names) :], strict=True):
            out[f"{coding}|{name}"] = float(value)
    X = np.column_stack([np.ones(n), ar])
    for T in CHANGE_AT:
        coef = np.linalg.lstsq(X, y[:, T] - y[:, 0], rcond=None)[0]
        out[f"change_to_{T}"] = float(coef[0])  # the intake scores are centred over clients
        for k, v in enumerate(PREDICTORS):
            out[f"change_to_{T}:{v}"] = float(coef[k + 1])
    return out


def truths(out: Path) -> pd.DataFrame:
    """Population values per cell and estimand (cached in ``out/time_codings_truth.csv``)."""
    path = out / "time_codings_truth.csv"
    if path.exists():
        return pd.read_csv(path)
    rows = []
    for cell, (p, codings) in CELLS.items():
        vals = pd.DataFrame([population_values(p, codings, s) for s in TRUTH_SEEDS])
        for est in vals.columns:
            v = vals[est].to_numpy()
            zero = p.time_autonomous == 0 and est.endswith(":autonomous")
            rows.append(
                {
                    "scenario": cell,
                    "estimand": est,
                    "population_mean": v.mean(),
                    "true_mcse": v.std(ddof=1) / np.sqrt(len(v)),
                    "true": 0.0 if zero else v.mean(),
                    "source": "0 by construction" if zero else "population",
                }
            )
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return table


def _contrasts(fit, coding: str) -> pd.DataFrame:
    """The change estimands as contrasts of a fit's fixed effects."""
    names = list(fit.fixed.index)
    terms = scale(coding).terms
    rows: dict[str, pd.Series] = {}
    for T in CHANGE_AT:
        at = _basis(coding, np.array([float(T)]))[0] - _basis(coding, np.array([0.0]))[0]
        for v in ("", *PREDICTORS):
            L = pd.Series(0.0, index=names)
            for term, w in zip(terms, at, strict=True):
                L[f"{term}:{v}" if v else term] = w
            rows[f"change_to_{T}:{v}" if v else f"change_to_{T}"] = L
    L = pd.DataFrame(rows).T
    return fit.contrast(L)


def one_replication(cell: str, rep: int, truth: pd.DataFrame) -> list[dict]:
    """Every coding of ``CELLS[cell]`` on one simulated study."""
    p, codings = CELLS[cell]
    seed = SEED_BASE + 10_000 * list(CELLS).index(cell) + rep
    study = es.simulate_study(**DESIGN, seed=seed, params=p)
    true = truth[truth["scenario"] == cell].set_index("estimand")
    rows: list[dict] = []
    with warnings.catch_warnings():
        _quiet()
        scored = scored_study(study, _SCORES)
        for coding in codings:
            base = {"analysis": coding, "scenario": cell, "rep": rep, "seed": seed}
            base["matching"] = coding == MATCHING[cell]
            start = time.perf_counter()
            try:
                fit = growth_model(
                    scored, predictors=ADJUSTED_PREDICTORS, prior_outcome="none", time_method=coding
                ).fit
                table = pd.concat([fit.fixed, _contrasts(fit, coding)])
            except es.EngageStatsError as exc:  # a failed fit is counted, not dropped
                rows.append({**base, "term": "fit_failed", "error": str(exc)})
                continue
            secs = time.perf_counter() - start
            coef = [f"{term}:{v}" for v in PREDICTORS for term in scale(coding).terms]
            change = [
                f"change_to_{T}{v}" for T in CHANGE_AT for v in ("", ":autonomous", ":readiness")
            ]
            for term in coef + change:
                key = f"{coding}|{term}" if term in coef else term
                rows.append(
                    {
                        **base,
                        "term": term,
                        "true": true.loc[key, "true"],
                        **table.loc[term, ["estimate", "ci_low", "ci_high", "p"]].to_dict(),
                        "fit_seconds": secs,
                    }
                )
    return rows


def write(raw: pd.DataFrame, truth: pd.DataFrame, out: Path, note: str) -> pd.DataFrame:
    """Summarise and write the replications and ``time_codings.{csv,md}``."""
    table = summarise(raw)
    keyed = truth.assign(
        key=np.where(
            truth["estimand"].str.startswith("change_to"),
            truth["estimand"],
            truth["estimand"].str.split("|").str[-1],
        )
    )
    mcse = {}
    for _, r in keyed.iterrows():
        coding = r["estimand"].split("|")[0] if "|" in r["estimand"] else None
        mcse[(r["scenario"], coding, r["key"])] = r["true_mcse"]
    table["true_mcse"] = [
        mcse.get((s, a, t), mcse.get((s, None, t)))
        for s, a, t in zip(table["scenario"], table["analysis"], table["term"], strict=True)
    ]
    table.loc[table["true"] == 0, "true_mcse"] = 0.0
    table.insert(1, "coding", table.pop("analysis"))
    table.insert(2, "matching", table["coding"] == table["scenario"].map(MATCHING))
    table.insert(table.columns.get_loc("true") + 1, "true_mcse", table.pop("true_mcse"))
    table["bias_z"] = table["bias"] / table["bias_mcse"]
    raw.to_csv(out / "time_codings_replications.csv", index=False)
    table.to_csv(out / "time_codings.csv", index=False)
    cols = [c for c in table.columns if c not in ("n_no_se",)]
    text = "\n" + note + "\n\n" + _markdown(table[cols].dropna(axis=1, how="all"))
    (out / "time_codings.md").write_text(text)
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--deadline", default=None, help="HH:MM UTC: start no replication after it")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    truth = truths(args.out)
    t_truth = time.perf_counter() - start
    stop = None
    if args.deadline:
        hh, mm = map(int, args.deadline.split(":"))
        now = dt.datetime.now(dt.UTC)
        stop = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
    rows: list[dict] = []
    done = 0
    for r in range(args.reps):
        if stop is not None and dt.datetime.now(dt.UTC) >= stop:
            break
        for cell in CELLS:
            rows.extend(one_replication(cell, r, truth))
        done = r + 1
        if done % 5 == 0 or done == args.reps:
            note = (
                f"{done} replications per cell (of {args.reps} asked), design {DESIGN}, "
                f"{time.perf_counter() - start:.0f} s ({t_truth:.0f} s of it the population "
                "values). Generated by `benchmarks/validity/time_codings.py`."
            )
            write(pd.DataFrame(rows), truth, args.out, note)
            print(f"{done} replications, {time.perf_counter() - start:.0f} s", flush=True)
    if done % 5 and done != args.reps:
        note = (
            f"{done} replications per cell (of {args.reps} asked; stopped at the deadline), "
            f"design {DESIGN}, {time.perf_counter() - start:.0f} s. "
            "Generated by `benchmarks/validity/time_codings.py`."
        )
        write(pd.DataFrame(rows), truth, args.out, note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
