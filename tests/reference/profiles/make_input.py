"""Write the inputs of the profile fixture (run with the project's .venv).

``urica_sample_z.csv``: the four URICA subscale means of the packaged sample (scored under
PRORATE_80), clients with all four, standardised (ddof=1) as ``readiness_profiles`` does.
``blobs.csv``: 3 well-separated Gaussian clusters in 4 dimensions (numpy seed 15).
"""

from pathlib import Path

import numpy as np
import pandas as pd

import engagestats as es
from engagestats.classify import URICA_SUBSCALES
from engagestats.scoring import PRORATE_80, ensure_scores

HERE = Path(__file__).parent

clients = ensure_scores(es.load_sample().clients, URICA_SUBSCALES, policy=PRORATE_80)
raw = clients[["client_id", *URICA_SUBSCALES]].dropna().reset_index(drop=True)
x = raw[list(URICA_SUBSCALES)]
z = (x - x.mean()) / x.std(ddof=1)
z.insert(0, "client_id", raw["client_id"])
z.to_csv(HERE / "urica_sample_z.csv", index=False, float_format="%.12g")

rng = np.random.default_rng(15)
centres = np.array([[0, 0, 0, 0], [4, 4, 0, 0], [0, 4, 4, 4]], dtype=float)
pts = np.vstack([c + rng.normal(size=(40, 4)) for c in centres])
pd.DataFrame(pts, columns=["x1", "x2", "x3", "x4"]).to_csv(
    HERE / "blobs.csv", index=False, float_format="%.12g"
)
