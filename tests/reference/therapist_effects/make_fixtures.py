"""How the two fixtures of this folder were made (run once from the repository root; kept for
the record: the tests read the CSVs, never this script).

growth_fixture.csv: the model frame of ``growth_model(therapist_slope=True)`` on
``simulate_study(n_therapists=30, clients_per_therapist=10, max_sessions=12, seed=15,
params=SimulationParams(sd_therapist=2.0, sd_therapist_slope=0.2))``, re-read once so that
``growth_model`` on the CSV codes ``time`` exactly as the CSV holds it.
effect_sizes_fixture.csv: the same rows with a client-level ``treatment`` (0/1, half the
clients, seed 15) and ``phq9_total - 0.25 * time * treatment``.
"""

import numpy as np
import pandas as pd

import engagestats as es
from engagestats.analyses import growth_model
from engagestats.simulate import SimulationParams

DIR = "tests/reference/therapist_effects"
p = SimulationParams(sd_therapist=2.0, sd_therapist_slope=0.2)
st = es.simulate_study(
    n_therapists=30, clients_per_therapist=10, max_sessions=12, seed=15, params=p
)
cols = ["client_id", "therapist_id", "session", "time", "phq9_total"]
frame = growth_model(st, therapist_slope=True).data[cols]
frame = growth_model(frame.drop(columns="time"), therapist_slope=True).data[cols]
frame.to_csv(f"{DIR}/growth_fixture.csv", index=False)

d = pd.read_csv(f"{DIR}/growth_fixture.csv")
cl = d["client_id"].unique()
tr = pd.Series(np.random.default_rng(15).permutation(np.arange(len(cl)) % 2), index=cl)
d["treatment"] = d["client_id"].map(tr)
d["phq9_total"] = d["phq9_total"] - 0.25 * d["time"] * d["treatment"]
d.to_csv(f"{DIR}/effect_sizes_fixture.csv", index=False)
