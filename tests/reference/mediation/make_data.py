"""Write clients.csv: the client table that engagestats.mediation builds from the sample.

Run from the repository root: .venv/bin/python tests/reference/mediation/make_data.py
"""

from pathlib import Path

import engagestats as es
from engagestats.analyses._mediation_data import client_frame

cols = ["client_id", "therapist_id", "srq_autonomous", "early_alliance", "phq9_first", "phq9_last"]
frame = client_frame(es.load_sample(), early_sessions=3, exposure="srq_autonomous")
frame[cols].dropna().to_csv(Path(__file__).with_name("clients.csv"), index=False)
