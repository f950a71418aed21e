"""Write the deterministic data set that tests/reference/moderation/moderation.R fits.

Run from the repo root: ``.venv/bin/python tests/reference/moderation/make_data.py``.
Writes ``data.csv`` (the long panel handed to ``growth_model``), ``panel.csv`` (the model
frame it builds, read by R) and ``formula.txt``. Every client has six sessions, so the
shares of observations equal the shares of clients (``emmeans`` weights by observations).
Modality (therapist level) and format (client level) are unbalanced, so proportional and
equal weights differ.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from engagestats.analyses import growth_model

HERE = Path(__file__).parent
PREDICTORS = {"autonomous": "srq_autonomous", "stage": "stage"}
MODERATORS = ["modality", "format"]


def make_data(seed: int = 20240611) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    modalities = ["cbt"] * 5 + ["psychodynamic"] * 4 + ["integrative"] * 3
    slope_mod = {"cbt": 0.0, "integrative": -0.08, "psychodynamic": 0.05}
    rows = []
    client = 0
    for t, modality in enumerate(modalities, start=1):
        u = rng.normal(0.0, 1.0)
        for _ in range(6):
            client += 1
            fmt = "individual" if rng.random() < 0.65 else "group"
            aut = rng.normal(4.0, 1.0)
            stage = "action" if rng.random() < 0.4 else "contemplation"
            b0, b1 = rng.normal(0.0, 3.0), rng.normal(0.0, 0.2)
            slope_aut = -0.10 + slope_mod[modality] + (-0.06 if fmt == "individual" else 0.0)
            slope = -0.4 + b1 + slope_aut * (aut - 4.0) + (-0.15 if stage == "action" else 0.0)
            for s in range(1, 7):
                time = s - 1
                y = 15.0 + u + b0 + 0.8 * (aut - 4.0) + slope * time + rng.normal(0.0, 2.0)
                rows.append(
                    {
                        "therapist_id": f"T{t:02d}",
                        "client_id": f"C{client:03d}",
                        "session": s,
                        "phq9_total": round(y, 6),
                        "srq_autonomous": round(aut, 6),
                        "stage": stage,
                        "modality": modality,
                        "format": fmt,
                    }
                )
    return pd.DataFrame(rows)


def fit(data: pd.DataFrame):
    return growth_model(data, predictors=PREDICTORS, moderators=MODERATORS)


if __name__ == "__main__":
    data = make_data()
    data.to_csv(HERE / "data.csv", index=False)
    m = fit(data)
    cols = ["therapist_id", "client_id", "time", "phq9_total", "autonomous", "stage"]
    m.data[cols + MODERATORS].to_csv(HERE / "panel.csv", index=False, float_format="%.17g")
    (HERE / "formula.txt").write_text(m.formula + "\n")
    print(m.formula)
    print(m.fit.fixed)
