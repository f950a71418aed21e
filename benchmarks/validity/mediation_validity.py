"""Validity benchmark: :func:`engagestats.mediation` and its Monte-Carlo CI for a*b (issue 15).

Motivation at intake (``srq_autonomous``, X) -> early alliance (``early_alliance``, mean
WAI-SR total over sessions 1-3, M) -> outcome, adjusted for intake PHQ-9 (``phq9_first``, C),
therapist random intercepts, for both outcome kinds of ``mediation()``:

* ``end``: ``phq9_last`` (the default outcome, the PHQ-9 at the last scored session after
  the window); a = X -> M, b = M -> Y, c' = direct, c = total, a*b = indirect;
* ``slope``: the PHQ-9 change per session after the window (``outcome="slope"``);
  b = ``time_post:early_alliance``, c' = ``time_post:srq_autonomous``.

Two kinds of cells (``CELLS``):

* ``cf_*`` (closed form): a documented linear variant generated here (``closed_form_data``)
  in which the paths are known. Session-level PHQ-9 after the window is
  ``level + slope * time_post + e``, with the post-window level and slope linear in X, M
  and C (coefficients ``Paths``), client random intercepts and slopes and a therapist
  random intercept; M is linear in X and C plus a therapist intercept and client noise.
  Sequential ignorability holds by construction (the errors of M and of the outcome are
  independent), except in ``cf_confounded``, where an unmeasured client trait U raises the
  alliance and steepens improvement: the truth is the generating (causal) path, and the
  closed-form large-sample value of the estimator (``limit``) shows the expected bias.
  Truth: slope outcome a, b = ``b_slope``, c' = ``c_slope``, indirect a*b, total c' + a*b;
  end outcome b = ``b_level + b_slope * TBAR``, c' = ``c_level + c_slope * TBAR``
  (``TBAR`` = mean ``time_post`` of the last session, 4.5), indirect a*b, total c' + a*b.
* ``sim_*``: the library's simulator (``simulate_study``, ``run_validity.DESIGN``) analysed
  from the Study (the mediator and outcomes derived by ``mediation`` itself). Its
  generating model has no a*b on this scale, so the truth is a *pseudo-true* value: the
  mean of the ``mediation()`` estimates (a, b, c', c; indirect = mean a x mean b) over
  ``--truth-seeds`` population studies of ``--truth-therapists`` therapists x 8 clients (the
  design's cluster size), with its Monte-Carlo error (SD over seeds / sqrt(seeds)),
  cached in ``results/mediation_truth.csv``. It is the large-sample value of the
  product-of-coefficients estimand, not a causal effect: sequential ignorability is
  violated by construction (the alliance responds to the symptoms of sessions 1-3, and the
  intake PHQ-9 depends on the client's alliance level).

Per cell, outcome and effect: bias, empirical SE, mean model SE (Sobel SE for a*b), 95% CI
coverage and the rate at which the CI excludes 0 (the false-positive rate when the truth
is 0, power otherwise), each with its Monte-Carlo SE (Morris, White & Crowther 2019).

``nice -n 5 .venv/bin/python benchmarks/validity/mediation_validity.py --reps 200`` writes
``results/mediation.{csv,md}`` and ``results/mediation_replications.csv`` after each cell.
Replication r of cell k uses seed ``SEED_BASE + 10_000 k + r``: no selection.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import engagestats as es
from engagestats.simulate import SimulationParams

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_validity import DESIGN, OUT, _quiet

SEED_BASE = 710_000
TRUTH_SEED_BASE = 790_000
K = 3  # early window: sessions 1..K
EFFECTS = ("a_path", "b_path", "direct", "indirect", "total")
OUTCOMES = ("end", "slope")


@dataclass(frozen=True)
class Paths:
    """Generating paths of the closed-form variant (X, M, C on the library's scales).

    ``a``: WAI-SR total points of early alliance per ``srq_autonomous`` point;
    ``b_level``/``c_level``: PHQ-9 points at the first session after the window per WAI-SR
    point / per autonomy point; ``b_slope``/``c_slope``: PHQ-9 change per session after the
    window per WAI-SR point / per autonomy point; ``confound_m``/``confound_slope``: WAI-SR
    points and PHQ-9 change per session per SD of an unmeasured client trait U.
    """

    a: float = 1.5
    b_level: float = -0.05
    b_slope: float = -0.03
    c_level: float = -0.30
    c_slope: float = -0.05
    confound_m: float = 0.0
    confound_slope: float = 0.0


#: Nuisance constants of the closed-form variant.
X_MEAN, X_SD = 5.3, 1.0
C_MEAN, C_ON_X, C_SD = 15.5, -0.8, 4.9
M_MEAN, M_ON_C, M_SD, M_SD_THERAPIST = 47.0, -0.10, 6.4, 1.0
LEVEL, LEVEL_ON_C, SLOPE, SLOPE_ON_C = 12.0, 0.6, -0.30, 0.01
SD_R0, SD_R1, COR_R, SD_THERAPIST, SD_E = 3.0, 0.25, -0.3, 1.1, 2.5
N_POST = (2, 9)  # post-window sessions per client, uniform (12 planned sessions at most)
TBAR = (N_POST[0] + N_POST[1]) / 2 - 1  # mean time_post of the last session

#: cell -> (kind, parameters, sequential ignorability)
CELLS: dict[str, tuple[str, object, str]] = {
    "cf_effect": ("cf", Paths(), "met"),
    "cf_null_a": ("cf", Paths(a=0.0), "met"),
    "cf_null_b": ("cf", Paths(b_level=0.0, b_slope=0.0), "met"),
    "cf_null_both": ("cf", Paths(a=0.0, b_level=0.0, b_slope=0.0), "met"),
    "cf_confounded": ("cf", Paths(confound_m=3.0, confound_slope=-0.15), "violated"),
    "sim_routine_care": ("sim", SimulationParams(), "violated"),
    "sim_classic": ("sim", SimulationParams.classic(), "violated"),
}
GRID = list(CELLS)


def closed_form_data(
    rng: np.random.Generator, paths: Paths, n_therapists: int, clients_per_therapist: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Client table (``phq9_last``) and post-window sessions (``phq9_total``) of the variant."""
    n = n_therapists * clients_per_therapist
    th = np.repeat(np.arange(n_therapists), clients_per_therapist)
    x = X_SD * rng.normal(size=n)
    c = C_ON_X * x + C_SD * rng.normal(size=n)
    u = rng.normal(size=n)
    m = (
        paths.a * x
        + M_ON_C * c
        + M_SD_THERAPIST * rng.normal(size=n_therapists)[th]
        + paths.confound_m * u
        + M_SD * rng.normal(size=n)
    )
    cov = SD_R0 * SD_R1 * COR_R
    r = rng.multivariate_normal([0.0, 0.0], [[SD_R0**2, cov], [cov, SD_R1**2]], size=n)
    level = (
        LEVEL
        + paths.c_level * x
        + paths.b_level * m
        + LEVEL_ON_C * c
        + SD_THERAPIST * rng.normal(size=n_therapists)[th]
        + r[:, 0]
    )
    slope = (
        SLOPE
        + paths.c_slope * x
        + paths.b_slope * m
        + SLOPE_ON_C * c
        + paths.confound_slope * u
        + r[:, 1]
    )
    n_post = rng.integers(N_POST[0], N_POST[1] + 1, size=n)
    ci = np.repeat(np.arange(n), n_post)
    tp = np.concatenate([np.arange(k) for k in n_post]).astype(float)
    y = level[ci] + slope[ci] * tp + SD_E * rng.normal(size=ci.size)
    ids = np.array([f"C{i:05d}" for i in range(n)], dtype=object)
    clients = pd.DataFrame(
        {
            "client_id": ids,
            "therapist_id": np.array([f"T{j:04d}" for j in th], dtype=object),
            "srq_autonomous": X_MEAN + x,
            "early_alliance": M_MEAN + m,
            "phq9_first": C_MEAN + c,
        }
    )
    last = np.cumsum(n_post) - 1
    clients["phq9_last"] = y[last]
    sessions = clients.drop(columns="phq9_last").iloc[ci].reset_index(drop=True)
    sessions.insert(1, "session", (tp + K + 1).astype(np.int64))
    sessions["phq9_total"] = y
    return clients, sessions


def closed_form_truth(paths: Paths) -> pd.DataFrame:
    """Generating paths (``true``) and the estimator's large-sample value (``limit``).

    With an unmeasured U (SD 1) in M and in the slope, the outcome model's M coefficient
    tends to ``b + confound_slope * kappa`` (slope; times ``TBAR`` for the end outcome),
    ``kappa = confound_m / (confound_m**2 + M_SD**2)`` (the projection of U on M's part
    not explained by X and C; exact within therapists, the small therapist variance of M
    ignored), and c' to ``c' - a * (that bias)``; a and the total are unaffected.
    """
    kappa = paths.confound_m / (paths.confound_m**2 + M_SD**2)
    rows = []
    for outcome in OUTCOMES:
        if outcome == "slope":
            b, cp, shift = paths.b_slope, paths.c_slope, paths.confound_slope * kappa
        else:  # E[phq9_last | X, M, C] = level + slope * TBAR (time_post independent of all)
            b = paths.b_level + paths.b_slope * TBAR
            cp = paths.c_level + paths.c_slope * TBAR
            shift = paths.confound_slope * TBAR * kappa
        true = {"a_path": paths.a, "b_path": b, "direct": cp, "indirect": paths.a * b}
        true["total"] = cp + paths.a * b
        lim = {"a_path": paths.a, "b_path": b + shift, "direct": cp - paths.a * shift}
        lim["indirect"], lim["total"] = paths.a * (b + shift), true["total"]
        rows += [
            {"outcome": outcome, "effect": e, "true": true[e], "limit": lim[e], "truth_mcse": 0.0}
            for e in EFFECTS
        ]
    return pd.DataFrame(rows)


def _fit(data, outcome: str, seed: int, n_draws: int) -> pd.DataFrame:
    kw = {"outcome": "slope"} if outcome == "slope" else {}
    res = es.mediation(data, early_sessions=K, n_draws=n_draws, seed=seed, **kw)
    return res.effects.set_index("effect")


def simulator_truth(
    cell: str, params: SimulationParams, n_therapists: int, seeds: int, n_draws: int = 1000
) -> pd.DataFrame:
    """Pseudo-true values: mean ``mediation()`` estimates over ``seeds`` population studies."""
    est: dict[str, list[pd.Series]] = {o: [] for o in OUTCOMES}
    for s in range(seeds):
        study = es.simulate_study(
            n_therapists=n_therapists,
            clients_per_therapist=DESIGN["clients_per_therapist"],
            max_sessions=DESIGN["max_sessions"],
            seed=TRUTH_SEED_BASE + 100 * GRID.index(cell) + s,
            params=params,
        )
        with warnings.catch_warnings():
            _quiet()
            for o in OUTCOMES:
                est[o].append(_fit(study, o, s, n_draws)["estimate"])
    rows = []
    for o in OUTCOMES:
        tab = pd.DataFrame(est[o])
        mean, mcse = tab.mean(), tab.std(ddof=1) / np.sqrt(len(tab))
        a, b, sa, sb = mean["a_path"], mean["b_path"], mcse["a_path"], mcse["b_path"]
        mean["indirect"], mcse["indirect"] = a * b, float(np.sqrt(b**2 * sa**2 + a**2 * sb**2))
        rows += [
            {
                "cell": cell,
                "outcome": o,
                "effect": e,
                "true": float(mean[e]),
                "limit": float(mean[e]),
                "truth_mcse": float(mcse[e]),
                "truth_sd_over_seeds": float(tab[e].std(ddof=1)) if e in tab else np.nan,
                "truth_seeds": seeds,
                "truth_therapists": n_therapists,
            }
            for e in EFFECTS
        ]
    return pd.DataFrame(rows)


def cell_truth(cell: str, out: Path, n_therapists: int, seeds: int) -> pd.DataFrame:
    """The truth of a cell (closed form, or the cached or freshly computed pseudo-truth)."""
    kind, params, _ = CELLS[cell]
    if kind == "cf":
        assert isinstance(params, Paths)
        return closed_form_truth(params).assign(cell=cell)
    assert isinstance(params, SimulationParams)
    path = out / "mediation_truth.csv"
    cached = pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["cell"])
    hit = cached[
        (cached["cell"] == cell)
        & (cached.get("truth_therapists") == n_therapists)
        & (cached.get("truth_seeds") == seeds)
    ]
    if len(hit) == len(OUTCOMES) * len(EFFECTS):
        return hit.reset_index(drop=True)
    fresh = simulator_truth(cell, params, n_therapists, seeds)
    keep = cached[cached["cell"] != cell]
    pd.concat([keep, fresh], ignore_index=True).to_csv(path, index=False)
    return fresh


def one_replication(cell: str, rep: int, truth: pd.DataFrame, n_draws: int) -> list[dict]:
    """Both outcome kinds on one simulated data set: rows of (effect, true, estimate, CI)."""
    kind, params, si = CELLS[cell]
    seed = SEED_BASE + 10_000 * GRID.index(cell) + rep
    if kind == "cf":
        assert isinstance(params, Paths)
        clients, sessions = closed_form_data(
            np.random.default_rng(seed),
            params,
            DESIGN["n_therapists"],
            DESIGN["clients_per_therapist"],
        )
        data = {"end": clients, "slope": sessions}
    else:
        assert isinstance(params, SimulationParams)
        study = es.simulate_study(**DESIGN, seed=seed, params=params)
        data = {"end": study, "slope": study}
    tv = truth.set_index(["outcome", "effect"])
    rows: list[dict] = []
    for outcome in OUTCOMES:
        base = {"cell": cell, "outcome": outcome, "si": si, "rep": rep, "seed": seed}
        with warnings.catch_warnings():
            _quiet()
            try:
                eff = _fit(data[outcome], outcome, seed, n_draws)
            except es.EngageStatsError as exc:  # a failed fit is counted, not dropped
                rows.append({**base, "effect": "fit_failed", "error": str(exc)})
                continue
        rows.extend(
            {
                **base,
                "effect": e,
                "true": tv.loc[(outcome, e), "true"],
                "limit": tv.loc[(outcome, e), "limit"],
                "truth_mcse": tv.loc[(outcome, e), "truth_mcse"],
                **eff.loc[e, ["estimate", "se", "ci_low", "ci_high"]].to_dict(),
            }
            for e in EFFECTS
        )
    return rows


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    """Bias, coverage and the rate of CIs excluding 0, with Monte-Carlo SEs."""
    out = []
    ok = raw[raw["effect"] != "fit_failed"]
    for (cell, outcome, effect), g in ok.groupby(["cell", "outcome", "effect"], sort=False):
        n = len(g)
        true = float(g["true"].iloc[0])
        est = g["estimate"].to_numpy(float)
        emp_se = float(est.std(ddof=1)) if n > 1 else np.nan
        cover = ((g["ci_low"] <= true) & (true <= g["ci_high"])).to_numpy(float)
        reject = ((g["ci_low"] > 0) | (g["ci_high"] < 0)).to_numpy(float)
        failed = raw[(raw["cell"] == cell) & (raw["outcome"] == outcome)]
        out.append(
            {
                "cell": cell,
                "outcome": outcome,
                "effect": effect,
                "si": g["si"].iloc[0],
                "true": true,
                "truth_mcse": float(g["truth_mcse"].iloc[0]),
                "limit": float(g["limit"].iloc[0]),
                "n_reps": n,
                "n_failed": int((failed["effect"] == "fit_failed").sum()),
                "mean_estimate": float(est.mean()),
                "bias": float(est.mean() - true),
                "bias_mcse": emp_se / np.sqrt(n),
                "emp_se": emp_se,
                "mean_se": float(g["se"].mean()),
                "coverage": cover.mean(),
                "coverage_mcse": float(np.sqrt(cover.mean() * (1 - cover.mean()) / n)),
                "rejects": "false positive" if true == 0 else "power",
                "reject_rate": reject.mean(),
                "reject_mcse": float(np.sqrt(reject.mean() * (1 - reject.mean()) / n)),
            }
        )
    return pd.DataFrame(out)


def markdown(table: pd.DataFrame) -> str:
    """The summary as a Markdown table (4 significant decimals for the small slope paths)."""
    fmt = table.copy()
    for c in fmt.columns:
        if fmt[c].dtype.kind == "f":
            digits = 4 if c in ("true", "truth_mcse", "limit", "mean_estimate", "bias") else 3
            digits = 4 if c in ("bias_mcse", "emp_se", "mean_se") else digits
            fmt[c] = fmt[c].map(lambda v, d=digits: "" if pd.isna(v) else f"{v + 0.0:.{d}f}")
    cols = list(fmt.columns)
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    return head + "".join("| " + " | ".join(map(str, r)) + " |\n" for r in fmt.to_numpy())


def run(
    reps: int,
    cells: list[str],
    out: Path,
    *,
    truth_therapists: int = 2000,
    truth_seeds: int = 6,
    n_draws: int = 20_000,
) -> pd.DataFrame:
    """Run ``cells`` (replacing their rows in ``out/mediation_replications.csv``)."""
    out.mkdir(parents=True, exist_ok=True)
    raw_path = out / "mediation_replications.csv"
    raw = pd.read_csv(raw_path) if raw_path.exists() else pd.DataFrame(columns=["cell"])
    table = pd.DataFrame()
    for cell in cells:
        start = time.time()
        truth = cell_truth(cell, out, truth_therapists, truth_seeds)
        t_truth = time.time() - start
        rows = [r for rep in range(reps) for r in one_replication(cell, rep, truth, n_draws)]
        raw = pd.concat([raw[raw["cell"] != cell], pd.DataFrame(rows)], ignore_index=True)
        raw["order"] = raw["cell"].map(GRID.index)
        raw = raw.sort_values(["order", "rep"], kind="stable").drop(columns="order")
        raw.to_csv(raw_path, index=False)
        table = summarise(raw)
        table.to_csv(out / "mediation.csv", index=False)
        (out / "mediation.md").write_text(markdown(table))
        print(
            f"{cell}: {reps} replications, truth {t_truth:.0f} s, "
            f"total {time.time() - start:.0f} s",
            flush=True,
        )
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--cells", nargs="*", default=None, choices=GRID)
    ap.add_argument("--truth-therapists", type=int, default=2000)
    ap.add_argument("--truth-seeds", type=int, default=6)
    args = ap.parse_args(argv)
    run(
        args.reps,
        args.cells or GRID,
        args.out,
        truth_therapists=args.truth_therapists,
        truth_seeds=args.truth_seeds,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
