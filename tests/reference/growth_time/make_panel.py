"""Write the model frames of the log-time and piecewise growth models that growth_time.R fits.

Run from the repo root: ``.venv/bin/python tests/reference/growth_time/make_panel.py``.
Data: the bundled sample study (``data/sample``). R recodes the time terms itself
(``log1p``, ``pmin``/``pmax``) from ``time`` (sessions since the client's first attended
session), so the time coding is checked too, not only the fit.
"""

from pathlib import Path

import engagestats as es
from engagestats.analyses import growth_model

HERE = Path(__file__).parent
PREDICTORS = {"autonomous": "srq_autonomous", "readiness": "urica_readiness"}

study = es.load_study(Path("data/sample"))
log = growth_model(study, predictors=PREDICTORS, moderators=["format"], time_method="log")
pw = growth_model(study, predictors=PREDICTORS, time_method="piecewise", knots=[4])
cols = [
    "therapist_id",
    "client_id",
    "session",
    "time",
    "phq9_total",
    "autonomous",
    "readiness",
    "format",
]
log.data[cols].to_csv(HERE / "panel.csv", index=False, float_format="%.17g")
assert log.data[cols[:-1]].equals(pw.data[cols[:-1]])  # same rows and coding (no time-varying)
(HERE / "formula_log.txt").write_text(log.formula + "\n")
(HERE / "formula_piecewise.txt").write_text(pw.formula + "\n")
print(log.formula)
print(pw.formula)
