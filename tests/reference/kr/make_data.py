"""Generate the small three-level data set used by the Kenward-Roger reference fixtures.

Run from the repository root::

    .venv/bin/python tests/reference/kr/make_data.py

It writes ``threelevel_small.csv`` next to this file: sessions in clients in 12
therapists (few clusters, where Kenward-Roger matters), 3-6 clients per therapist,
4-8 sessions per client (unbalanced), a client-level predictor ``readiness``.
``kr.R`` then fits it (and lme4's ``sleepstudy``) and records pbkrtest/lmerTest
Kenward-Roger results. The output is deterministic (seeded ``numpy.random.Generator``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def threelevel_small(rng: np.random.Generator, *, n_therapists: int = 12) -> pd.DataFrame:
    """PHQ-9-like scores with therapist and client intercepts and client session slopes."""
    rows = []
    client = 0
    for t in range(n_therapists):
        u_t = rng.normal(0.0, 1.5)
        for _ in range(int(rng.integers(3, 7))):
            client += 1
            readiness = round(float(rng.normal(0.0, 1.0)), 3)
            u0, u1 = rng.multivariate_normal([0.0, 0.0], [[9.0, -0.6], [-0.6, 0.25]])
            for session in range(1, int(rng.integers(4, 9)) + 1):
                phq = (
                    16.0
                    - 0.9 * session
                    - 1.0 * readiness
                    - 0.2 * session * readiness
                    + u_t
                    + u0
                    + u1 * session
                    + rng.normal(0.0, 2.5)
                )
                rows.append(
                    {
                        "therapist": f"T{t + 1:02d}",
                        "client": f"C{client:03d}",
                        "session": session,
                        "readiness": readiness,
                        "phq": round(float(phq), 3),
                    }
                )
    return pd.DataFrame(rows)


def main() -> None:
    rng = np.random.default_rng(20240611)
    threelevel_small(rng).to_csv(HERE / "threelevel_small.csv", index=False)


if __name__ == "__main__":
    main()
