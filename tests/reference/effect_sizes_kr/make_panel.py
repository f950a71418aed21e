"""Write the model frame that effect_sizes_kr.R fits (growth_model, predictors=["format"]).

Run from the repo root: ``.venv/bin/python tests/reference/effect_sizes_kr/make_panel.py``.
Data: the bundled sample study (``data/sample``). The session and piecewise models analyse
the same rows (only the time terms differ); R recodes the time terms itself from ``time``
(sessions since the client's first attended session).
"""

from pathlib import Path

import engagestats as es
from engagestats.analyses import growth_model

HERE = Path(__file__).parent

study = es.load_study(Path("data/sample"))
models = {
    "session": growth_model(study, predictors=["format"], ddf="kenward-roger"),
    "pw4": growth_model(
        study, predictors=["format"], time_method="piecewise", knots=[4], ddf="kenward-roger"
    ),
}
cols = ["therapist_id", "client_id", "session", "time", "phq9_total", "format"]
frames = [m.data[cols] for m in models.values()]
assert all(f.equals(frames[0]) for f in frames)  # same rows
frames[0].to_csv(HERE / "panel.csv", index=False, float_format="%.17g")
for name, m in models.items():
    print(name, m.formula)
