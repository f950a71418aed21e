"""Write the panel the R reference fits (run once; the CSV is committed).

.venv/bin/python tests/reference/monitoring/make_panel.py
"""

from pathlib import Path

import engagestats as es

HERE = Path(__file__).parent
study = es.simulate_study(n_therapists=10, clients_per_therapist=8, seed=3)
panel = es.analyses._panel.with_sum_scales(
    es.analyses._panel.scored_study(study, ["phq9_total", "srq_autonomous"]).panel(
        attended_only=True
    )
)
cols = ["client_id", "session", "phq9_total", "srq_autonomous"]
panel[cols].to_csv(HERE / "panel.csv", index=False, float_format="%.10g")
