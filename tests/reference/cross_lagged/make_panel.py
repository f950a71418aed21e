"""Simulate the RI-CLPM fixture panel (run once; the CSV is committed).

Random-intercept cross-lagged panel (Hamaker, Kuiper & Grasman 2015): 160 clients,
6 sessions; alliance (WAI-SR sum) and PHQ-9 total; 8% of values missing completely at
random, rows where both are missing are left out of the file (a missed session), and a
quarter of clients stop early (dropout). Reciprocal within-person paths:
alliance -> next PHQ-9 = -0.15, PHQ-9 -> next alliance = -0.20.

    python tests/reference/cross_lagged/make_panel.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261202)
n, T = 160, 6
B = np.array([[0.30, -0.20], [-0.15, 0.35]])  # rows: alliance_t, phq_t; cols: (alliance, phq)_{t-1}
psi = np.array([[9.0, -2.0], [-2.0, 12.0]])
ri = rng.multivariate_normal([0, 0], [[25.0, -8.0], [-8.0, 20.0]], size=n)
w = np.zeros((n, T, 2))
w[:, 0] = rng.multivariate_normal([0, 0], [[12.0, -3.0], [-3.0, 16.0]], size=n)
for t in range(1, T):
    w[:, t] = w[:, t - 1] @ B.T + rng.multivariate_normal([0, 0], psi, size=n)
mu = np.column_stack([44 + 0.8 * np.arange(T), 15 - 1.0 * np.arange(T)])
z = mu[None] + ri[:, None, :] + w
z[rng.random(z.shape) < 0.08] = np.nan
last = np.where(rng.random(n) < 0.25, rng.integers(3, T, size=n), T)
rows = []
for i in range(n):
    for t in range(last[i]):
        a, p = z[i, t]
        if np.isnan(a) and np.isnan(p):
            continue
        rows.append((f"C{i + 1:03d}", t + 1, round(float(a), 2), round(float(p), 2)))
out = pd.DataFrame(rows, columns=["client_id", "session", "wai_sr_sum", "phq9_total"])
out.to_csv(Path(__file__).with_name("panel.csv"), index=False)
print(out.shape, out.isna().sum().to_dict())
