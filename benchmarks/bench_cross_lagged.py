"""Time :func:`engagestats.cross_lagged` (LCM-SR and RI-CLPM, FIML) on the sample and a large study.

Run ``python benchmarks/bench_cross_lagged.py`` (``--clients 5000`` for the simulated
study's size, ``--waves`` for its occasions). Each time is the whole call (scoring the
study's missing totals, the wide panel, the ML fit with its Hessian), the best of
``--repeat`` runs; the simulated study comes from :func:`engagestats.simulate_study`.

``--validity R`` instead runs a Monte Carlo of the within-client alliance test (growth_model
under its options, and cross_lagged's alliance -> outcome path) on the null scenarios of
``tests/analyses/test_growth_options.py::process_panel`` (reciprocal + AR(1), co-varying
trends, both; alliance -> outcome = 0) and under a true effect (-0.3 per point), with
``--n-clients`` clients and ``--sessions`` sessions: rejection rate at 5%, CI coverage, bias.
"""

from __future__ import annotations

import argparse
import time

import engagestats as es


def timed(label: str, data, repeat: int, **kwargs) -> None:
    best, m = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        m = es.cross_lagged(data, **kwargs)
        best = min(best, time.perf_counter() - t0)
    n_rows = len(data.sessions) if isinstance(data, es.Study) else len(data)
    print(
        f"{label}: {n_rows} session rows, {m.n_clients} clients, {m.n_waves} occasions, "
        f"{m.n_params} parameters, converged={m.converged}: {best:.2f} s"
    )


GROWTH_OPTIONS = {
    "default (lagged, person-mean centred)": {},
    "prior_outcome='within'": {"prior_outcome": "within"},
    "detrend=True": {"detrend": True},
    "prior_outcome='within', detrend=True": {"prior_outcome": "within", "detrend": True},
    "prior_outcome='lagged', detrend=True": {"prior_outcome": "lagged", "detrend": True},
}
SCENARIOS = {
    "null: reciprocal + AR(1)": {"reciprocal": True},
    "null: co-varying trends": {"trends": True},
    "null: both": {"reciprocal": True, "trends": True},
    "effect -0.3": {"effect": -0.3},
}


def validity(reps: int, n_clients: int, sessions: int, cl_reps: int, growth: bool = True) -> None:
    import sys
    import warnings
    from pathlib import Path

    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "analyses"))
    from test_growth_options import process_panel

    from engagestats.analyses import growth_model

    rows = []
    for sc, sc_kw in SCENARIOS.items():
        truth = sc_kw.get("effect", 0.0)
        options = GROWTH_OPTIONS if growth else {}
        est: dict[str, list[tuple[float, float, float]]] = {k: [] for k in options}
        est["cross_lagged (RI-CLPM)"] = []
        est["cross_lagged trends=True (LCM-SR)"] = []
        for r in range(reps):
            data = process_panel(
                np.random.default_rng(10_000 + r), n_clients=n_clients, n_sessions=sessions, **sc_kw
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for name, kw in options.items():
                    m = growth_model(
                        data, time_varying={"alliance": "wai_sr_sum"}, therapist=None, **kw
                    )
                    f = m.fit.fixed.loc["alliance_within_lag"]
                    est[name].append((f["estimate"], f["ci_low"], f["ci_high"]))
                if r < cl_reps:
                    for name, tr in [
                        ("cross_lagged (RI-CLPM)", False),
                        ("cross_lagged trends=True (LCM-SR)", True),
                    ]:
                        p = es.cross_lagged(data, waves=sessions, trends=tr).paths.iloc[0]
                        est[name].append((p["estimate"], p["ci_low"], p["ci_high"]))
        for name, vals in est.items():
            a = np.array(vals)
            cover = (a[:, 1] <= truth) & (truth <= a[:, 2])
            rows.append(
                {
                    "scenario": sc,
                    "estimator": name,
                    "reps": len(a),
                    "rejection_0": float(np.mean((a[:, 1] > 0) | (a[:, 2] < 0))),
                    "coverage": float(np.mean(cover)),
                    "mean_estimate": float(a[:, 0].mean()),
                    "bias": float(a[:, 0].mean() - truth),
                }
            )
        print(pd.DataFrame(rows[-len(est) :]).to_string(index=False), flush=True)
    print(pd.DataFrame(rows).round(3).to_string(index=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=5000)
    ap.add_argument("--waves", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--validity", type=int, default=0, metavar="R")
    ap.add_argument("--cl-reps", type=int, default=None)
    ap.add_argument("--n-clients", type=int, default=100)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--skip-growth", action="store_true", help="only cross_lagged")
    args = ap.parse_args()
    if args.validity:
        cl = args.validity if args.cl_reps is None else args.cl_reps
        validity(args.validity, args.n_clients, args.sessions, cl, not args.skip_growth)
        return
    sample = es.load_sample()
    t0 = time.perf_counter()
    study = es.simulate_study(n_therapists=args.clients // 50, clients_per_therapist=50, seed=1)
    print(f"simulate_study({args.clients} clients): {time.perf_counter() - t0:.1f} s")
    for trends, name in ((True, "LCM-SR, the default"), (False, "RI-CLPM, trends=False")):
        timed(f"{name}: sample, waves=8", sample, args.repeat, waves=8, trends=trends)
        timed(f"{name}: sample, all occasions", sample, args.repeat, trends=trends)
        reps = max(1, args.repeat - 2)
        label = f"{name}: simulated {args.clients} clients"
        timed(f"{label}, waves=8", study, reps, waves=8, trends=trends)
        timed(f"{label}, all occasions", study, 1, waves=args.waves, trends=trends)


if __name__ == "__main__":
    main()
