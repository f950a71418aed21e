"""Generate the small simulated datasets used by the lme4 reference fixtures.

Run from the repository root::

    .venv/bin/python tests/reference/lme4/make_lme4_data.py

It writes ``growth.csv`` (two levels), ``threelevel.csv`` (sessions in clients
in therapists) and ``stages.csv`` (a four-level categorical predictor) next to
this file. ``reference.R`` then fits them with lme4/lmerTest/performance.
The output is deterministic (seeded ``numpy.random.Generator``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def growth(rng: np.random.Generator) -> pd.DataFrame:
    """~150 clients, correlated random intercept and session slope, autonomy x session."""
    n_clients = 150
    rows = []
    cov = np.array([[9.0, -0.6], [-0.6, 0.16]])  # sd 3 and 0.4, correlation -0.5
    re = rng.multivariate_normal([0.0, 0.0], cov, size=n_clients)
    autonomy = np.round(rng.normal(0.0, 1.0, size=n_clients), 3)
    for i in range(n_clients):
        n_sess = int(rng.integers(6, 15))
        for s in range(1, n_sess + 1):
            mu = 15.0 - 0.5 * s - 1.0 * autonomy[i] - 0.15 * s * autonomy[i]
            phq = mu + re[i, 0] + re[i, 1] * s + rng.normal(0.0, 2.5)
            rows.append((f"C{i + 1:03d}", s, autonomy[i], round(float(phq), 3)))
    df = pd.DataFrame(rows, columns=["client", "session", "autonomy", "phq"])
    # A few missing outcomes: model fits must drop (and count) them.
    miss = rng.choice(len(df), size=6, replace=False)
    df.loc[miss, "phq"] = np.nan
    return df


def threelevel(rng: np.random.Generator) -> pd.DataFrame:
    """20 therapists with 10 clients each; readiness x session."""
    rows = []
    cov = np.array([[6.25, -0.3], [-0.3, 0.09]])
    for t in range(20):
        u_t = rng.normal(0.0, 1.5)
        for c in range(10):
            cid = f"C{t * 10 + c + 1:03d}"
            b = rng.multivariate_normal([0.0, 0.0], cov)
            readiness = round(float(rng.normal(0.0, 1.0)), 3)
            n_sess = int(rng.integers(4, 13))
            for s in range(1, n_sess + 1):
                mu = 14.0 - 0.4 * s - 0.8 * readiness - 0.1 * s * readiness
                phq = mu + u_t + b[0] + b[1] * s + rng.normal(0.0, 2.0)
                rows.append((f"T{t + 1:02d}", cid, s, readiness, round(float(phq), 3)))
    return pd.DataFrame(rows, columns=["therapist", "client", "session", "readiness", "phq"])


def stages(rng: np.random.Generator) -> pd.DataFrame:
    """120 clients in four readiness stages; stage x session."""
    names = ["precontemplation", "contemplation", "preparation", "action"]
    start = {"precontemplation": 16.0, "contemplation": 15.0, "preparation": 14.0, "action": 13.0}
    slope = {"precontemplation": -0.2, "contemplation": -0.4, "preparation": -0.5, "action": -0.7}
    cov = np.array([[4.0, 0.1], [0.1, 0.04]])
    rows = []
    for i in range(120):
        stage = names[int(rng.integers(0, 4))]
        b = rng.multivariate_normal([0.0, 0.0], cov)
        n_sess = int(rng.integers(5, 13))
        for s in range(1, n_sess + 1):
            phq = start[stage] + slope[stage] * s + b[0] + b[1] * s + rng.normal(0.0, 2.0)
            rows.append((f"C{i + 1:03d}", s, stage, round(float(phq), 3)))
    return pd.DataFrame(rows, columns=["client", "session", "stage", "phq"])


def main() -> None:
    rng = np.random.default_rng(20260311)
    growth(rng).to_csv(HERE / "growth.csv", index=False)
    threelevel(rng).to_csv(HERE / "threelevel.csv", index=False)
    stages(rng).to_csv(HERE / "stages.csv", index=False)


if __name__ == "__main__":
    main()
