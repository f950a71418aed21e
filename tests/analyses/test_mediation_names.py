"""mediation() with column names that are not R-syntactic ("my var", "x-1", "2nd").

Formulas are built with ``quote_name``: a renamed column must give exactly the result of the
original name, in both designs and for every role (exposure, mediator, outcome, covariate,
therapist). Before the names were quoted, such columns were refused (or, unquoted, would
have been parsed as expressions: ``x-1`` as x minus 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engagestats.analyses import mediation

REF_DIR = Path(__file__).resolve().parents[1] / "reference" / "mediation"
CLIENTS = pd.read_csv(REF_DIR / "clients.csv")
SESSIONS = pd.read_csv(REF_DIR / "sessions.csv").drop(columns="time_post")
RENAME = {
    "srq_autonomous": "x-1",
    "early_alliance": "my var",
    "phq9_first": "2nd",
    "phq9_last": "phq9 last",
    "therapist_id": "therapist id",
}


def _kwargs(names: dict[str, str], slope: bool) -> dict:
    kw = {
        "exposure": names["srq_autonomous"],
        "mediator": names["early_alliance"],
        "covariates": [names["phq9_first"]],
        "therapist": names["therapist_id"],
        "n_draws": 2000,
        "seed": 3,
    }
    kw["outcome"] = "slope" if slope else names["phq9_last"]
    return kw


@pytest.mark.parametrize(
    ("slope", "method"), [(False, "ols"), (False, "lmm"), (True, "lmm")], ids=str
)
def test_unsyntactic_names_give_the_renamed_result(slope, method):
    plain = {k: k for k in RENAME}
    data = SESSIONS if slope else CLIENTS
    renamed = data.rename(columns=RENAME)
    if slope:
        renamed = renamed.rename(columns={"phq9_total": "phq9 total"})
    a = mediation(data, method=method, **_kwargs(plain, slope))
    b = mediation(
        renamed,
        method=method,
        **_kwargs(RENAME, slope),
        **({"slope_of": "phq9 total"} if slope else {}),
    )
    cols = ["estimate", "se", "df", "p", "ci_low", "ci_high"]
    np.testing.assert_allclose(
        b.effects[cols].to_numpy(float), a.effects[cols].to_numpy(float), rtol=1e-10
    )
    assert b.effects["effect"].tolist() == a.effects["effect"].tolist()
    # coefficient tables carry the quoted names, R's way
    terms = b.paths["outcome"].index.tolist()
    assert "`x-1`" in terms
    if slope:
        assert "time_post:`my var`" in terms
    else:
        assert "`my var`" in terms
    assert "x-1" in b.interpretation()
