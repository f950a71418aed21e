"""Generate the unbalanced factorial data set used by the ANOVA reference fixtures.

Run from the repository root::

    .venv/bin/python tests/reference/anova/make_data.py

It writes ``factorial.csv`` next to this file: 14 therapists, 3-6 clients each,
each client seen at some of three occasions ``time`` (t0, t1, t2; about one in
six missing, so the cells are unbalanced), a client-level ``stage`` (2 levels,
unequal proportions), a client-level ``format`` (3 levels) and a continuous
``x``. ``anova.R`` then fits ``y ~ time * stage + format * x + (1 | client) +
(1 | therapist)`` (and lme4's ``sleepstudy``) and records lmerTest's ANOVA
tables. The output is deterministic (seeded ``numpy.random.Generator``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def factorial(rng: np.random.Generator, *, n_therapists: int = 14) -> pd.DataFrame:
    """Outcome with time x stage and format x x effects, therapist and client intercepts."""
    time_eff = {"t0": 0.0, "t1": -1.5, "t2": -2.5}
    format_eff = {"group": 0.8, "individual": 0.0, "online": 1.5}
    rows = []
    client = 0
    for t in range(n_therapists):
        u_t = rng.normal(0.0, 1.2)
        for _ in range(int(rng.integers(3, 7))):
            client += 1
            stage = "action" if rng.random() < 0.35 else "contemplation"
            fmt = str(rng.choice(["group", "individual", "online"], p=[0.25, 0.45, 0.30]))
            x = round(float(rng.normal(0.0, 1.0)), 3)
            u_c = rng.normal(0.0, 2.0)
            for time, eff in time_eff.items():
                if time != "t0" and rng.random() < 1 / 6:
                    continue
                y = (
                    12.0
                    + eff
                    + (-1.0 if stage == "action" else 0.0) * (time != "t0")
                    + format_eff[fmt]
                    + 0.7 * x
                    + (0.5 * x if fmt == "online" else 0.0)
                    + u_t
                    + u_c
                    + rng.normal(0.0, 1.8)
                )
                rows.append(
                    {
                        "therapist": f"T{t + 1:02d}",
                        "client": f"C{client:03d}",
                        "time": time,
                        "stage": stage,
                        "format": fmt,
                        "x": x,
                        "y": round(float(y), 3),
                    }
                )
    return pd.DataFrame(rows)


def main() -> None:
    rng = np.random.default_rng(20240917)
    factorial(rng).to_csv(HERE / "factorial.csv", index=False)


if __name__ == "__main__":
    main()
