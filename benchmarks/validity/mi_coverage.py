"""Validity of multiple imputation: pooled MI estimates under MAR missingness cover the truth.

Each replication simulates a study with ``engagestats.simulate_study`` under a generating
model that the analysis model specifies correctly (no alliance terms, no residual
autocorrelation, no therapist slope; ``PARAMS``), fits the analysis model

    phq9_total ~ time * (autonomous + readiness) + (1 + time | client_id) + (1 | therapist_id)

to the simulated data (``complete``: the benchmark's control), deletes further PHQ-9
totals missing at random (``MAR``: the probability rises with the client's first
PHQ-9 score, which is always kept, and with autonomy), then
``impute(m=M) -> fit -> pool`` (``mi``) and, for comparison, fits the incomplete data
directly (``available``: likelihood-based, also valid under MAR). It reports bias,
empirical SE, 95% CI coverage of the generating fixed effects and their Monte-Carlo SEs
(Morris, White & Crowther 2019).

Run: ``nice -n 10 .venv/bin/python benchmarks/validity/mi_coverage.py --reps 200``
(``--reps 3`` for a smoke run).

``--therapist-slope SD`` (off by default; the default run above is unchanged): the
generating model gets a therapist random slope with that SD, the analysis model
``(1 + time | therapist_id)`` in place of ``(1 | therapist_id)``, and ``mi`` imputes with
``impute(therapist_slope=True)``; ``mi_2l`` (the two-level imputer, therapist mean as a
predictor) is added for comparison, and the therapist slope variance is reported beside the
fixed effects (``term = var_therapist_slope``; its CI columns are empty, and its ``bias``
is against the generating variance ``SD**2``). Results go to ``mi_coverage_tslope.{csv,md}``
and ``mi_tslope_replications.csv``. The variance rows have no coverage: ``lmm`` gives no
interval for a variance component, and Rubin's rules need an approximately normal estimate
with a within-imputation variance, which a REML variance near its boundary of 0 is not;
they report the relative bias and ``share_zero`` (fits with the variance at 0) instead.
``--start R`` resumes a run: the replications below R are read back from the replications
file and replications R, R + 1, ... are added (the tables are rewritten every 10 replications,
so a run stopped early leaves consistent tables). Replication r uses seed ``SEED_BASE + r``:
no selection.
Results: ``benchmarks/validity/results/mi_coverage.{csv,md}`` and the per-replication
``mi_replications.csv``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

import engagestats as es
from engagestats.analyses._panel import scored_study
from engagestats.simulate import SimulationParams

SEED_BASE = 150_000
M = 10
DESIGN = {"n_therapists": 20, "clients_per_therapist": 8, "max_sessions": 12}
PARAMS = replace(
    SimulationParams(),
    alliance_between=0.0,
    alliance_within_lag=0.0,
    time_alliance_between=0.0,
    residual_ar=0.0,
    sd_therapist_slope=0.0,
)
TRUTH = {
    "(Intercept)": PARAMS.intercept,
    "time": PARAMS.time,
    "autonomous": PARAMS.autonomous,
    "readiness": PARAMS.readiness,
    "time:autonomous": PARAMS.time_autonomous,
    "time:readiness": PARAMS.time_readiness,
}
FORMULA = (
    "phq9_total ~ time * (autonomous + readiness) + (1 + time | client_id) + (1 | therapist_id)"
)
#: MAR deletion model: logit P(missing) = MAR_INTERCEPT + MAR_FIRST z(first PHQ-9) + MAR_AUT z(aut)
MAR_INTERCEPT, MAR_FIRST, MAR_AUT = -1.4, 0.8, -0.5
OUT = Path(__file__).resolve().parent / "results"


def _panel(study: es.Study) -> pd.DataFrame:
    scored = scored_study(study, ["phq9_total", "srq_autonomous", "urica_readiness"])
    p = scored.panel()
    p = p[p["attended"] == 1].copy()
    p["time"] = p["session"] - 1.0
    for name, col in (("autonomous", "srq_autonomous"), ("readiness", "urica_readiness")):
        centre = scored.clients[col].mean()  # centred over clients, as the generating model
        p[name] = p[col] - centre
    return p.reset_index(drop=True)


def _impose_mar(p: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    obs = p.dropna(subset=["phq9_total"]).sort_values(["client_id", "session"])
    first_session = obs.groupby("client_id")["session"].first()
    first = obs.groupby("client_id")["phq9_total"].first()
    f = p["client_id"].map(first)
    is_first = p["session"] == p["client_id"].map(first_session)
    z = (f - f.mean()) / f.std()
    za = (p["autonomous"] - p["autonomous"].mean()) / p["autonomous"].std()
    lin = MAR_INTERCEPT + MAR_FIRST * z.fillna(0) + MAR_AUT * za.fillna(0)
    miss = (rng.random(len(p)) < 1 / (1 + np.exp(-lin))) & ~is_first.to_numpy()
    return p.assign(phq9_total=p["phq9_total"].where(~miss))


FORMULA_TSLOPE = FORMULA.replace("(1 | therapist_id)", "(1 + time | therapist_id)")


def _slope_var(fit: es.LmmResult) -> float:
    vc = fit.varcorr
    sel = (vc["group"] == "therapist_id") & (vc["var1"] == "time") & vc["var2"].isna()
    return float(vc.loc[sel, "vcov"].iloc[0])


def _var_row(method: str, value: float, truth: float, base: dict) -> dict:
    return {
        **base,
        "method": method,
        "term": "var_therapist_slope",
        "true": truth,
        "estimate": value,
        "se": np.nan,
        "df": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "fmi": np.nan,
    }


def _rows(method: str, table: pd.DataFrame, base: dict) -> list[dict]:
    return [
        {
            **base,
            "method": method,
            "term": term,
            "true": truth,
            "estimate": table.loc[term, "estimate"],
            "se": table.loc[term, "se"],
            "df": table.loc[term, "df"],
            "ci_low": table.loc[term, "ci_low"],
            "ci_high": table.loc[term, "ci_high"],
            "fmi": table.loc[term, "fmi"] if "fmi" in table else np.nan,
        }
        for term, truth in TRUTH.items()
    ]


def one_replication(rep: int, therapist_slope: float | None = None) -> list[dict]:
    seed = SEED_BASE + rep
    study = es.simulate_study(
        n_therapists=DESIGN["n_therapists"],
        clients_per_therapist=DESIGN["clients_per_therapist"],
        max_sessions=DESIGN["max_sessions"],
        seed=seed,
        params=PARAMS
        if therapist_slope is None
        else replace(PARAMS, sd_therapist_slope=therapist_slope),
    )
    rng = np.random.default_rng(seed)
    full = _panel(study)
    mar = _impose_mar(full, rng)
    base = {"rep": rep, "seed": seed, "missing_share": float(mar["phq9_total"].isna().mean())}
    rows: list[dict] = []
    if therapist_slope is not None:
        return rows + _tslope_rows(full, mar, seed, therapist_slope**2, base)
    with warnings.catch_warnings():
        for w in (es.SingularFitWarning, es.ConvergenceWarning, es.EngageStatsWarning):
            warnings.simplefilter("ignore", w)
        try:
            rows += _rows("complete", es.lmm(FORMULA, full).fixed, base)
            rows += _rows("available", es.lmm(FORMULA, mar).fixed, base)
            imps = es.impute(
                mar, m=M, seed=seed, predictors=["autonomous", "readiness"], time="time"
            )
            rows += _rows("mi", es.pool(imps.fit(lambda d: es.lmm(FORMULA, d))), base)
        except es.EngageStatsError as exc:  # counted, not dropped
            rows.append({**base, "method": "failed", "term": "fit_failed", "error": str(exc)})
    return rows


def _tslope_rows(
    full: pd.DataFrame, mar: pd.DataFrame, seed: int, truth: float, base: dict
) -> list[dict]:
    rows: list[dict] = []
    with warnings.catch_warnings():
        for w in (es.SingularFitWarning, es.ConvergenceWarning, es.EngageStatsWarning):
            warnings.simplefilter("ignore", w)
        warnings.simplefilter("ignore", RuntimeWarning)  # engine sqrt at a singular boundary
        try:
            for method, data in (("complete", full), ("available", mar)):
                fit = es.lmm(FORMULA_TSLOPE, data)
                rows += _rows(method, fit.fixed, base)
                rows.append(_var_row(method, _slope_var(fit), truth, base))
            kw = {"m": M, "seed": seed, "predictors": ["autonomous", "readiness"], "time": "time"}
            for method, three in (("mi", True), ("mi_2l", False)):
                imps = es.impute(mar, therapist_slope=three, **kw)
                fits = imps.fit(lambda d: es.lmm(FORMULA_TSLOPE, d))
                rows += _rows(method, es.pool(fits), base)
                v = float(np.mean([_slope_var(f) for f in fits]))
                rows.append(_var_row(method, v, truth, base))
        except es.EngageStatsError as exc:  # counted, not dropped
            rows.append({**base, "method": "failed", "term": "fit_failed", "error": str(exc)})
    return rows


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    out = []
    ok = raw[raw["term"] != "fit_failed"]
    for (method, term), g in ok.groupby(["method", "term"], sort=False):
        n = len(g)
        true = float(g["true"].iloc[0])
        emp_se = float(g["estimate"].std(ddof=1))
        cover = ((g["ci_low"] <= true) & (true <= g["ci_high"])).to_numpy(float)
        if g["ci_low"].isna().all():  # a variance component: no interval
            cover = np.full(n, np.nan)
        is_var = term.startswith("var_")
        out.append(
            {
                "method": method,
                "term": term,
                "true": true,
                "n_reps": n,
                "bias": float(g["estimate"].mean() - true),
                "bias_mcse": emp_se / np.sqrt(n),
                "emp_se": emp_se,
                "mean_se": float(g["se"].mean()),
                "coverage": cover.mean(),
                "coverage_mcse": float(np.sqrt(cover.mean() * (1 - cover.mean()) / n)),
                "mean_fmi": float(g["fmi"].mean()),
                "mean_missing_share": float(g["missing_share"].mean()),
                "rel_bias": float(g["estimate"].mean() / true - 1) if is_var else np.nan,
                "share_zero": float((g["estimate"] <= 1e-8).mean()) if is_var else np.nan,
            }
        )
    return pd.DataFrame(out)


def _markdown(table: pd.DataFrame) -> str:
    fmt = table.copy()
    for c in fmt.columns:
        if fmt[c].dtype.kind == "f":
            fmt[c] = fmt[c].map(lambda x: "" if pd.isna(x) else f"{x:.3f}")
    cols = list(fmt.columns)
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    return head + "".join("| " + " | ".join(map(str, r)) + " |\n" for r in fmt.to_numpy())


def _write_tables(
    frame: pd.DataFrame, out: Path, ts: float | None, timing: str
) -> tuple[pd.DataFrame, str]:
    """Write the replications file, ``mi_coverage{tag}.csv`` and ``.md``; return table, text."""
    tag = "" if ts is None else "_tslope"
    reps_name = "mi_replications.csv" if ts is None else "mi_tslope_replications.csv"
    table = summarise(frame)
    frame.to_csv(out / reps_name, index=False)
    table.to_csv(out / f"mi_coverage{tag}.csv", index=False)
    n_reps = int(frame["rep"].nunique())
    n_failed = int((frame["term"] == "fit_failed").sum())
    scenario = (
        ""
        if ts is None
        else (
            f"Therapist random slope SD {ts:g} (variance {ts**2:.4g}); analysis model "
            f"`{FORMULA_TSLOPE}`; `mi` = `impute(therapist_slope=True)`, `mi_2l` = the "
            "two-level imputer. `var_therapist_slope`: the REML estimate (mean over "
            "imputations for MI), bias and `rel_bias` (mean / truth - 1) against the "
            "generating variance, `share_zero`: share of replications with the estimate at 0; "
            "no interval, so no coverage.\n\n"
        )
    )
    text = (
        "\n"  # the table goes under a heading of docs/validity.md (write_doc.py)
        + scenario
        + f"{n_reps} replications ({n_failed} failed), m = {M} imputations, "
        f"design {DESIGN}, {timing}. Generated by `benchmarks/validity/mi_coverage.py`.\n"
        f"Methods: `complete` (the simulated data before the extra MAR deletion), "
        f"`available` (the incomplete data, likelihood-based), `mi` "
        f"(`impute` -> `lmm` -> `pool`, dfcom = Satterthwaite).\n\n"
        + _markdown(table.dropna(axis=1, how="all"))
    )
    (out / f"mi_coverage{tag}.md").write_text(text)
    return table, text


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--therapist-slope",
        type=float,
        default=None,
        metavar="SD",
        help="generate a therapist random slope with this SD and impute with "
        "impute(therapist_slope=True) (default: off, the standard run)",
    )
    parser.add_argument(
        "--start",
        type=int,
        default=0,
        metavar="R",
        help="resume: keep replications < R of the replications file, run R .. reps - 1",
    )
    args = parser.parse_args(argv)
    ts = args.therapist_slope
    reps_name = "mi_replications.csv" if ts is None else "mi_tslope_replications.csv"
    start = time.perf_counter()
    raw: list[dict] = []
    args.out.mkdir(parents=True, exist_ok=True)
    kept = pd.DataFrame()
    if args.start > 0:
        kept = pd.read_csv(args.out / reps_name)
        kept = kept[kept["rep"] < args.start]
        if kept["rep"].nunique() != args.start:
            raise SystemExit(f"{reps_name} lacks some of the replications 0..{args.start - 1}")

    def timing(done: int) -> str:
        spent = f"{time.perf_counter() - start:.0f} s"
        if args.start == 0:
            return spent
        return (
            f"replications {args.start}-{done - 1} in {spent} "
            f"(0-{args.start - 1} from an earlier run of the same seeds)"
        )

    text = ""
    for r in range(args.start, args.reps):
        raw += one_replication(r, ts)
        if (r + 1) % 10 == 0 or r + 1 == args.reps:
            frame = pd.concat([kept, pd.DataFrame(raw)], ignore_index=True)
            _, text = _write_tables(frame, args.out, ts, timing(r + 1))
            print(f"{r + 1} reps, {time.perf_counter() - start:.0f} s", flush=True)
    print(text)
    return summarise(pd.concat([kept, pd.DataFrame(raw)], ignore_index=True))


if __name__ == "__main__":
    main()
