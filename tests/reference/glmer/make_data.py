"""Generate the simulated datasets used by the glmer reference fixtures.

Run from the repository root::

    .venv/bin/python tests/reference/glmer/make_data.py

It writes ``dropout.csv`` (~400 clients in 30 therapists, moderate therapist
variance, a few missing predictor values) and ``dropout_wide.csv`` (larger
therapist variance, unequal group sizes) next to this file. ``reference.R`` then
fits them with ``lme4::glmer`` (and ``geepack::geeglm`` when installed).
The output is deterministic (seeded ``numpy.random.Generator``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
STAGES = np.array(["precontemplation", "contemplation", "action"])


def dropout(
    rng: np.random.Generator, *, n_therapists: int, sd_therapist: float, sizes: tuple[int, int]
) -> pd.DataFrame:
    """Binary dropout of clients nested in therapists with a therapist random intercept."""
    rows = []
    for t in range(n_therapists):
        u = rng.normal(0.0, sd_therapist)
        n_clients = int(rng.integers(sizes[0], sizes[1] + 1))
        for _ in range(n_clients):
            autonomy = round(float(rng.normal(0.0, 1.0)), 3)
            readiness = round(float(rng.normal(0.0, 1.0)), 3)
            stage = STAGES[rng.choice(3, p=[0.25, 0.45, 0.30])]
            eta = (
                -0.9
                - 0.6 * autonomy
                - 0.3 * readiness
                + {"precontemplation": 0.5, "contemplation": 0.0, "action": -0.4}[stage]
                + u
            )
            y = int(rng.random() < 1.0 / (1.0 + np.exp(-eta)))
            rows.append((f"T{t + 1:02d}", autonomy, readiness, stage, y))
    df = pd.DataFrame(rows, columns=["therapist_id", "autonomy", "readiness", "stage", "dropout"])
    df.insert(0, "client_id", [f"C{i + 1:04d}" for i in range(len(df))])
    return df


def main() -> None:
    rng = np.random.default_rng(20240611)
    d1 = dropout(rng, n_therapists=30, sd_therapist=0.7, sizes=(8, 19))
    miss = rng.choice(len(d1), size=5, replace=False)
    d1.loc[miss, "readiness"] = np.nan  # fits must drop (and count) them
    d1.to_csv(HERE / "dropout.csv", index=False)
    d2 = dropout(rng, n_therapists=25, sd_therapist=1.6, sizes=(3, 24))
    d2.to_csv(HERE / "dropout_wide.csv", index=False)


if __name__ == "__main__":
    main()
