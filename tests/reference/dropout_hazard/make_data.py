"""Inputs of the dropout-hazard fixture (run with the project's .venv).

``sample_pp.csv``: the person-period rows ``dropout_hazard(load_sample())`` models (therapist
variance is estimated at 0 there: a singular fit). ``therapist_pp.csv``: a person-period
table simulated with a therapist effect on the hazard (SD 0.8), so that the random
intercept is away from the boundary: 30 therapists x 10 clients, up to 15 periods,
logit h = -2.6 - 0.3 log t - 0.6 alliance_c + 0.08 change + u_j (numpy seed 715).
"""

from pathlib import Path

import numpy as np
import pandas as pd

import engagestats as es
from engagestats.analyses.dropout_hazard import dropout_hazard

HERE = Path(__file__).parent
COLS = ["client_id", "therapist_id", "period", "log_period", "event", "alliance_c", "change"]

dropout_hazard(es.load_sample()).person_period[COLS].to_csv(
    HERE / "sample_pp.csv", index=False, float_format="%.10g"
)

rng = np.random.default_rng(715)
rows = []
for j in range(30):
    u = rng.normal(0, 0.8)
    for c in range(10):
        a_client = rng.normal(0, 0.5)
        change = 0.0
        for t in range(1, 16):
            a = a_client + rng.normal(0, 0.3)
            if t > 1:
                change += rng.normal(-0.6, 2.0)
            eta = -2.6 - 0.3 * np.log(t) - 0.6 * a + 0.08 * change + u
            event = int(rng.random() < 1 / (1 + np.exp(-eta)))
            rows.append((f"C{j:02d}{c}", f"T{j:02d}", t, np.log(t), event, a, change))
            if event:
                break
pd.DataFrame(rows, columns=COLS).to_csv(
    HERE / "therapist_pp.csv", index=False, float_format="%.10g"
)
