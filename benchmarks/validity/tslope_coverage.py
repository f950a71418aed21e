"""Why ``time:autonomous`` under-covers on complete data with a therapist random slope.

``mi_coverage.py --therapist-slope 0.2`` found, for the *complete* simulated data (no MI, no
extra deletion), 95% CI coverage of 0.908 (MCSE 0.025) for ``time:autonomous`` with an
empirical SE about 17% above the mean model SE, while ``time:readiness`` was fine. This
benchmark fits only the complete data (fast), with the same seeds (replication r uses seed
``mi_coverage.SEED_BASE + r``, so its ``base`` rows are the ``complete`` rows of
``results/mi_tslope_replications.csv``), the same design, the same analysis model

    phq9_total ~ time * (autonomous + readiness) + (1 + time | client_id)
                 + (1 + time | therapist_id)

and the same truth (the generating fixed effects, ``mi_coverage.TRUTH``), and changes one
thing at a time (``VARIANTS``), every variant on the same seed within a replication (paired):

* ``base``: ``mi_coverage.PARAMS`` with ``sd_therapist_slope = 0.2``, Satterthwaite df;
* ``kenward_roger``: the ``base`` fit, Kenward-Roger SEs and df
  (``fit.fixed_effects(ddf="kenward-roger")``);
* ``latent_outcome``: the ``base`` data and rows, the outcome replaced by the latent PHQ-9
  (``truth.sessions.phq9_latent``): no item noise, no floor or ceiling at 0 and 27;
* ``residual_ar_0.4``: AR(1) residuals with lag-1 correlation 0.4 (``PARAMS`` has 0; the
  simulator's default is 0.4), not modelled by the analysis model;
* ``no_autonomy_missingness``: ``miss_autonomy = dropout_autonomy = 0`` (attendance and
  dropout no longer depend on autonomy);
* ``no_dropout``: ``dropout_intercept = -40`` (nobody drops out; missed appointments stay);
* ``no_therapist_slope``: ``sd_therapist_slope = 0`` in the truth (the analysis model keeps
  the therapist slope);
* ``therapists_40``: 40 therapists (8 clients each) instead of 20;
* ``oracle_latent``: the ``latent_outcome`` data fitted by generalised least squares with the
  *generating* covariance matrix (``oracle_gls``: no variance component is estimated), SE
  ``sqrt((X'V^-1 X)^-1)`` and a normal (z) interval, exact when the data follow the analysis
  model: it checks the simulator and gives the SE that the REML fit would report if it knew
  the variance components (no ``var_therapist_slope`` row).

Performance measures (Morris, White & Crowther 2019): bias and its MCSE, empirical SE and its
MCSE (``emp_se / sqrt(2 (n - 1))``), mean model SE, ``se_ratio = mean_se / emp_se``, coverage
of the 95% CI and its MCSE ``sqrt(p (1 - p) / n)``, mean df, and for the variants the paired
difference in coverage from ``base`` (``coverage_diff``, MCSE from the per-replication
differences). ``var_therapist_slope`` rows give the REML therapist slope variance (no interval).

Run: ``nice -n 10 .venv/bin/python benchmarks/validity/tslope_coverage.py --reps 200``
(``--variants base kenward_roger`` for a subset; ``--deadline HH:MM`` (UTC) starts no
replication after that time; ``--start R`` keeps replications below R of the replications
file and adds R, R + 1, ...). Tables are rewritten every 20 replications, so a stopped run
leaves consistent tables. Results: ``results/tslope_coverage.{csv,md}`` and
``results/tslope_coverage_replications.csv``.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mi_coverage as mc  # the benchmark whose result this explains

import engagestats as es
from engagestats.simulate import SimulationParams

SEED_BASE = mc.SEED_BASE
DESIGN = dict(mc.DESIGN)
SLOPE_SD = 0.2
BASE_PARAMS = replace(mc.PARAMS, sd_therapist_slope=SLOPE_SD)
TRUTH = dict(mc.TRUTH)
FORMULA = mc.FORMULA_TSLOPE
OUT = mc.OUT
WRITE_EVERY = 20

#: variant -> (parameter changes, design changes, outcome, ddf). Variants with no parameter or
#: design change reuse the ``base`` study of the replication.
VARIANTS: dict[str, tuple[dict, dict, str, str]] = {
    "base": ({}, {}, "phq9_total", "satterthwaite"),
    "kenward_roger": ({}, {}, "phq9_total", "kenward-roger"),
    "latent_outcome": ({}, {}, "phq9_latent", "satterthwaite"),
    "residual_ar_0.4": ({"residual_ar": 0.4}, {}, "phq9_total", "satterthwaite"),
    "no_autonomy_missingness": (
        {"miss_autonomy": 0.0, "dropout_autonomy": 0.0},
        {},
        "phq9_total",
        "satterthwaite",
    ),
    "no_dropout": ({"dropout_intercept": -40.0}, {}, "phq9_total", "satterthwaite"),
    "no_therapist_slope": ({"sd_therapist_slope": 0.0}, {}, "phq9_total", "satterthwaite"),
    "therapists_40": ({}, {"n_therapists": 40}, "phq9_total", "satterthwaite"),
    "oracle_latent": ({}, {}, "phq9_latent", "oracle"),
}


def simulate(rep: int, changes: dict, design: dict) -> pd.DataFrame:
    """The complete-data panel of replication ``rep`` (seed ``SEED_BASE + rep``), latent added."""
    seed = SEED_BASE + rep
    study, truth = es.simulate_study(
        **{**DESIGN, **design},
        seed=seed,
        params=replace(BASE_PARAMS, **changes),
        return_truth=True,
    )
    panel = mc._panel(study)
    latent = truth.sessions[["client_id", "session", "phq9_latent"]]
    out = panel.merge(latent, on=["client_id", "session"], how="left", validate="one_to_one")
    return out


def oracle_gls(data: pd.DataFrame, params: SimulationParams) -> pd.DataFrame:
    """GLS fixed effects of ``phq9_total`` with the generating covariance matrix of ``params``.

    ``V`` per therapist: ``Z_t G_t Z_t' + blockdiag_i(Z_i G_c Z_i') + sigma^2 R``, ``Z = [1,
    time]``, ``G_t = diag(sd_therapist^2, sd_therapist_slope^2)``, ``G_c`` the client intercept
    and slope covariance, ``R`` the AR(1) correlation (``residual_ar``) over sessions. Exact
    for the latent PHQ-9 (linear trajectory); a normal 95% interval (df = inf).
    """
    p = params
    cov_c = p.cor_client * p.sd_client_intercept * p.sd_client_slope
    g_c = np.array([[p.sd_client_intercept**2, cov_c], [cov_c, p.sd_client_slope**2]])
    g_t = np.diag([p.sd_therapist**2, p.sd_therapist_slope**2])
    d = data.dropna(subset=["phq9_total", "autonomous", "readiness"])
    t, a, r = (d[c].to_numpy(float) for c in ("time", "autonomous", "readiness"))
    X = np.column_stack([np.ones(len(d)), t, a, r, t * a, t * r])
    y = d["phq9_total"].to_numpy(float)
    xvx = np.zeros((6, 6))
    xvy = np.zeros(6)
    for idx in d.groupby("therapist_id").indices.values():
        z = np.column_stack([np.ones(idx.size), t[idx]])
        v = z @ g_t @ z.T
        cl = d["client_id"].to_numpy()[idx]
        same = cl[:, None] == cl[None, :]
        lag = np.abs(d["session"].to_numpy(float)[idx][:, None] - d["session"].to_numpy()[idx])
        v += np.where(same, z @ g_c @ z.T + p.sd_residual**2 * p.residual_ar**lag, 0.0)
        xi = X[idx]
        sol = np.linalg.solve(v, np.column_stack([xi, y[idx]]))
        xvx += xi.T @ sol[:, :6]
        xvy += xi.T @ sol[:, 6]
    cov = np.linalg.inv(xvx)
    est = cov @ xvy
    se = np.sqrt(np.diag(cov))
    return pd.DataFrame(
        {
            "estimate": est,
            "se": se,
            "df": np.inf,
            "ci_low": est - 1.959963984540054 * se,
            "ci_high": est + 1.959963984540054 * se,
        },
        index=pd.Index(list(TRUTH), name="term"),
    )


def _fit_rows(
    panel: pd.DataFrame, outcome: str, ddf: str, params: SimulationParams = BASE_PARAMS
) -> pd.DataFrame:
    """Fixed effects (``ddf``) and the therapist slope variance of one fit."""
    data = panel.dropna(subset=["phq9_total"])  # the rows of the observed-score fit
    if outcome != "phq9_total":
        data = data.assign(phq9_total=data[outcome])
    if ddf == "oracle":
        table = oracle_gls(data, params)
        return table.assign(true=[TRUTH[t] for t in table.index]).reset_index()
    fit = es.lmm(FORMULA, data)
    table = fit.fixed if ddf == "satterthwaite" else fit.fixed_effects(ddf=ddf)
    table = table.loc[list(TRUTH), ["estimate", "se", "df", "ci_low", "ci_high"]]
    table = table.assign(true=[TRUTH[t] for t in table.index])
    var = pd.DataFrame(
        {"estimate": [mc._slope_var(fit)], "true": [BASE_PARAMS.sd_therapist_slope**2]},
        index=pd.Index(["var_therapist_slope"], name="term"),
    )
    return pd.concat([table, var]).rename_axis("term").reset_index()


def one_replication(rep: int, variants: list[str]) -> list[dict]:
    """Rows of every variant in ``variants`` for replication ``rep`` (one seed, paired)."""
    rows: list[dict] = []
    studies: dict[tuple, pd.DataFrame] = {}
    for name in variants:
        changes, design, outcome, ddf = VARIANTS[name]
        key = (tuple(sorted(changes.items())), tuple(sorted(design.items())))
        base = {"variant": name, "rep": rep, "seed": SEED_BASE + rep}
        with warnings.catch_warnings():
            for w in (es.SingularFitWarning, es.ConvergenceWarning, es.EngageStatsWarning):
                warnings.simplefilter("ignore", w)
            warnings.simplefilter("ignore", RuntimeWarning)  # engine sqrt at a singular boundary
            try:
                if key not in studies:
                    studies[key] = simulate(rep, changes, design)
                panel = studies[key]
                table = _fit_rows(panel, outcome, ddf, replace(BASE_PARAMS, **changes))
                truth_var = replace(BASE_PARAMS, **changes).sd_therapist_slope ** 2
                table.loc[table["term"] == "var_therapist_slope", "true"] = truth_var
                n_obs = int(panel["phq9_total"].notna().sum())
                rows += [{**base, "n_obs": n_obs, **r} for r in table.to_dict("records")]
            except es.EngageStatsError as exc:  # counted, not dropped
                rows.append({**base, "term": "fit_failed", "error": str(exc)})
    return rows


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    """Performance measures per variant and term (and the paired coverage change from base)."""
    ok = raw[raw["term"] != "fit_failed"].copy()
    ok["covers"] = ((ok["ci_low"] <= ok["true"]) & (ok["true"] <= ok["ci_high"])).astype(float)
    ok.loc[ok["ci_low"].isna(), "covers"] = np.nan
    base = ok[ok["variant"] == "base"].set_index(["rep", "term"])["covers"]
    out = []
    for (variant, term), g in ok.groupby(["variant", "term"], sort=False):
        n = len(g)
        true = float(g["true"].iloc[0])
        emp_se = float(g["estimate"].std(ddof=1))
        mean_se = float(g["se"].mean())
        cov = float(g["covers"].mean())
        row = {
            "variant": variant,
            "term": term,
            "true": true,
            "n_reps": n,
            "bias": float(g["estimate"].mean() - true),
            "bias_mcse": emp_se / np.sqrt(n),
            "emp_se": emp_se,
            "emp_se_mcse": emp_se / np.sqrt(2 * (n - 1)) if n > 1 else np.nan,
            "mean_se": mean_se,
            "se_ratio": mean_se / emp_se if emp_se > 0 else np.nan,
            "coverage": cov,
            "coverage_mcse": float(np.sqrt(cov * (1 - cov) / n)),
            "mean_df": float(g["df"].mean()),
            "coverage_diff": np.nan,
            "coverage_diff_mcse": np.nan,
        }
        if variant != "base" and not g["covers"].isna().all():
            paired = g.set_index(["rep", "term"])["covers"]
            d = (paired - base.reindex(paired.index)).dropna()
            if len(d) > 1:
                row["coverage_diff"] = float(d.mean())
                row["coverage_diff_mcse"] = float(d.std(ddof=1) / np.sqrt(len(d)))
        out.append(row)
    return pd.DataFrame(out)


def _markdown(table: pd.DataFrame) -> str:
    return mc._markdown(table)


def write_tables(raw: pd.DataFrame, out: Path, timing: str) -> tuple[pd.DataFrame, str]:
    """Write the replications file and ``tslope_coverage.{csv,md}``; return table and text."""
    table = summarise(raw)
    raw.to_csv(out / "tslope_coverage_replications.csv", index=False)
    table.to_csv(out / "tslope_coverage.csv", index=False)
    n_reps = int(raw["rep"].nunique())
    n_failed = int((raw["term"] == "fit_failed").sum())
    variants = ", ".join(f"`{v}`" for v in table["variant"].unique())
    text = (
        f"\n{n_reps} replications per variant ({n_failed} failed fits), design {DESIGN}, "
        f"therapist slope SD {SLOPE_SD:g}, complete data only, analysis model `{FORMULA}`; "
        f"{timing}. Generated by `benchmarks/validity/tslope_coverage.py`; variants {variants} "
        "(see its docstring). Replication r of every variant uses seed "
        f"{SEED_BASE} + r, as `mi_coverage.py`. `coverage_diff`: paired difference in "
        "coverage from `base` (same seeds).\n\n" + _markdown(table.dropna(axis=1, how="all"))
    )
    (out / "tslope_coverage.md").write_text(text)
    return table, text


def _past(deadline: str | None) -> bool:
    if deadline is None:
        return False
    now = dt.datetime.now(dt.UTC)
    hh, mm = map(int, deadline.split(":"))
    return (now.hour, now.minute) >= (hh, mm)


def _timing(start: float, first: int, done: int) -> str:
    spent = f"{time.perf_counter() - start:.0f} s"
    if first == 0:
        return spent
    return (
        f"replications {first}-{done - 1} in {spent} "
        f"(0-{first - 1} from an earlier run of the same seeds)"
    )


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--deadline", default=None, metavar="HH:MM", help="UTC; no new rep after")
    parser.add_argument(
        "--start",
        type=int,
        default=0,
        metavar="R",
        help="resume: keep replications < R of the replications file, run R .. reps - 1",
    )
    args = parser.parse_args(argv)
    variants = args.variants if "base" in args.variants else ["base", *args.variants]
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    raw: list[dict] = []
    if args.start > 0:
        kept = pd.read_csv(args.out / "tslope_coverage_replications.csv")
        kept = kept[kept["rep"] < args.start]
        for name in variants:
            if kept.loc[kept["variant"] == name, "rep"].nunique() != args.start:
                raise SystemExit(f"replications 0..{args.start - 1} of {name} are not all there")
        raw = kept[kept["variant"].isin(variants)].to_dict("records")
    text = ""
    table = pd.DataFrame()
    for r in range(args.start, args.reps):
        if _past(args.deadline):
            print(f"deadline {args.deadline} UTC reached before replication {r}", flush=True)
            break
        raw += one_replication(r, variants)
        if (r + 1) % WRITE_EVERY == 0 or r + 1 == args.reps:
            spent = _timing(start, args.start, r + 1)
            table, text = write_tables(pd.DataFrame(raw), args.out, spent)
            print(f"{r + 1} reps, {spent}", flush=True)
    if raw and (len({row["rep"] for row in raw}) % WRITE_EVERY):
        spent = _timing(start, args.start, len({row["rep"] for row in raw}))
        table, text = write_tables(pd.DataFrame(raw), args.out, spent)
    print(text)
    return table


if __name__ == "__main__":
    main()
