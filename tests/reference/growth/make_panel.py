"""Write the growth-model panel that tests/reference/growth/growth.R fits.

Run from the repo root: ``.venv/bin/python tests/reference/growth/make_panel.py``.
The model is growth_model's default (since issue 12: detrended lagged alliance, detrended
prior outcome, first sessions dropped).
"""

from pathlib import Path

import engagestats as es
from engagestats.analyses import growth_model

HERE = Path(__file__).parent

study = es.simulate_study(n_therapists=12, clients_per_therapist=8, max_sessions=14, seed=11)
m = growth_model(
    study,
    predictors={"autonomous": "srq_autonomous", "readiness": "urica_readiness"},
    time_varying={"alliance": "wai_sr_sum"},
    moderators=["format"],
)
cols = [
    "therapist_id",
    "client_id",
    "session",
    "time",
    "phq9_total",
    "autonomous",
    "readiness",
    "alliance_between",
    "alliance_within_lag",
    "phq9_total_prior_within",
    "format",
]
m.data[cols].to_csv(HERE / "panel.csv", index=False, float_format="%.17g")
(HERE / "formula.txt").write_text(m.formula + "\n")
print(m.formula)
