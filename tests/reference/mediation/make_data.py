"""Write clients.csv and sessions.csv: the tables engagestats.mediation builds from the sample.

clients.csv: the client table of the end-of-treatment design (reference.R).
sessions.csv: the sessions after the early window (k = 3) of the growth-slope design
(``outcome="slope"``, reference_slope.R), with ``time_post = session - 4`` and the client
columns; only clients of clients.csv (the same 303).

Run from the repository root: .venv/bin/python tests/reference/mediation/make_data.py
"""

from pathlib import Path

import engagestats as es
from engagestats.analyses._mediation_data import client_frame

here = Path(__file__).parent
cols = ["client_id", "therapist_id", "srq_autonomous", "early_alliance", "phq9_first", "phq9_last"]
frame = client_frame(es.load_sample(), early_sessions=3, exposure="srq_autonomous")
clients = frame[cols].dropna()
clients.to_csv(here / "clients.csv", index=False)

res = es.mediation(es.load_sample(), outcome="slope", n_draws=100)
sessions = res.sessions[
    ["client_id", "therapist_id", "session", "time_post", "phq9_total", *cols[2:5]]
]
assert set(sessions["client_id"]) == set(clients["client_id"])  # script check
sessions.to_csv(here / "sessions.csv", index=False)
